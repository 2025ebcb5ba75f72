//! The text engine: a decoder-only transformer with the GPT-2 or the Llama architecture
//! ([`super::llama`], chosen by `model_type` in `config.json`), loading `config.json` +
//! `model.safetensors` + `tokenizer.json` (Hugging Face layout and tensor names) from a model
//! directory, decoding greedily or with beam search.
//!
//! Decoding is deterministic by construction: no sampling, ties broken by token id (a stable
//! sort), scores accumulated in `f32` on the device in a fixed order. On one execution profile
//! the same prompt gives the same tokens; the chain only compares text between workers of one
//! profile.

use super::{
	layers::attention,
	llama::{Llama, LlamaConfig},
	weights, EngineError, Result,
};
use replica_primitives::{TextResult, MAX_TEXT_BYTES};
use std::{collections::HashMap, path::Path};
use tch::{
	nn::{self, Module},
	Device, Kind, Tensor,
};

/// The GPT-2 hyper-parameters (`config.json`, Hugging Face names).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gpt2Config {
	pub vocab_size: i64,
	pub n_positions: i64,
	pub n_embd: i64,
	pub n_layer: i64,
	pub n_head: i64,
	#[serde(default = "default_epsilon")]
	pub layer_norm_epsilon: f64,
	/// Generation stops at this token; `None`: only at `max_tokens`.
	#[serde(default)]
	pub eos_token_id: Option<i64>,
}

fn default_epsilon() -> f64 {
	1e-5
}

impl Gpt2Config {
	/// A small configuration for tests: the same code, dimensions that run in milliseconds.
	pub fn tiny(vocab_size: i64, eos_token_id: Option<i64>) -> Self {
		Self { vocab_size, n_positions: 128, n_embd: 32, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5, eos_token_id }
	}

	fn check(&self) -> core::result::Result<(), String> {
		let positive = [self.vocab_size, self.n_positions, self.n_embd, self.n_layer, self.n_head];
		if positive.iter().any(|&v| v <= 0) {
			return Err("every dimension must be positive".into());
		}
		if self.n_embd % self.n_head != 0 {
			return Err(format!("n_embd {} is not a multiple of n_head {}", self.n_embd, self.n_head));
		}
		Ok(())
	}
}

/// How to pick tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoding {
	/// The most likely token at every step.
	Greedy,
	/// Beam search with `width` (1..=10) live beams; ended beams are kept (the best `width`)
	/// until no live beam can beat them or `max_tokens` is reached; the beam with the highest
	/// log-probability per generated token wins.
	Beam { width: u8 },
}

/// Most beams a task may ask for.
pub const MAX_BEAMS: u8 = 10;

/// What the engine produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextOutput {
	/// The generated token ids (without the prompt).
	pub token_ids: Vec<u32>,
	/// Their decoded text.
	pub text: String,
}

impl TextOutput {
	/// The on-chain form: the tokens' digest and the text, cut to `MAX_TEXT_BYTES` at a
	/// character boundary.
	pub fn to_result(&self) -> TextResult {
		let mut end = self.text.len().min(MAX_TEXT_BYTES as usize);
		while !self.text.is_char_boundary(end) {
			end -= 1;
		}
		TextResult {
			tokens_digest: tokens_digest(&self.token_ids),
			text: self.text.as_bytes()[..end].to_vec().try_into().expect("cut to MAX_TEXT_BYTES"),
		}
	}
}

/// blake2-256 of the SCALE encoding of the token ids, as `TextResult` defines it.
pub fn tokens_digest(token_ids: &[u32]) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&codec::Encode::encode(&token_ids.to_vec()))
}

/// A Conv1D of GPT-2: a linear layer stored as `[in, out]`.
#[derive(Debug)]
struct Conv1D {
	weight: Tensor,
	bias: Tensor,
}

impl Conv1D {
	fn new(path: nn::Path, inputs: i64, outputs: i64) -> Self {
		Self { weight: path.zeros("weight", &[inputs, outputs]), bias: path.zeros("bias", &[outputs]) }
	}
}

