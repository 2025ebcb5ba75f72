//! The Llama architecture for the text engine: RMSNorm, rotary position embeddings (RoPE),
//! grouped-query attention and a SwiGLU MLP, with Hugging Face's `config.json` keys and tensor
//! names (`model.layers.N.self_attn.q_proj.weight`, …). Checked against transformers' own
//! `LlamaForCausalLM` by `worker/tests/text_engine.rs` (fixture: `scripts/llama-reference.py`).

use super::text::{causal_attention, Cache};
use tch::{nn, Kind, Tensor};

/// RoPE settings as transformers >= 5 writes them.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct RopeParameters {
	pub rope_theta: f64,
	#[serde(default = "default_rope_type")]
	pub rope_type: String,
}

fn default_rope_type() -> String {
	"default".into()
}

/// `eos_token_id`: one id or several.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub enum TokenIds {
	One(i64),
	Many(Vec<i64>),
}

/// The Llama hyper-parameters (`config.json`, Hugging Face names).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct LlamaConfig {
	pub vocab_size: i64,
	pub hidden_size: i64,
	pub intermediate_size: i64,
	pub num_hidden_layers: i64,
	pub num_attention_heads: i64,
	/// Grouped-query attention; `None`: as many as query heads.
	#[serde(default)]
	pub num_key_value_heads: Option<i64>,
	/// `None`: hidden_size / num_attention_heads.
	#[serde(default)]
	pub head_dim: Option<i64>,
	pub max_position_embeddings: i64,
	#[serde(default = "default_rms_eps")]
	pub rms_norm_eps: f64,
	/// Older files keep the RoPE base here, newer ones in `rope_parameters`.
	#[serde(default)]
	pub rope_theta: Option<f64>,
	#[serde(default)]
	pub rope_parameters: Option<RopeParameters>,
	/// Scaled RoPE variants (linear, dynamic, llama3, yarn) are not implemented.
	#[serde(default)]
	pub rope_scaling: Option<serde_json::Value>,
	#[serde(default)]
	pub tie_word_embeddings: bool,
	#[serde(default)]
	pub eos_token_id: Option<TokenIds>,
	#[serde(default = "default_act")]
	pub hidden_act: String,
	#[serde(default)]
	pub attention_bias: bool,
	#[serde(default)]
	pub mlp_bias: bool,
}

fn default_rms_eps() -> f64 {
	1e-6
}

fn default_act() -> String {
	"silu".into()
}

impl LlamaConfig {
	pub fn kv_heads(&self) -> i64 {
		self.num_key_value_heads.unwrap_or(self.num_attention_heads)
	}

	pub fn head_dim(&self) -> i64 {
		self.head_dim.unwrap_or(self.hidden_size / self.num_attention_heads.max(1))
	}

	pub fn rope_theta(&self) -> f64 {
		self.rope_parameters.as_ref().map(|p| p.rope_theta).or(self.rope_theta).unwrap_or(10_000.0)
	}

	pub fn eos_token_ids(&self) -> Vec<i64> {
		match &self.eos_token_id {
			Some(TokenIds::One(id)) => vec![*id],
			Some(TokenIds::Many(ids)) => ids.clone(),
			None => Vec::new(),
		}
	}

	pub fn check(&self) -> core::result::Result<(), String> {
		let positive = [
			self.vocab_size,
			self.hidden_size,
			self.intermediate_size,
			self.num_hidden_layers,
			self.num_attention_heads,
			self.kv_heads(),
			self.head_dim(),
			self.max_position_embeddings,
		];
		if positive.iter().any(|&v| v <= 0) {
			return Err("every dimension must be positive".into());
		}
		if self.num_attention_heads % self.kv_heads() != 0 {
			return Err(format!(
				"num_attention_heads {} is not a multiple of num_key_value_heads {}",
				self.num_attention_heads,
				self.kv_heads()
			));
		}
		if self.head_dim() % 2 != 0 {
			return Err(format!("head_dim {} must be even for RoPE", self.head_dim()));
		}
		let scaled = self.rope_scaling.as_ref().is_some_and(|v| !v.is_null()) ||
			self.rope_parameters.as_ref().is_some_and(|p| p.rope_type != "default");
		if scaled {
			return Err("scaled RoPE (rope_scaling / a rope_type other than default) is not supported".into());
		}
		if self.hidden_act != "silu" {
			return Err(format!("hidden_act {} is not supported (silu only)", self.hidden_act));
		}
		if self.attention_bias || self.mlp_bias {
			return Err("attention_bias and mlp_bias are not supported".into());
		}
		Ok(())
	}
}

#[derive(Debug)]
struct Layer {
	input_norm: Tensor,
	q: Tensor,
	k: Tensor,
	v: Tensor,
	o: Tensor,
	post_attention_norm: Tensor,
	gate: Tensor,
	up: Tensor,
	down: Tensor,
}

/// The Llama network.
#[derive(Debug)]
pub struct Llama {
	pub config: LlamaConfig,
	embed: Tensor,
	layers: Vec<Layer>,
	norm: Tensor,
	/// `None`: tied to the embedding.
	lm_head: Option<Tensor>,
	/// RoPE inverse frequencies, `[head_dim / 2]`, float32.
	inv_freq: Tensor,
}

