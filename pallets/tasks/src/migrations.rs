//! Storage migrations, each run once by the runtime's `Migrations` when the on-chain storage
//! version is the one it migrates from.

/// v1 → v2: the global fee ledger goes. Each task already records the fee still held for it,
/// and `try_state` checks every creator's held balance against its tasks' fees, so the ledger
/// only cost every creation and verdict a read and a write.
pub mod v2 {
	use crate::{Config, Pallet};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::UncheckedOnRuntimeUpgrade,
	};

	/// The removed `FeeLedger` value (three balances), to clear it.
	#[frame_support::storage_alias]
	pub(crate) type FeeLedger<T: Config> = StorageValue<Pallet<T>, (u128, u128, u128), OptionQuery>;

	/// Clears the fee ledger.
	pub struct RemoveFeeLedger<T>(core::marker::PhantomData<T>);
	impl<T: Config> UncheckedOnRuntimeUpgrade for RemoveFeeLedger<T> {
		fn on_runtime_upgrade() -> Weight {
			FeeLedger::<T>::kill();
			T::DbWeight::get().writes(1)
		}
	}

	/// [`RemoveFeeLedger`], run only at storage version 1, which it sets to 2.
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		RemoveFeeLedger<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// v2 → v3: a round's settlement deletes its workers' assignment records and keeps their
/// outcomes in the task (`TaskInfo::settled`), so pruning a task removes the task alone.
/// Every task gains `settled`: the outcomes of its settled workers (the leading workers whose
/// records carry an outcome), whose records are deleted.
pub mod v3 {
	use crate::{
		types::{Outcome, TaskInfo, TaskParams, TaskStatus, Verification},
		Assignments, BalanceOf, Config, Pallet, Tasks,
	};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::UncheckedOnRuntimeUpgrade,
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use replica_primitives::{ModelId, ProfileId, Quorum, ResultPayload, Round, Tolerances};

	/// The tasks map as storage version 2 encoded it.
	#[cfg(test)]
	pub(crate) mod old {
		use super::*;
		#[frame_support::storage_alias]
		pub(crate) type Tasks<T: Config> =
			StorageMap<Pallet<T>, Twox64Concat, replica_primitives::TaskId, OldTaskOf<T>, OptionQuery>;
	}

	/// `TaskInfo` as storage version 2 encoded it: without `settled`.
	#[derive(Encode, Decode)]
	pub struct TaskInfoV2<AccountId, Balance, BlockNumber, MaxVerifiers: Get<u32>> {
		pub creator: AccountId,
		pub model: ModelId,
		pub params: TaskParams,
		pub verification: Verification,
		pub quorum: Quorum,
		pub fee: Balance,
		pub tolerances: Tolerances,
		pub vram_mib: u32,
		pub status: TaskStatus<BlockNumber>,
		pub round: Round,
		pub round_size: u32,
		pub tally_from: Round,
		pub draw_after: BlockNumber,
		pub agenda_at: BlockNumber,
		pub workers: BoundedVec<AccountId, MaxVerifiers>,
		pub profile: Option<ProfileId>,
		pub created_at: BlockNumber,
		pub result: Option<ResultPayload>,
	}

	pub(crate) type OldTaskOf<T> =
		TaskInfoV2<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxVerifiers>;

