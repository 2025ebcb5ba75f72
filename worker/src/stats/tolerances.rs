//! A model directory's calibrated tolerances: `tolerances.toml`, written by `replica-worker
//! stats --recommend` and read by `replica-worker model register`. It is not part of the
//! model's weights digest (only `.json` and `.safetensors` files are), so calibrating a model
//! does not change its identity on chain.
//!
//! ```toml
//! # measured by `replica-worker stats` on …
//! average = 0
//! perceptual = 0
//! ```
//!
//! One key per compared hash (`average`, `perceptual`, `difference`, `colour`), its largest
//! Hamming distance; a hash without a key is not compared.

use anyhow::Context;
use replica_primitives::{HashAlg, Tolerances};
use std::path::{Path, PathBuf};

/// The file's name in a model directory.
pub const FILE_NAME: &str = "tolerances.toml";

/// What `model register` compares for an image model without a `tolerances.toml` (and without
/// `--tolerance`): aHash, pHash and dHash, each at this distance.
pub const UNCALIBRATED_TOLERANCE: u8 = 2;

pub fn path_in(model_dir: &Path) -> PathBuf {
	model_dir.join(FILE_NAME)
}

fn key(alg: HashAlg) -> &'static str {
	match alg {
		HashAlg::Average => "average",
		HashAlg::Perceptual => "perceptual",
		HashAlg::Difference => "difference",
		HashAlg::Colour => "colour",
	}
}

/// Writes `tolerances` with a comment line saying where they come from.
pub fn write(path: &Path, tolerances: &Tolerances, provenance: &str) -> anyhow::Result<()> {
	let mut text = format!("# {provenance}\n# `replica-worker model register` registers these for the model.\n");
	for alg in tolerances.algs.iter() {
		text.push_str(&format!("{} = {}\n", key(alg), tolerances.of_alg(alg)));
	}
	std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The model directory's calibrated tolerances, or `None` when it has no `tolerances.toml`.
pub fn read(model_dir: &Path) -> anyhow::Result<Option<Tolerances>> {
	let path = path_in(model_dir);
	let text = match std::fs::read_to_string(&path) {
		Ok(text) => text,
		Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
		Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
	};
	parse(&text).with_context(|| format!("{} is not a tolerances file", path.display())).map(Some)
}

fn parse(text: &str) -> anyhow::Result<Tolerances> {
	let table: toml::Table = text.parse()?;
	let mut pairs = Vec::new();
	for (name, value) in &table {
		let alg = HashAlg::ALL
			.into_iter()
			.find(|alg| name.as_str() == key(*alg))
			.with_context(|| format!("`{name}` is not a hash: average, perceptual, difference, colour"))?;
		let max = value
			.as_integer()
			.and_then(|v| u8::try_from(v).ok())
			.filter(|v| *v <= 64)
			.with_context(|| format!("`{name}` must be a Hamming distance, 0 to 64"))?;
		pairs.push((alg, max));
	}
	anyhow::ensure!(!pairs.is_empty(), "no hash is compared");
	Ok(Tolerances::of(&pairs))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn written_tolerances_read_back_and_bad_files_are_refused() {
		let dir = tempfile::tempdir().unwrap();
		assert_eq!(read(dir.path()).unwrap(), None);
		let set = Tolerances::of(&[(HashAlg::Average, 0), (HashAlg::Difference, 3)]);
		write(&path_in(dir.path()), &set, "test").unwrap();
		assert_eq!(read(dir.path()).unwrap(), Some(set));
		for bad in ["", "average = 65", "average = -1", "sharpness = 2", "average = \"two\""] {
			std::fs::write(path_in(dir.path()), bad).unwrap();
			assert!(read(dir.path()).is_err(), "{bad:?} was accepted");
		}
	}
}
