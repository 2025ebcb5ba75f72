//! Deterministic inference with libtorch (through `tch`), on the CPU or a CUDA device.
//!
//! - [`determinism`]: libtorch's determinism switches (a C++ shim, `worker/csrc`), the CUDA
//!   environment they need, and seeded noise drawn with ChaCha20 on the CPU.
//! - [`device`]: `--device auto|cpu|cuda:N` and the execution profile reported to the chain.
//! - [`weights`]: `.safetensors` model files, with errors that name the file.
//! - [`text`]: the text engine, GPT-2 or Llama architecture, with greedy and beam search.
//! - [`llama`]: the Llama architecture (RMSNorm, RoPE, grouped-query attention, SwiGLU).
//! - [`scheduler`]: the DDIM scheduler and classifier-free guidance of the image pipeline.
//! - [`vae`]: Stable Diffusion's VAE decoder (latents to images).
//! - [`image`]: the image engine, Stable Diffusion 1.x (CLIP, UNet with guidance, DDIM, VAE).
//! - [`clip`]: Stable Diffusion's CLIP text encoder (token ids to hidden states).
//! - [`unet`]: Stable Diffusion's UNet (noise prediction with cross-attention to the text).

pub mod clip;
pub mod determinism;
pub mod device;
pub mod image;
mod layers;
pub mod llama;
pub mod scheduler;
pub mod text;
pub mod training;
pub mod unet;
pub mod vae;
pub mod weights;

use std::path::PathBuf;

/// Why an engine could not load or run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	/// A file the model needs does not exist.
	#[error("missing model file {}", path.display())]
	MissingFile { path: PathBuf },
	/// A model file exists but cannot be used.
	#[error("malformed model file {}: {reason}", path.display())]
	Malformed { path: PathBuf, reason: String },
	/// The requested device does not exist here.
	#[error("device {requested}: {reason}")]
	Device { requested: String, reason: String },
	/// The task's parameters do not fit the model.
	#[error("bad task parameters: {0}")]
	Params(String),
	/// The prompt's tokens plus the new tokens exceed the model's context: every worker running
	/// this model reaches the same answer, so the worker commits it as a refusal.
	#[error("{prompt_tokens} prompt tokens + {max_tokens} new tokens exceed the model's {positions} positions")]
	ContextExceeded { prompt_tokens: usize, max_tokens: u32, positions: i64 },
	/// libtorch failed.
	#[error("libtorch: {0}")]
	Torch(#[from] tch::TchError),
}

pub type Result<T, E = EngineError> = core::result::Result<T, E>;