	/// Moves settled outcomes into the tasks and deletes their records.
	pub struct SettleIntoTasks<T>(core::marker::PhantomData<T>);
	impl<T: Config> UncheckedOnRuntimeUpgrade for SettleIntoTasks<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut reads = 0u64;
			let mut writes = 0u64;
			Tasks::<T>::translate::<OldTaskOf<T>, _>(|task, old| {
				reads += 1;
				writes += 1;
				let finished = !matches!(
					old.status,
					TaskStatus::Pending { .. } |
						TaskStatus::Committing { .. } |
						TaskStatus::Sampling { .. } |
						TaskStatus::Revealing { .. }
				);
				let mut settled = BoundedVec::new();
				for w in old.workers.iter() {
					reads += 1;
					// Rounds settle in order, so the settled workers lead: every worker of a
					// finished task, and those of rounds before the open tally.
					match Assignments::<T>::get(task, w) {
						Some(a) if a.outcome != Outcome::Open && (finished || a.round < old.tally_from) => {
							let _ = settled.try_push(a.outcome);
							Assignments::<T>::remove(task, w);
							writes += 1;
						},
						_ => break,
					}
				}
				Some(TaskInfo {
					creator: old.creator,
					model: old.model,
					params: old.params,
					verification: old.verification,
					quorum: old.quorum,
					fee: old.fee,
					tolerances: old.tolerances,
					vram_mib: old.vram_mib,
					status: old.status,
					round: old.round,
					round_size: old.round_size,
					tally_from: old.tally_from,
					draw_after: old.draw_after,
					agenda_at: old.agenda_at,
					workers: old.workers,
					settled,
					profile: old.profile,
					created_at: old.created_at,
					result: old.result,
				})
			});
			T::DbWeight::get().reads_writes(reads, writes)
		}
	}

	/// [`SettleIntoTasks`], run only at storage version 2, which it sets to 3.
	pub type MigrateV2ToV3<T> = VersionedMigration<
		2,
		3,
		SettleIntoTasks<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// v3 → v4: a worker's open tasks move into its pallet-workers record (`open_tasks`), which a
/// settlement writes anyway for the worker's reputation: the verdict writes one record per
/// worker instead of two, and a draw reads one. Run after `pallet_workers::migrations::v1`,
/// which gives every record an empty list, and `v2`, which brings records to the layout this
/// one writes.
pub mod v4 {
	use crate::{Config, Pallet};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::UncheckedOnRuntimeUpgrade,
	};
	use pallet_workers::WorkerRegistry;
	use replica_primitives::TaskId;

	/// The removed map of each worker's open tasks.
	#[frame_support::storage_alias]
	pub(crate) type WorkerTasks<T: Config> = StorageMap<
		Pallet<T>,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		BoundedVec<TaskId, <T as Config>::MaxOpenTasksPerWorker>,
		ValueQuery,
	>;

	/// Moves every list into the worker's record and clears the map.
	pub struct MoveOpenTasks<T>(core::marker::PhantomData<T>);
	impl<T: Config> UncheckedOnRuntimeUpgrade for MoveOpenTasks<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut moved = 0u64;
			for (who, tasks) in WorkerTasks::<T>::drain() {
				moved += 1;
				for task in tasks {
					if !T::Workers::open_task(&who, task) {
						frame_support::defensive!("an open task that does not fit the worker's record");
					}
				}
			}
			// Each list: read and cleared, the worker's record read and written.
			T::DbWeight::get().reads_writes(2 * moved, 2 * moved)
		}
	}

	/// [`MoveOpenTasks`], run only at storage version 3, which it sets to 4.
	pub type MigrateV3ToV4<T> =
		VersionedMigration<3, 4, MoveOpenTasks<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

#[cfg(test)]
mod tests {
	use super::v2::*;
	use crate::mock::{new_test_ext, Test};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	#[test]
	fn v1_to_v2_clears_the_fee_ledger_once() {
		new_test_ext().execute_with(|| {
			StorageVersion::new(1).put::<crate::Pallet<Test>>();
			FeeLedger::<Test>::put((381, 300, 70));
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			assert!(!FeeLedger::<Test>::exists());
			assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), 2);
			// At v2 it does nothing.
			FeeLedger::<Test>::put((1, 1, 1));
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			assert!(FeeLedger::<Test>::exists());
		});
	}
}

