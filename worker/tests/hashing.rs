//! Perceptual hashing: golden vectors computed independently (`scripts/hash-vectors.py`),
//! determinism, and the distances that tolerance voting relies on.

use image::RgbImage;
use replica_primitives::{hamming, HashAlg, HashAlgs};
use replica_worker::hashing::ImageHasher;
use std::path::Path;

fn golden_dir() -> &'static Path {
	Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden"))
}

fn name(alg: HashAlg) -> &'static str {
	match alg {
		HashAlg::Average => "average",
		HashAlg::Perceptual => "perceptual",
		HashAlg::Difference => "difference",
		HashAlg::Colour => "colour",
	}
}

#[test]
fn golden_vectors_match_the_independent_computation() {
	let json = std::fs::read_to_string(golden_dir().join("hashes.json")).unwrap();
	let vectors: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
	assert!(vectors.len() >= 5);
	let hasher = ImageHasher::new();
	for (file, expected) in &vectors {
		let png = std::fs::read(golden_dir().join(file)).unwrap();
		let hashes = hasher.hash_png(&png, HashAlgs::ALL).unwrap();
		for alg in HashAlg::ALL {
			let want = u64::from_str_radix(expected[name(alg)].as_str().unwrap(), 16).unwrap();
			let got = hashes.get(alg).unwrap();
			assert_eq!(got, want, "{file} {}: got {got:016x}, want {want:016x}", name(alg));
		}
	}
}

/// A deterministic pseudo-photo: smooth colour fields and a few edges.
fn scene(seed: u32, width: u32, height: u32) -> RgbImage {
	RgbImage::from_fn(width, height, |x, y| {
		let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
		let s = seed as f32;
		let wave = |a: f32, b: f32| ((fx * a + fy * b + s * 0.37).sin() * 0.5 + 0.5) * 255.0;
		let edge = if (fx - 0.3 - 0.05 * s).abs() < 0.1 { 60.0 } else { 0.0 };
		image::Rgb([
			(wave(3.0 + s, 1.0) - edge).clamp(0.0, 255.0) as u8,
			wave(1.0, 4.0 + s * 0.5) as u8,
			(wave(2.0 + s * 0.3, 2.5) + edge).clamp(0.0, 255.0) as u8,
		])
	})
}

/// `image` with small pixel noise, as a different GPU's rounding would add.
fn perturbed(image: &RgbImage, amplitude: i16, seed: u64) -> RgbImage {
	let mut state = seed;
	let mut out = image.clone();
	for px in out.pixels_mut() {
		for c in px.0.iter_mut() {
			state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			let noise = ((state >> 33) % (2 * amplitude as u64 + 1)) as i16 - amplitude;
			*c = (*c as i16 + noise).clamp(0, 255) as u8;
		}
	}
	out
}

#[test]
fn the_same_image_hashes_the_same_every_time() {
	let hasher = ImageHasher::new();
	let image = scene(1, 512, 512);
	let first = hasher.hash(&image, HashAlgs::ALL).unwrap();
	for _ in 0..3 {
		assert_eq!(hasher.hash(&image.clone(), HashAlgs::ALL).unwrap(), first);
		assert_eq!(ImageHasher::new().hash(&image, HashAlgs::ALL).unwrap(), first);
	}
}

#[test]
fn near_duplicates_are_close_and_different_scenes_are_far() {
	let hasher = ImageHasher::new();
	for seed in 0..4 {
		let image = scene(seed, 512, 512);
		let original = hasher.hash(&image, HashAlgs::ALL).unwrap();
		let noisy = hasher.hash(&perturbed(&image, 3, seed as u64), HashAlgs::ALL).unwrap();
		let other = hasher.hash(&scene(seed + 10, 512, 512), HashAlgs::ALL).unwrap();
		for alg in HashAlg::ALL {
			let near = hamming(original.get(alg).unwrap(), noisy.get(alg).unwrap());
			let far = hamming(original.get(alg).unwrap(), other.get(alg).unwrap());
			// pHash's median splits many near-zero coefficients of smooth scenes: it moves most.
			let near_limit = if alg == HashAlg::Perceptual { 8 } else { 2 };
			assert!(near <= near_limit, "seed {seed} {}: ±3 noise moved {near} bits", name(alg));
			assert!(far > near, "seed {seed} {}: another scene only {far} bits away", name(alg));
			if alg != HashAlg::Colour {
				assert!(far >= 20, "seed {seed} {}: another scene only {far} bits away", name(alg));
			}
		}
	}
}
