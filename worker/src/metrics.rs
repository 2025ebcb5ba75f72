//! The worker's Prometheus metrics (prefix `replica_worker_`), served on `--metrics` at
//! `/metrics` by the same exporter the Substrate node uses.

use substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, Gauge, Histogram, HistogramOpts, PrometheusError, Registry, U64,
};

/// Every metric the worker updates.
#[derive(Clone)]
pub struct Metrics {
	pub registry: Registry,
	/// Tasks this worker was drawn for.
	pub assigned: Counter<U64>,
	/// Tasks executed and sealed.
	pub executed: Counter<U64>,
	/// Tasks finalized with this worker among the winners.
	pub finalized: Counter<U64>,
	/// Slashes taken.
	pub slashed: Counter<U64>,
	/// Tasks skipped (deadline passed, queue full) or failed to execute.
	pub skipped: Counter<U64>,
	/// Tasks waiting for the device.
	pub queue_length: Gauge<U64>,
	/// Seconds from starting a task to its sealed result.
	pub execution_seconds: Histogram,
	/// Seconds from seeing the assignment to the commitment being in a block.
	pub commit_latency_seconds: Histogram,
	/// Seconds from seeing the reveal phase to the key being in a block.
	pub reveal_latency_seconds: Histogram,
}

impl Metrics {
	/// Creates and registers every metric in a fresh registry.
	pub fn new() -> Result<Self, PrometheusError> {
		let registry = Registry::new_custom(Some("replica_worker".into()), None)?;
		let counter = |name: &str, help: &str| register(Counter::new(name, help)?, &registry);
		let histogram = |name: &str, help: &str| {
			register(Histogram::with_opts(HistogramOpts::new(name, help).buckets(exponential_buckets(0.05, 2.0, 14)?))?, &registry)
		};
		Ok(Self {
			assigned: counter("tasks_assigned_total", "Tasks this worker was drawn for")?,
			executed: counter("tasks_executed_total", "Tasks executed and sealed")?,
			finalized: counter("tasks_finalized_total", "Tasks finalized with this worker among the winners")?,
			slashed: counter("tasks_slashed_total", "Slashes this worker took")?,
			skipped: counter("tasks_skipped_total", "Tasks skipped (deadline passed, queue full) or that failed to execute")?,
			queue_length: register(Gauge::new("queue_length", "Tasks waiting for the device")?, &registry)?,
			execution_seconds: histogram("execution_seconds", "Seconds from starting a task to its sealed result")?,
			commit_latency_seconds: histogram(
				"commit_latency_seconds",
				"Seconds from seeing an assignment to its commitment being in a block",
			)?,
			reveal_latency_seconds: histogram(
				"reveal_latency_seconds",
				"Seconds from seeing the reveal phase to the key being in a block",
			)?,
			registry,
		})
	}
}
