//! The image engine: Stable Diffusion 1.x latent diffusion — CLIP text encoder, UNet with
//! classifier-free guidance, DDIM, VAE decoder — over a diffusers model directory
//! (`text_encoder/`, `tokenizer/tokenizer.json`, `unet/`, `vae/`).
//!
//! Initial latents come from [`determinism::seeded_normal`] (ChaCha20 on the CPU, seeded by the
//! task seed), so every device starts from the same numbers.

use super::{clip::ClipTextEncoder, determinism, scheduler, unet::Unet, vae::VaeDecoder, weights, EngineError, Result};
use image::RgbImage;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// One image task's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageRequest {
	pub prompt: String,
	pub negative_prompt: String,
	pub seed: u64,
	pub steps: usize,
	pub guidance: f64,
	pub width: u32,
	pub height: u32,
	pub count: u32,
}

/// A loaded Stable Diffusion pipeline.
pub struct ImageEngine {
	tokenizer: tokenizers::Tokenizer,
	pad_id: i64,
	text_encoder: ClipTextEncoder,
	unet: Unet,
	vae: VaeDecoder,
	device: Device,
}

impl ImageEngine {
	/// Loads the pipeline of a diffusers directory onto `device`.
	pub fn load(dir: &Path, device: Device) -> Result<Self> {
		let tokenizer_path = weights::require_file(&dir.join("tokenizer"), "tokenizer.json")?;
		let malformed = |reason: String| EngineError::Malformed { path: tokenizer_path.clone(), reason };
		let tokenizer = tokenizers::Tokenizer::from_file(&tokenizer_path).map_err(|e| malformed(e.to_string()))?;
		// CLIP pads with its end-of-text token.
		let pad_id = tokenizer
			.token_to_id("<|endoftext|>")
			.ok_or_else(|| malformed("no <|endoftext|> token".into()))? as i64;
		Ok(Self {
			tokenizer,
			pad_id,
			text_encoder: ClipTextEncoder::load(&dir.join("text_encoder"), device)?,
			unet: Unet::load(&dir.join("unet"), device)?,
			vae: VaeDecoder::load(&dir.join("vae"), device)?,
			device,
		})
	}

	/// The image size the model was trained at (the VAE's `sample_size`; 512 if absent).
	pub fn native_size(&self) -> u32 {
		self.vae.config().sample_size.map_or(512, |s| s.clamp(1, 4096) as u32)
	}

	/// How much smaller the latents are than the image.
	pub fn downscale(&self) -> u32 {
		1 << (self.vae.config().block_out_channels.len() - 1)
	}

	fn check(&self, request: &ImageRequest) -> Result<()> {
		let f = self.downscale();
		let bad = |reason: String| Err(EngineError::Params(reason));
		if request.width == 0 || request.height == 0 || request.width % f != 0 || request.height % f != 0 {
			return bad(format!("{}x{}: width and height must be positive multiples of {f}", request.width, request.height));
		}
		if request.count == 0 {
			return bad("at least one image".into());
		}
		if !(request.guidance.is_finite() && request.guidance >= 0.0) {
			return bad(format!("guidance {}", request.guidance));
		}
		Ok(())
	}

	/// The text encoder (textual inversion learns through it).
	pub fn text_encoder(&self) -> &ClipTextEncoder {
		&self.text_encoder
	}

	/// The denoising UNet.
	pub fn unet(&self) -> &Unet {
		&self.unet
	}

	pub fn device(&self) -> Device {
		self.device
	}

	/// How many tokens `text` is, without CLIP's start and end tokens.
	pub fn token_count(&self, text: &str) -> Result<usize> {
		let encoding = self.tokenizer.encode(text, false).map_err(|e| EngineError::Params(format!("prompt: {e}")))?;
		Ok(encoding.get_ids().len())
	}

