//! pallet-training tests, by topic. Every test ends with both pallets' `do_try_state` (held
//! fees match the open tasks, drawn workers hold exactly their open tasks' slots, one agenda
//! entry per task).
//!
//! A run's hashes are modelled: an honest run of segment `s` hashes to [`honest`]`(s)`, and a
//! verifier that re-runs it reproduces that within a bit or two (device drift); a trainer
//! that skips a step or injects noise in segment `s` ends every later checkpoint elsewhere.
//! The worker's `engines::training` tests show the real runs behave so.

mod attacks;
mod errors;
mod lifecycle;

use crate::{
	mock::*, CheckCommitment, CheckState, ClaimsOf, Event, SegmentClaim, TrainingId, TrainingSpec, TrainingStatus, Trainings, Windows,
};
use codec::Encode;
use frame_support::{assert_ok, traits::fungible::Inspect};
use replica_primitives::training::{segment_commitment, SegmentHashes};

pub(super) const STEPS: u32 = 8;
pub(super) const INTERVAL: u32 = 2;
pub(super) const SEGMENTS: u32 = STEPS / INTERVAL;

pub(super) fn windows() -> Windows<u64> {
	Windows { train: WINDOW, verify: WINDOW, reveal: WINDOW }
}

pub(super) fn spec() -> TrainingSpec {
	TrainingSpec {
		model: IMAGE_MODEL,
		seed: 7,
		learning_rate: sp_runtime::Perbill::from_parts(5_000_000),
		steps: STEPS,
		batch_size: 2,
		checkpoint_interval: INTERVAL,
		init_token: b"digit".to_vec().try_into().unwrap(),
		templates: vec![b"a photo of {}".to_vec().try_into().unwrap()].try_into().unwrap(),
		latent_noise: sp_runtime::Perbill::from_percent(10),
		data_digest: [3; 32],
		data_url: b"http://127.0.0.1:9000/data.bin".to_vec().try_into().unwrap(),
	}
}

pub(super) fn create() -> TrainingId {
	let id = crate::NextTrainingId::<Test>::get();
	assert_ok!(Training::create_training(RuntimeOrigin::signed(DAPP), spec(), FEE, windows()));
	id
}

pub(super) fn info(id: TrainingId) -> crate::TrainingOf<Test> {
	Trainings::<Test>::get(id).expect("training")
}

pub(super) fn status(id: TrainingId) -> TrainingStatus<u64> {
	info(id).status
}

pub(super) fn bytes(who: AccountId) -> [u8; 32] {
	let mut w = [0u8; 32];
	w[..8].copy_from_slice(&who.to_le_bytes());
	w
}

pub(super) fn salt_of(id: TrainingId, segment: u32, who: AccountId) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"salt", id, segment, who).encode())
}

/// What an honest run of `segment` hashes to.
pub(super) fn honest(segment: u32) -> SegmentHashes {
	let h = sp_io::hashing::blake2_256(&(b"honest run", segment).encode());
	SegmentHashes {
		probe: u64::from_le_bytes(h[..8].try_into().unwrap()),
		end: u64::from_le_bytes(h[8..16].try_into().unwrap()),
	}
}

/// An honest re-run on another device: `bits` low bits of each hash flipped.
pub(super) fn drifted(segment: u32, bits: u32) -> SegmentHashes {
	let h = honest(segment);
	let mask = (1u64 << bits) - 1;
	SegmentHashes { probe: h.probe ^ mask, end: h.end ^ mask }
}

/// Far from every honest hash: a run that went elsewhere.
pub(super) fn diverged(segment: u32) -> SegmentHashes {
	let h = honest(segment);
	SegmentHashes { probe: !h.probe, end: !h.end }
}

/// The trainer's run: an honest one, or one that went wrong from segment `from` on.
pub(super) fn run(wrong_from: Option<u32>) -> Vec<SegmentHashes> {
	(0..SEGMENTS).map(|s| if wrong_from.is_some_and(|f| s >= f) { diverged(s) } else { honest(s) }).collect()
}

fn checkpoint_digest(segment: u32, hashes: &SegmentHashes) -> [u8; 32] {
	sp_io::hashing::blake2_256(&(b"checkpoint", segment, hashes).encode())
}

