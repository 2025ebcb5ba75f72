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
