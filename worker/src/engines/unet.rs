//! The UNet of Stable Diffusion 1.x (diffusers' `UNet2DConditionModel` with
//! `CrossAttnDownBlock2D`/`DownBlock2D` and `UpBlock2D`/`CrossAttnUpBlock2D`): predicts the
//! noise of a latent at a timestep, conditioned on text hidden states. Loads `config.json` and
//! `diffusion_pytorch_model.safetensors` of a diffusers `unet/` directory.

use super::{
	layers::{attention, conv, group_norm, upsample_2x, Resnet},
	weights, Result,
};
use std::path::Path;
use tch::{
	nn::{self, Module},
	Device, Kind, Tensor,
};

/// The UNet's hyper-parameters (diffusers' config names; `attention_head_dim` is, as in SD 1.x
/// configs, the number of heads).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnetConfig {
	pub in_channels: i64,
	pub out_channels: i64,
	pub block_out_channels: Vec<i64>,
	pub down_block_types: Vec<String>,
	pub up_block_types: Vec<String>,
	pub layers_per_block: i64,
	pub cross_attention_dim: i64,
	pub attention_head_dim: i64,
	pub norm_num_groups: i64,
}

impl UnetConfig {
	fn check(&self) -> core::result::Result<(), String> {
		let n = self.block_out_channels.len();
		if n == 0 || self.down_block_types.len() != n || self.up_block_types.len() != n {
			return Err("block_out_channels, down_block_types and up_block_types must have one entry per level".into());
		}
		let known = ["CrossAttnDownBlock2D", "DownBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"];
		if let Some(t) = self.down_block_types.iter().chain(&self.up_block_types).find(|t| !known.contains(&t.as_str())) {
			return Err(format!("block type `{t}` is not supported"));
		}
		if self.block_out_channels.iter().any(|c| *c < 1 || c % self.norm_num_groups != 0 || c % self.attention_head_dim != 0) {
			return Err("every channel count must split into norm_num_groups groups and attention_head_dim heads".into());
		}
		if self.layers_per_block < 1 || self.cross_attention_dim < 1 {
			return Err("layers_per_block and cross_attention_dim must be positive".into());
		}
		Ok(())
	}
}

/// The UNet's resnets normalise with eps 1e-5 (its transformers' group norm with 1e-6).
const RESNET_EPS: f64 = 1e-5;

fn linear(p: nn::Path, i: i64, o: i64, bias: bool) -> nn::Linear {
	nn::linear(p, i, o, nn::LinearConfig { bias, ..Default::default() })
}

/// Multi-head attention of a transformer block (self- or cross-).
#[derive(Debug)]
struct Attention {
	to_q: nn::Linear,
	to_k: nn::Linear,
	to_v: nn::Linear,
	to_out: nn::Linear,
	heads: i64,
}

impl Attention {
	fn new(p: nn::Path, channels: i64, context: i64, heads: i64) -> Self {
		Self {
			to_q: linear(&p / "to_q", channels, channels, false),
			to_k: linear(&p / "to_k", context, channels, false),
			to_v: linear(&p / "to_v", context, channels, false),
			to_out: linear(&p / "to_out" / 0, channels, channels, true),
			heads,
		}
	}

	fn forward(&self, x: &Tensor, context: &Tensor) -> Tensor {
		let (b, n, c) = x.size3().expect("[batch, tokens, channels]");
		let d = c / self.heads;
		let split = |y: Tensor| y.view([b, -1, self.heads, d]).transpose(1, 2);
		let q = split(self.to_q.forward(x));
		let (k, v) = (split(self.to_k.forward(context)), split(self.to_v.forward(context)));
		let out = attention(&q, &k, &v, Some((d as f64).sqrt()), None);
		self.to_out.forward(&out.transpose(1, 2).contiguous().view([b, n, c]))
	}
}

/// `Transformer2DModel` with one `BasicTransformerBlock` (conv projections, GEGLU feed-forward).
#[derive(Debug)]
struct Transformer {
	norm: nn::GroupNorm,
	proj_in: nn::Conv2D,
	norm1: nn::LayerNorm,
	attn1: Attention,
	norm2: nn::LayerNorm,
	attn2: Attention,
	norm3: nn::LayerNorm,
	ff_in: nn::Linear,
	ff_out: nn::Linear,
	proj_out: nn::Conv2D,
}

