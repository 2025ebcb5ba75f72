//! The Sybil profitability grid: is it worth flooding a swarm with junk identities?
//!
//! One operator runs `share × n` of a swarm's `n` agents as Sybil identities (they cost it
//! nothing but their tickets: no model, no GPU). Their answers are junk, and they vote as a
//! block: each ranks one designated junk answer (its champion) first wherever it may, the
//! other junk next, and the honest answers last, the best of them at the very bottom. The
//! honest agents answer with a true
//! quality (uniform in [0, 1]) and rank by it with Gaussian noise (`honest_noise`), junk last
//! as a rule. Every round runs the chain's own rules (`replica_primitives::swarm`): the
//! subsets from a fresh seed, rating-weighted selection, deviations into each agent's window
//! (ratings carry over between rounds, as on chain), and `settle_tickets` for the money. The
//! operator's profit per query is what its identities were paid minus the tickets they paid:
//! the fee when a junk answer wins, plus its share of lost tickets, minus its own lost ones.
//! Everything but the ticket amount is the same for every ticket, so one simulation per swarm
//! size gives a whole column of the grid; the break-even ticket is where the profit crosses 0.

use super::{gaussian, unit};
use crate::stats::plots::{draw_legend, plot_error, register_font, save, FONT, HEIGHT, WIDTH};
use plotters::prelude::*;
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use replica_primitives::swarm::{self, Deviations, Ranking};
use sp_arithmetic::Perbill;
use std::{collections::VecDeque, path::Path};

/// The money is simulated in millionths of a token.
const UNIT: f64 = 1_000_000.0;
/// The Sybil answer the operator's identities push.
const CHAMPION: u32 = 0;

/// What the grid is computed over.
#[derive(Debug, Clone)]
pub struct SybilGrid {
	pub sizes: Vec<u32>,
	pub tickets: Vec<f64>,
	pub reward: f64,
	pub share: f64,
	pub winner_share: Perbill,
	pub rounds: u32,
	pub window: usize,
	pub honest_noise: f64,
	pub seed: u64,
}

/// One swarm size's column.
#[derive(Debug, Clone, PartialEq)]
pub struct SybilColumn {
	pub size: u32,
	pub sybils: u32,
	/// How often a junk answer won.
	pub sybil_wins: f64,
	/// Tickets the Sybil identities lost per query, on average.
	pub tickets_lost: f64,
	/// The operator's mean profit per query, in tokens, for each ticket of the grid.
	pub profit: Vec<f64>,
	/// The least ticket at which the operator no longer profits (`None`: beyond the grid).
	pub break_even: Option<f64>,
}

impl SybilGrid {
	/// Simulates every swarm size.
	pub fn columns(&self) -> Vec<SybilColumn> {
		self.sizes.iter().map(|n| self.column(*n)).collect()
	}

	fn column(&self, n: u32) -> SybilColumn {
		let mut rng = ChaCha20Rng::seed_from_u64(self.seed.wrapping_mul(7_919).wrapping_add(u64::from(n)));
		let sybils = ((f64::from(n) * self.share).round() as u32).min(n);
		let is_sybil = |agent: u32| agent < sybils;
		let mut windows: Vec<VecDeque<Deviations>> = vec![VecDeque::new(); n as usize];
		let mut profit = vec![0.0; self.tickets.len()];
		let (mut wins, mut lost) = (0u32, 0u64);
		let fee = (self.reward * UNIT) as u128;
		for _ in 0..self.rounds {
			let quality: Vec<f64> = (0..n).map(|a| if is_sybil(a) { -1.0 } else { unit(&mut rng) }).collect();
			let mut seed = [0u8; 32];
			rng.fill_bytes(&mut seed);
			let rankings: Vec<Ranking> = swarm::ranking_subsets(seed, n)
				.into_iter()
				.enumerate()
				.map(|(ranker, subset)| {
					let ranker = ranker as u32;
					let mut judged: Vec<(u32, f64)> = subset
						.into_iter()
						.map(|a| {
							let value = if is_sybil(ranker) {
								// The champion, the other junk, then the honest answers worst first.
								match (a == CHAMPION, is_sybil(a)) {
									(true, _) => 20.0,
									(false, true) => 10.0,
									(false, false) => -quality[a as usize],
								}
							} else {
								quality[a as usize] + self.honest_noise * gaussian(&mut rng)
							};
							(a, value)
						})
						.collect();
					judged.sort_by(|x, y| y.1.total_cmp(&x.1));
					Ranking {
						ranker,
						rating: swarm::rating(windows[ranker as usize].iter()),
						order: judged.into_iter().map(|(a, _)| a).collect(),
					}
				})
				.collect();
			let Some(winner) = swarm::select(seed, n, &rankings) else { continue };
			let weights = swarm::weights(n, &rankings);
			wins += u32::from(is_sybil(winner));
			let forfeits = swarm::forfeits(&weights, winner);
			lost += (0..sybils).filter(|a| forfeits[*a as usize]).count() as u64;
			for (cell, ticket) in profit.iter_mut().zip(&self.tickets) {
				let ticket = (ticket * UNIT) as u128;
				let Some(settlement) = swarm::settle_tickets(fee, ticket, &weights, winner, self.winner_share) else { continue };
				let paid: u128 = settlement.paid[..sybils as usize].iter().sum();
				*cell += (paid as f64 - (ticket * u128::from(sybils)) as f64) / UNIT;
			}
			for (ranking, deviations) in rankings.iter().zip(swarm::deviations(n, &rankings)) {
				let window = &mut windows[ranking.ranker as usize];
				window.push_front(deviations);
				window.truncate(self.window);
			}
		}
		let rounds = f64::from(self.rounds.max(1));
		let profit: Vec<f64> = profit.into_iter().map(|p| p / rounds).collect();
		let break_even = self.tickets.iter().zip(&profit).find(|(_, p)| **p <= 0.0).map(|(t, _)| *t);
		SybilColumn {
			size: n,
			sybils,
			sybil_wins: f64::from(wins) / rounds,
			tickets_lost: lost as f64 / rounds,
			profit,
			break_even,
		}
	}

