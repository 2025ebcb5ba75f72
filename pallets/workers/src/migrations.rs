//! Storage migrations, each run once by the runtime's `Migrations` when the on-chain storage
//! version is the one it migrates from.

/// v0 → v1: each worker's record keeps its open tasks (`WorkerInfo::open_tasks`), which the
/// task pallet kept in a map of its own: a settlement releases a worker in the write of its
/// record that the reputation update makes anyway. Every record gains an empty list; the task
/// pallet's own migration then moves its lists in (`pallet_tasks::migrations::v4`), so it
/// must run after this one and [`v2`] (it writes records in the current layout).
pub mod v1 {
	use crate::{types::*, BalanceOf, Config, Pallet};
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
			super::v2::old::Workers::<T>::translate::<OldWorkerInfoOf<T>, _>(|_, old| {
				count += 1;
				Some(super::v2::WorkerInfoV1 {
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

/// v1 → v2: each worker's record keeps its unclaimed earnings (`WorkerInfo::earnings`), paid
/// into the earnings pot by verdicts instead of one transfer per winner. Every record starts
/// with none. The pot must exist before the first verdict pays into it: where it holds less
/// than the existential deposit, the migration mints the difference, as genesis endows it on
/// a new chain (the one amount ever created for it; it never pays it out).
pub mod v2 {
	use crate::{types::*, BalanceOf, Config, Pallet, Workers};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate},
			UncheckedOnRuntimeUpgrade,
		},
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use replica_primitives::{ExecutionProfile, ProfileId, TaskId};
	use sp_runtime::traits::{Saturating, Zero};

	/// `WorkerInfo` as storage version 1 encoded it: without `earnings`.
	#[derive(Encode, Decode)]
	pub struct WorkerInfoV1<
		Balance,
		BlockNumber,
		MaxModels: Get<u32>,
		MaxEndpointLen: Get<u32>,
		MaxChunks: Get<u32>,
		MaxOpenTasks: Get<u32>,
	> {
		pub profile: ExecutionProfile,
		pub profile_id: ProfileId,
		pub models: Models<MaxModels>,
		pub endpoint: Endpoint<MaxEndpointLen>,
		pub stake: Balance,
		pub unbonding: BoundedVec<UnbondingChunk<Balance, BlockNumber>, MaxChunks>,
		pub status: WorkerStatus,
		pub missed_in_row: u32,
		pub reputation: Reputation,
		pub open_tasks: BoundedVec<TaskId, MaxOpenTasks>,
	}

	pub(crate) type OldWorkerInfoOf<T> = WorkerInfoV1<
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxModelsPerWorker,
		<T as Config>::MaxEndpointLen,
		MaxUnbondingChunks,
		<T as Config>::MaxOpenTasks,
	>;

	/// The workers map as storage version 1 encoded it.
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

	/// Gives every record zero unclaimed earnings and makes sure the earnings pot exists.
	pub struct AddEarnings<T>(core::marker::PhantomData<T>);
	impl<T: Config> UncheckedOnRuntimeUpgrade for AddEarnings<T> {
		fn on_runtime_upgrade() -> Weight {
			let pot = T::EarningsPot::get();
			let (held, minimum) = (T::Currency::balance(&pot), T::Currency::minimum_balance());
			if held < minimum && T::Currency::mint_into(&pot, minimum.saturating_sub(held)).is_err() {
				frame_support::defensive!("could not endow the earnings pot");
			}
			let mut count = 2u64;
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
					open_tasks: old.open_tasks,
					earnings: Zero::zero(),
				})
			});
			T::DbWeight::get().reads_writes(count, count)
		}
	}

	/// [`AddEarnings`], run only at storage version 1, which it sets to 2.
	pub type MigrateV1ToV2<T> =
		VersionedMigration<1, 2, AddEarnings<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

#[cfg(test)]
mod tests {
	use super::{v1::*, v2::*};
	use crate::mock::*;
	use frame_support::traits::{fungible::Inspect, GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	/// Alice registered, as the current layout stores her; the tests rewrite her record in an
	/// old layout.
	fn registered_alice() -> crate::WorkerInfoOf<Test> {
		frame_support::assert_ok!(crate::Pallet::<Test>::register(
			RuntimeOrigin::signed(ALICE),
			profile("RTX 4090", 24_576),
			vec![1],
			endpoint(),
			MIN_STAKE
		));
		crate::Workers::<Test>::get(ALICE).expect("registered")
	}

	#[test]
	fn v0_to_v1_gives_every_record_an_empty_open_task_list() {
		new_test_ext().execute_with(|| {
			let info = registered_alice();
			crate::migrations::v1::old::Workers::<Test>::insert(
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
			let migrated = crate::migrations::v2::old::Workers::<Test>::get(ALICE).expect("decodes as v1");
			assert!(migrated.open_tasks.is_empty());
			assert_eq!(migrated.reputation, crate::Reputation { successes: 5, faults: 1, misses: 3 });
			assert_eq!((migrated.missed_in_row, migrated.stake, migrated.status), (2, info.stake, info.status));
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			crate::Pallet::<Test>::do_try_state().expect("invariants hold after the migrations");
		});
	}

	#[test]
	fn v1_to_v2_gives_every_record_zero_earnings_and_endows_the_earnings_pot() {
		new_test_ext().execute_with(|| {
			let info = registered_alice();
			crate::migrations::v2::old::Workers::<Test>::insert(
				ALICE,
				WorkerInfoV1 {
					profile: info.profile.clone(),
					profile_id: info.profile_id,
					models: info.models.clone(),
					endpoint: info.endpoint.clone(),
					stake: info.stake,
					unbonding: info.unbonding.clone(),
					status: info.status,
					missed_in_row: 1,
					reputation: crate::Reputation { successes: 4, faults: 0, misses: 1 },
					open_tasks: frame_support::BoundedVec::truncate_from(vec![7, 9]),
				},
			);
			// A chain from before the pot: it holds nothing.
			let _ = <Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&EARNINGS_POT, 0);
			StorageVersion::new(1).put::<crate::Pallet<Test>>();
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), 2);
			let migrated = crate::Workers::<Test>::get(ALICE).expect("decodes as v2");
			assert_eq!(migrated.earnings, 0);
			assert_eq!(migrated.open_tasks.into_inner(), vec![7, 9]);
			assert_eq!(migrated.reputation, crate::Reputation { successes: 4, faults: 0, misses: 1 });
			assert_eq!(Balances::balance(&EARNINGS_POT), Balances::minimum_balance(), "the pot exists");
			// Run again (the version guard skips it): nothing more is minted.
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			assert_eq!(Balances::balance(&EARNINGS_POT), Balances::minimum_balance());
			crate::Pallet::<Test>::do_try_state().expect("invariants hold after the migration");
		});
	}
}