impl Transformer {
	fn new(p: nn::Path, c: i64, context: i64, heads: i64, groups: i64) -> Self {
		let b = &p / "transformer_blocks" / 0;
		let ln = |q: nn::Path| nn::layer_norm(q, vec![c], Default::default());
		Self {
			norm: group_norm(&p / "norm", groups, c, 1e-6),
			proj_in: conv(&p / "proj_in", c, c, 1, 1),
			norm1: ln(&b / "norm1"),
			attn1: Attention::new(&b / "attn1", c, c, heads),
			norm2: ln(&b / "norm2"),
			attn2: Attention::new(&b / "attn2", c, context, heads),
			norm3: ln(&b / "norm3"),
			ff_in: linear(&b / "ff" / "net" / 0 / "proj", c, 8 * c, true),
			ff_out: linear(&b / "ff" / "net" / 2, 4 * c, c, true),
			proj_out: conv(&p / "proj_out", c, c, 1, 1),
		}
	}

	fn forward(&self, x: &Tensor, context: &Tensor) -> Tensor {
		let (b, c, h, w) = x.size4().expect("[batch, channels, height, width]");
		let tokens = self.proj_in.forward(&self.norm.forward(x)).permute([0, 2, 3, 1]).reshape([b, h * w, c]);
		let normed = self.norm1.forward(&tokens);
		let tokens = self.attn1.forward(&normed, &normed) + tokens;
		let tokens = self.attn2.forward(&self.norm2.forward(&tokens), context) + tokens;
		let gated = self.ff_in.forward(&self.norm3.forward(&tokens)).chunk(2, -1);
		let tokens = self.ff_out.forward(&(&gated[0] * gated[1].gelu("none"))) + tokens;
		let spatial = tokens.reshape([b, h, w, c]).permute([0, 3, 1, 2]).contiguous();
		self.proj_out.forward(&spatial) + x
	}
}

#[derive(Debug)]
struct Level {
	resnets: Vec<Resnet>,
	attentions: Vec<Transformer>,
	resample: Option<nn::Conv2D>,
}

/// The UNet.
#[derive(Debug)]
pub struct Unet {
	config: UnetConfig,
	time_linear_1: nn::Linear,
	time_linear_2: nn::Linear,
	conv_in: nn::Conv2D,
	down: Vec<Level>,
	mid: (Resnet, Transformer, Resnet),
	up: Vec<Level>,
	norm_out: nn::GroupNorm,
	conv_out: nn::Conv2D,
	device: Device,
	_store: nn::VarStore,
}

impl Unet {
	/// Loads `dir/config.json` and `dir/diffusion_pytorch_model.safetensors` onto `device`.
	pub fn load(dir: &Path, device: Device) -> Result<Self> {
		let config: UnetConfig = weights::read_config(dir, UnetConfig::check)?;
		let weights_path = weights::require_file(dir, "diffusion_pytorch_model.safetensors")?;
		let mut store = nn::VarStore::new(device);
		let root = store.root();
		let channels = &config.block_out_channels;
		let (g, heads, ctx, layers) =
			(config.norm_num_groups, config.attention_head_dim, config.cross_attention_dim, config.layers_per_block);
		let temb = channels[0] * 4;
		let time_linear_1 = linear(&root / "time_embedding" / "linear_1", channels[0], temb, true);
		let time_linear_2 = linear(&root / "time_embedding" / "linear_2", temb, temb, true);
		let conv_in = conv(&root / "conv_in", config.in_channels, channels[0], 3, 1);
		let levels = channels.len();
		let mut previous = channels[0];
		let down = config
			.down_block_types
			.iter()
			.enumerate()
			.map(|(i, kind)| {
				let p = &root / "down_blocks" / i;
				let out = channels[i];
				let resnets = (0..layers)
					.map(|j| Resnet::new(&p / "resnets" / j, if j == 0 { previous } else { out }, out, g, RESNET_EPS, Some(temb)))
					.collect();
				let attentions = if kind == "CrossAttnDownBlock2D" {
					(0..layers).map(|j| Transformer::new(&p / "attentions" / j, out, ctx, heads, g)).collect()
				} else {
					Vec::new()
				};
				previous = out;
				let resample = (i + 1 < levels).then(|| conv(&p / "downsamplers" / 0 / "conv", out, out, 3, 2));
				Level { resnets, attentions, resample }
			})
			.collect();
		let top = *channels.last().expect("checked: not empty");
		let m = &root / "mid_block";
		let mid = (
			Resnet::new(&m / "resnets" / 0, top, top, g, RESNET_EPS, Some(temb)),
			Transformer::new(&m / "attentions" / 0, top, ctx, heads, g),
			Resnet::new(&m / "resnets" / 1, top, top, g, RESNET_EPS, Some(temb)),
		);
		let reversed: Vec<i64> = channels.iter().rev().copied().collect();
		let mut previous = top;
		let up = config
			.up_block_types
			.iter()
			.enumerate()
			.map(|(i, kind)| {
				let p = &root / "up_blocks" / i;
				let out = reversed[i];
				let input = reversed[(i + 1).min(levels - 1)];
				let resnets = (0..=layers)
					.map(|j| {
						let skip = if j == layers { input } else { out };
						let inp = if j == 0 { previous } else { out };
						Resnet::new(&p / "resnets" / j, inp + skip, out, g, RESNET_EPS, Some(temb))
					})
					.collect();
				let attentions = if kind == "CrossAttnUpBlock2D" {
					(0..=layers).map(|j| Transformer::new(&p / "attentions" / j, out, ctx, heads, g)).collect()
				} else {
					Vec::new()
				};
				previous = out;
				let resample = (i + 1 < levels).then(|| conv(&p / "upsamplers" / 0 / "conv", out, out, 3, 1));
				Level { resnets, attentions, resample }
			})
			.collect();
		let norm_out = group_norm(&root / "conv_norm_out", g, channels[0], RESNET_EPS);
		let conv_out = conv(&root / "conv_out", channels[0], config.out_channels, 3, 1);
		weights::load_into(&mut store, &weights_path, "")?;
		store.freeze();
		Ok(Self { config, time_linear_1, time_linear_2, conv_in, down, mid, up, norm_out, conv_out, device, _store: store })
	}

