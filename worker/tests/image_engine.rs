//! The image engine end to end on a tiny Stable Diffusion 1.x pipeline: against diffusers'
//! own StableDiffusionPipeline (`scripts/sd-reference.py`), bit-identical repeats, and seeds
//! far apart in hash space.

use replica_primitives::{hamming, HashAlg, HashAlgs};
use replica_worker::{
	engines::{
		determinism,
		image::{png, ImageEngine, ImageRequest},
		weights, EngineError,
	},
	hashing::ImageHasher,
};
use std::path::Path;
use tch::Device;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-sd");

fn request(seed: u64) -> ImageRequest {
	ImageRequest {
		prompt: "a photo of the digit seven".into(),
		negative_prompt: "blurry".into(),
		seed,
		steps: 4,
		guidance: 7.5,
		width: 8,
		height: 8,
		count: 2,
	}
}

fn engine() -> ImageEngine {
	determinism::enable().unwrap();
	ImageEngine::load(Path::new(FIXTURE), Device::Cpu).unwrap()
}

#[test]
fn generates_like_diffusers_from_the_same_latents() {
	let engine = engine();
	let reference = weights::read(&Path::new(FIXTURE).join("reference.safetensors")).unwrap();
	let images = engine.denoise(&request(0), reference["latents"].shallow_clone()).unwrap();
	let ours = images.permute([0, 2, 3, 1]);
	let difference = (&ours - &reference["images"]).abs().max().double_value(&[]);
	assert!(difference < 1e-4, "largest difference from diffusers: {difference}");
}

#[test]
fn the_same_task_gives_the_same_png_and_hashes() {
	let engine = engine();
	let hasher = ImageHasher::new();
	let first = engine.generate(&request(7)).unwrap();
	assert_eq!(first.len(), 2);
	assert_eq!(first[0].dimensions(), (8, 8));
	let again = engine.generate(&request(7)).unwrap();
	for (a, b) in first.iter().zip(&again) {
		assert_eq!(png(a), png(b), "PNG bytes differ between two runs");
		assert_eq!(hasher.hash(a, HashAlgs::ALL).unwrap(), hasher.hash(b, HashAlgs::ALL).unwrap());
	}
	// A fresh engine (new process state) too.
	let fresh = ImageEngine::load(Path::new(FIXTURE), Device::Cpu).unwrap().generate(&request(7)).unwrap();
	assert_eq!(png(&first[0]), png(&fresh[0]));
}

#[test]
fn different_seeds_land_far_apart() {
	let engine = engine();
	let hasher = ImageHasher::new();
	let a = engine.generate(&request(1)).unwrap();
	let b = engine.generate(&request(2)).unwrap();
	let distance = hamming(hasher.hash_one(&a[0], HashAlg::Difference), hasher.hash_one(&b[0], HashAlg::Difference));
	assert!(a[0] != b[0], "two seeds gave the same image");
	assert!(distance > 8, "dHash of two seeds only {distance} bits apart");
}

#[test]
fn bad_requests_are_typed_errors() {
	let engine = engine();
	for bad in [
		ImageRequest { width: 7, ..request(0) },
		ImageRequest { count: 0, ..request(0) },
		ImageRequest { steps: 0, ..request(0) },
		ImageRequest { guidance: f64::NAN, ..request(0) },
	] {
		assert!(matches!(engine.generate(&bad), Err(EngineError::Params(_))), "{bad:?}");
	}
	let missing = tempfile::tempdir().unwrap();
	let err = ImageEngine::load(missing.path(), Device::Cpu).err().unwrap().to_string();
	assert!(err.contains("tokenizer.json"), "{err}");
}
