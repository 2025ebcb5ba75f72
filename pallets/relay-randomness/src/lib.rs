//! # pallet-relay-randomness
//!
//! Randomness for drawing Replica's verifiers that did not exist when a task was created.
//!
//! ## Source
//! Every parachain block carries a relay chain state proof that `cumulus-pallet-parachain-system`
//! checks against the relay parent's storage root. The collator puts the relay chain's BABE
//! randomness keys into that proof. Through [`cumulus_pallet_parachain_system::OnSystemEvent`]
//! this pallet reads `CURRENT_BLOCK_RANDOMNESS` — the VRF output of the relay parent's author —
//! and keeps it with the relay block number and the parachain block in which it was first seen
//! ([`Latest`]). A new value is taken only when the relay parent number grows, so one relay
//! block's randomness keeps the block it was first seen in, even when several parachain blocks
//! share a relay parent.
//!
//! ## Freshness, in relay-chain time
//! The randomness of relay block `r` is public as soon as `r` is, and a parachain block may be
//! built on a relay parent up to `Config::RelayLookahead` blocks older than the relay chain's
//! tip. So a parachain block whose relay parent is `r - RelayLookahead` may already be built,
//! and its extrinsics chosen, by someone who knows `r`'s randomness. [`Randomness::random`]
//! therefore returns, beside the output, `r - RelayLookahead`: the earliest relay parent number
//! (this pallet's [`BlockNumberProvider`] clock, read by pallet-tasks and pallet-workers as
//! `Config::Clock`) at which anyone may know it. A consumer that must use randomness unknown
//! when something last changed at clock time `c` (a task created, a worker joined) waits until
//! that number is greater than `c`.
//!
//! ## Security
//! The relay block author knows its VRF output one relay block ahead and may withhold its block;
//! a collator may choose among the few relay parents it is allowed to build on. Both can bias a
//! draw by at most a few candidates, at the cost of a missed block; neither can choose the
//! output. A task creator sees nothing in advance.
//!
//! ## Insecure fallback (development chains only)
//! A dev node (`--dev`) mocks the relay chain and its proof has no BABE randomness. When
//! [`InsecureFallback`] is set at genesis (the `development` preset does), [`Randomness::random`]
//! then mixes the parent block hash, which the block author controls: never set it on a chain
//! that holds value. Without it and without relay randomness, the output is zero and known
//! since block 0, so freshness checks fail and nothing is drawn.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use cumulus_pallet_parachain_system::{OnSystemEvent, RelayChainStateProof};
use cumulus_primitives_core::{relay_chain, PersistedValidationData};
use frame_support::{
	traits::{Get, Randomness},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::traits::{BlockNumberProvider, Hash, Zero};

/// The relay chain's randomness of one relay block, as this chain first saw it.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct RelayRandomness<BlockNumber> {
	/// BABE's VRF output of the relay block's author.
	pub value: [u8; 32],
	/// The relay block it belongs to.
	pub relay_block: relay_chain::BlockNumber,
	/// The parachain block whose inherent first brought it.
	pub since: BlockNumber,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The relay parent number of the block being built (parachain-system's
		/// `RelaychainDataProvider`). Read after the validation data is set.
		type RelayBlockNumber: BlockNumberProvider<BlockNumber = relay_chain::BlockNumber>;
		/// How many relay blocks older than the relay chain's tip a parachain block's relay
		/// parent may be (async backing's allowed ancestry): a relay block's randomness counts
		/// as known from that many relay blocks before its own number.
		#[pallet::constant]
		type RelayLookahead: Get<relay_chain::BlockNumber>;
		/// Weights of this pallet's work.
		type WeightInfo: WeightInfo;
	}

	/// The newest relay randomness seen; `None` until the first proof that carries one.
	#[pallet::storage]
	pub type Latest<T: Config> = StorageValue<_, RelayRandomness<BlockNumberFor<T>>, OptionQuery>;

	/// Development chains only: without relay randomness, fall back to the parent hash
	/// (insecure; see the crate docs). Set at genesis, never by a call.
	#[pallet::storage]
	pub type InsecureFallback<T: Config> = StorageValue<_, bool, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Allow the insecure parent-hash fallback (development chains only).
		pub insecure_fallback: bool,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			InsecureFallback::<T>::put(self.insecure_fallback);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state(now)
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Takes `value` as the randomness of `relay_block` if that relay block is newer than the
	/// one stored. Returns whether it was taken.
	pub fn note_relay_randomness(relay_block: relay_chain::BlockNumber, value: [u8; 32]) -> bool {
		if Latest::<T>::get().is_some_and(|latest| latest.relay_block >= relay_block) {
			return false;
		}
		let since = frame_system::Pallet::<T>::block_number();
		Latest::<T>::put(RelayRandomness { value, relay_block, since });
		true
	}

	/// BABE's `AuthorVrfRandomness` of the relay parent, if the proof carries it.
	pub fn read_relay_randomness(proof: &RelayChainStateProof) -> Option<[u8; 32]> {
		// The relay chain stores it as `Option<Randomness>`; a missing key or a block without a
		// primary VRF output both mean "none".
		proof
			.read_optional_entry::<Option<[u8; 32]>>(relay_chain::well_known_keys::CURRENT_BLOCK_RANDOMNESS)
			.ok()
			.flatten()
			.flatten()
	}

	/// The stored randomness never claims a block from the future.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state(now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
		if let Some(latest) = Latest::<T>::get() {
			frame_support::ensure!(latest.since <= now, "relay randomness seen in a future block");
		}
		Ok(())
	}
}