impl Module for Conv1D {
	fn forward(&self, x: &Tensor) -> Tensor {
		x.matmul(&self.weight) + &self.bias
	}
}

#[derive(Debug)]
struct Block {
	ln_1: nn::LayerNorm,
	c_attn: Conv1D,
	attn_proj: Conv1D,
	ln_2: nn::LayerNorm,
	c_fc: Conv1D,
	mlp_proj: Conv1D,
}

/// Keys and values of earlier positions, per layer: `[batch, heads, positions, head_dim]`.
pub(crate) type Cache = Vec<(Tensor, Tensor)>;

/// The GPT-2 network.
#[derive(Debug)]
pub struct Gpt2 {
	config: Gpt2Config,
	wte: Tensor,
	wpe: Tensor,
	blocks: Vec<Block>,
	ln_f: nn::LayerNorm,
}

impl Gpt2 {
	fn new(root: &nn::Path, config: &Gpt2Config) -> Self {
		let c = config.n_embd;
		let ln = |p: nn::Path| {
			nn::layer_norm(p, vec![c], nn::LayerNormConfig { eps: config.layer_norm_epsilon, ..Default::default() })
		};
		let blocks = (0..config.n_layer)
			.map(|i| {
				let p = root / "h" / i;
				Block {
					ln_1: ln(&p / "ln_1"),
					c_attn: Conv1D::new(&p / "attn" / "c_attn", c, 3 * c),
					attn_proj: Conv1D::new(&p / "attn" / "c_proj", c, c),
					ln_2: ln(&p / "ln_2"),
					c_fc: Conv1D::new(&p / "mlp" / "c_fc", c, 4 * c),
					mlp_proj: Conv1D::new(&p / "mlp" / "c_proj", 4 * c, c),
				}
			})
			.collect();
		Self {
			config: config.clone(),
			wte: (root / "wte").zeros("weight", &[config.vocab_size, c]),
			wpe: (root / "wpe").zeros("weight", &[config.n_positions, c]),
			blocks,
			ln_f: ln(root / "ln_f"),
		}
	}

	/// Logits of every position of `ids` (`[batch, t]`), continuing after `cache`.
	fn forward(&self, ids: &Tensor, cache: &mut Cache) -> Tensor {
		let (batch, t) = ids.size2().expect("ids are [batch, t]");
		let past = cache.first().map(|(k, _)| k.size()[2]).unwrap_or(0);
		let positions = Tensor::arange_start(past, past + t, (Kind::Int64, ids.device()));
		let mut h = self.wte.index_select(0, &ids.flatten(0, -1)).view([batch, t, -1]) +
			self.wpe.index_select(0, &positions).unsqueeze(0);
		let heads = self.config.n_head;
		let head_dim = self.config.n_embd / heads;
		let split = |x: Tensor| x.view([batch, -1, heads, head_dim]).transpose(1, 2);
		for (layer, block) in self.blocks.iter().enumerate() {
			let qkv = block.c_attn.forward(&block.ln_1.forward(&h)).split(self.config.n_embd, 2);
			let (q, mut k, mut v) = (split(qkv[0].shallow_clone()), split(qkv[1].shallow_clone()), split(qkv[2].shallow_clone()));
			if let Some((past_k, past_v)) = cache.get(layer) {
				k = Tensor::cat(&[past_k, &k], 2);
				v = Tensor::cat(&[past_v, &v], 2);
			}
			let attended = causal_attention(&q, &k, &v).transpose(1, 2).contiguous().view([batch, t, self.config.n_embd]);
			h = h + block.attn_proj.forward(&attended);
			let mlp = block.mlp_proj.forward(&block.c_fc.forward(&block.ln_2.forward(&h)).gelu("tanh"));
			h = h + mlp;
			if layer < cache.len() {
				cache[layer] = (k, v);
			} else {
				cache.push((k, v));
			}
		}
		self.ln_f.forward(&h).matmul(&self.wte.transpose(0, 1))
	}
}