impl Llama {
	pub fn new(root: &nn::Path, config: &LlamaConfig) -> Self {
		let (h, i, d) = (config.hidden_size, config.intermediate_size, config.head_dim());
		let (heads, kv) = (config.num_attention_heads, config.kv_heads());
		let model = root / "model";
		let layers = (0..config.num_hidden_layers)
			.map(|n| {
				let p = &model / "layers" / n;
				Layer {
					input_norm: (&p / "input_layernorm").ones("weight", &[h]),
					q: (&p / "self_attn" / "q_proj").zeros("weight", &[heads * d, h]),
					k: (&p / "self_attn" / "k_proj").zeros("weight", &[kv * d, h]),
					v: (&p / "self_attn" / "v_proj").zeros("weight", &[kv * d, h]),
					o: (&p / "self_attn" / "o_proj").zeros("weight", &[h, heads * d]),
					post_attention_norm: (&p / "post_attention_layernorm").ones("weight", &[h]),
					gate: (&p / "mlp" / "gate_proj").zeros("weight", &[i, h]),
					up: (&p / "mlp" / "up_proj").zeros("weight", &[i, h]),
					down: (&p / "mlp" / "down_proj").zeros("weight", &[h, i]),
				}
			})
			.collect();
		// As transformers computes it: 1 / theta^(2j / d) in float32.
		let exponents = Tensor::arange_start_step(0, d, 2, (Kind::Int64, root.device())).to_kind(Kind::Float) / d as f64;
		let inv_freq = (Tensor::from(config.rope_theta()).to_kind(Kind::Float).to_device(root.device()).pow(&exponents)).reciprocal();
		Self {
			config: config.clone(),
			embed: (&model / "embed_tokens").zeros("weight", &[config.vocab_size, h]),
			layers,
			norm: (&model / "norm").ones("weight", &[h]),
			lm_head: (!config.tie_word_embeddings).then(|| (root / "lm_head").zeros("weight", &[config.vocab_size, h])),
			inv_freq,
		}
	}

	/// `weight * x / sqrt(mean(x²) + eps)`, computed in float32.
	fn rms_norm(&self, x: &Tensor, weight: &Tensor) -> Tensor {
		let kind = x.kind();
		let x = x.to_kind(Kind::Float);
		let variance = x.pow_tensor_scalar(2).mean_dim(-1, true, Kind::Float);
		weight * (x * (variance + self.config.rms_norm_eps).rsqrt()).to_kind(kind)
	}

	/// Logits of every position of `ids` (`[batch, t]`), continuing after `cache`.
	pub fn forward(&self, ids: &Tensor, cache: &mut Cache) -> Tensor {
		let (batch, t) = ids.size2().expect("ids are [batch, t]");
		let past = cache.first().map(|(k, _)| k.size()[2]).unwrap_or(0);
		let device = ids.device();
		let (heads, kv, d) = (self.config.num_attention_heads, self.config.kv_heads(), self.config.head_dim());
		// RoPE angles of positions past..past+t: [t, d] (the half-dimension frequencies twice).
		let positions = Tensor::arange_start(past, past + t, (Kind::Int64, device)).to_kind(Kind::Float);
		let freqs = positions.unsqueeze(1).matmul(&self.inv_freq.unsqueeze(0));
		let angles = Tensor::cat(&[&freqs, &freqs], -1);
		let (cos, sin) = (angles.cos(), angles.sin());
		let rotate = |x: &Tensor| {
			let halves = x.split(d / 2, -1);
			Tensor::cat(&[&halves[1].neg(), &halves[0]], -1)
		};
		let rope = |x: Tensor| &x * &cos + rotate(&x) * &sin;
		let mut h = self.embed.index_select(0, &ids.flatten(0, -1)).view([batch, t, -1]);
		for (n, layer) in self.layers.iter().enumerate() {
			let x = self.rms_norm(&h, &layer.input_norm);
			let q = rope(x.matmul(&layer.q.tr()).view([batch, t, heads, d]).transpose(1, 2));
			let mut k = rope(x.matmul(&layer.k.tr()).view([batch, t, kv, d]).transpose(1, 2));
			let mut v = x.matmul(&layer.v.tr()).view([batch, t, kv, d]).transpose(1, 2);
			if let Some((past_k, past_v)) = cache.get(n) {
				k = Tensor::cat(&[past_k, &k], 2);
				v = Tensor::cat(&[past_v, &v], 2);
			}
			// Each key/value head serves heads / kv query heads.
			let groups = heads / kv;
			let expand = |x: &Tensor| if groups == 1 { x.shallow_clone() } else { x.repeat_interleave_self_int(groups, 1, None) };
			let attended = causal_attention(&q, &expand(&k), &expand(&v));
			let attended = attended.transpose(1, 2).contiguous().view([batch, t, heads * d]);
			h = h + attended.matmul(&layer.o.tr());
			let x = self.rms_norm(&h, &layer.post_attention_norm);
			let mlp = (x.matmul(&layer.gate.tr()).silu() * x.matmul(&layer.up.tr())).matmul(&layer.down.tr());
			h = h + mlp;
			if n < cache.len() {
				cache[n] = (k, v);
			} else {
				cache.push((k, v));
			}
		}
		let h = self.rms_norm(&h, &self.norm);
		h.matmul(&self.lm_head.as_ref().unwrap_or(&self.embed).tr())
	}
}
