//! `stats`' three PNG plots, drawn with plotters into an RGB buffer and written with `image`:
//! honest agreement vs tolerance per hash, the different-seed collision rate vs tolerance (log
//! axis), and the Type I probability vs the number of verifiers (log axis).

use super::{alg_name, analysis, Report};
use anyhow::Context;
use plotters::prelude::*;
use replica_primitives::{HashAlg, Quorum};
use std::{
	path::{Path, PathBuf},
	sync::OnceLock,
};

pub(crate) const WIDTH: u32 = 960;
pub(crate) const HEIGHT: u32 = 600;
const COLOURS: [RGBColor; 5] = [BLUE, RED, GREEN, MAGENTA, BLACK];
/// The TrueType font the plots' text is set in (Debian's fonts-dejavu-core, which
/// scripts/setup.sh installs); `REPLICA_PLOT_FONT` names another.
const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
pub(crate) const FONT: &str = "sans-serif";

/// Draws the three plots into `dir` and returns their paths.
pub fn write_all(report: &Report, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
	register_font()?;
	let path = |name: &str| dir.join(format!("{}-{name}.png", report.model));
	let paths = vec![path("agreement"), path("collisions"), path("type-one")];
	agreement(report, &paths[0])?;
	collisions(report, &paths[1])?;
	type_one(report, &paths[2])?;
	Ok(paths)
}

pub(crate) fn register_font() -> anyhow::Result<()> {
	static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
	REGISTERED
		.get_or_init(|| {
			let path = std::env::var_os("REPLICA_PLOT_FONT").map_or_else(|| PathBuf::from(DEFAULT_FONT), PathBuf::from);
			let bytes = std::fs::read(&path).map_err(|e| {
				format!("reading the plots' font {}: {e} (install Debian's fonts-dejavu-core or set REPLICA_PLOT_FONT)", path.display())
			})?;
			plotters::style::register_font(FONT, FontStyle::Normal, Box::leak(bytes.into_boxed_slice()))
				.map_err(|_| format!("{} is not a TrueType font", path.display()))
		})
		.clone()
		.map_err(anyhow::Error::msg)
}

/// Draws a chart's legend in the plots' style (a white box, black border) at `position`.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
	chart: &mut ChartContext<'a, DB, CT>,
	position: SeriesLabelPosition,
	font_size: u32,
) -> anyhow::Result<()> {
	chart
		.configure_series_labels()
		.position(position)
		.label_font((FONT, font_size))
		.background_style(WHITE.mix(0.9))
		.border_style(BLACK)
		.draw()
		.map_err(plot_error)
}

pub(crate) fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
	anyhow::anyhow!("drawing a plot: {e}")
}

pub(crate) fn save(path: &Path, buffer: Vec<u8>) -> anyhow::Result<()> {
	image::RgbImage::from_raw(WIDTH, HEIGHT, buffer)
		.context("plot buffer of the wrong size")?
		.save_with_format(path, image::ImageFormat::Png)
		.with_context(|| format!("writing {}", path.display()))
}

/// A named series and its points.
type Series = (String, Vec<(f64, f64)>);

/// Draws lines with markers; `log_y` puts the y axis on a log scale (points at or below 0 are
/// left out). `guides` are dashed horizontal lines with their labels.
fn draw(
	path: &Path,
	caption: &str,
	(x_desc, y_desc): (&str, &str),
	x_range: std::ops::Range<f64>,
	y_range: std::ops::Range<f64>,
	log_y: bool,
	series: &[Series],
	guides: &[(String, f64)],
) -> anyhow::Result<()> {
	let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
	{
		let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
		root.fill(&WHITE).map_err(plot_error)?;
		let x_labels = (x_range.end - x_range.start).round() as usize + 1;
		let x_min = x_range.start;
		let x_max = x_range.end;
		macro_rules! body {
			($chart:expr, $y_format:expr) => {{
				let mut chart = $chart;
				chart
					.configure_mesh()
					.x_desc(x_desc)
					.y_desc(y_desc)
					.x_labels(x_labels.min(17))
					.x_label_formatter(&|x: &f64| format!("{x:.0}"))
					.y_label_formatter(&$y_format)
					.label_style((FONT, 15))
					.draw()
					.map_err(plot_error)?;
				for (i, (name, points)) in series.iter().enumerate() {
					let colour = COLOURS[i % COLOURS.len()];
					// Earlier series drawn wider, so lines that coincide stay visible as stripes.
					let width = 2 + 2 * (series.len() - 1 - i) as u32;
					let points: Vec<(f64, f64)> = points.iter().copied().filter(|(_, y)| !log_y || *y > 0.0).collect();
					chart
						.draw_series(LineSeries::new(points.clone(), colour.stroke_width(width)))
						.map_err(plot_error)?
						.label(name.as_str())
						.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(width)));
					chart
						.draw_series(points.iter().map(|p| Circle::new(*p, width + 2, colour.filled())))
						.map_err(plot_error)?;
				}
				for (i, (name, y)) in guides.iter().enumerate() {
					let colour = if i == 0 { RGBColor(230, 120, 0) } else { RGBColor(128, 128, 128) };
					chart
						.draw_series(DashedLineSeries::new(vec![(x_min, *y), (x_max, *y)], 8, 6, colour.stroke_width(1)))
						.map_err(plot_error)?
						.label(name.as_str())
						.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(1)));
				}
				draw_legend(&mut chart, SeriesLabelPosition::LowerRight, 15)?;
			}};
		}
		let mut builder = ChartBuilder::on(&root);
		builder.caption(caption, (FONT, 20)).margin(15).x_label_area_size(45).y_label_area_size(80);
		if log_y {
			body!(
				builder.build_cartesian_2d(x_range.clone(), y_range.log_scale()).map_err(plot_error)?,
				|y: &f64| format!("{y:.0e}")
			);
		} else {
			body!(builder.build_cartesian_2d(x_range.clone(), y_range).map_err(plot_error)?, |y: &f64| format!("{y:.1}"));
		}
		root.present().map_err(plot_error)?;
	}
	save(path, buffer)
}

