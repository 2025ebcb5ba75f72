//! The models a worker serves: model directories under `--models`, identified on chain by
//! their weights digest.
//!
//! A model's digest is what governance registers as `ModelInfo::weights_digest`:
//! blake2-256 over its files with the extensions `json` and `safetensors` (configs,
//! tokenizer, weights), taken in byte order of their `/`-separated paths relative to the model
//! directory, each contributing `path ++ 0x00 ++ blake2-256(file contents)`. Any change to a
//! weight or config changes it; `replica-worker model digest DIR` prints it.

use anyhow::Context;
use blake2::{digest::consts::U32, Blake2b, Digest as _};
use std::{
	io::Read,
	path::{Path, PathBuf},
	time::Instant,
};

/// What a model directory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalKind {
	/// A Stable Diffusion 1.x pipeline in the diffusers layout (`unet/`, `vae/`, …).
	Image,
	/// A GPT-2 style text model (`config.json`, `model.safetensors`, `tokenizer.json`).
	Text,
}

/// A model directory found under `--models`.
#[derive(Clone, Debug)]
pub struct LocalModel {
	pub dir: PathBuf,
	pub kind: LocalKind,
	pub digest: [u8; 32],
}

/// Which kind of model `dir` holds, if any.
pub fn kind_of(dir: &Path) -> Option<LocalKind> {
	if dir.join("unet").is_dir() && dir.join("vae").is_dir() {
		Some(LocalKind::Image)
	} else if dir.join("config.json").is_file() && dir.join("model.safetensors").is_file() {
		Some(LocalKind::Text)
	} else {
		None
	}
}

/// Every model directory directly under `root` (or `root` itself, if it is one), with its
/// digest. An error if there is none.
pub fn scan(root: &Path) -> anyhow::Result<Vec<LocalModel>> {
	let mut dirs = Vec::new();
	if let Some(kind) = kind_of(root) {
		dirs.push((root.to_path_buf(), kind));
	} else {
		let entries = std::fs::read_dir(root).with_context(|| format!("reading the models directory {}", root.display()))?;
		for entry in entries {
			let path = entry.with_context(|| format!("reading {}", root.display()))?.path();
			if let Some(kind) = kind_of(&path) {
				dirs.push((path, kind));
			}
		}
	}
	dirs.sort_by(|a, b| a.0.cmp(&b.0));
	anyhow::ensure!(
		!dirs.is_empty(),
		"no model in {}: expected model directories (diffusers image pipelines or GPT-2 text models)",
		root.display()
	);
	dirs.into_iter().map(|(dir, kind)| Ok(LocalModel { digest: digest(&dir)?, dir, kind })).collect()
}

/// The model digest of `dir` (see the module docs). Logs progress for large models.
pub fn digest(dir: &Path) -> anyhow::Result<[u8; 32]> {
	let mut files = Vec::new();
	collect_files(dir, dir, &mut files)?;
	anyhow::ensure!(!files.is_empty(), "no .json or .safetensors file in {}", dir.display());
	files.sort();
	let total: u64 = files.iter().map(|(_, path)| path.metadata().map(|m| m.len()).unwrap_or(0)).sum();
	let started = Instant::now();
	let mut done = 0u64;
	let mut last_report = Instant::now();
	let mut outer = Blake2b::<U32>::new();
	for (relative, path) in &files {
		let mut file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
		let mut inner = Blake2b::<U32>::new();
		let mut buffer = vec![0u8; 1 << 20];
		loop {
			let n = file.read(&mut buffer).with_context(|| format!("reading {}", path.display()))?;
			if n == 0 {
				break;
			}
			inner.update(&buffer[..n]);
			done += n as u64;
			// A progress line every few seconds for models that take that long to read.
			if last_report.elapsed().as_secs() >= 3 {
				last_report = Instant::now();
				tracing::info!(
					"checking {}: {:.0}% of {:.1} GB",
					dir.display(),
					done as f64 * 100.0 / total.max(1) as f64,
					total as f64 / 1e9
				);
			}
		}
		outer.update(relative.as_bytes());
		outer.update([0u8]);
		outer.update(inner.finalize());
	}
	tracing::debug!("digest of {} ({} bytes) in {:.2} s", dir.display(), total, started.elapsed().as_secs_f64());
	Ok(outer.finalize().into())
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> anyhow::Result<()> {
	let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
	for entry in entries {
		let path = entry.with_context(|| format!("reading {}", dir.display()))?.path();
		if path.is_dir() {
			collect_files(root, &path, out)?;
		} else if matches!(path.extension().and_then(|e| e.to_str()), Some("json" | "safetensors")) {
			let relative = path.strip_prefix(root).unwrap_or(&path);
			let relative: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
			out.push((relative.join("/"), path));
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn digest_covers_every_model_file_and_its_path() {
		let dir = tempfile::tempdir().unwrap();
		std::fs::create_dir(dir.path().join("unet")).unwrap();
		std::fs::write(dir.path().join("unet/config.json"), b"{}").unwrap();
		std::fs::write(dir.path().join("unet/w.safetensors"), b"weights").unwrap();
		std::fs::write(dir.path().join("README.md"), b"not part of the model").unwrap();
		let first = digest(dir.path()).unwrap();

		// Independent computation of the documented formula.
		let h = sp_crypto_hashing::blake2_256;
		let mut expected = Vec::new();
		for (path, contents) in [("unet/config.json", &b"{}"[..]), ("unet/w.safetensors", &b"weights"[..])] {
			expected.extend_from_slice(path.as_bytes());
			expected.push(0);
			expected.extend_from_slice(&h(contents));
		}
		assert_eq!(first, h(&expected));

		std::fs::write(dir.path().join("README.md"), b"edited").unwrap();
		assert_eq!(digest(dir.path()).unwrap(), first, "other files do not count");
		std::fs::write(dir.path().join("unet/w.safetensors"), b"weightz").unwrap();
		assert_ne!(digest(dir.path()).unwrap(), first, "a weight changed");
		std::fs::write(dir.path().join("unet/w.safetensors"), b"weights").unwrap();
		std::fs::rename(dir.path().join("unet"), dir.path().join("vae")).unwrap();
		assert_ne!(digest(dir.path()).unwrap(), first, "a path changed");
	}

	#[test]
	fn the_embedded_models_are_found_with_their_kinds() {
		let models = scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models")).unwrap();
		let kinds: Vec<(String, LocalKind)> =
			models.iter().map(|m| (m.dir.file_name().unwrap().to_string_lossy().into_owned(), m.kind)).collect();
		assert_eq!(kinds, [("digits-sd".to_string(), LocalKind::Image), ("fortunes-gpt".to_string(), LocalKind::Text)]);
		assert!(scan(Path::new("/nonexistent")).unwrap_err().to_string().contains("/nonexistent"));
	}
}
