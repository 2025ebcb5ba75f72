//! The tch UNet against diffusers' own `UNet2DConditionModel` on a tiny seeded model with SD
//! 1.x's block layout (`worker/tests/fixtures/tiny-unet`, made by `scripts/unet-reference.py`).

use replica_worker::engines::{determinism, unet::Unet, weights, EngineError};
use std::path::Path;
use tch::Device;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-unet");

#[test]
fn predicts_noise_like_diffusers() {
	determinism::enable().unwrap();
	let unet = Unet::load(Path::new(FIXTURE), Device::Cpu).unwrap();
	let reference = weights::read(&Path::new(FIXTURE).join("reference.safetensors")).unwrap();
	let timestep = reference["timestep"].double_value(&[0]);
	let noise = unet.forward(&reference["latent"], timestep, &reference["context"]);
	assert_eq!(noise.size(), [2, 4, 8, 8]);
	let difference = (&noise - &reference["noise"]).abs().max().double_value(&[]);
	assert!(difference < 1e-4, "largest difference from diffusers: {difference}");
	assert!(unet.forward(&reference["latent"], timestep, &reference["context"]).equal(&noise));
}

#[test]
fn unsupported_blocks_are_refused_naming_the_config() {
	let dir = tempfile::tempdir().unwrap();
	let config = std::fs::read_to_string(Path::new(FIXTURE).join("config.json")).unwrap();
	std::fs::write(dir.path().join("config.json"), config.replace("\"DownBlock2D\"", "\"AttnDownBlock2D\"")).unwrap();
	let err = Unet::load(dir.path(), Device::Cpu).unwrap_err();
	assert!(matches!(err, EngineError::Malformed { .. }), "{err}");
	assert!(err.to_string().contains("config.json") && err.to_string().contains("AttnDownBlock2D"), "{err}");
}