/// Scaled dot-product attention of the `t` new queries `[batch, heads, t, d]` over all keys and
/// values so far `[batch, heads, past + t, d]`, each query seeing keys up to its own position.
pub(crate) fn causal_attention(q: &Tensor, k: &Tensor, v: &Tensor) -> Tensor {
	let (t, total, head_dim) = (q.size()[2], k.size()[2], q.size()[3]);
	// Position i of this call sees keys up to past + i.
	let blocked = (t > 1).then(|| Tensor::ones([t, total], (Kind::Bool, q.device())).tril(total - t).logical_not());
	attention(q, k, v, Some((head_dim as f64).sqrt()), blocked.as_ref())
}

/// The networks the text engine runs.
#[derive(Debug)]
enum Network {
	Gpt2(Gpt2),
	Llama(Llama),
}

impl Network {
	fn forward(&self, ids: &Tensor, cache: &mut Cache) -> Tensor {
		match self {
			Network::Gpt2(m) => m.forward(ids, cache),
			Network::Llama(m) => m.forward(ids, cache),
		}
	}

	fn vocab_size(&self) -> i64 {
		match self {
			Network::Gpt2(m) => m.config.vocab_size,
			Network::Llama(m) => m.config.vocab_size,
		}
	}

	fn max_positions(&self) -> i64 {
		match self {
			Network::Gpt2(m) => m.config.n_positions,
			Network::Llama(m) => m.config.max_position_embeddings,
		}
	}

	fn eos_token_ids(&self) -> Vec<i64> {
		match self {
			Network::Gpt2(m) => m.config.eos_token_id.into_iter().collect(),
			Network::Llama(m) => m.config.eos_token_ids(),
		}
	}
}

/// `config.json`'s architecture key.
#[derive(serde::Deserialize)]
struct ModelType {
	#[serde(default)]
	model_type: Option<String>,
}

/// A loaded text model: network, tokenizer and device.
pub struct TextEngine {
	model: Network,
	eos: Vec<i64>,
	_store: nn::VarStore,
	tokenizer: tokenizers::Tokenizer,
	device: Device,
}

/// The positions of the context of the text model in `dir` (prompt and output together), from
/// its `config.json`: what governance registers as the model's `context_len`.
pub fn context_len(dir: &Path) -> Result<i64> {
	let kind: ModelType = weights::read_config(dir, |_| Ok(()))?;
	Ok(match kind.model_type.as_deref() {
		Some("llama") => weights::read_config::<LlamaConfig>(dir, LlamaConfig::check)?.max_position_embeddings,
		_ => weights::read_config::<Gpt2Config>(dir, Gpt2Config::check)?.n_positions,
	})
}

impl TextEngine {
	/// Loads `dir/config.json`, `dir/model.safetensors` and `dir/tokenizer.json` onto `device`:
	/// a Llama model if `model_type` is `llama`, else GPT-2.
	pub fn load(dir: &Path, device: Device) -> Result<Self> {
		let kind: ModelType = weights::read_config(dir, |_| Ok(()))?;
		let mut store = nn::VarStore::new(device);
		let (model, prefix) = match kind.model_type.as_deref() {
			Some("llama") => {
				let config: LlamaConfig = weights::read_config(dir, LlamaConfig::check)?;
				(Network::Llama(Llama::new(&store.root(), &config)), "")
			},
			None | Some("gpt2") => {
				let config: Gpt2Config = weights::read_config(dir, Gpt2Config::check)?;
				(Network::Gpt2(Gpt2::new(&store.root(), &config)), "transformer.")
			},
			Some(other) => {
				let path = dir.join("config.json");
				return Err(EngineError::Malformed { path, reason: format!("model_type {other}: gpt2 or llama expected") });
			},
		};
		let malformed = |path: &Path, reason: String| EngineError::Malformed { path: path.to_path_buf(), reason };
		let tokenizer_path = weights::require_file(dir, "tokenizer.json")?;
		let tokenizer = tokenizers::Tokenizer::from_file(&tokenizer_path)
			.map_err(|e| malformed(&tokenizer_path, e.to_string()))?;
		if tokenizer.get_vocab_size(true) as i64 > model.vocab_size() {
			return Err(malformed(
				&tokenizer_path,
				format!("{} tokens, more than the model's vocab_size {}", tokenizer.get_vocab_size(true), model.vocab_size()),
			));
		}
		let weights_path = weights::require_file(dir, "model.safetensors")?;
		weights::load_into(&mut store, &weights_path, prefix)?;
		store.freeze();
		Ok(Self { eos: model.eos_token_ids(), model, _store: store, tokenizer, device })
	}

