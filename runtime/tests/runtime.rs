//! Checks of the assembled runtime: pallets, metadata, presets, governance origin.

use frame_support::traits::EnsureOrigin;
use replica_runtime::{
	configs::governance::GovernanceOrigin, genesis_config_presets, RuntimeOrigin,
};

#[test]
fn runtime_has_the_required_pallets_in_index_order() {
	assert_eq!(
		replica_runtime::pallet_names(),
		[
			"System",
			"ParachainSystem",
			"Timestamp",
			"ParachainInfo",
			"WeightReclaim",
			"Balances",
			"TransactionPayment",
			"Sudo",
			"Council",
			"Authorship",
			"CollatorSelection",
			"Session",
			"Aura",
			"AuraExt",
			"XcmpQueue",
			"PolkadotXcm",
			"CumulusXcm",
			"MessageQueue",
			"Workers",
			"Tasks",
			"RelayRandomness",
			"Swarm",
			"Training",
		]
	);
}

/// The worker's subxt interface is generated from `worker/metadata/replica.scale`; when the
/// runtime changes, `scripts/update-metadata.sh` must be run and the file committed.
#[test]
fn metadata_is_current() {
	let committed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../worker/metadata/replica.scale"))
		.expect("worker/metadata/replica.scale exists (run scripts/update-metadata.sh)");
	assert!(
		committed == replica_runtime::metadata_bytes(),
		"worker/metadata/replica.scale is stale: run scripts/update-metadata.sh and commit it"
	);
}

#[test]
fn presets_are_listed_and_unknown_ones_are_none() {
	let names: Vec<String> = genesis_config_presets::preset_names()
		.into_iter()
		.map(|id| String::from_utf8(id.into()).unwrap())
		.collect();
	assert_eq!(names, ["development", "local_testnet"]);
	for name in &names {
		let json = genesis_config_presets::get_preset(&name.as_str().into()).expect("preset");
		let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
		assert!(value["sudo"]["key"].is_string(), "{name} has a sudo key");
		assert_eq!(value["council"]["members"].as_array().unwrap().len(), 3);
	}
	assert!(genesis_config_presets::get_preset(&"mainnet".into()).is_none());
}

/// Only the dev chain, whose relay chain is mocked, may draw verifiers with the insecure
/// parent-hash fallback.
#[test]
fn only_the_development_preset_allows_insecure_randomness() {
	let fallback = |name: &str| {
		let json = genesis_config_presets::get_preset(&name.into()).expect("preset");
		let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
		value["relayRandomness"]["insecureFallback"].as_bool()
	};
	assert_eq!(fallback("development"), Some(true));
	assert_eq!(fallback("local_testnet"), Some(false));
}

#[test]
fn governance_origin_is_root_or_two_thirds_of_the_council() {
	let account = sp_keyring::Sr25519Keyring::Alice.to_account_id();
	assert!(GovernanceOrigin::try_origin(RuntimeOrigin::root()).is_ok());
	assert!(GovernanceOrigin::try_origin(RuntimeOrigin::signed(account.clone())).is_err());
	let council = |yes: u32, of: u32| -> RuntimeOrigin {
		pallet_collective::RawOrigin::<_, replica_runtime::configs::governance::CouncilCollective>::Members(yes, of).into()
	};
	assert!(GovernanceOrigin::try_origin(council(2, 3)).is_ok());
	assert!(GovernanceOrigin::try_origin(council(3, 3)).is_ok());
	assert!(GovernanceOrigin::try_origin(council(1, 3)).is_err());
	assert!(GovernanceOrigin::try_origin(council(3, 5)).is_err());
}

#[test]
fn token_is_documented() {
	assert_eq!(replica_runtime::TOKEN_SYMBOL, "RPL");
	assert_eq!(replica_runtime::TOKEN_DECIMALS, 12);
	assert_eq!(replica_runtime::UNIT, 10u128.pow(12));
	assert_eq!(replica_runtime::EXISTENTIAL_DEPOSIT, replica_runtime::UNIT / 1000);
}