	/// Token ids `[1, max_position_embeddings]` of `text`, with CLIP's start and end tokens,
	/// padded to the encoder's length.
	pub fn ids(&self, text: &str) -> Result<Tensor> {
		let length = self.text_encoder.config().max_position_embeddings as usize;
		let encoding = self.tokenizer.encode(text, true).map_err(|e| EngineError::Params(format!("prompt: {e}")))?;
		let mut ids: Vec<i64> = encoding.get_ids().iter().map(|&id| id as i64).collect();
		if ids.len() > length {
			// Truncated like CLIP: keep the end token last.
			let end = *ids.last().expect("not empty");
			ids.truncate(length);
			ids[length - 1] = end;
		}
		ids.resize(length, self.pad_id);
		Ok(Tensor::from_slice(&ids).unsqueeze(0))
	}

	/// The initial latents of a request, from its seed.
	pub fn initial_latents(&self, request: &ImageRequest) -> Tensor {
		let f = self.downscale() as i64;
		let shape = [request.count as i64, 4, request.height as i64 / f, request.width as i64 / f];
		determinism::seeded_normal(determinism::seed_bytes(request.seed, "latents"), &shape, Kind::Float, self.device)
	}

	/// Generates the request's images.
	pub fn generate(&self, request: &ImageRequest) -> Result<Vec<RgbImage>> {
		// `denoise` checks the request.
		to_rgb(&self.denoise(request, self.initial_latents(request))?)
	}

	/// Runs the pipeline from given latents; images `[count, 3, h, w]` in [0, 1].
	pub fn denoise(&self, request: &ImageRequest, latents: Tensor) -> Result<Tensor> {
		Ok(self.decode(&self.denoise_latents(request, latents)?))
	}

	/// The denoising loop alone: the final latents `[count, 4, h / f, w / f]`, before the VAE.
	pub fn denoise_latents(&self, request: &ImageRequest, mut latents: Tensor) -> Result<Tensor> {
		self.check(request)?;
		let ddim = scheduler::Ddim::new(&scheduler::DdimConfig::default(), request.steps)?;
		let count = request.count as i64;
		let condition = self.text_encoder.encode(&self.ids(&request.prompt)?)?;
		let guided = request.guidance > 1.0;
		let context = if guided {
			let unconditional = self.text_encoder.encode(&self.ids(&request.negative_prompt)?)?;
			Tensor::cat(&[unconditional.repeat([count, 1, 1]), condition.repeat([count, 1, 1])], 0)
		} else {
			condition.repeat([count, 1, 1])
		};
		latents = latents.to_device(self.device) * ddim.init_noise_sigma();
		for &t in ddim.timesteps() {
			let input = if guided { Tensor::cat(&[&latents, &latents], 0) } else { latents.shallow_clone() };
			let noise = self.unet.forward(&input, t as f64, &context);
			let noise = if guided {
				let halves = noise.chunk(2, 0);
				scheduler::guide(&halves[0], &halves[1], request.guidance)
			} else {
				noise
			};
			latents = ddim.step(&noise, t, &latents);
		}
		Ok(latents)
	}

	/// Decodes latents to images `[count, 3, h, w]` in [0, 1].
	pub fn decode(&self, latents: &Tensor) -> Tensor {
		(self.vae.decode(latents) / 2.0 + 0.5).clamp(0.0, 1.0)
	}
}

/// `[count, 3, h, w]` in [0, 1] to 8-bit RGB images (`round(x * 255)`).
pub fn to_rgb(images: &Tensor) -> Result<Vec<RgbImage>> {
	let (count, _, height, width) = images.size4()?;
	let bytes = (images * 255.0).round().to_kind(Kind::Uint8).permute([0, 2, 3, 1]).contiguous().to_device(Device::Cpu);
	(0..count)
		.map(|i| {
			let data = Vec::<u8>::try_from(bytes.get(i).flatten(0, -1))?;
			Ok(RgbImage::from_raw(width as u32, height as u32, data).expect("height * width * 3 bytes"))
		})
		.collect()
}

/// The PNG encoding of an image (what workers serve and what the chain's digest covers).
pub fn png(image: &RgbImage) -> Vec<u8> {
	let mut out = std::io::Cursor::new(Vec::new());
	image.write_to(&mut out, image::ImageFormat::Png).expect("PNG encoding of an in-memory image");
	out.into_inner()
}
