//! A test runtime: System and RelayRandomness, with a settable relay parent number.

use crate as pallet_relay_randomness;
use cumulus_pallet_parachain_system::RelayChainStateProof;
use cumulus_primitives_core::{relay_chain, ParaId};
use cumulus_test_relay_sproof_builder::RelayStateSproofBuilder;
use frame_support::derive_impl;
use sp_runtime::{traits::BlockNumberProvider, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		RelayRandomness: pallet_relay_randomness,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

std::thread_local! {
	static RELAY_BLOCK: core::cell::Cell<relay_chain::BlockNumber> = const { core::cell::Cell::new(0) };
}

/// The relay parent number, as parachain-system's `RelaychainDataProvider` would give it.
pub struct TestRelayBlock;
impl BlockNumberProvider for TestRelayBlock {
	type BlockNumber = relay_chain::BlockNumber;
	fn current_block_number() -> Self::BlockNumber {
		RELAY_BLOCK.with(|b| b.get())
	}
}

pub fn set_relay_block(block: relay_chain::BlockNumber) {
	RELAY_BLOCK.with(|b| b.set(block))
}

impl pallet_relay_randomness::Config for Test {
	type RelayBlockNumber = TestRelayBlock;
	type RelayLookahead = frame_support::traits::ConstU32<LOOKAHEAD>;
	type WeightInfo = ();
}

pub const PARA_ID: u32 = 2000;
/// Relay parents may lag the relay tip by this many blocks.
pub const LOOKAHEAD: u32 = 2;

pub fn new_test_ext(insecure_fallback: bool) -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		system: Default::default(),
		relay_randomness: pallet_relay_randomness::GenesisConfig { insecure_fallback, ..Default::default() },
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		set_relay_block(0);
	});
	ext
}

/// A verified relay state proof, built like a collator's, whose relay parent carries
/// `randomness` (encoded as BABE stores it: `Option<[u8; 32]>`), or not the key at all.
pub fn relay_proof(randomness: Option<Option<[u8; 32]>>) -> RelayChainStateProof {
	let mut builder = RelayStateSproofBuilder { para_id: ParaId::from(PARA_ID), ..Default::default() };
	if let Some(value) = randomness {
		builder.additional_key_values.push((
			relay_chain::well_known_keys::CURRENT_BLOCK_RANDOMNESS.to_vec(),
			codec::Encode::encode(&value),
		));
	}
	let (root, proof) = builder.into_state_root_and_proof();
	RelayChainStateProof::new(ParaId::from(PARA_ID), root, proof).expect("the builder's proof matches its root")
}

/// Runs a block's parachain inherent: relay parent `relay_block`, randomness as in
/// [`relay_proof`]; then checks the pallet's invariants.
pub fn inherent(relay_block: relay_chain::BlockNumber, randomness: Option<Option<[u8; 32]>>) {
	use cumulus_pallet_parachain_system::OnSystemEvent;
	set_relay_block(relay_block);
	RelayRandomness::on_relay_state_proof(&relay_proof(randomness));
	RelayRandomness::do_try_state(System::block_number()).unwrap();
}
