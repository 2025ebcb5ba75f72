//! Types of pallet-workers.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::ConstU32, BoundedVec};
use replica_primitives::{ExecutionProfile, ModelId, ProfileId, TaskId};
use scale_info::TypeInfo;

/// Whether a worker may be drawn for new tasks.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum WorkerStatus {
	/// Eligible for new assignments.
	Online,
	/// Not drawn; keeps its open assignments.
	Offline,
	/// Leaving: offline for good, all stake unbonding; the record goes with the last withdrawal.
	Deregistering,
}

/// Why a worker went offline.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OfflineReason {
	/// The operator asked.
	Requested,
	/// It missed `max_missed` assignments in a row.
	MissedAssignments,
	/// A slash left its active stake below the minimum.
	StakeBelowMinimum,
	/// It is deregistering.
	Deregistering,
	/// A model index it was in was full and a worker with more stake took its place.
	OutStaked,
}

/// Stake on its way out: still held and slashable until `unlock_at`.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct UnbondingChunk<Balance, BlockNumber> {
	pub amount: Balance,
	pub unlock_at: BlockNumber,
}

/// What the task pallet reported about a worker's work.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Reputation {
	/// Results that agreed with the verdict.
	pub successes: u32,
	/// Wrong results and bad reveals.
	pub faults: u32,
	/// Assignments it did not commit or reveal.
	pub misses: u32,
}

/// How a task ended for one of its workers, as the task pallet reports it when it releases
/// the worker from the task.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Report<Balance> {
	/// Its result agreed with the verdict; `earned` of the fee, already paid into the earnings
	/// pot, is credited to the worker's record.
	Success { earned: Balance },
	/// A wrong result, a withheld one or a bad reveal.
	Fault,
	/// It did not commit: after `max_missed` misses in a row it goes offline.
	Missed,
	/// Nothing to its credit or blame (no quorum, or the task was aborted).
	Neutral,
}

/// Governance-set parameters.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
	serde::Serialize, serde::Deserialize,
)]
pub struct WorkerParams<Balance, BlockNumber> {
	/// The least active stake a worker must keep to be online.
	pub min_stake: Balance,
	/// Blocks between `unbond` and the stake becoming withdrawable.
	pub unbonding_period: BlockNumber,
	/// Misses in a row after which a worker is set offline.
	pub max_missed: u32,
}

/// An online worker in a model's index: enough to filter by profile and VRAM, and to weight a
/// draw by stake, without reading the worker's record.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct IndexEntry<AccountId, Balance, BlockNumber> {
	pub who: AccountId,
	pub profile_id: ProfileId,
	pub vram_mib: u32,
	/// Its active stake.
	pub stake: Balance,
	/// When (in `Config::Clock`) it joined the index or last gained weight or changed profile.
	pub since: BlockNumber,
}

/// A worker's served models.
pub type Models<S> = BoundedVec<ModelId, S>;
/// A worker's result endpoint (an `http://` or `https://` URL).
pub type Endpoint<S> = BoundedVec<u8, S>;

/// A registered worker.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[scale_info(skip_type_params(MaxModels, MaxEndpointLen, MaxChunks, MaxOpenTasks))]
pub struct WorkerInfo<Balance, BlockNumber, MaxModels, MaxEndpointLen, MaxChunks, MaxOpenTasks>
where
	MaxModels: frame_support::traits::Get<u32>,
	MaxEndpointLen: frame_support::traits::Get<u32>,
	MaxChunks: frame_support::traits::Get<u32>,
	MaxOpenTasks: frame_support::traits::Get<u32>,
{
	/// The declared hardware and software.
	pub profile: ExecutionProfile,
	/// `profile.profile_id()`, kept to avoid rehashing.
	pub profile_id: ProfileId,
	/// Models it serves.
	pub models: Models<MaxModels>,
	/// Where it serves results.
	pub endpoint: Endpoint<MaxEndpointLen>,
	/// Active stake (held).
	pub stake: Balance,
	/// Stake being unbonded (held, slashable), oldest first.
	pub unbonding: BoundedVec<UnbondingChunk<Balance, BlockNumber>, MaxChunks>,
	pub status: WorkerStatus,
	/// Assignments missed in a row.
	pub missed_in_row: u32,
	pub reputation: Reputation,
	/// The tasks it was drawn into whose round is not settled yet, oldest first. Kept in the
	/// record that a settlement writes anyway (reputation, slashes), so releasing a worker
	/// costs no write of its own.
	pub open_tasks: BoundedVec<TaskId, MaxOpenTasks>,
	/// Fees it won and has not claimed yet, held in the earnings pot (`Config::EarningsPot`).
	/// Credited in the settlement's write of this record, so paying a winner costs no
	/// transfer of its own; `claim_earnings` pays them out. Earnings are not stake: no slash
	/// touches them.
	pub earnings: Balance,
}

/// The most unbonding chunks a worker may have at once.
pub type MaxUnbondingChunks = ConstU32<16>;
