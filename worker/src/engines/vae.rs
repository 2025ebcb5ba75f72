//! The VAE decoder of Stable Diffusion 1.x (diffusers' `AutoencoderKL` decoder): latents to
//! RGB images. Loads `config.json` and `diffusion_pytorch_model.safetensors` of a diffusers
//! `vae/` directory (decoder and `post_quant_conv` tensors, under diffusers' names).

use super::{
	layers::{attention, conv, group_norm, upsample_2x, Resnet},
	weights, Result,
};
use std::path::Path;
use tch::{
	nn::{self, Module},
	Device, Tensor,
};

/// The decoder's hyper-parameters (diffusers' `AutoencoderKL` config names).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VaeConfig {
	pub block_out_channels: Vec<i64>,
	pub layers_per_block: i64,
	pub latent_channels: i64,
	pub norm_num_groups: i64,
	#[serde(default = "default_out_channels")]
	pub out_channels: i64,
	#[serde(default = "default_scaling_factor")]
	pub scaling_factor: f64,
	/// The image size the model was trained at (512 for SD 1.x).
	#[serde(default)]
	pub sample_size: Option<i64>,
}

fn default_out_channels() -> i64 {
	3
}

fn default_scaling_factor() -> f64 {
	0.18215
}

impl VaeConfig {
	fn check(&self) -> core::result::Result<(), String> {
		if self.block_out_channels.is_empty() || self.layers_per_block < 1 || self.norm_num_groups < 1 {
			return Err("block_out_channels must not be empty; layers_per_block and norm_num_groups >= 1".into());
		}
		if let Some(c) = self.block_out_channels.iter().find(|c| **c < 1 || **c % self.norm_num_groups != 0) {
			return Err(format!("{c} channels do not split into {} groups", self.norm_num_groups));
		}
		Ok(())
	}
}

/// diffusers' VAE normalises with eps 1e-6.
const EPS: f64 = 1e-6;

/// The mid block's single-head spatial self-attention.
#[derive(Debug)]
struct Attention {
	norm: nn::GroupNorm,
	to_q: nn::Linear,
	to_k: nn::Linear,
	to_v: nn::Linear,
	to_out: nn::Linear,
}

impl Attention {
	fn new(p: nn::Path, channels: i64, groups: i64) -> Self {
		let linear = |name: &str| nn::linear(&p / name, channels, channels, Default::default());
		Self {
			norm: group_norm(&p / "group_norm", groups, channels, EPS),
			to_q: linear("to_q"),
			to_k: linear("to_k"),
			to_v: linear("to_v"),
			to_out: nn::linear(&p / "to_out" / 0, channels, channels, Default::default()),
		}
	}
}

impl Module for Attention {
	fn forward(&self, x: &Tensor) -> Tensor {
		let (b, c, h, w) = x.size4().expect("[batch, channels, height, width]");
		let tokens = self.norm.forward(x).view([b, c, h * w]).transpose(1, 2);
		let (q, k, v) = (self.to_q.forward(&tokens), self.to_k.forward(&tokens), self.to_v.forward(&tokens));
		let attended = self.to_out.forward(&attention(&q, &k, &v, Some((c as f64).sqrt()), None));
		attended.transpose(1, 2).reshape([b, c, h, w]) + x
	}
}

#[derive(Debug)]
struct UpBlock {
	resnets: Vec<Resnet>,
	upsample: Option<nn::Conv2D>,
}

/// The decoder, with `post_quant_conv`.
#[derive(Debug)]
pub struct VaeDecoder {
	config: VaeConfig,
	post_quant_conv: nn::Conv2D,
	conv_in: nn::Conv2D,
	mid: (Resnet, Attention, Resnet),
	up: Vec<UpBlock>,
	norm_out: nn::GroupNorm,
	conv_out: nn::Conv2D,
	_store: nn::VarStore,
}

impl VaeDecoder {
	fn build(store: &nn::VarStore, config: &VaeConfig) -> (nn::Conv2D, nn::Conv2D, (Resnet, Attention, Resnet), Vec<UpBlock>, nn::GroupNorm, nn::Conv2D) {
		let root = store.root();
		let g = config.norm_num_groups;
		let latent = config.latent_channels;
		let reversed: Vec<i64> = config.block_out_channels.iter().rev().copied().collect();
		let d = &root / "decoder";
		let top = reversed[0];
		let post_quant_conv = conv(&root / "post_quant_conv", latent, latent, 1, 1);
		let conv_in = conv(&d / "conv_in", latent, top, 3, 1);
		let m = &d / "mid_block";
		let mid = (
			Resnet::new(&m / "resnets" / 0, top, top, g, EPS, None),
			Attention::new(&m / "attentions" / 0, top, g),
			Resnet::new(&m / "resnets" / 1, top, top, g, EPS, None),
		);
		let mut previous = top;
		let up = reversed
			.iter()
			.enumerate()
			.map(|(i, &channels)| {
				let p = &d / "up_blocks" / i;
				let resnets = (0..=config.layers_per_block)
					.map(|j| Resnet::new(&p / "resnets" / j, if j == 0 { previous } else { channels }, channels, g, EPS, None))
					.collect();
				previous = channels;
				let last = i + 1 == reversed.len();
				UpBlock { resnets, upsample: (!last).then(|| conv(&p / "upsamplers" / 0 / "conv", channels, channels, 3, 1)) }
			})
			.collect();
		let bottom = *reversed.last().expect("not empty");
		let norm_out = group_norm(&d / "conv_norm_out", g, bottom, EPS);
		let conv_out = conv(&d / "conv_out", bottom, config.out_channels, 3, 1);
		(post_quant_conv, conv_in, mid, up, norm_out, conv_out)
	}

	/// Loads `dir/config.json` and `dir/diffusion_pytorch_model.safetensors` onto `device`.
	pub fn load(dir: &Path, device: Device) -> Result<Self> {
		let config: VaeConfig = weights::read_config(dir, VaeConfig::check)?;
		let weights_path = weights::require_file(dir, "diffusion_pytorch_model.safetensors")?;
		let mut store = nn::VarStore::new(device);
		let (post_quant_conv, conv_in, mid, up, norm_out, conv_out) = Self::build(&store, &config);
		weights::load_into(&mut store, &weights_path, "")?;
		store.freeze();
		Ok(Self { config, post_quant_conv, conv_in, mid, up, norm_out, conv_out, _store: store })
	}

	pub fn config(&self) -> &VaeConfig {
		&self.config
	}

	/// Decodes latents `[batch, latent_channels, h, w]` (as the UNet produces them, before
	/// dividing by the scaling factor) into images in [-1, 1] (unclamped),
	/// `[batch, 3, h * 2^(blocks - 1), w * 2^(blocks - 1)]`.
	pub fn decode(&self, latents: &Tensor) -> Tensor {
		tch::no_grad(|| {
			let z = self.post_quant_conv.forward(&(latents / self.config.scaling_factor));
			let mut h = self.conv_in.forward(&z);
			h = self.mid.2.forward(&self.mid.1.forward(&self.mid.0.forward(&h, None)), None);
			for block in &self.up {
				for resnet in &block.resnets {
					h = resnet.forward(&h, None);
				}
				if let Some(upsample) = &block.upsample {
					h = upsample.forward(&upsample_2x(&h));
				}
			}
			self.conv_out.forward(&self.norm_out.forward(&h).silu())
		})
	}
}
