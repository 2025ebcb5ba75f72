//! Model weights in `.safetensors` files, loaded into a `tch` VarStore by name, with errors that
//! name the file and the tensor.

use super::{EngineError, Result};
use std::{
	collections::HashMap,
	path::{Path, PathBuf},
};
use tch::{nn::VarStore, Tensor};

/// `dir/name`, if it is a file; otherwise [`EngineError::MissingFile`].
pub fn require_file(dir: &Path, name: &str) -> Result<PathBuf> {
	let path = dir.join(name);
	if path.is_file() {
		Ok(path)
	} else {
		Err(EngineError::MissingFile { path })
	}
}

/// `dir/config.json`, parsed and checked by `check`; every error names the file.
pub fn read_config<C: serde::de::DeserializeOwned>(
	dir: &Path,
	check: impl FnOnce(&C) -> core::result::Result<(), String>,
) -> Result<C> {
	let path = require_file(dir, "config.json")?;
	let malformed = |reason: String| EngineError::Malformed { path: path.clone(), reason };
	let text = std::fs::read(&path).map_err(|e| malformed(e.to_string()))?;
	let config: C = serde_json::from_slice(&text).map_err(|e| malformed(e.to_string()))?;
	check(&config).map_err(malformed)?;
	Ok(config)
}

/// Every tensor of a `.safetensors` file, on the CPU, by name.
pub fn read(path: &Path) -> Result<HashMap<String, Tensor>> {
	if !path.is_file() {
		return Err(EngineError::MissingFile { path: path.to_path_buf() });
	}
	// Large weights take seconds to read: say what is loading.
	let size = path.metadata().map(|m| m.len()).unwrap_or(0);
	if size >= 64 << 20 {
		tracing::info!("reading {} ({:.2} GB)", path.display(), size as f64 / 1e9);
	}
	let named = Tensor::read_safetensors(path)
		.map_err(|e| EngineError::Malformed { path: path.to_path_buf(), reason: e.to_string() })?;
	Ok(named.into_iter().collect())
}

/// Writes tensors to a `.safetensors` file.
pub fn write(path: &Path, tensors: &HashMap<String, Tensor>) -> Result<()> {
	let mut named: Vec<(&str, &Tensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
	named.sort_by(|a, b| a.0.cmp(b.0));
	Tensor::write_safetensors(&named, path)?;
	Ok(())
}

/// Copies the tensors of `path` into every variable of `store`. The file's names may carry a
/// `prefix` (`transformer.` in Hugging Face GPT-2 files) and may hold tensors the store does
/// not use (buffers, tied heads); every variable must be present with its exact shape.
pub fn load_into(store: &mut VarStore, path: &Path, prefix: &str) -> Result<()> {
	let mut tensors = read(path)?;
	let malformed = |reason: String| EngineError::Malformed { path: path.to_path_buf(), reason };
	let variables = store.variables();
	let mut names: Vec<&String> = variables.keys().collect();
	names.sort();
	tch::no_grad(|| {
		for name in names {
			let var = &variables[name];
			let source = tensors
				.remove(&format!("{prefix}{name}"))
				.or_else(|| tensors.remove(name.as_str()))
				.ok_or_else(|| malformed(format!("no tensor `{name}`")))?;
			if source.size() != var.size() {
				return Err(malformed(format!("tensor `{name}` has shape {:?}, the model needs {:?}", source.size(), var.size())));
			}
			let mut var = var.shallow_clone();
			var.f_copy_(&source.to_kind(var.kind()))?;
		}
		Ok(())
	})
}
