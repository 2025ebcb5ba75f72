//! The text engine on a tiny GPT-2 whose weights are generated from a seed and loaded through
//! the same code that loads real weights (`model.safetensors`, `config.json`, `tokenizer.json`).

use replica_worker::engines::{
	determinism,
	text::{random_weights, Decoding, Gpt2Config, TextEngine},
	weights, EngineError,
};
use std::path::Path;
use tch::Device;
use tokenizers::{
	decoders::byte_level::ByteLevel as ByteLevelDecoder, models::bpe::BPE, pre_tokenizers::byte_level::ByteLevel,
	AddedToken, Tokenizer,
};

const EOS: &str = "<|endoftext|>";

/// A byte-level BPE tokenizer with the 256 byte tokens and no merges, plus an end-of-text token.
fn write_tokenizer(path: &Path) -> i64 {
	let mut alphabet: Vec<char> = ByteLevel::alphabet().into_iter().collect();
	alphabet.sort();
	let vocab: tokenizers::models::bpe::Vocab = alphabet.iter().enumerate().map(|(i, c)| (c.to_string(), i as u32)).collect();
	let bpe = BPE::builder().vocab_and_merges(vocab, vec![]).build().unwrap();
	let mut tokenizer = Tokenizer::new(bpe);
	tokenizer.with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)));
	tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
	tokenizer.add_special_tokens(&[AddedToken::from(EOS, true)]);
	tokenizer.save(path, false).unwrap();
	tokenizer.token_to_id(EOS).unwrap() as i64
}

/// A model directory with a tiny GPT-2 made from `seed`.
fn tiny_model(dir: &Path, seed: u64) -> Gpt2Config {
	let eos = write_tokenizer(&dir.join("tokenizer.json"));
	let config = Gpt2Config::tiny(eos + 1, Some(eos));
	std::fs::write(dir.join("config.json"), serde_json::to_vec(&config).unwrap()).unwrap();
	weights::write(&dir.join("model.safetensors"), &random_weights(&config, seed).unwrap()).unwrap();
	config
}

fn engine(seed: u64) -> (tempfile::TempDir, TextEngine) {
	determinism::enable().unwrap();
	let dir = tempfile::tempdir().unwrap();
	tiny_model(dir.path(), seed);
	let engine = TextEngine::load(dir.path(), Device::Cpu).unwrap();
	(dir, engine)
}

#[test]
fn greedy_and_beam_search_repeat_exactly() {
	let (_dir, engine) = engine(1);
	let greedy = engine.generate("The chain decides", 24, Decoding::Greedy).unwrap();
	assert!(!greedy.token_ids.is_empty());
	for _ in 0..2 {
		assert_eq!(engine.generate("The chain decides", 24, Decoding::Greedy).unwrap(), greedy);
	}
	let beam = engine.generate("The chain decides", 24, Decoding::Beam { width: 4 }).unwrap();
	assert_eq!(engine.generate("The chain decides", 24, Decoding::Beam { width: 4 }).unwrap(), beam);
	// A freshly loaded engine gives the same tokens: nothing depends on process state.
	let (_dir2, again) = engine_with_same_seed();
	assert_eq!(again.generate("The chain decides", 24, Decoding::Greedy).unwrap(), greedy);
	assert_eq!(greedy.to_result(), again.generate("The chain decides", 24, Decoding::Greedy).unwrap().to_result());
}

fn engine_with_same_seed() -> (tempfile::TempDir, TextEngine) {
	engine(1)
}

#[test]
fn one_beam_is_greedy_and_other_weights_give_other_text() {
	let (_dir, engine_a) = engine(1);
	let greedy = engine_a.generate("verify", 16, Decoding::Greedy).unwrap();
	assert_eq!(engine_a.generate("verify", 16, Decoding::Beam { width: 1 }).unwrap(), greedy);
	let (_dir_b, engine_b) = engine(2);
	assert_ne!(engine_b.generate("verify", 16, Decoding::Greedy).unwrap().token_ids, greedy.token_ids);
}

