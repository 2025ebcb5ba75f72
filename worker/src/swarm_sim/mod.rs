//! `replica-worker swarm-sim`: how fast the swarm's ratings learn who ranks well, and when a
//! Sybil swarm stops paying ([`sybil`]), with the chain's own rules
//! (`replica_primitives::swarm`).
//!
//! A swarm of agents of known ranking ability answers a query per round. Every answer has a
//! true quality (uniform in [0, 1]); agent `i` judges an answer as its quality plus Gaussian
//! noise of standard deviation `(i + 1) × noise_step`, so agent 0 ranks best and the last
//! agent worst. Each round the agents rank the subsets the chain would give them (a fresh
//! seed per round), each ranking weighted by the ranker's current rating; the round's
//! deviations update the ratings over the most recent `window` rounds. After 10, 100 and 1000
//! rounds the estimated ratings are compared with the true order by Spearman's rank
//! correlation (1: the ratings order the agents exactly by ability), averaged over
//! independent repetitions; the table also shows how often the rating-weighted selection
//! picked the truly best answer in the last 10 rounds.

use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use replica_primitives::swarm::{self, Deviations, Ranking};
use std::{collections::VecDeque, path::PathBuf};

pub mod sybil;

#[derive(clap::Args, Debug)]
pub struct SwarmSimArgs {
	/// Agents in the swarm (at least 7, so that rounds are rated).
	#[arg(long, default_value_t = 10)]
	agents: u32,
	/// The round counts after which the ratings are compared with the true order.
	#[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
	rounds: Vec<u32>,
	/// Independent runs averaged for each round count.
	#[arg(long, default_value_t = 20)]
	repetitions: u32,
	/// Rated rounds an agent's rating counts, most recent first.
	#[arg(long, default_value_t = 1000)]
	window: usize,
	/// Agent `i` misjudges quality with noise of standard deviation `(i + 1)` times this.
	#[arg(long, default_value_t = 0.1)]
	noise_step: f64,
	/// Seed of the simulation (qualities, noise and the rounds' ranking seeds).
	#[arg(long, default_value_t = 1)]
	seed: u64,
	/// Where the Sybil profitability heat map is written (PNG); `-` skips the Sybil grid.
	#[arg(long, default_value = "swarm-sybil.png")]
	sybil_png: PathBuf,
	/// Sybil grid: the swarm sizes (agents, honest and Sybil together).
	#[arg(long, value_delimiter = ',', default_value = "10,20,50,100,200,500")]
	sybil_sizes: Vec<u32>,
	/// Sybil grid: the share of each swarm that one operator runs as Sybil identities.
	#[arg(long, default_value_t = 0.45)]
	sybil_share: f64,
	/// Sybil grid: rounds simulated per swarm size (ratings carry over between them).
	#[arg(long, default_value_t = 100)]
	sybil_rounds: u32,
	/// Sybil grid: the query's fee, paid to the winner, in tokens.
	#[arg(long, default_value_t = 20.0)]
	reward: f64,
	/// Sybil grid: the largest ticket, in tokens (from 0 in steps of --ticket-step).
	#[arg(long, default_value_t = 2.0)]
	ticket_max: f64,
	/// Sybil grid: the step between tickets, in tokens.
	#[arg(long, default_value_t = 0.1)]
	ticket_step: f64,
	/// Sybil grid: the winner's share of the lost tickets, in percent (the chain's
	/// `winner_share`).
	#[arg(long, default_value_t = 50)]
	winner_share: u32,
}

/// One row of the convergence table.
#[derive(Debug, Clone, PartialEq)]
pub struct Convergence {
	pub rounds: u32,
	/// Spearman's correlation of ratings with true ability: mean and standard deviation over
	/// the repetitions.
	pub spearman_mean: f64,
	pub spearman_sd: f64,
	/// How often the selection picked the truly best answer in the last 10 rounds.
	pub best_chosen: f64,
}