/// Issue 12, acceptance 2: the heaviest block — the tasks', the swarm's and the training
/// deadline hooks at their limits, the other hooks and inherents at their allowance (3%), and
/// a full normal class of the heaviest calls — fits the block's ref time and proof size; one
/// worst-case agenda item fits each hook, and every pallet-tasks, pallet-swarm and
/// pallet-training call, a full batch included, fits one extrinsic.
#[test]
fn the_worst_case_block_fits() {
	use frame_support::{dispatch::DispatchClass, traits::Get};
	use pallet_tasks::WeightInfo;
	use replica_runtime::{configs::RuntimeBlockWeights, Runtime};
	type Weights = <Runtime as pallet_tasks::Config>::WeightInfo;
	type SwarmWeights = <Runtime as pallet_swarm::Config>::WeightInfo;

	let block = RuntimeBlockWeights::get();
	let hook = <Runtime as pallet_tasks::Config>::HookWeight::get();
	let swarm_hook = <Runtime as pallet_swarm::Config>::HookWeight::get();
	let training_hook = <Runtime as pallet_training::Config>::HookWeight::get();
	let normal = block.get(DispatchClass::Normal);
	let normal_total = normal.max_total.expect("normal class is bounded");
	let other_hooks = sp_runtime::Perbill::from_percent(3) * block.max_block;
	let heaviest = block
		.base_block
		.saturating_add(hook)
		.saturating_add(swarm_hook)
		.saturating_add(training_hook)
		.saturating_add(other_hooks)
		.saturating_add(normal_total);
	assert!(heaviest.all_lte(block.max_block), "{heaviest:?} exceeds {:?}", block.max_block);

	let worst_swarm_item = pallet_swarm::Pallet::<Runtime>::worst_deadline_weight()
		.saturating_add(<SwarmWeights as pallet_swarm::WeightInfo>::on_initialize_base());
	assert!(
		worst_swarm_item.all_lte(swarm_hook),
		"one swarm agenda item {worst_swarm_item:?} does not fit its hook {swarm_hook:?}"
	);

	type TrainingWeights = <Runtime as pallet_training::Config>::WeightInfo;
	let worst_training_item = pallet_training::Pallet::<Runtime>::worst_deadline_weight()
		.saturating_add(<TrainingWeights as pallet_training::WeightInfo>::on_initialize_base());
	assert!(
		worst_training_item.all_lte(training_hook),
		"one training agenda item {worst_training_item:?} does not fit its hook {training_hook:?}"
	);

	let worst_item = pallet_tasks::Pallet::<Runtime>::worst_deadline_weight()
		.saturating_add(Weights::on_initialize_base());
	assert!(worst_item.all_lte(hook), "one agenda item {worst_item:?} does not fit the hook {hook:?}");

	let max_extrinsic = normal.max_extrinsic.expect("normal extrinsics are bounded");
	let v = <Runtime as pallet_tasks::Config>::MaxVerifiers::get();
	// A full batch: as many items as a worker may have open tasks.
	let batch: u64 = <<Runtime as pallet_tasks::Config>::MaxOpenTasksPerWorker as Get<u32>>::get().into();
	for (call, weight) in [
		("create_task", Weights::create_task()),
		("cancel_task", Weights::cancel_task()),
		("commit_result", Weights::commit_result_ends_phase(v)),
		("reveal_result_decides", Weights::reveal_result_decides(v)),
		("advance_task", Weights::advance_task()),
		("commit_results", Weights::commit_result_ends_phase(v).saturating_mul(batch)),
		("reveal_results", Weights::reveal_result_decides(v).saturating_mul(batch)),
		("register_model", Weights::register_model()),
		("set_params", Weights::set_params()),
		("set_model_tolerances", Weights::set_model_tolerances()),
	] {
		assert!(weight.all_lte(max_extrinsic), "{call}: {weight:?} exceeds one extrinsic");
	}
	use pallet_swarm::WeightInfo as _;
	for (call, weight) in [
		("create_query", SwarmWeights::create_query()),
		("cancel_query", SwarmWeights::cancel_query()),
		("commit_answer", SwarmWeights::commit_answer()),
		("reveal_answer", SwarmWeights::reveal_answer()),
		("commit_ranking", SwarmWeights::commit_ranking()),
		("reveal_ranking", SwarmWeights::reveal_ranking()),
		("advance_query", pallet_swarm::Pallet::<Runtime>::worst_deadline_weight()),
	] {
		assert!(weight.all_lte(max_extrinsic), "{call}: {weight:?} exceeds one extrinsic");
	}
	use pallet_training::WeightInfo as _;
	let (segments, checks) = (
		<<Runtime as pallet_training::Config>::MaxSegments as Get<u32>>::get(),
		<<Runtime as pallet_training::Config>::MaxChecks as Get<u32>>::get(),
	);
	for (call, weight) in [
		("create_training", TrainingWeights::create_training()),
		("commit_checkpoints", TrainingWeights::commit_checkpoints(segments)),
		("commit_check", TrainingWeights::commit_check()),
		("reveal_trainer", TrainingWeights::reveal_trainer(checks)),
		("reveal_check", TrainingWeights::reveal_check()),
		("advance_training", pallet_training::Pallet::<Runtime>::worst_deadline_weight()),
	] {
		assert!(weight.all_lte(max_extrinsic), "{call}: {weight:?} exceeds one extrinsic");
	}
}

