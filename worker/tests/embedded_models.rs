//! The embedded default models (`worker/models/`, trained by `scripts/train-text-model.py`):
//! the committed files are the ones their digests name, and they generate readable text.

use replica_worker::engines::{
	determinism,
	text::{Decoding, TextEngine},
};
use std::path::Path;

const TEXT_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/fortunes-gpt");

#[test]
fn committed_files_match_their_digests() {
	let digests = std::fs::read_to_string(Path::new(TEXT_MODEL).join("DIGESTS")).unwrap();
	let mut checked = 0;
	for line in digests.lines() {
		let (digest, name) = line.split_once("  ").expect("`<blake2-256 hex>  <file>`");
		let bytes = std::fs::read(Path::new(TEXT_MODEL).join(name)).unwrap();
		let actual: String = sp_crypto_hashing::blake2_256(&bytes).iter().map(|b| format!("{b:02x}")).collect();
		assert_eq!(actual, digest, "{name} is not the trained file");
		checked += 1;
	}
	assert_eq!(checked, 3);
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