pub fn run(args: SwarmSimArgs) -> anyhow::Result<()> {
	anyhow::ensure!(
		args.agents >= swarm::MIN_RATED_ANSWERS,
		"--agents must be at least {} (smaller rounds are not rated)",
		swarm::MIN_RATED_ANSWERS
	);
	anyhow::ensure!(args.repetitions > 0 && args.window > 0, "--repetitions and --window must be positive");
	println!(
		"swarm-sim: {} agents, each ranks {} others a round; noise {:.2} (agent 0) to {:.2} (agent {}); window {} rounds; {} runs each",
		args.agents,
		swarm::ranking_size(args.agents),
		args.noise_step,
		args.noise_step * f64::from(args.agents),
		args.agents - 1,
		args.window,
		args.repetitions
	);
	println!("\n{:>7}  {:>22}  {:>24}", "rounds", "Spearman (mean ± sd)", "best answer chosen (%)");
	for rounds in &args.rounds {
		let row = convergence(&args, *rounds);
		println!("{:>7}  {:>13.3} ± {:<6.3}  {:>24.1}", row.rounds, row.spearman_mean, row.spearman_sd, row.best_chosen * 100.0);
	}
	if args.sybil_png.as_os_str() != "-" {
		sybil_grid(&args)?;
	}
	Ok(())
}

/// Prints the Sybil table and writes the heat map.
fn sybil_grid(args: &SwarmSimArgs) -> anyhow::Result<()> {
	anyhow::ensure!((0.0..=1.0).contains(&args.sybil_share), "--sybil-share must be within 0 and 1");
	anyhow::ensure!(args.ticket_step > 0.0 && args.ticket_max >= 0.0, "--ticket-step must be positive, --ticket-max not negative");
	anyhow::ensure!(args.winner_share <= 100, "--winner-share is a percentage");
	anyhow::ensure!(args.sybil_sizes.iter().all(|n| *n >= 2), "--sybil-sizes must be at least 2 agents");
	let steps = (args.ticket_max / args.ticket_step + 1e-9).floor() as u32;
	let grid = sybil::SybilGrid {
		sizes: args.sybil_sizes.clone(),
		tickets: (0..=steps).map(|i| f64::from(i) * args.ticket_step).collect(),
		reward: args.reward,
		share: args.sybil_share,
		winner_share: sp_arithmetic::Perbill::from_percent(args.winner_share),
		rounds: args.sybil_rounds,
		window: args.window,
		honest_noise: args.noise_step,
		seed: args.seed,
	};
	println!(
		"\nSybil grid: {:.0}% of each swarm is one operator's junk-answering identities, voting as a block; \
		 reward {}, winner's share of lost tickets {}%, {} rounds per size",
		args.sybil_share * 100.0,
		args.reward,
		args.winner_share,
		args.sybil_rounds
	);
	println!(
		"\n{:>6}  {:>7}  {:>16}  {:>20}  {:>18}  {:>17}",
		"agents", "Sybils", "junk wins (%)", "tickets lost/query", "profit, no ticket", "break-even ticket"
	);
	let columns = grid.columns();
	for c in &columns {
		let even = match c.break_even {
			Some(t) => format!("{t:.1} ({:.1}%)", t / args.reward * 100.0),
			None => format!("> {:.1}", args.ticket_max),
		};
		println!(
			"{:>6}  {:>7}  {:>16.1}  {:>20.2}  {:>18.2}  {:>17}",
			c.size,
			c.sybils,
			c.sybil_wins * 100.0,
			c.tickets_lost,
			c.profit.first().copied().unwrap_or_default(),
			even
		);
	}
	grid.plot(&columns, &args.sybil_png)?;
	println!("\nwrote {}", args.sybil_png.display());
	Ok(())
}

