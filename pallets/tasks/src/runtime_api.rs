//! `TasksApi`: what clients (dapps, the worker) ask the runtime about tasks.

use alloc::vec::Vec;
use codec::Codec;
use replica_primitives::{Quorum, TaskId};
use sp_runtime::{Perbill, Perquintill};

sp_api::decl_runtime_apis! {
	/// Tasks: their state and result, a worker's open assignments, and the probability that a
	/// verifier set reaches quorum.
	pub trait TasksApi<AccountId, Task>
	where
		AccountId: Codec,
		Task: Codec,
	{
		/// The task with its status, workers and (once decided) result, if not pruned.
		fn task(id: TaskId) -> Option<Task>;
		/// The tasks `worker` is drawn into whose round is not settled yet (kept in its
		/// pallet-workers record).
		fn open_assignments(worker: AccountId) -> Vec<TaskId>;
		/// The probability that `n` verifiers, each agreeing with probability `p`, reach
		/// `quorum` (binomial model; see `replica_primitives::probability`).
		fn verification_probability(p: Perbill, n: u32, quorum: Quorum) -> Perquintill;
	}
}