#[test]
fn every_beam_width_repeats_and_respects_max_tokens() {
	let (_dir, engine) = engine(3);
	for width in [2u8, 5, 10] {
		let out = engine.generate("abc", 12, Decoding::Beam { width }).unwrap();
		assert!(out.token_ids.len() <= 12);
		assert_eq!(out, engine.generate("abc", 12, Decoding::Beam { width }).unwrap());
	}
}

#[test]
fn bad_decoding_parameters_are_refused() {
	let (_dir, engine) = engine(1);
	assert!(matches!(engine.generate("x", 4, Decoding::Beam { width: 11 }), Err(EngineError::Params(_))));
	assert!(matches!(engine.generate("x", 4, Decoding::Beam { width: 0 }), Err(EngineError::Params(_))));
	// Too long for the context: deterministic, so the worker commits it as a refusal.
	assert!(matches!(
		engine.generate("x", 1_000, Decoding::Greedy),
		Err(EngineError::ContextExceeded { prompt_tokens: 1, max_tokens: 1_000, .. })
	));
	assert!(matches!(engine.generate("", 4, Decoding::Greedy), Err(EngineError::Params(_))));
}

#[test]
fn safetensors_round_trip() {
	let dir = tempfile::tempdir().unwrap();
	let config = Gpt2Config::tiny(300, None);
	let tensors = random_weights(&config, 9).unwrap();
	let path = dir.path().join("model.safetensors");
	weights::write(&path, &tensors).unwrap();
	let read = weights::read(&path).unwrap();
	assert_eq!(read.len(), tensors.len());
	for (name, tensor) in &tensors {
		assert!(read[name].equal(tensor), "{name} changed in the round trip");
	}
}

