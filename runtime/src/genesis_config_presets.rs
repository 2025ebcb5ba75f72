//! Genesis presets: `development` (the `--dev` chain) and `local_testnet`.
//!
//! Both fund the well-known dev accounts, make Alice sudo, and seat Alice, Bob and Charlie on
//! the Council. `development` has one collator (Alice) and allows the insecure randomness
//! fallback that a mocked relay chain needs; `local_testnet` has two (Alice, Bob) and draws
//! verifiers with relay BABE randomness only.

use alloc::{vec, vec::Vec};

use cumulus_primitives_core::ParaId;
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_genesis_builder::PresetId;
use sp_keyring::Sr25519Keyring;

use crate::{
	configs::replica::{EarningsPot, SlashPot, WORKER_MAX_MISSED, WORKER_MIN_STAKE, WORKER_UNBONDING_PERIOD},
	AccountId, AuraId, BalancesConfig, CollatorSelectionConfig, CouncilConfig, ParachainInfoConfig,
	PolkadotXcmConfig, RelayRandomnessConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, SwarmConfig, TasksConfig, TrainingConfig, WorkersConfig, UNIT,
	EXISTENTIAL_DEPOSIT,
};

/// The parachain id of the built-in chains.
pub const PARACHAIN_ID: u32 = 2000;

/// Balance of every endowed dev account: one million RPL.
pub const ENDOWMENT: u128 = 1_000_000 * UNIT;

/// The XCM version to use when a destination's version is not known.
const SAFE_XCM_VERSION: u32 = xcm::prelude::XCM_VERSION;

fn session_keys(aura: AuraId) -> SessionKeys {
	SessionKeys { aura }
}

fn replica_genesis(
	collators: Vec<(AccountId, AuraId)>,
	endowed: Vec<AccountId>,
	root: AccountId,
	council: Vec<AccountId>,
	id: ParaId,
	insecure_randomness: bool,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed
				.iter()
				.cloned()
				.map(|account| (account, ENDOWMENT))
				// The pots exist from genesis, so slashed stake and won fees always have a home.
				.chain([(SlashPot::get(), EXISTENTIAL_DEPOSIT), (EarningsPot::get(), EXISTENTIAL_DEPOSIT)])
				.collect(),
		},
		parachain_info: ParachainInfoConfig { parachain_id: id },
		collator_selection: CollatorSelectionConfig {
			invulnerables: collators.iter().cloned().map(|(account, _)| account).collect(),
			candidacy_bond: EXISTENTIAL_DEPOSIT * 16,
		},
		session: SessionConfig {
			keys: collators
				.into_iter()
				.map(|(account, aura)| (account.clone(), account, session_keys(aura)))
				.collect(),
		},
		polkadot_xcm: PolkadotXcmConfig { safe_xcm_version: Some(SAFE_XCM_VERSION) },
		sudo: SudoConfig { key: Some(root) },
		council: CouncilConfig { members: council },
		tasks: TasksConfig { params: Some(tasks_params()) },
		swarm: SwarmConfig { params: Some(swarm_params()) },
		training: TrainingConfig { params: Some(training_params()) },
		relay_randomness: RelayRandomnessConfig { insecure_fallback: insecure_randomness },
		workers: WorkersConfig {
			params: Some(pallet_workers::WorkerParams {
				min_stake: WORKER_MIN_STAKE,
				unbonding_period: WORKER_UNBONDING_PERIOD,
				max_missed: WORKER_MAX_MISSED,
			}),
		},
	})
}

/// pallet-tasks' genesis parameters (see `configs::replica`).
fn tasks_params() -> pallet_tasks::TaskParamsConfig<crate::BlockNumber> {
	use sp_runtime::Perbill;
	pallet_tasks::TaskParamsConfig {
		default_verifiers: 3,
		default_quorum: replica_primitives::Quorum::Majority,
		commit_window: 50,
		reveal_window: 20,
		escalation_step: 2,
		sampled_verifiers: 2,
		outlier_slash: Perbill::from_percent(10),
		no_show_slash: Perbill::from_percent(1),
		bad_reveal_slash: Perbill::from_percent(10),
		withhold_slash: Perbill::from_percent(10),
		fee_slash_multiple: 1,
		assignment_timeout: 100,
		retention: crate::DAYS,
		sampled_min_probability: Perbill::from_percent(5),
	}
}

/// pallet-swarm's genesis parameters (see `configs::replica`).
fn swarm_params() -> pallet_swarm::ParamsOf<crate::Runtime> {
	pallet_swarm::SwarmParams {
		ticket: UNIT,
		winner_share: sp_runtime::Perbill::from_percent(50),
		min_fee: UNIT,
		min_answers: 3,
		max_window: 100,
		seed_timeout: 50,
		retention: crate::DAYS,
	}
}

/// pallet-training's genesis parameters (see `configs::replica`).
fn training_params() -> pallet_training::ParamsOf<crate::Runtime> {
	pallet_training::TrainingParams {
		sampled_segments: 1,
		verifiers_per_segment: 3,
		lsh_tolerance: 8,
		verifier_share: sp_runtime::Perbill::from_percent(10),
		min_fee: UNIT,
		fault_slash: sp_runtime::Perbill::from_percent(10),
		no_show_slash: sp_runtime::Perbill::from_percent(1),
		max_window: 600,
		draw_timeout: 50,
		retention: crate::DAYS,
	}
}

fn collator(keyring: Sr25519Keyring) -> (AccountId, AuraId) {
	(keyring.to_account_id(), keyring.public().into())
}

fn dev_council() -> Vec<AccountId> {
	vec![
		Sr25519Keyring::Alice.to_account_id(),
		Sr25519Keyring::Bob.to_account_id(),
		Sr25519Keyring::Charlie.to_account_id(),
	]
}

fn endowed_dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
}

/// The `development` preset: one collator (Alice).
fn development_config_genesis() -> Value {
	replica_genesis(
		vec![collator(Sr25519Keyring::Alice)],
		endowed_dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		dev_council(),
		PARACHAIN_ID.into(),
		// `--dev` mocks the relay chain, whose proof then has no BABE randomness.
		true,
	)
}

/// The `local_testnet` preset: two collators (Alice, Bob).
fn local_testnet_genesis() -> Value {
	replica_genesis(
		vec![collator(Sr25519Keyring::Alice), collator(Sr25519Keyring::Bob)],
		endowed_dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		dev_council(),
		PARACHAIN_ID.into(),
		// A real relay chain: BABE randomness only.
		false,
	)
}

/// The JSON of the named preset, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