	/// The network's logits for every position of `ids`, `[t, vocab]`, on the CPU.
	pub fn logits(&self, ids: &[i64]) -> Result<Tensor> {
		if ids.is_empty() || ids.len() as i64 > self.model.max_positions() {
			return Err(EngineError::Params(format!("{} ids; 1..={} allowed", ids.len(), self.model.max_positions())));
		}
		let input = Tensor::from_slice(ids).unsqueeze(0).to_device(self.device);
		Ok(tch::no_grad(|| self.model.forward(&input, &mut Cache::new())).squeeze_dim(0).to_device(Device::Cpu))
	}

	/// Generates up to `max_tokens` tokens after `prompt`.
	pub fn generate(&self, prompt: &str, max_tokens: u32, decoding: Decoding) -> Result<TextOutput> {
		let prompt_ids = self.encode(prompt)?;
		let room = self.model.max_positions() - prompt_ids.len() as i64;
		if room < max_tokens as i64 {
			return Err(EngineError::ContextExceeded {
				prompt_tokens: prompt_ids.len(),
				max_tokens,
				positions: self.model.max_positions(),
			});
		}
		let token_ids = tch::no_grad(|| match decoding {
			Decoding::Greedy => self.greedy(&prompt_ids, max_tokens),
			Decoding::Beam { width } if (1..=MAX_BEAMS).contains(&width) => self.beam(&prompt_ids, max_tokens, width as i64),
			Decoding::Beam { width } => Err(EngineError::Params(format!("{width} beams; 1..={MAX_BEAMS} allowed"))),
		})?;
		self.output(token_ids)
	}

	/// Samples up to `max_tokens` tokens after `prompt` at `temperature`, every draw from a
	/// ChaCha20 stream seeded with `seed`: open-ended answers (a swarm query), which need not
	/// be reproducible on other machines and are not compared bit for bit.
	pub fn sample(&self, prompt: &str, max_tokens: u32, temperature: f64, seed: u64) -> Result<TextOutput> {
		use rand_chacha::{rand_core::{RngCore, SeedableRng}, ChaCha20Rng};
		let prompt_ids = self.encode(prompt)?;
		let max_tokens = max_tokens.min((self.model.max_positions() - prompt_ids.len() as i64).max(0) as u32);
		let mut rng = ChaCha20Rng::seed_from_u64(seed);
		let token_ids = tch::no_grad(|| -> Result<Vec<u32>> {
			let mut cache = Cache::new();
			let mut input = Tensor::from_slice(&prompt_ids).unsqueeze(0).to_device(self.device);
			let mut out = Vec::new();
			for _ in 0..max_tokens {
				let logits = self.model.forward(&input, &mut cache).select(1, -1);
				let probs = (logits / temperature.max(1e-3)).softmax(-1, Kind::Double).to_device(Device::Cpu);
				let probs = Vec::<f64>::try_from(probs.flatten(0, -1))?;
				// Inverse transform sampling on a uniform in [0, 1).
				let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
				let mut acc = 0.0;
				let token = probs.iter().position(|p| {
					acc += p;
					acc > u
				}).unwrap_or(probs.len() - 1) as i64;
				if self.is_eos(token) {
					break;
				}
				out.push(token as u32);
				input = Tensor::from_slice(&[token]).unsqueeze(0).to_device(self.device);
			}
			Ok(out)
		})?;
		self.output(token_ids)
	}