#[test]
fn missing_or_malformed_files_name_the_file() {
	let dir = tempfile::tempdir().unwrap();
	tiny_model(dir.path(), 1);
	let message = |dir: &Path| match TextEngine::load(dir, Device::Cpu) {
		Err(e) => e.to_string(),
		Ok(_) => panic!("loaded a broken model"),
	};

	let empty = tempfile::tempdir().unwrap();
	assert!(message(empty.path()).contains("missing model file") && message(empty.path()).contains("config.json"));

	let broken = |file: &str, content: &[u8]| {
		let copy = tempfile::tempdir().unwrap();
		for name in ["config.json", "tokenizer.json", "model.safetensors"] {
			std::fs::copy(dir.path().join(name), copy.path().join(name)).unwrap();
		}
		std::fs::write(copy.path().join(file), content).unwrap();
		let text = message(copy.path());
		assert!(text.contains("malformed model file") && text.contains(file), "{file}: {text}");
		text
	};
	broken("config.json", b"{\"vocab_size\": 3");
	broken("config.json", br#"{"vocab_size": 300, "n_positions": 8, "n_embd": 30, "n_layer": 1, "n_head": 4}"#);
	broken("tokenizer.json", b"not json");
	broken("model.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}");

	// Weights of another shape: the error names the tensor.
	let other = tempfile::tempdir().unwrap();
	for name in ["config.json", "tokenizer.json"] {
		std::fs::copy(dir.path().join(name), other.path().join(name)).unwrap();
	}
	let config: Gpt2Config = serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
	let wider = Gpt2Config { n_embd: 64, ..config };
	weights::write(&other.path().join("model.safetensors"), &random_weights(&wider, 1).unwrap()).unwrap();
	let text = message(other.path());
	assert!(text.contains("model.safetensors") && text.contains("shape"), "{text}");

	std::fs::remove_file(other.path().join("model.safetensors")).unwrap();
	assert!(message(other.path()).contains("missing model file"));
}

/// The Llama architecture against transformers' own `LlamaForCausalLM` (fixture made by
/// scripts/llama-reference.py: grouped-query attention, RoPE, seeded random weights).
#[test]
fn llama_matches_transformers_logits_and_greedy_tokens() {
	determinism::enable().unwrap();
	let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama");
	let reference = weights::read(&dir.join("reference.safetensors")).unwrap();
	let engine = TextEngine::load(&dir, Device::Cpu).unwrap();

	let ids = Vec::<i64>::try_from(&reference["input_ids"]).unwrap();
	let logits = engine.logits(&ids).unwrap();
	let expected = &reference["logits"];
	assert_eq!(logits.size(), expected.size());
	let worst = (&logits - expected).abs().max().double_value(&[]);
	assert!(worst < 1e-4, "largest logit difference {worst}");

	// The same prompt through the tokenizer, then greedy decoding, as transformers' generate.
	let greedy = engine.generate("Love is", 16, Decoding::Greedy).unwrap();
	let expected: Vec<u32> = Vec::<i64>::try_from(&reference["greedy"]).unwrap().into_iter().map(|t| t as u32).collect();
	assert_eq!(greedy.token_ids, expected);
	assert_eq!(engine.generate("Love is", 16, Decoding::Beam { width: 1 }).unwrap(), greedy, "one beam is greedy");
	let beam = engine.generate("Love is", 16, Decoding::Beam { width: 3 }).unwrap();
	assert_eq!(engine.generate("Love is", 16, Decoding::Beam { width: 3 }).unwrap(), beam);
}

#[test]
fn an_unknown_architecture_is_refused_naming_the_config() {
	let dir = tempfile::tempdir().unwrap();
	std::fs::write(dir.path().join("config.json"), br#"{"model_type": "mamba"}"#).unwrap();
	let err = TextEngine::load(dir.path(), Device::Cpu).err().unwrap().to_string();
	assert!(err.contains("config.json") && err.contains("mamba"), "{err}");
	let llama = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama/config.json");
	let mut config: serde_json::Value = serde_json::from_slice(&std::fs::read(llama).unwrap()).unwrap();
	config["num_key_value_heads"] = 3.into();
	std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
	let err = TextEngine::load(dir.path(), Device::Cpu).err().unwrap().to_string();
	assert!(err.contains("not a multiple of num_key_value_heads 3"), "{err}");
}

/// A swarm answer: sampling repeats for one seed and differs across seeds (agents give
/// different answers), and stays within the token budget.
#[test]
fn sampling_follows_its_seed() {
	let (_dir, engine) = engine(3);
	let a = engine.sample("The chain decides", 16, 1.0, 7).unwrap();
	assert_eq!(engine.sample("The chain decides", 16, 1.0, 7).unwrap(), a);
	assert!(a.token_ids.len() <= 16);
	let others: Vec<_> = (8..12).map(|seed| engine.sample("The chain decides", 16, 1.0, seed).unwrap()).collect();
	assert!(others.iter().any(|o| o.token_ids != a.token_ids), "five seeds, one answer: {a:?}");
}

/// A swarm ranking: the log-likelihood, by one forward pass, is the mean log-probability of the
/// answer's tokens given the prompt — checked against the greedy continuation, which is the
/// most likely token at every step, and against the logits directly.
#[test]
fn log_likelihood_prefers_what_the_model_would_say() {
	let (_dir, engine) = engine(1);
	let prompt = "The chain decides";
	let greedy = engine.generate(prompt, 12, Decoding::Greedy).unwrap();
	assert!(!greedy.text.is_empty());
	let own = engine.log_likelihood(prompt, &greedy.text).unwrap();
	let junk = engine.log_likelihood(prompt, "zq#~ zq#~ zq#~").unwrap();
	assert!(own > junk, "its own continuation {own} vs junk {junk}");
	assert!(own <= 0.0 && own.is_finite());
	assert_eq!(engine.log_likelihood(prompt, "").unwrap(), f64::NEG_INFINITY);

	// By hand: the log-probability of one byte token after a prompt of printable bytes.
	let prompt = "Decides";
	let ids: Vec<i64> = prompt.bytes().map(byte_token).collect();
	let next = byte_token(b'x');
	let logits = engine.logits(&ids).unwrap();
	let log_probs = logits.log_softmax(-1, tch::Kind::Double);
	let expected = log_probs.double_value(&[ids.len() as i64 - 1, next]);
	let got = engine.log_likelihood(prompt, "x").unwrap();
	assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
}

/// The id of a printable ASCII byte other than space in the byte-level tokenizer above (its
/// alphabet sorted): such bytes map to themselves in the byte-level alphabet.
fn byte_token(byte: u8) -> i64 {
	let mut alphabet: Vec<char> = ByteLevel::alphabet().into_iter().collect();
	alphabet.sort();
	alphabet.iter().position(|c| *c == byte as char).unwrap() as i64
}