impl<T: Config> OnSystemEvent for Pallet<T> {
	fn on_validation_data(_data: &PersistedValidationData) {}

	fn on_validation_code_applied() {}

	fn on_relay_state_proof(proof: &RelayChainStateProof) -> Weight {
		// The proof is already in memory and verified; reading one key from it costs about as
		// much as one storage read.
		let read = T::DbWeight::get().reads(1);
		match Self::read_relay_randomness(proof) {
			Some(value) => {
				Self::note_relay_randomness(T::RelayBlockNumber::current_block_number(), value);
				read.saturating_add(T::WeightInfo::note_relay_randomness())
			},
			None => read,
		}
	}
}

/// The clock randomness freshness is measured in: the relay parent number of the block being
/// built (the previous block's, in `on_initialize`).
impl<T: Config> BlockNumberProvider for Pallet<T> {
	type BlockNumber = BlockNumberFor<T>;
	fn current_block_number() -> Self::BlockNumber {
		T::RelayBlockNumber::current_block_number().into()
	}

	/// Moves the relay-parent clock (benchmarks and tests only).
	#[cfg(any(feature = "std", feature = "runtime-benchmarks"))]
	fn set_block_number(block: Self::BlockNumber) {
		T::RelayBlockNumber::set_block_number(sp_runtime::traits::UniqueSaturatedInto::unique_saturated_into(block));
	}
}

impl<T: Config> Randomness<T::Hash, BlockNumberFor<T>> for Pallet<T> {
	/// `blake2(subject, value, relay block)` and the earliest relay parent number at which it
	/// may be known (its relay block minus `RelayLookahead`); see the crate docs for the
	/// fallback.
	fn random(subject: &[u8]) -> (T::Hash, BlockNumberFor<T>) {
		if let Some(latest) = Latest::<T>::get() {
			let output = T::Hashing::hash_of(&(b"replica/relay-randomness", subject, latest.value, latest.relay_block));
			return (output, latest.relay_block.saturating_sub(T::RelayLookahead::get()).into());
		}
		if InsecureFallback::<T>::get() {
			let parent = frame_system::Pallet::<T>::parent_hash();
			let output = T::Hashing::hash_of(&(b"replica/insecure-randomness", subject, parent));
			return (output, Self::current_block_number());
		}
		(T::Hash::default(), Zero::zero())
	}
}
