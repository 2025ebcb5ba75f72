//! The DDIM scheduler (deterministic, eta = 0) with Stable Diffusion 1.x's noise schedule, as
//! the image pipeline steps it: `scaled_linear` betas from 0.00085 to 0.012 over 1,000 training
//! steps, "leading" timestep spacing with an offset of 1, epsilon prediction, and the final
//! step towards alpha-bar of timestep 0 (`set_alpha_to_one = false`), like the
//! `DDIMScheduler` SD 1.5 ships with. The schedule is computed in `f64` on the CPU (diffusers
//! uses `f32`; the two agree to 1e-6 relative), the step in the sample's dtype on its device.

use super::{EngineError, Result};
use tch::Tensor;

/// The noise schedule's parameters (SD 1.x values by default).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DdimConfig {
	pub num_train_timesteps: usize,
	pub beta_start: f64,
	pub beta_end: f64,
	pub steps_offset: usize,
}

impl Default for DdimConfig {
	fn default() -> Self {
		Self { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, steps_offset: 1 }
	}
}

/// A DDIM schedule for a given number of inference steps.
#[derive(Clone, Debug)]
pub struct Ddim {
	alphas_cumprod: Vec<f64>,
	timesteps: Vec<usize>,
	step_ratio: usize,
}

impl Ddim {
	/// The schedule of `steps` inference steps (1..=`num_train_timesteps`).
	pub fn new(config: &DdimConfig, steps: usize) -> Result<Self> {
		let train = config.num_train_timesteps;
		if steps == 0 || steps > train || train < 2 {
			return Err(EngineError::Params(format!("{steps} steps; 1..={train} allowed")));
		}
		// scaled_linear: betas are the squares of a linear ramp between the square roots.
		let (start, end) = (config.beta_start.sqrt(), config.beta_end.sqrt());
		let mut product = 1.0;
		let alphas_cumprod = (0..train)
			.map(|i| {
				let beta = (start + (end - start) * i as f64 / (train - 1) as f64).powi(2);
				product *= 1.0 - beta;
				product
			})
			.collect();
		let step_ratio = train / steps;
		let timesteps = (0..steps)
			.rev()
			.map(|i| (i * step_ratio + config.steps_offset).min(train - 1))
			.collect();
		Ok(Self { alphas_cumprod, timesteps, step_ratio })
	}

	/// The timesteps to run, from the noisiest.
	pub fn timesteps(&self) -> &[usize] {
		&self.timesteps
	}

	/// alpha-bar of training timestep `t`.
	pub fn alpha_cumprod(&self, t: usize) -> f64 {
		self.alphas_cumprod[t]
	}

	/// The initial noise scale (1 for DDIM).
	pub fn init_noise_sigma(&self) -> f64 {
		1.0
	}

	/// One deterministic DDIM step from `sample` at `timestep`, given the predicted noise.
	pub fn step(&self, noise: &Tensor, timestep: usize, sample: &Tensor) -> Tensor {
		let alpha = self.alphas_cumprod[timestep];
		let alpha_prev = timestep.checked_sub(self.step_ratio).map_or(self.alphas_cumprod[0], |t| self.alphas_cumprod[t]);
		let predicted_original = (sample - noise * (1.0 - alpha).sqrt()) / alpha.sqrt();
		predicted_original * alpha_prev.sqrt() + noise * (1.0 - alpha_prev).sqrt()
	}
}

/// Classifier-free guidance: `unconditional + scale * (conditional - unconditional)`.
pub fn guide(unconditional: &Tensor, conditional: &Tensor, scale: f64) -> Tensor {
	unconditional + (conditional - unconditional) * scale
}

#[cfg(test)]
mod tests {
	use super::*;
	use tch::{Device, Kind};

	/// Golden values computed independently from diffusers' DDIMScheduler formulas (numpy,
	/// float64).
	#[test]
	fn schedule_and_timesteps_match_sd_ddim() {
		let ddim = Ddim::new(&DdimConfig::default(), 50).unwrap();
		for (t, want) in [(0, 0.99915), (500, 0.2763326838229746), (999, 0.004660098513077238)] {
			assert!((ddim.alpha_cumprod(t) - want).abs() < 1e-12, "alpha-bar {t}: {}", ddim.alpha_cumprod(t));
		}
		let ts = ddim.timesteps();
		assert_eq!(ts.len(), 50);
		assert_eq!((&ts[..3], &ts[47..]), (&[981, 961, 941][..], &[41, 21, 1][..]));
		assert!(matches!(Ddim::new(&DdimConfig::default(), 0), Err(EngineError::Params(_))));
		assert!(matches!(Ddim::new(&DdimConfig::default(), 1001), Err(EngineError::Params(_))));
	}

	#[test]
	fn a_step_matches_the_reference_and_the_last_step_uses_alpha_bar_zero() {
		let ddim = Ddim::new(&DdimConfig::default(), 50).unwrap();
		let sample = Tensor::linspace(-1.0, 1.0, 8, (Kind::Double, Device::Cpu));
		let noise = Tensor::arange(8, (Kind::Double, Device::Cpu)).cos();
		let cases: [(usize, [f64; 8]); 2] = [
			(981, [
				-1.2461037072478314, -0.868630272457762, -0.4299312250416011, -0.0383888244383207,
				0.2409702735188507, 0.44626022408970983, 0.6836940150536558, 1.0299317355715978,
			]),
			(1, [
				-1.012569713628798, -0.7211515589312656, -0.42370180335924884, -0.13089765376738527,
				0.1508548317035307, 0.4253104439381435, 0.7029326854232999, 0.9912736743165556,
			]),
		];
		for (t, want) in cases {
			let got = Vec::<f64>::try_from(ddim.step(&noise, t, &sample)).unwrap();
			for (g, w) in got.iter().zip(want) {
				assert!((g - w).abs() < 1e-12, "t {t}: {got:?}");
			}
		}
	}

	#[test]
	fn guidance_extrapolates_from_the_unconditional_prediction() {
		let u = Tensor::from_slice(&[1.0f32, 2.0]);
		let c = Tensor::from_slice(&[3.0f32, 2.0]);
		assert_eq!(Vec::<f32>::try_from(guide(&u, &c, 7.5)).unwrap(), [16.0, 2.0]);
		assert_eq!(Vec::<f32>::try_from(guide(&u, &c, 1.0)).unwrap(), [3.0, 2.0]);
	}
}