/// Issue 14, acceptance 3: the ref time one verified 3-verifier image task
/// is charged — its calls (create, 3 commits, 2 reveals and the deciding one) in the normal
/// class, its draw among a full index and its pruning in the deadline hook — leaves room for
/// `FLOOR` such tasks per block in each: sent one extrinsic per call, or batched (a creator's
/// `create_tasks` of `MaxCreateBatch`, workers' `commit_results`/`reveal_results` of
/// `MaxOpenTasksPerWorker`, the extrinsic base weight shared among the items). Batched, the
/// floor is the goal, 500 per block; one extrinsic per call, the floor is what the chain holds
/// today (docs/performance.md measures both on a running chain). A weight regression that
/// lowers the chain's capacity below a floor fails here.
#[test]
fn a_verified_task_fits_the_per_block_budget() {
	use frame_support::{dispatch::DispatchClass, traits::Get, weights::Weight};
	use pallet_tasks::WeightInfo;
	use pallet_workers::WorkerRegistry;
	use replica_runtime::{configs::RuntimeBlockWeights, Runtime};
	type Weights = <Runtime as pallet_tasks::Config>::WeightInfo;
	const FLOOR_SINGLE: u64 = 400;
	const FLOOR_BATCHED: u64 = 500;
	const VERIFIERS: u32 = 3;

	let block = RuntimeBlockWeights::get();
	let normal = block.get(DispatchClass::Normal);
	let base = normal.base_extrinsic;
	let create_batch: u32 = <<Runtime as pallet_tasks::Config>::MaxCreateBatch as Get<u32>>::get();
	let worker_batch: u64 = <<Runtime as pallet_tasks::Config>::MaxOpenTasksPerWorker as Get<u32>>::get().into();
	let (commit, last_commit) = (Weights::commit_result(VERIFIERS), Weights::commit_result_ends_phase(VERIFIERS));
	let (reveal, deciding) = (Weights::reveal_result(), Weights::reveal_result_decides(VERIFIERS));
	let worker_items = [commit, commit, last_commit, reveal, reveal, deciding];
	let single = worker_items
		.iter()
		.chain([Weights::create_task()].iter())
		.fold(Weight::zero(), |sum, w| sum.saturating_add(*w).saturating_add(base));
	let batched = worker_items
		.iter()
		.fold(Weight::zero(), |sum, w| sum.saturating_add(*w).saturating_add(base.saturating_div(worker_batch)))
		.saturating_add(Weights::create_tasks(create_batch).saturating_add(base).saturating_div(create_batch.into()));
	let candidates = <Runtime as pallet_tasks::Config>::Workers::max_candidates();
	let hook = Weights::deadline_assign(VERIFIERS, candidates).saturating_add(Weights::deadline_prune());

	let normal_total = normal.max_total.expect("normal class is bounded").ref_time();
	let hook_total = <Runtime as pallet_tasks::Config>::HookWeight::get().ref_time();
	let per_block = |calls: Weight| (normal_total / calls.ref_time().max(1)).min(hook_total / hook.ref_time().max(1));
	println!(
		"per task: calls {} µs single, {} µs batched; hook {} µs; tasks per block: {} single, {} batched",
		single.ref_time() / 1_000_000,
		batched.ref_time() / 1_000_000,
		hook.ref_time() / 1_000_000,
		per_block(single),
		per_block(batched)
	);
	assert!(per_block(single) >= FLOOR_SINGLE, "one extrinsic per call: {} tasks per block", per_block(single));
	assert!(per_block(batched) >= FLOOR_BATCHED, "batched: {} tasks per block", per_block(batched));
}
