//! pallet-tasks tests, by topic. Every test ends with both pallets' `do_try_state` (fee
//! conservation, one agenda entry per task, index consistency). The attack tests replay the
//! attacks of the protocol review (issue 12) and check that each no longer pays.

mod batches;
mod deadlines;
mod draws;
mod economics;
mod escalation;
mod lifecycle;
mod unrunnable;

use crate::{
	mock::*, Assignments, Decoding, Error, Event, FailReason, HoldReason, ImageParams, ModelInfo, ModelKind, Models, NextTaskId, Outcome, TaskParams,
	TaskParamsConfig, TaskSpec, TaskStatus, Tasks as TaskStore, TextParams, Verification,
};
use frame_support::{assert_noop, assert_ok, traits::fungible::{Inspect, InspectHold}};
use replica_primitives::{
	seal, HashAlg, ImageHashes, ImageResult, Quorum, ResultPayload, TaskId, TextResult, Tolerances,
};
use sp_runtime::{DispatchError, Perbill};

pub(super) fn image_spec(verification: Option<Verification>, fee: Balance) -> TaskSpec<Balance> {
	TaskSpec {
		model: IMAGE_MODEL,
		params: TaskParams::Image(ImageParams {
			prompt: b"a photo of the digit 7".to_vec().try_into().unwrap(),
			negative_prompt: Default::default(),
			seed: 42,
			steps: 20,
			guidance_milli: 7_500,
			width: 64,
			height: 64,
			count: 1,
		}),
		verification,
		quorum: None,
		fee,
	}
}

pub(super) fn text_spec(fee: Balance) -> TaskSpec<Balance> {
	TaskSpec {
		model: TEXT_MODEL,
		params: TaskParams::Text(TextParams {
			prompt: b"Once upon a time".to_vec().try_into().unwrap(),
			max_tokens: 32,
			decoding: Decoding::Greedy,
		}),
		verification: Some(Verification::Replicated { verifiers: 3 }),
		quorum: None,
		fee,
	}
}

pub(super) fn create(spec: TaskSpec<Balance>) -> TaskId {
	let id = NextTaskId::<Test>::get();
	assert_ok!(Tasks::create_task(RuntimeOrigin::signed(DAPP), spec));
	id
}

pub(super) fn workers_of(task: TaskId) -> Vec<AccountId> {
	TaskStore::<Test>::get(task).unwrap().workers.into_inner()
}

pub(super) fn status(task: TaskId) -> TaskStatus<u64> {
	TaskStore::<Test>::get(task).unwrap().status
}

pub(super) fn image(ahash: u64, phash: u64) -> ResultPayload {
	let mut hashes = ImageHashes::default();
	hashes.set(HashAlg::Average, ahash);
	hashes.set(HashAlg::Perceptual, phash);
	ResultPayload::Image(vec![ImageResult { hashes, png_digest: [ahash as u8; 32] }].try_into().unwrap())
}

pub(super) fn text(s: &str) -> ResultPayload {
	ResultPayload::Text(TextResult {
		tokens_digest: replica_primitives::digest(s.as_bytes()),
		text: s.as_bytes().to_vec().try_into().unwrap(),
	})
}

pub(super) fn worker_bytes(who: AccountId) -> [u8; 32] {
	let mut w = [0u8; 32];
	w[..8].copy_from_slice(&who.to_le_bytes());
	w
}

pub(super) fn key_of(task: TaskId, who: AccountId) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"key", task, who).encode())
}

/// Seals `payload` as `who` would and commits it; returns the key.
pub(super) fn commit(task: TaskId, who: AccountId, payload: &ResultPayload) -> [u8; 32] {
	// Not committed yet, so drawn into the task's current round.
	assert!(Assignments::<Test>::get(task, who).is_none(), "committed already");
	let round = TaskStore::<Test>::get(task).expect("task").round;
	let key = key_of(task, who);
	let sealed = seal(payload, task, round, &worker_bytes(who), &key);
	assert_ok!(Tasks::commit_result(RuntimeOrigin::signed(who), task, sealed.ciphertext, sealed.commitment));
	key
}

pub(super) fn reveal(task: TaskId, who: AccountId, key: [u8; 32]) {
	assert_ok!(Tasks::reveal_result(RuntimeOrigin::signed(who), task, key));
}

pub(super) fn held_stake(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Workers(pallet_workers::HoldReason::Stake), &who)
}

/// A worker's unclaimed earnings (credited by verdicts, held in the earnings pot).
pub(super) fn earnings(who: AccountId) -> Balance {
	pallet_workers::Workers::<Test>::get(who).map_or(0, |info| info.earnings)
}

pub(super) fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Tasks(e) = r.event { Some(e) } else { None })
		.collect()
}

/// Creates an image task and runs to its assignment.
pub(super) fn assigned_image_task(verifiers: u32, fee: Balance) -> (TaskId, Vec<AccountId>) {
	let task = create(image_spec(Some(Verification::Replicated { verifiers }), fee));
	run_to(System::block_number() + 1);
	let workers = workers_of(task);
	assert_eq!(workers.len() as u32, verifiers);
	(task, workers)
}

pub(super) use codec::Encode;
pub(super) use pallet_workers::WorkerRegistry;

