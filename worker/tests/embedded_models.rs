//! The embedded default models (`worker/models/`, trained by `scripts/train-text-model.py`):
//! the committed files are the ones their digests name, and they generate readable text.

use replica_worker::engines::{
	determinism,
	image::{ImageEngine, ImageRequest},
	text::{Decoding, TextEngine},
};
use std::path::Path;

const TEXT_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/fortunes-gpt");
const IMAGE_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits-sd");

/// Checks every file `DIGESTS` names; returns how many.
fn check_digests(dir: &str) -> usize {
	let digests = std::fs::read_to_string(Path::new(dir).join("DIGESTS")).unwrap();
	let mut checked = 0;
	for line in digests.lines() {
		let (digest, name) = line.split_once("  ").expect("`<blake2-256 hex>  <file>`");
		let bytes = std::fs::read(Path::new(dir).join(name)).unwrap();
		let actual: String = sp_crypto_hashing::blake2_256(&bytes).iter().map(|b| format!("{b:02x}")).collect();
		assert_eq!(actual, digest, "{dir}/{name} is not the trained file");
		checked += 1;
	}
	checked
}

#[test]
fn committed_files_match_their_digests() {
	assert_eq!(check_digests(TEXT_MODEL), 3);
	// tokenizer, and config + weights of the text encoder, UNet and VAE.
	assert_eq!(check_digests(IMAGE_MODEL), 7);
}

/// Normalised cross-correlation of two equally long grey images.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
	let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
	let (ma, mb) = (mean(a), mean(b));
	let dot: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
	let norm = |x: &[f64], m: f64| x.iter().map(|v| (v - m).powi(2)).sum::<f64>().sqrt();
	dot / (norm(a, ma) * norm(b, mb)).max(1e-9)
}

#[test]
fn the_image_model_draws_the_digit_it_is_asked_for() {
	determinism::enable().unwrap();
	let engine = ImageEngine::load(Path::new(IMAGE_MODEL), tch::Device::Cpu).unwrap();
	// The mean image of each digit in the training data (scripts/train-image-model.py).
	let means = image::open(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/digit-means.png")).unwrap().to_luma8();
	let templates: Vec<Vec<f64>> = (0..10)
		.map(|d| (0..32).flat_map(|y| (0..32).map(move |x| (x, y))).map(|(x, y)| means.get_pixel(d * 32 + x, y)[0] as f64).collect())
		.collect();
	let mut recognised = Vec::new();
	for digit in 0..10 {
		let request = ImageRequest {
			prompt: format!("a photo of the digit {digit}"),
			negative_prompt: String::new(),
			seed: 0,
			steps: 30,
			guidance: 4.0,
			width: 32,
			height: 32,
			count: 1,
		};
		let image = &engine.generate(&request).unwrap()[0];
		let grey: Vec<f64> = image.pixels().map(|p| (p[0] as f64 + p[1] as f64 + p[2] as f64) / 3.0).collect();
		let best = (0..10).max_by(|a, b| correlation(&grey, &templates[*a]).total_cmp(&correlation(&grey, &templates[*b]))).unwrap();
		if best == digit {
			recognised.push(digit);
		}
	}
	assert!(recognised.contains(&7), "the README's digit 7 is not recognised: {recognised:?}");
	assert!(recognised.len() >= 8, "only {recognised:?} look like the digit asked for");
}

#[test]
fn the_text_model_writes_words() {
	determinism::enable().unwrap();
	let engine = TextEngine::load(Path::new(TEXT_MODEL), tch::Device::Cpu).unwrap();
	// Beam search may end a quotation early (that is its job); greedy runs on.
	for (prompt, decoding, min_words) in
		[("The secret of", Decoding::Greedy, 5), ("A man who", Decoding::Beam { width: 4 }, 1)]
	{
		let out = engine.generate(prompt, 40, decoding).unwrap();
		let words: Vec<&str> = out.text.split_whitespace().collect();
		assert!(words.len() >= min_words, "{prompt:?} -> {:?}", out.text);
		let wordlike = words
			.iter()
			.filter(|w| {
				let core = w.trim_matches(|c: char| c.is_ascii_punctuation());
				!core.is_empty() && core.chars().all(|c| c.is_ascii_alphabetic() || c == '\'')
			})
			.count();
		assert!(wordlike * 10 >= words.len() * 8, "{prompt:?} -> {:?}", out.text);
		assert_eq!(engine.generate(prompt, 40, decoding).unwrap(), out);
	}
}

/// What `model register` registers for the embedded image model is what its measurement in
/// docs/verification/ recommends (`scripts/stats.sh` writes both): the committed
/// tolerances.toml holds exactly the recommended hashes and tolerances, or there is none when
/// the measurement recommended nothing.
#[test]
fn the_image_models_tolerances_are_what_its_measurement_recommends() {
	use replica_primitives::HashAlg;
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/verification/digits-sd.json");
	let report: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
	let committed = replica_worker::stats::tolerances::read(Path::new(IMAGE_MODEL)).unwrap();
	if report["calibration"]["outcome"] != "recommended" {
		assert!(committed.is_none(), "nothing was recommended, yet digits-sd has a tolerances.toml");
		return;
	}
	let committed = committed.expect("the measurement recommended tolerances: digits-sd/tolerances.toml holds them");
	for alg in HashAlg::ALL {
		let key = replica_worker::stats::alg_name(alg);
		let recommended = report["recommended"][key].as_u64().map(|t| t as u32);
		let registered = committed.algs.contains(alg).then(|| u32::from(committed.of_alg(alg)));
		assert_eq!(registered, recommended, "{key}");
	}
}