	pub fn config(&self) -> &UnetConfig {
		&self.config
	}

	/// Sinusoidal embedding of `timestep` (cos first, frequency shift 0), `[batch, channels]`.
	fn time_embedding(&self, timestep: f64, batch: i64, kind: Kind) -> Tensor {
		let half = self.config.block_out_channels[0] / 2;
		let exponent = Tensor::arange(half, (Kind::Float, self.device)) * -(10000f64.ln()) / half as f64;
		let angles = exponent.exp() * timestep;
		let embedding = Tensor::cat(&[angles.cos(), angles.sin()], 0).to_kind(kind);
		embedding.unsqueeze(0).expand([batch, -1], false)
	}

	/// The predicted noise `[batch, out_channels, h, w]` of `latent` at `timestep`, given text
	/// hidden states `context` `[batch, tokens, cross_attention_dim]`.
	pub fn forward(&self, latent: &Tensor, timestep: f64, context: &Tensor) -> Tensor {
		tch::no_grad(|| self.forward_differentiable(latent, timestep, context))
	}

	/// [`Self::forward`] recording the graph: gradients flow to `latent` and `context` (the
	/// weights stay frozen), for textual inversion (`engines::training`).
	pub fn forward_differentiable(&self, latent: &Tensor, timestep: f64, context: &Tensor) -> Tensor {
		let batch = latent.size()[0];
		let t = self.time_embedding(timestep, batch, latent.kind());
		let temb = self.time_linear_2.forward(&self.time_linear_1.forward(&t).silu());
		let mut h = self.conv_in.forward(latent);
		let mut skips = vec![h.shallow_clone()];
		for level in &self.down {
			for (j, resnet) in level.resnets.iter().enumerate() {
				h = resnet.forward(&h, Some(&temb));
				if let Some(attention) = level.attentions.get(j) {
					h = attention.forward(&h, context);
				}
				skips.push(h.shallow_clone());
			}
			if let Some(down) = &level.resample {
				h = down.forward(&h);
				skips.push(h.shallow_clone());
			}
		}
		h = self.mid.0.forward(&h, Some(&temb));
		h = self.mid.1.forward(&h, context);
		h = self.mid.2.forward(&h, Some(&temb));
		for level in &self.up {
			for (j, resnet) in level.resnets.iter().enumerate() {
				let skip = skips.pop().expect("one skip per up resnet");
				h = resnet.forward(&Tensor::cat(&[&h, &skip], 1), Some(&temb));
				if let Some(attention) = level.attentions.get(j) {
					h = attention.forward(&h, context);
				}
			}
			if let Some(up) = &level.resample {
				h = up.forward(&upsample_2x(&h));
			}
		}
		self.conv_out.forward(&self.norm_out.forward(&h).silu())
	}
}
