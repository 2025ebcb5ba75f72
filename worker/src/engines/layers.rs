//! Building blocks shared by the engines: the one attention of CLIP, the UNet, the VAE, GPT-2
//! and Llama, and the Stable Diffusion modules (diffusers' names and numerics).

use tch::{
	nn::{self, Module},
	Kind, Tensor,
};

/// The most elements one attention score tensor may have before the queries are processed in
/// chunks (256 MiB of f32): a 512x512 Stable Diffusion UNet's self-attention (2 x 8 heads x
/// 4096 x 4096) would otherwise take 1 GiB at once. A function of the shapes alone, so every
/// worker splits alike and the bits stay a function of the task.
pub(crate) const ATTENTION_CHUNK_ELEMENTS: i64 = 1 << 26;

/// Scaled dot-product attention over the last two dimensions: `softmax(q kᵀ / divisor, masked)
/// v` for `q` `[…, queries, d]`, `k` and `v` `[…, keys, d]`; `blocked` (`[queries, keys]`,
/// true where a query may not look) gets `-inf`. The softmax runs in f32. Queries are taken in
/// chunks when the scores would exceed [`ATTENTION_CHUNK_ELEMENTS`]; each query's row is
/// computed by the same operations either way.
pub(crate) fn attention(q: &Tensor, k: &Tensor, v: &Tensor, divisor: Option<f64>, blocked: Option<&Tensor>) -> Tensor {
	attention_in_chunks(q, k, v, divisor, blocked, ATTENTION_CHUNK_ELEMENTS)
}

fn attention_in_chunks(
	q: &Tensor,
	k: &Tensor,
	v: &Tensor,
	divisor: Option<f64>,
	blocked: Option<&Tensor>,
	max_elements: i64,
) -> Tensor {
	let attend = |q: &Tensor, blocked: Option<Tensor>| {
		let mut scores = q.matmul(&k.transpose(-2, -1));
		if let Some(divisor) = divisor {
			scores = scores / divisor;
		}
		if let Some(blocked) = blocked {
			scores = scores.masked_fill(&blocked, f64::NEG_INFINITY);
		}
		scores.softmax(-1, Kind::Float).to_kind(v.kind()).matmul(v)
	};
	let shape = q.size();
	let query_dim = shape.len() as i64 - 2;
	let queries = shape[shape.len() - 2];
	let keys = k.size()[k.dim() - 2];
	let per_query: i64 = shape[..shape.len() - 2].iter().product::<i64>() * keys;
	let rows = (max_elements / per_query.max(1)).max(1);
	if rows >= queries {
		return attend(q, blocked.map(Tensor::shallow_clone));
	}
	let chunks: Vec<Tensor> = (0..queries)
		.step_by(rows as usize)
		.map(|start| {
			let len = rows.min(queries - start);
			attend(&q.narrow(query_dim, start, len), blocked.map(|b| b.narrow(b.dim() as i64 - 2, start, len)))
		})
		.collect();
	Tensor::cat(&chunks, query_dim)
}

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

#[cfg(test)]
mod tests {
	use super::*;
	use tch::Device;

	/// Chunked attention gives every query the result it gets in one piece, with and without
	/// a causal mask.
	#[test]
	fn chunked_attention_matches_attention_in_one_piece() {
		tch::manual_seed(7);
		let (q, k, v) = (
			Tensor::randn([2, 3, 37, 8], (Kind::Float, Device::Cpu)),
			Tensor::randn([2, 3, 37, 8], (Kind::Float, Device::Cpu)),
			Tensor::randn([2, 3, 37, 8], (Kind::Float, Device::Cpu)),
		);
		let causal = Tensor::ones([37, 37], (Kind::Bool, Device::Cpu)).triu(1);
		for blocked in [None, Some(&causal)] {
			let whole = attention_in_chunks(&q, &k, &v, Some(8f64.sqrt()), blocked, i64::MAX);
			for max_elements in [1, 6 * 37 * 5, 6 * 37 * 36] {
				let chunked = attention_in_chunks(&q, &k, &v, Some(8f64.sqrt()), blocked, max_elements);
				let difference = (&whole - &chunked).abs().max().double_value(&[]);
				assert!(difference < 1e-6, "max |difference| {difference} at {max_elements} elements a chunk");
			}
		}
	}
}
