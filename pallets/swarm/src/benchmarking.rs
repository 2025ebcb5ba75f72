//! Benchmarks (placeholder).
pub trait BenchmarkHelper<AccountId> {
	fn online_worker(who: &AccountId, model: replica_primitives::ModelId);
}