pub(super) fn claims(id: TrainingId, trainer: AccountId, run: &[SegmentHashes]) -> ClaimsOf<Test> {
	run.iter()
		.enumerate()
		.map(|(s, h)| SegmentClaim {
			end: checkpoint_digest(s as u32, h),
			commitment: segment_commitment(id, s as u32, &bytes(trainer), h, &salt_of(id, s as u32, trainer)),
		})
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

/// Runs to the trainer draw (the block after creation) and returns the trainer.
pub(super) fn trainer_drawn(id: TrainingId) -> AccountId {
	run_to(System::block_number() + 1);
	assert!(matches!(status(id), TrainingStatus::Training { .. }), "trainer drawn: {:?}", status(id));
	info(id).trainer.unwrap()
}

pub(super) fn commit_run(id: TrainingId, trainer: AccountId, run: &[SegmentHashes]) {
	assert_ok!(Training::commit_checkpoints(RuntimeOrigin::signed(trainer), id, [1; 32], claims(id, trainer, run)));
}

/// Creates a task, draws its trainer, commits `run` and draws the verifiers; returns the
/// task and its trainer.
pub(super) fn verifying(run_hashes: &[SegmentHashes]) -> (TrainingId, AccountId) {
	let id = create();
	let trainer = trainer_drawn(id);
	commit_run(id, trainer, run_hashes);
	run_to(System::block_number() + 1);
	assert!(matches!(status(id), TrainingStatus::Verifying { .. }), "verifiers drawn: {:?}", status(id));
	(id, trainer)
}

/// The checks as `(segment, verifier)`, in storage order.
pub(super) fn checks(id: TrainingId) -> Vec<(u32, AccountId)> {
	info(id).checks.iter().map(|c| (c.segment, c.verifier)).collect()
}

pub(super) fn commit_check(id: TrainingId, segment: u32, who: AccountId, hashes: &SegmentHashes) {
	let commitment = segment_commitment(id, segment, &bytes(who), hashes, &salt_of(id, segment, who));
	assert_ok!(Training::commit_check(RuntimeOrigin::signed(who), id, segment, CheckCommitment::Hashes(commitment)));
}

pub(super) fn reveal_check(id: TrainingId, segment: u32, who: AccountId, hashes: &SegmentHashes) {
	assert_ok!(Training::reveal_check(RuntimeOrigin::signed(who), id, segment, *hashes, salt_of(id, segment, who)));
}

pub(super) fn trainer_reveal(id: TrainingId, trainer: AccountId, run: &[SegmentHashes]) -> crate::TrainerRevealOf<Test> {
	info(id)
		.sampled
		.iter()
		.map(|s| (run[*s as usize], salt_of(id, *s, trainer)))
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

pub(super) fn reveal_trainer(id: TrainingId, trainer: AccountId, run: &[SegmentHashes]) {
	assert_ok!(Training::reveal_trainer(RuntimeOrigin::signed(trainer), id, trainer_reveal(id, trainer, run)));
}

/// Every verifier commits what `result` says it computed for its segment (`None`: it stays
/// silent), then reveals; the trainer reveals `run`. Runs to the settlement.
pub(super) fn verify_all(
	id: TrainingId,
	trainer: AccountId,
	run: &[SegmentHashes],
	result: impl Fn(u32, AccountId) -> Option<SegmentHashes>,
) {
	let work: Vec<(u32, AccountId, SegmentHashes)> =
		checks(id).into_iter().filter_map(|(s, v)| result(s, v).map(|h| (s, v, h))).collect();
	for (s, v, h) in &work {
		commit_check(id, *s, *v, h);
	}
	if matches!(status(id), TrainingStatus::Verifying { .. }) {
		run_to(info(id).agenda_at);
	}
	assert!(matches!(status(id), TrainingStatus::Revealing { .. }), "reveals: {:?}", status(id));
	reveal_trainer(id, trainer, run);
	for (s, v, h) in &work {
		reveal_check(id, *s, *v, h);
	}
	run_to(info(id).agenda_at);
	assert!(status(id).is_finished(), "settled: {:?}", status(id));
}

pub(super) fn check_state(id: TrainingId, segment: u32, who: AccountId) -> CheckState {
	info(id).checks.iter().find(|c| c.segment == segment && c.verifier == who).expect("check").state
}

pub(super) fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

pub(super) fn held_stake(who: AccountId) -> Balance {
	use frame_support::traits::fungible::InspectHold;
	Balances::total_balance_on_hold(&who)
}

pub(super) fn earnings(who: AccountId) -> Balance {
	pallet_workers::Workers::<Test>::get(who).map(|w| w.earnings).unwrap_or_default()
}

pub(super) fn total_issuance() -> Balance {
	<Balances as Inspect<AccountId>>::total_issuance()
}

pub(super) fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Training(e) = r.event { Some(e) } else { None })
		.collect()
}
