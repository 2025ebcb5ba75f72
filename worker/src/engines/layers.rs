//! Building blocks shared by the Stable Diffusion modules (diffusers' names and numerics).

use tch::{
	nn::{self, Module},
	Tensor,
};

/// A 2-D convolution with "same" padding.
pub(crate) fn conv(p: nn::Path, inputs: i64, outputs: i64, kernel: i64, stride: i64) -> nn::Conv2D {
	nn::conv2d(p, inputs, outputs, kernel, nn::ConvConfig { padding: kernel / 2, stride, ..Default::default() })
}

pub(crate) fn group_norm(p: nn::Path, groups: i64, channels: i64, eps: f64) -> nn::GroupNorm {
	nn::group_norm(p, groups, channels, nn::GroupNormConfig { eps, ..Default::default() })
}

/// Nearest-neighbour upsampling by 2, as `F.interpolate(scale_factor=2.0, mode="nearest")`.
pub(crate) fn upsample_2x(x: &Tensor) -> Tensor {
	let (_, _, height, width) = x.size4().expect("[batch, channels, height, width]");
	x.upsample_nearest2d([height * 2, width * 2], Some(2.0), Some(2.0))
}

/// diffusers' `ResnetBlock2D`: with a time-embedding projection in the UNet, without in the VAE.
#[derive(Debug)]
pub(crate) struct Resnet {
	norm1: nn::GroupNorm,
	conv1: nn::Conv2D,
	time_emb_proj: Option<nn::Linear>,
	norm2: nn::GroupNorm,
	conv2: nn::Conv2D,
	shortcut: Option<nn::Conv2D>,
}

impl Resnet {
	/// `time_embedding`: the width of the time embedding, if the block takes one.
	pub(crate) fn new(p: nn::Path, inputs: i64, outputs: i64, groups: i64, eps: f64, time_embedding: Option<i64>) -> Self {
		Self {
			norm1: group_norm(&p / "norm1", groups, inputs, eps),
			conv1: conv(&p / "conv1", inputs, outputs, 3, 1),
			time_emb_proj: time_embedding.map(|t| nn::linear(&p / "time_emb_proj", t, outputs, Default::default())),
			norm2: group_norm(&p / "norm2", groups, outputs, eps),
			conv2: conv(&p / "conv2", outputs, outputs, 3, 1),
			shortcut: (inputs != outputs).then(|| conv(&p / "conv_shortcut", inputs, outputs, 1, 1)),
		}
	}

	/// `temb` is required exactly when the block was built with a time embedding.
	pub(crate) fn forward(&self, x: &Tensor, temb: Option<&Tensor>) -> Tensor {
		let mut h = self.conv1.forward(&self.norm1.forward(x).silu());
		if let (Some(proj), Some(temb)) = (&self.time_emb_proj, temb) {
			h = h + proj.forward(&temb.silu()).unsqueeze(-1).unsqueeze(-1);
		}
		let h = self.conv2.forward(&self.norm2.forward(&h).silu());
		match &self.shortcut {
			Some(shortcut) => shortcut.forward(x) + h,
			None => x + h,
		}
	}
}