#[cfg(test)]
mod v3_tests {
	use super::v3::*;
	use crate::{
		mock::{online, test, Test, WORKERS},
		tests::{assigned_image_task, commit, image, reveal},
		types::{Assignment, TaskInfo},
		Assignments, Outcome, Tasks, TaskOf,
	};
	use codec::Encode;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	/// What storage version 2 held for `info`, with a record for each of `records`.
	fn as_v2(task: u64, info: TaskOf<Test>, records: &[(u64, Outcome)]) {
		for (who, outcome) in records {
			let a = Assignment {
				round: 0,
				profile: [0; 32],
				commitment: Some([1; 32]),
				ciphertext: None,
				revealed: None,
				reveal_attempted: true,
				outcome: *outcome,
			};
			Assignments::<Test>::insert(task, who, a);
		}
		let TaskInfo {
			creator, model, params, verification, quorum, fee, tolerances, vram_mib, status, round,
			round_size, tally_from, draw_after, agenda_at, workers, profile, created_at, result, ..
		} = info;
		old::Tasks::<Test>::insert(
			task,
			TaskInfoV2 {
				creator, model, params, verification, quorum, fee, tolerances, vram_mib, status, round,
				round_size, tally_from, draw_after, agenda_at, workers, profile, created_at, result,
			},
		);
	}

	#[test]
	fn v2_to_v3_moves_settled_outcomes_into_the_task() {
		test(|| {
			online(&WORKERS[..6], "RTX 4090");
			// A finished task, whose v2 records all carry outcomes.
			let payload = image(0xAAAA, 0xBBBB);
			let (done, workers) = assigned_image_task(3, 100);
			let keys: Vec<_> = workers.iter().map(|w| commit(done, *w, &payload)).collect();
			for (w, key) in workers.iter().zip(keys) {
				reveal(done, *w, key);
			}
			let info = Tasks::<Test>::get(done).expect("task");
			let outcomes = [Outcome::Won, Outcome::Won, Outcome::Outlier];
			let records: Vec<_> = workers.iter().copied().zip(outcomes).collect();
			as_v2(done, info, &records);
			// An open task: one worker committed, two not yet.
			let (open, open_workers) = assigned_image_task(3, 100);
			commit(open, open_workers[0], &payload);
			let record = Assignments::<Test>::get(open, open_workers[0]).expect("committed");
			let info = Tasks::<Test>::get(open).expect("task");
			as_v2(open, info, &[]);

			StorageVersion::new(2).put::<crate::Pallet<Test>>();
			MigrateV2ToV3::<Test>::on_runtime_upgrade();
			assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), 3);
			let done_info = Tasks::<Test>::get(done).expect("decodes as v3");
			assert_eq!(done_info.settled.into_inner(), outcomes.to_vec());
			assert_eq!(Assignments::<Test>::iter_prefix(done).count(), 0, "settled records deleted");
			let open_info = Tasks::<Test>::get(open).expect("decodes as v3");
			assert!(open_info.settled.is_empty());
			assert_eq!(Assignments::<Test>::get(open, open_workers[0]).map(|a| a.encode()), Some(record.encode()), "an open round's record stays");
		});
	}
}

#[cfg(test)]
mod v4_tests {
	use super::v4::*;
	use crate::{
		mock::{online, test, Test, Workers, WORKERS},
		tests::assigned_image_task,
	};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	use pallet_workers::{Report, WorkerRegistry};

	#[test]
	fn v3_to_v4_moves_open_tasks_into_the_workers_records() {
		test(|| {
			online(&WORKERS[..3], "RTX 4090");
			let (task, workers) = assigned_image_task(3, 100);
			// As v3 kept them: in this pallet's map, not in the records.
			for w in &workers {
				Workers::close_task(w, task, Report::Neutral);
				WorkerTasks::<Test>::insert(w, frame_support::BoundedVec::truncate_from(vec![task]));
			}
			// (Reputation reports of the close above aside, the records are as v3 left them.)
			StorageVersion::new(3).put::<crate::Pallet<Test>>();
			MigrateV3ToV4::<Test>::on_runtime_upgrade();
			assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), 4);
			for w in &workers {
				assert_eq!(Workers::open_tasks(w), [task]);
				assert!(!WorkerTasks::<Test>::contains_key(w));
			}
			assert_eq!(WorkerTasks::<Test>::iter().count(), 0);
		});
	}
}
