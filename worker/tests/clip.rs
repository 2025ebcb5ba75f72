//! The tch CLIP text encoder against transformers' own `CLIPTextModel` on a tiny seeded model
//! (`worker/tests/fixtures/tiny-clip`, made by `scripts/clip-reference.py`).

use replica_worker::engines::{clip::ClipTextEncoder, determinism, weights, EngineError};
use std::path::Path;
use tch::Device;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-clip");

#[test]
fn encodes_like_transformers() {
	determinism::enable().unwrap();
	let encoder = ClipTextEncoder::load(Path::new(FIXTURE), Device::Cpu).unwrap();
	let reference = weights::read(&Path::new(FIXTURE).join("reference.safetensors")).unwrap();
	let hidden = encoder.encode(&reference["ids"]).unwrap();
	assert_eq!(hidden.size(), [1, 16, 32]);
	let difference = (&hidden - &reference["hidden"]).abs().max().double_value(&[]);
	assert!(difference < 1e-5, "largest difference from transformers: {difference}");
	assert!(encoder.encode(&reference["ids"]).unwrap().equal(&hidden));
}

#[test]
fn too_many_tokens_or_a_bad_config_are_errors() {
	let encoder = ClipTextEncoder::load(Path::new(FIXTURE), Device::Cpu).unwrap();
	let long = tch::Tensor::zeros([1, 17], (tch::Kind::Int64, Device::Cpu));
	assert!(matches!(encoder.encode(&long), Err(EngineError::Params(_))));
	let dir = tempfile::tempdir().unwrap();
	std::fs::copy(Path::new(FIXTURE).join("model.safetensors"), dir.path().join("model.safetensors")).unwrap();
	std::fs::write(
		dir.path().join("config.json"),
		br#"{"vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 5, "max_position_embeddings": 16}"#,
	)
	.unwrap();
	let err = ClipTextEncoder::load(dir.path(), Device::Cpu).unwrap_err().to_string();
	assert!(err.contains("config.json") && err.contains("heads"), "{err}");
}