	/// How likely the model finds `answer` as the continuation of `prompt`: the mean
	/// log-probability of its tokens given the prompt and the tokens before them, from one
	/// forward pass (a swarm agent's judgement of an answer, far cheaper than generating it).
	/// An answer with no tokens scores negative infinity; one longer than the context is
	/// judged on the tokens that fit.
	pub fn log_likelihood(&self, prompt: &str, answer: &str) -> Result<f64> {
		let prompt_ids = self.encode(prompt)?;
		let answer_ids: Vec<i64> = self
			.tokenizer
			.encode(answer, false)
			.map_err(|e| EngineError::Params(format!("answer: {e}")))?
			.get_ids()
			.iter()
			.map(|&id| id as i64)
			.collect();
		let room = (self.model.max_positions() as usize).saturating_sub(prompt_ids.len());
		let answer_ids = &answer_ids[..answer_ids.len().min(room)];
		if answer_ids.is_empty() {
			return Ok(f64::NEG_INFINITY);
		}
		let ids: Vec<i64> = prompt_ids.iter().chain(answer_ids).copied().collect();
		let log_probs = self.logits(&ids)?.log_softmax(-1, Kind::Double);
		// Position p predicts token p + 1: the answer's tokens are predicted from the last
		// prompt position on.
		let first = prompt_ids.len() as i64 - 1;
		let predicted = log_probs.narrow(0, first, answer_ids.len() as i64);
		let targets = Tensor::from_slice(answer_ids).unsqueeze(1);
		let picked = predicted.gather(1, &targets, false);
		Ok(picked.mean(Kind::Double).double_value(&[]))
	}

	/// The generated tokens with their text.
	fn output(&self, token_ids: Vec<u32>) -> Result<TextOutput> {
		let text = self
			.tokenizer
			.decode(&token_ids, true)
			.map_err(|e| EngineError::Params(format!("decoding the output: {e}")))?;
		Ok(TextOutput { token_ids, text })
	}

	fn encode(&self, prompt: &str) -> Result<Vec<i64>> {
		let encoding = self.tokenizer.encode(prompt, false).map_err(|e| EngineError::Params(format!("prompt: {e}")))?;
		let ids: Vec<i64> = encoding.get_ids().iter().map(|&id| id as i64).collect();
		if ids.is_empty() {
			return Err(EngineError::Params("the prompt has no tokens".into()));
		}
		Ok(ids)
	}

	fn is_eos(&self, token: i64) -> bool {
		self.eos.contains(&token)
	}

	/// Log-probabilities of the last position, `[batch, vocab]`, as `f32` on the CPU.
	fn last_log_probs(&self, logits: &Tensor) -> Tensor {
		logits.select(1, -1).log_softmax(-1, Kind::Float).to_device(Device::Cpu)
	}

	fn greedy(&self, prompt: &[i64], max_tokens: u32) -> Result<Vec<u32>> {
		let mut cache = Cache::new();
		let mut input = Tensor::from_slice(prompt).unsqueeze(0).to_device(self.device);
		let mut out = Vec::new();
		for _ in 0..max_tokens {
			let log_probs = self.last_log_probs(&self.model.forward(&input, &mut cache));
			// argmax returns the first index of the maximum: ties go to the lower token id.
			let token = log_probs.argmax(-1, false).int64_value(&[0]);
			if self.is_eos(token) {
				break;
			}
			out.push(token as u32);
			input = Tensor::from_slice(&[token]).unsqueeze(0).to_device(self.device);
		}
		Ok(out)
	}

