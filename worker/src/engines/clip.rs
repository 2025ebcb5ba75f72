//! The CLIP text encoder of Stable Diffusion 1.x (transformers' `CLIPTextModel`): token ids to
//! the hidden states the UNet attends to. Loads `config.json` and `model.safetensors` of a
//! `text_encoder/` directory (transformers' tensor names, with or without `text_model.`).

use super::{layers::attention, weights, EngineError, Result};
use std::path::Path;
use tch::{
	nn::{self, Module},
	Device, Kind, Tensor,
};

/// The encoder's hyper-parameters (transformers' `CLIPTextConfig` names).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipTextConfig {
	pub vocab_size: i64,
	pub hidden_size: i64,
	pub intermediate_size: i64,
	pub num_hidden_layers: i64,
	pub num_attention_heads: i64,
	pub max_position_embeddings: i64,
	/// `quick_gelu` (SD 1.x) or `gelu`.
	#[serde(default = "default_act")]
	pub hidden_act: String,
	#[serde(default = "default_eps")]
	pub layer_norm_eps: f64,
}

fn default_act() -> String {
	"quick_gelu".into()
}

fn default_eps() -> f64 {
	1e-5
}

impl ClipTextConfig {
	fn check(&self) -> core::result::Result<(), String> {
		let dims = [self.vocab_size, self.hidden_size, self.intermediate_size, self.num_hidden_layers, self.num_attention_heads];
		if dims.iter().any(|d| *d < 1) || self.max_position_embeddings < 1 {
			return Err("every dimension must be positive".into());
		}
		if self.hidden_size % self.num_attention_heads != 0 {
			return Err(format!("hidden_size {} is not a multiple of {} heads", self.hidden_size, self.num_attention_heads));
		}
		if !matches!(self.hidden_act.as_str(), "quick_gelu" | "gelu") {
			return Err(format!("hidden_act `{}`: quick_gelu or gelu", self.hidden_act));
		}
		Ok(())
	}
}

#[derive(Debug)]
struct Layer {
	layer_norm1: nn::LayerNorm,
	q_proj: nn::Linear,
	k_proj: nn::Linear,
	v_proj: nn::Linear,
	out_proj: nn::Linear,
	layer_norm2: nn::LayerNorm,
	fc1: nn::Linear,
	fc2: nn::Linear,
}

/// The text encoder.
#[derive(Debug)]
pub struct ClipTextEncoder {
	config: ClipTextConfig,
	token_embedding: Tensor,
	position_embedding: Tensor,
	layers: Vec<Layer>,
	final_layer_norm: nn::LayerNorm,
	device: Device,
	_store: nn::VarStore,
}

impl ClipTextEncoder {
	/// Loads `dir/config.json` and `dir/model.safetensors` onto `device`.
	pub fn load(dir: &Path, device: Device) -> Result<Self> {
		let config: ClipTextConfig = weights::read_config(dir, ClipTextConfig::check)?;
		let weights_path = weights::require_file(dir, "model.safetensors")?;
		let mut store = nn::VarStore::new(device);
		let root = store.root();
		let c = config.hidden_size;
		let ln = |p: nn::Path| nn::layer_norm(p, vec![c], nn::LayerNormConfig { eps: config.layer_norm_eps, ..Default::default() });
		let linear = |p: nn::Path, i: i64, o: i64| nn::linear(p, i, o, Default::default());
		let e = &root / "embeddings";
		let token_embedding = (&e / "token_embedding").zeros("weight", &[config.vocab_size, c]);
		let position_embedding = (&e / "position_embedding").zeros("weight", &[config.max_position_embeddings, c]);
		let layers = (0..config.num_hidden_layers)
			.map(|i| {
				let p = &root / "encoder" / "layers" / i;
				let a = &p / "self_attn";
				Layer {
					layer_norm1: ln(&p / "layer_norm1"),
					q_proj: linear(&a / "q_proj", c, c),
					k_proj: linear(&a / "k_proj", c, c),
					v_proj: linear(&a / "v_proj", c, c),
					out_proj: linear(&a / "out_proj", c, c),
					layer_norm2: ln(&p / "layer_norm2"),
					fc1: linear(&p / "mlp" / "fc1", c, config.intermediate_size),
					fc2: linear(&p / "mlp" / "fc2", config.intermediate_size, c),
				}
			})
			.collect();
		let final_layer_norm = ln(&root / "final_layer_norm");
		weights::load_into(&mut store, &weights_path, "text_model.")?;
		store.freeze();
		Ok(Self { config, token_embedding, position_embedding, layers, final_layer_norm, device, _store: store })
	}

	pub fn config(&self) -> &ClipTextConfig {
		&self.config
	}

	/// The last hidden states `[batch, t, hidden]` of token ids `[batch, t]` (t at most
	/// `max_position_embeddings`; ids already padded as the pipeline wants them).
	pub fn encode(&self, ids: &Tensor) -> Result<Tensor> {
		let tokens = self.embed_tokens(ids)?;
		Ok(tch::no_grad(|| self.encode_embedded(&tokens)))
	}

	/// The token embeddings `[batch, t, hidden]` of token ids `[batch, t]`.
	pub fn embed_tokens(&self, ids: &Tensor) -> Result<Tensor> {
		let (batch, t) = ids.size2().map_err(|e| EngineError::Params(format!("token ids: {e}")))?;
		if t > self.config.max_position_embeddings {
			return Err(EngineError::Params(format!("{t} tokens; at most {}", self.config.max_position_embeddings)));
		}
		let ids = ids.to_device(self.device).to_kind(Kind::Int64);
		Ok(tch::no_grad(|| self.token_embedding.index_select(0, &ids.flatten(0, -1)).view([batch, t, -1])))
	}

	/// The last hidden states of token embeddings `[batch, t, hidden]` (from
	/// [`Self::embed_tokens`], possibly edited): differentiable in them, so textual inversion
	/// (`engines::training`) can learn one token's embedding through the frozen encoder.
	pub fn encode_embedded(&self, tokens: &Tensor) -> Tensor {
		let (batch, t, _) = tokens.size3().expect("token embeddings are [batch, t, hidden]");
		let heads = self.config.num_attention_heads;
		let head_dim = self.config.hidden_size / heads;
		let positions = Tensor::arange(t, (Kind::Int64, self.device));
		let mut x = tokens + self.position_embedding.index_select(0, &positions).unsqueeze(0);
		// Causal: position i attends to positions up to i.
		let blocked = Tensor::ones([t, t], (Kind::Bool, self.device)).triu(1);
		let split = |y: Tensor| y.view([batch, t, heads, head_dim]).transpose(1, 2);
		for layer in &self.layers {
			let h = layer.layer_norm1.forward(&x);
			let q = split(layer.q_proj.forward(&h) * (head_dim as f64).powf(-0.5));
			let (k, v) = (split(layer.k_proj.forward(&h)), split(layer.v_proj.forward(&h)));
			let attended = attention(&q, &k, &v, None, Some(&blocked));
			let attended = attended.transpose(1, 2).contiguous().view([batch, t, self.config.hidden_size]);
			x = x + layer.out_proj.forward(&attended);
			let h = layer.fc1.forward(&layer.layer_norm2.forward(&x));
			let h = match self.config.hidden_act.as_str() {
				"quick_gelu" => &h * (&h * 1.702).sigmoid(),
				_ => h.gelu("none"),
			};
			x = x + layer.fc2.forward(&h);
		}
		self.final_layer_norm.forward(&x)
	}
}
