//! Storage migrations, each run once by the runtime's `Migrations` when the on-chain storage
//! version is the one it migrates from.

/// v0 → v1: each worker's record keeps its open tasks (`WorkerInfo::open_tasks`), which the
/// task pallet kept in a map of its own: a settlement releases a worker in the write of its
/// record that the reputation update makes anyway. Every record gains an empty list; the task
/// pallet's own migration then moves its lists in (`pallet_tasks::migrations::v4`), so it
/// must run after this one.
pub mod v1 {
	use crate::{types::*, BalanceOf, Config, Pallet, Workers};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::UncheckedOnRuntimeUpgrade,
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use replica_primitives::{ExecutionProfile, ProfileId};

	/// `WorkerInfo` as storage version 0 encoded it: without `open_tasks`.
	#[derive(Encode, Decode)]
	pub struct WorkerInfoV0<Balance, BlockNumber, MaxModels: Get<u32>, MaxEndpointLen: Get<u32>, MaxChunks: Get<u32>> {
		pub profile: ExecutionProfile,
		pub profile_id: ProfileId,
		pub models: Models<MaxModels>,
		pub endpoint: Endpoint<MaxEndpointLen>,
		pub stake: Balance,
		pub unbonding: BoundedVec<UnbondingChunk<Balance, BlockNumber>, MaxChunks>,
		pub status: WorkerStatus,
		pub missed_in_row: u32,
		pub reputation: Reputation,
	}

	pub(crate) type OldWorkerInfoOf<T> = WorkerInfoV0<
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxModelsPerWorker,
		<T as Config>::MaxEndpointLen,
		MaxUnbondingChunks,
	>;

	/// The workers map as storage version 0 encoded it.
	#[cfg(test)]
	pub(crate) mod old {
		use super::*;
		#[frame_support::storage_alias]
		pub(crate) type Workers<T: Config> = StorageMap<
			Pallet<T>,
			Blake2_128Concat,
			<T as frame_system::Config>::AccountId,
			OldWorkerInfoOf<T>,
			OptionQuery,
		>;
	}

	/// Gives every record an empty list of open tasks.
	pub struct AddOpenTasks<T>(core::marker::PhantomData<T>);
	impl<T: Config> UncheckedOnRuntimeUpgrade for AddOpenTasks<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut count = 0u64;
			Workers::<T>::translate::<OldWorkerInfoOf<T>, _>(|_, old| {
				count += 1;
				Some(WorkerInfo {
					profile: old.profile,
					profile_id: old.profile_id,
					models: old.models,
					endpoint: old.endpoint,
					stake: old.stake,
					unbonding: old.unbonding,
					status: old.status,
					missed_in_row: old.missed_in_row,
					reputation: old.reputation,
					open_tasks: Default::default(),
				})
			});
			T::DbWeight::get().reads_writes(count, count)
		}
	}

	/// [`AddOpenTasks`], run only at storage version 0, which it sets to 1.
	pub type MigrateV0ToV1<T> =
		VersionedMigration<0, 1, AddOpenTasks<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

#[cfg(test)]
mod tests {
	use super::v1::*;
	use crate::mock::*;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	#[test]
	fn v0_to_v1_gives_every_record_an_empty_open_task_list() {
		new_test_ext().execute_with(|| {
			frame_support::assert_ok!(crate::Pallet::<Test>::register(
				RuntimeOrigin::signed(ALICE),
				profile("RTX 4090", 24_576),
				vec![1],
				endpoint(),
				MIN_STAKE
			));
			let info = crate::Workers::<Test>::get(ALICE).expect("registered");
			old::Workers::<Test>::insert(
				ALICE,
				WorkerInfoV0 {
					profile: info.profile.clone(),
					profile_id: info.profile_id,
					models: info.models.clone(),
					endpoint: info.endpoint.clone(),
					stake: info.stake,
					unbonding: info.unbonding.clone(),
					status: info.status,
					missed_in_row: 2,
					reputation: crate::Reputation { successes: 5, faults: 1, misses: 3 },
				},
			);
			StorageVersion::new(0).put::<crate::Pallet<Test>>();
			MigrateV0ToV1::<Test>::on_runtime_upgrade();
			assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), 1);
			let migrated = crate::Workers::<Test>::get(ALICE).expect("decodes as v1");
			assert!(migrated.open_tasks.is_empty());
			assert_eq!(migrated.reputation, crate::Reputation { successes: 5, faults: 1, misses: 3 });
			assert_eq!((migrated.missed_in_row, migrated.stake, migrated.status), (2, info.stake, info.status));
			crate::Pallet::<Test>::do_try_state().expect("invariants hold after the migration");
		});
	}
}