/// Honest agreement (every variant) vs tolerance, per hash.
fn agreement(report: &Report, path: &Path) -> anyhow::Result<()> {
	let overall = report.overall();
	let series: Vec<Series> = HashAlg::ALL
		.iter()
		.map(|alg| {
			let row = &overall[alg.index()];
			(alg_name(*alg).to_string(), (0..=8).map(|t| (t as f64, row.agreement(t) * 100.0)).collect())
		})
		.collect();
	let needed = needed_agreement() * 100.0;
	let lowest = series.iter().flat_map(|(_, points)| points.iter().map(|(_, y)| *y)).fold(needed, f64::min);
	let replicas = overall.first().map_or(0, |row| row.replicas);
	draw(
		path,
		&format!("{}: honest replicas agreeing vs tolerance ({replicas} replicas, every variant)", report.model),
		("tolerance (largest Hamming distance)", "replicas within t of their job's reference (%)"),
		-0.2..8.2,
		(lowest.floor() - 1.0).max(0.0)..100.5,
		false,
		&series,
		&[(format!("{needed:.2}%: 3 verifiers reach a majority 99.9% of the time"), needed)],
	)
}

/// The per-replica agreement at which 3 verifiers reach a majority with probability
/// [`analysis::TARGET_SUCCESS_AT_3`] (bisection: the probability grows with the agreement).
fn needed_agreement() -> f64 {
	let (mut low, mut high) = (0.5, 1.0);
	for _ in 0..60 {
		let mid = (low + high) / 2.0;
		if replica_primitives::agreement_probability_f64(mid, 3, Quorum::Majority) >= analysis::TARGET_SUCCESS_AT_3 {
			high = mid;
		} else {
			low = mid;
		}
	}
	high
}

/// The share of different-seed pairs within each tolerance, per hash and for all three default
/// hashes at once.
fn collisions(report: &Report, path: &Path) -> anyhow::Result<()> {
	let c = &report.collisions;
	let mut series: Vec<Series> = HashAlg::ALL
		.iter()
		.map(|alg| (alg_name(*alg).to_string(), (0..=16).map(|t| (t as f64, c.rate(*alg, t))).collect()))
		.collect();
	series.push(("aHash, pHash and dHash at once".into(), (0..=16).map(|t| (t as f64, c.rate_of_three(t))).collect()));
	let pairs = c.pairs.max(1) as f64;
	let bottom = 10f64.powf((0.5 / pairs).log10().floor());
	draw(
		path,
		&format!("{}: different seeds passing as one another ({} pairs)", report.model, c.pairs),
		("tolerance (largest Hamming distance)", "share of different-seed pairs within t"),
		-0.3..16.3,
		bottom..1.5,
		true,
		&series,
		&[
			(format!("target {}", super::percent(analysis::TARGET_COLLISION_RATE)), analysis::TARGET_COLLISION_RATE),
			("one pair (the resolution)".into(), 1.0 / pairs),
		],
	)
}

/// The probability that n verifiers miss the quorum on an honest result, at the measured
/// agreement of the evaluated tolerance set and at its lower bound.
fn type_one(report: &Report, path: &Path) -> anyhow::Result<()> {
	let set = report.evaluated.tolerances;
	let (p, p_low) = (report.evaluated.p(), report.evaluated.p_lower_bound());
	let curve = |p: f64, quorum: Quorum| -> Vec<(f64, f64)> {
		(1..=15u32).map(|n| (n as f64, analysis::type_one(p, n, quorum))).collect()
	};
	let mut series: Vec<Series> = vec![
		(format!("majority, p >= {p_low:.4} (95% lower bound)"), curve(p_low, Quorum::Majority)),
		(format!("two thirds, p >= {p_low:.4}"), curve(p_low, Quorum::Supermajority)),
	];
	if p < 1.0 {
		series.push((format!("majority, measured p = {p:.4}"), curve(p, Quorum::Majority)));
		series.push((format!("two thirds, measured p = {p:.4}"), curve(p, Quorum::Supermajority)));
	}
	let smallest = series
		.iter()
		.flat_map(|(_, points)| points.iter().map(|(_, y)| *y))
		.filter(|y| *y > 0.0)
		.fold(1.0, f64::min)
		.max(1e-30);
	draw(
		path,
		&format!("{}: Type I, an honest result missing its quorum ({})", report.model, super::describe(&set)),
		("verifiers", "P(no quorum on an honest result)"),
		0.7..15.3,
		10f64.powf(smallest.log10().floor())..1.5,
		true,
		&series,
		&[],
	)
}