/// The convergence after `rounds` rounds, over `args.repetitions` runs.
pub fn convergence(args: &SwarmSimArgs, rounds: u32) -> Convergence {
	let mut correlations = Vec::new();
	let (mut chosen, mut judged) = (0u32, 0u32);
	for repetition in 0..args.repetitions {
		let mut rng = ChaCha20Rng::seed_from_u64(args.seed.wrapping_mul(1_000_003).wrapping_add(u64::from(repetition)));
		let n = args.agents as usize;
		let mut windows: Vec<VecDeque<Deviations>> = vec![VecDeque::new(); n];
		for round in 0..rounds {
			let qualities: Vec<f64> = (0..n).map(|_| unit(&mut rng)).collect();
			let mut seed = [0u8; 32];
			rng.fill_bytes(&mut seed);
			let rankings: Vec<Ranking> = swarm::ranking_subsets(seed, args.agents)
				.into_iter()
				.enumerate()
				.map(|(agent, mut subset)| {
					let noise = (agent as f64 + 1.0) * args.noise_step;
					let mut judged: Vec<(u32, f64)> =
						subset.drain(..).map(|a| (a, qualities[a as usize] + noise * gaussian(&mut rng))).collect();
					judged.sort_by(|a, b| b.1.total_cmp(&a.1));
					Ranking {
						ranker: agent as u32,
						rating: swarm::rating(windows[agent].iter()),
						order: judged.into_iter().map(|(a, _)| a).collect(),
					}
				})
				.collect();
			if round + 10 >= rounds {
				let best = (0..n).max_by(|a, b| qualities[*a].total_cmp(&qualities[*b])).map(|b| b as u32);
				chosen += u32::from(swarm::select(seed, args.agents, &rankings) == best);
				judged += 1;
			}
			for (ranking, deviations) in rankings.iter().zip(swarm::deviations(args.agents, &rankings)) {
				let window = &mut windows[ranking.ranker as usize];
				window.push_front(deviations);
				window.truncate(args.window);
			}
		}
		let ratings: Vec<f64> = windows.iter().map(|w| f64::from(swarm::rating(w.iter()).deconstruct())).collect();
		// Agent 0 is the best: true ability falls with the index.
		let ability: Vec<f64> = (0..n).map(|i| -(i as f64)).collect();
		correlations.push(spearman(&ability, &ratings));
	}
	let mean = correlations.iter().sum::<f64>() / correlations.len() as f64;
	let variance = correlations.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / correlations.len() as f64;
	Convergence {
		rounds,
		spearman_mean: mean,
		spearman_sd: variance.sqrt(),
		best_chosen: f64::from(chosen) / f64::from(judged.max(1)),
	}
}

/// Uniform in [0, 1).
pub(crate) fn unit(rng: &mut ChaCha20Rng) -> f64 {
	(rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal variate (Box–Muller).
pub(crate) fn gaussian(rng: &mut ChaCha20Rng) -> f64 {
	let u = 1.0 - unit(rng);
	let v = unit(rng);
	(-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// Ranks from 1, ties sharing their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
	let mut order: Vec<usize> = (0..values.len()).collect();
	order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
	let mut ranks = vec![0.0; values.len()];
	let mut i = 0;
	while i < order.len() {
		let mut j = i;
		while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
			j += 1;
		}
		let mean = (i + j) as f64 / 2.0 + 1.0;
		for k in i..=j {
			ranks[order[k]] = mean;
		}
		i = j + 1;
	}
	ranks
}

/// Spearman's rank correlation: Pearson's correlation of the ranks (0 when either side is
/// constant).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
	let (ra, rb) = (ranks(a), ranks(b));
	let n = ra.len() as f64;
	let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
	let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
	let (va, vb): (f64, f64) = (ra.iter().map(|x| (x - ma).powi(2)).sum(), rb.iter().map(|y| (y - mb).powi(2)).sum());
	if va == 0.0 || vb == 0.0 {
		0.0
	} else {
		cov / (va * vb).sqrt()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn args(repetitions: u32) -> SwarmSimArgs {
		SwarmSimArgs {
			agents: 10,
			rounds: vec![],
			repetitions,
			window: 1000,
			noise_step: 0.1,
			seed: 1,
			sybil_png: "-".into(),
			sybil_sizes: vec![],
			sybil_share: 0.5,
			sybil_rounds: 0,
			reward: 20.0,
			ticket_max: 2.0,
			ticket_step: 0.1,
			winner_share: 50,
		}
	}

	#[test]
	fn spearman_of_orders() {
		assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), 1.0);
		assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), -1.0);
		assert_eq!(spearman(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]), 0.0);
		assert_eq!(ranks(&[3.0, 1.0, 3.0]), [2.5, 1.0, 2.5]);
	}

	/// The ratings learn the true order: after 1000 rounds they nearly sort the agents by
	/// ability, far better than after 10, and the weighted selection finds the best answer
	/// more often than chance.
	#[test]
	fn ratings_converge_to_the_true_order() {
		let early = convergence(&args(5), 10);
		let late = convergence(&args(5), 1000);
		assert!(late.spearman_mean > 0.9, "{late:?}");
		assert!(late.spearman_mean > early.spearman_mean, "{early:?} vs {late:?}");
		assert!(late.best_chosen > 0.3, "chance is 10%: {late:?}");
		assert_eq!(convergence(&args(2), 50), convergence(&args(2), 50), "deterministic from its seed");
	}
}