	/// Draws the heat map (swarm size × ticket, coloured by the operator's profit per query)
	/// with the break-even line.
	pub fn plot(&self, columns: &[SybilColumn], path: &Path) -> anyhow::Result<()> {
		register_font()?;
		let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
		{
			let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
			root.fill(&WHITE).map_err(plot_error)?;
			let sizes = columns.len();
			let step = self.tickets.get(1).map_or(0.1, |t| t - self.tickets[0]);
			let t_max = self.tickets.last().copied().unwrap_or(0.0) + step;
			// Shades saturate at plus or minus the reward.
			let scale = self.reward.abs().max(1e-9);
			let mut chart = ChartBuilder::on(&root)
				.caption(
					format!(
						"Sybil operator's profit per query (reward {}, {:.0}% of the swarm Sybil)",
						self.reward,
						self.share * 100.0
					),
					(FONT, 20),
				)
				.margin(15)
				.x_label_area_size(45)
				.y_label_area_size(70)
				.build_cartesian_2d(-0.5f64..sizes as f64 - 0.5, 0f64..t_max)
				.map_err(plot_error)?;
			let labels: Vec<String> = columns.iter().map(|c| c.size.to_string()).collect();
			chart
				.configure_mesh()
				.disable_mesh()
				.x_desc("swarm size (agents)")
				.y_desc("ticket (tokens)")
				.x_labels(sizes)
				.x_label_formatter(&|x: &f64| {
					let i = x.round();
					if (x - i).abs() < 1e-6 && i >= 0.0 { labels.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
				})
				.y_label_formatter(&|y: &f64| format!("{y:.1}"))
				.label_style((FONT, 15))
				.draw()
				.map_err(plot_error)?;
			for (i, column) in columns.iter().enumerate() {
				chart
					.draw_series(column.profit.iter().zip(&self.tickets).map(|(p, t)| {
						let colour = diverging(*p / scale);
						Rectangle::new([(i as f64 - 0.5, *t), (i as f64 + 0.5, t + step)], colour.filled())
					}))
					.map_err(plot_error)?;
			}
			let line: Vec<(f64, f64)> = columns
				.iter()
				.enumerate()
				.map(|(i, c)| (i as f64, c.break_even.unwrap_or(t_max)))
				.collect();
			chart
				.draw_series(LineSeries::new(line.clone(), BLACK.stroke_width(3)))
				.map_err(plot_error)?
				.label("break-even ticket (profit ≤ 0 above)")
				.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(3)));
			chart.draw_series(line.iter().map(|p| Circle::new(*p, 5, BLACK.filled()))).map_err(plot_error)?;
			for (label, colour) in [
				(format!("operator profits (full red: +{} per query)", self.reward), diverging(1.0)),
				(format!("operator loses (full blue: -{} per query)", self.reward), diverging(-1.0)),
			] {
				chart
					.draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
					.map_err(plot_error)?
					.label(label)
					.legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], colour.filled()));
			}
			draw_legend(&mut chart, SeriesLabelPosition::MiddleRight, 15)?;
			root.present().map_err(plot_error)?;
		}
		save(path, buffer)
	}
}

/// Red for profit, blue for loss, white at break-even; `x` in [-1, 1].
fn diverging(x: f64) -> RGBColor {
	let x = x.clamp(-1.0, 1.0);
	let fade = |v: f64| (255.0 * (1.0 - v.abs())) as u8;
	if x >= 0.0 {
		RGBColor(255, fade(x), fade(x))
	} else {
		RGBColor(fade(x), fade(x), 255)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn grid(sizes: Vec<u32>) -> SybilGrid {
		SybilGrid {
			sizes,
			tickets: (0..=20).map(|i| f64::from(i) / 10.0).collect(),
			reward: 20.0,
			share: 0.45,
			winner_share: Perbill::from_percent(50),
			rounds: 100,
			window: 100,
			honest_noise: 0.1,
			seed: 1,
		}
	}

	/// Without a ticket a near-half Sybil block profits in a small swarm (its champion often
	/// wins the fee, and it pays nothing); the larger the swarm, the more tickets the block
	/// loses per query for the same fee, so a ticket of a small share of the reward makes it
	/// unprofitable — the break-even line falls with the swarm size.
	#[test]
	fn tickets_make_sybil_swarms_unprofitable_and_large_swarms_need_small_tickets() {
		let grid = grid(vec![10, 100]);
		let columns = grid.columns();
		let (small, large) = (&columns[0], &columns[1]);
		assert!(small.profit[0] > 0.0 && small.sybil_wins > 0.2, "free identities pay in a small swarm: {small:?}");
		assert!(large.tickets_lost > 5.0 * small.tickets_lost, "{small:?} vs {large:?}");
		let large_even = large.break_even.expect("a 100-agent Sybil block stops paying within 2 tokens");
		assert!(large_even <= 0.5, "2.5% of the reward is enough at 100 agents: {large:?}");
		assert!(small.break_even.is_none_or(|s| s > large_even), "{small:?} vs {large:?}");
		assert_eq!(grid.columns(), columns, "deterministic from its seed");
	}
}
