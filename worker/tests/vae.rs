//! The tch VAE decoder against diffusers' own `AutoencoderKL.decode` on a tiny seeded model
//! (`worker/tests/fixtures/tiny-vae`, made by `scripts/vae-reference.py`).

use replica_worker::engines::{determinism, vae::VaeDecoder, weights, EngineError};
use std::path::Path;
use tch::Device;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-vae");

#[test]
fn decodes_like_diffusers() {
	determinism::enable().unwrap();
	let decoder = VaeDecoder::load(Path::new(FIXTURE), Device::Cpu).unwrap();
	let reference = weights::read(&Path::new(FIXTURE).join("reference.safetensors")).unwrap();
	let image = decoder.decode(&reference["latent"]);
	assert_eq!(image.size(), [1, 3, 16, 16]);
	let difference = (&image - &reference["image"]).abs().max().double_value(&[]);
	assert!(difference < 1e-5, "largest difference from diffusers: {difference}");
	// And again: the same bits.
	assert!(decoder.decode(&reference["latent"]).equal(&image));
}

#[test]
fn a_missing_tensor_or_config_is_named() {
	let dir = tempfile::tempdir().unwrap();
	std::fs::copy(Path::new(FIXTURE).join("config.json"), dir.path().join("config.json")).unwrap();
	let err = VaeDecoder::load(dir.path(), Device::Cpu).unwrap_err();
	assert!(matches!(err, EngineError::MissingFile { .. }) && err.to_string().contains("diffusion_pytorch_model.safetensors"), "{err}");
	let mut tensors = weights::read(&Path::new(FIXTURE).join("diffusion_pytorch_model.safetensors")).unwrap();
	tensors.remove("decoder.conv_out.weight");
	weights::write(&dir.path().join("diffusion_pytorch_model.safetensors"), &tensors).unwrap();
	let err = VaeDecoder::load(dir.path(), Device::Cpu).unwrap_err().to_string();
	assert!(err.contains("decoder.conv_out.weight"), "{err}");
	std::fs::write(dir.path().join("config.json"), br#"{"block_out_channels": [10], "layers_per_block": 1, "latent_channels": 4, "norm_num_groups": 4}"#).unwrap();
	let err = VaeDecoder::load(dir.path(), Device::Cpu).unwrap_err().to_string();
	assert!(err.contains("config.json") && err.contains("groups"), "{err}");
}