	fn beam(&self, prompt: &[i64], max_tokens: u32, width: i64) -> Result<Vec<u32>> {
		struct Beam {
			tokens: Vec<i64>,
			score: f32,
		}
		// Log-probability per generated token (an end-of-text counts as one): a length penalty
		// of 1, without which beam search prefers stopping early.
		let normalized = |b: &Beam, ended: bool| b.score / (b.tokens.len() + usize::from(ended)).max(1) as f32;
		let vocab = self.model.vocab_size();
		let width_usize = width as usize;
		let mut cache = Cache::new();
		let mut input = Tensor::from_slice(prompt).unsqueeze(0).to_device(self.device);
		let mut alive = vec![Beam { tokens: vec![], score: 0.0 }];
		// The best `width` ended beams, with their normalized scores.
		let mut finished: Vec<(Beam, f32)> = Vec::new();
		for _ in 0..max_tokens {
			let log_probs = self.last_log_probs(&self.model.forward(&input, &mut cache));
			let scores: Vec<f32> = alive.iter().map(|b| b.score).collect();
			let totals = log_probs + Tensor::from_slice(&scores).unsqueeze(1);
			let (values, order) = totals.flatten(0, -1).sort_stable(true, -1, true);
			let values = Vec::<f32>::try_from(values)?;
			let order = Vec::<i64>::try_from(order)?;
			let mut next = Vec::new();
			let mut parents = Vec::new();
			for (score, index) in values.into_iter().zip(order) {
				if next.len() == width_usize {
					break;
				}
				let (parent, token) = ((index / vocab) as usize, index % vocab);
				let mut tokens = alive[parent].tokens.clone();
				if self.is_eos(token) {
					let ended = Beam { tokens, score };
					let value = normalized(&ended, true);
					if finished.len() < width_usize {
						finished.push((ended, value));
					} else if let Some(worst) = finished.iter_mut().min_by(|a, b| a.1.total_cmp(&b.1)) {
						if value > worst.1 {
							*worst = (ended, value);
						}
					}
					continue;
				}
				tokens.push(token);
				next.push(Beam { tokens, score });
				parents.push(parent as i64);
			}
			alive = next;
			// Done when no live beam, at its current length, beats the worst ended one.
			let worst_finished = finished.iter().map(|f| f.1).fold(f32::INFINITY, f32::min);
			let best_alive = alive.iter().map(|b| normalized(b, false)).fold(f32::NEG_INFINITY, f32::max);
			if alive.is_empty() || (finished.len() == width_usize && worst_finished >= best_alive) {
				break;
			}
			let parents = Tensor::from_slice(&parents).to_device(self.device);
			for (k, v) in cache.iter_mut() {
				*k = k.index_select(0, &parents);
				*v = v.index_select(0, &parents);
			}
			let last: Vec<i64> = alive.iter().map(|b| *b.tokens.last().expect("a live beam has a token")).collect();
			input = Tensor::from_slice(&last).unsqueeze(1).to_device(self.device);
		}
		// The best normalized score; on a tie, the one listed first (ended before live).
		let best = finished
			.iter()
			.map(|(b, value)| (b, *value))
			.chain(alive.iter().map(|b| (b, normalized(b, false))))
			.fold(None::<(&Beam, f32)>, |best, (b, value)| match best {
				Some(best) if best.1 >= value => Some(best),
				_ => Some((b, value)),
			})
			.map(|(b, _)| b.tokens.clone())
			.unwrap_or_default();
		Ok(best.into_iter().map(|t| t as u32).collect())
	}
}

/// Deterministic random weights for `config` (normal, std 0.02; LayerNorms 1 and 0), named as
/// in a Hugging Face GPT-2 file: for tests and the `tiny` configuration.
pub fn random_weights(config: &Gpt2Config, seed: u64) -> Result<HashMap<String, Tensor>> {
	config.check().map_err(EngineError::Params)?;
	let store = nn::VarStore::new(Device::Cpu);
	let _model = Gpt2::new(&store.root(), config);
	let mut names: Vec<(String, Tensor)> = store.variables().into_iter().collect();
	names.sort_by(|a, b| a.0.cmp(&b.0));
	Ok(names
		.into_iter()
		.map(|(name, var)| {
			let size = var.size();
			let tensor = if name.contains(".ln_") || name.starts_with("ln_f") {
				if name.ends_with("weight") {
					Tensor::ones(&size, (Kind::Float, Device::Cpu))
				} else {
					Tensor::zeros(&size, (Kind::Float, Device::Cpu))
				}
			} else {
				super::determinism::seeded_normal(super::determinism::seed_bytes(seed, &name), &size, Kind::Float, Device::Cpu) *
					0.02
			};
			(format!("transformer.{name}"), tensor)
		})
		.collect())
}
