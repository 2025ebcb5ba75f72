//! Attack 3 (escalation copying and the last revealer's choice): an escalation round is drawn
//! in a later block with fresh randomness, tallied on its own and, for images, run with a
//! fresh seed, so a copied earlier result loses.

use super::*;

/// What an honest worker computes for the task's current image seed: images of different
/// seeds are far apart.
fn honest_image(task: TaskId) -> ResultPayload {
	let TaskParams::Image(p) = TaskStore::<Test>::get(task).unwrap().params else { panic!("image task") };
	let h = sp_io::hashing::blake2_256(&p.seed.encode());
	let x = u64::from_le_bytes(h[..8].try_into().unwrap());
	image(x, x.rotate_left(17))
}

/// Round 0 of a 3-verifier image task ends without quorum: one honest result, two others.
fn no_quorum_round(task: TaskId) -> Vec<AccountId> {
	let ws = workers_of(task);
	let honest = honest_image(task);
	let k0 = commit(task, ws[0], &honest);
	let k1 = commit(task, ws[1], &image(0x00ff_00ff_00ff_00ff, 0));
	let k2 = commit(task, ws[2], &image(0xff00_ff00_ff00_ff00, 0xffff));
	reveal(task, ws[0], k0);
	reveal(task, ws[1], k1);
	reveal(task, ws[2], k2);
	ws
}

/// Fails at 570b9a3: escalation verifiers were drawn in the last reveal's own extrinsic, and a
/// new verifier that copied the honest round-0 result won a share without running anything.
#[test]
fn attack_an_escalation_verifier_copying_a_published_result_loses() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		let (task, _) = assigned_image_task(3, 400);
		let round0 = no_quorum_round(task);
		let copied = honest_image(task);
		// The last revealer's extrinsic drew nobody: the draw waits for fresh randomness.
		assert!(matches!(status(task), TaskStatus::Pending { .. }));
		assert!(events().contains(&Event::TaskEscalated { task, round: 1, verifiers: 4 }));
		let seed_before = honest_image(task);
		run_to(System::block_number() + 1);
		assert!(matches!(status(task), TaskStatus::Committing { round: 1, .. }));
		assert_ne!(honest_image(task), seed_before, "round 1 runs a fresh seed");
		let round1: Vec<_> = workers_of(task).into_iter().filter(|w| !round0.contains(w)).collect();
		assert_eq!(round1.len(), 4, "3 + escalation_step, within MaxVerifiers (7)");
		// The copier reseals the published honest round-0 result; the others run the model.
		let copier = round1[0];
		let mut keys = vec![commit(task, copier, &copied)];
		for w in &round1[1..] {
			keys.push(commit(task, *w, &honest_image(task)));
		}
		for (w, k) in round1.iter().zip(keys) {
			reveal(task, *w, k);
		}
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(Tasks::outcome_of(task, &copier).unwrap(), Outcome::Outlier);
		assert!(held_stake(copier) <= STAKE - 400, "slashed at least the fee");
		// Round 0 was settled when it ended: revealers unpaid, not slashed, and not re-judged.
		for w in round0 {
			assert_eq!(Tasks::outcome_of(task, &w).unwrap(), Outcome::Unpaid);
			assert_eq!(held_stake(w), STAKE);
		}
	});
}

/// A worker of a settled round cannot reveal into a later round's tally.
#[test]
fn a_reveal_from_an_earlier_round_is_refused_and_withholding_is_slashed() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		let (task, ws) = assigned_image_task(3, 100);
		let k0 = commit(task, ws[0], &image(1, 1));
		let k1 = commit(task, ws[1], &image(u64::MAX, u64::MAX));
		let k2 = commit(task, ws[2], &image(0xffff, 0xffff_0000));
		reveal(task, ws[0], k0);
		reveal(task, ws[1], k1);
		// ws[2] withholds; the reveal window closes without quorum.
		run_to(System::block_number() + REVEAL_WINDOW + 1);
		assert_eq!(Tasks::outcome_of(task, &ws[2]).unwrap(), Outcome::Withheld);
		assert!(held_stake(ws[2]) < STAKE);
		run_to(System::block_number() + 1);
		let round1: Vec<_> = workers_of(task).into_iter().filter(|w| !ws.contains(w)).collect();
		let keys: Vec<_> = round1.iter().map(|w| commit(task, *w, &honest_image(task))).collect();
		reveal(task, round1[0], keys[0]);
		assert_noop!(Tasks::reveal_result(RuntimeOrigin::signed(ws[2]), task, k2), Error::<Test>::NotAssigned);
	});
}

/// Attack: a worker of a round settled without quorum tries to commit into the escalation
/// round. Its record went with its round's settlement, so only its place in the task tells it
/// apart from a drawn worker that has not committed yet; it must be refused, or it could
/// reseal the published results of its own round into a tally it was not drawn for.
#[test]
fn attack_a_worker_of_a_settled_round_cannot_commit_into_the_next() {
	test(|| {
		online(&WORKERS, "RTX 4090");
		let (task, round0) = assigned_image_task(3, 100);
		no_quorum_round(task);
		run_to(System::block_number() + 1);
		assert!(matches!(status(task), TaskStatus::Committing { round: 1, .. }));
		assert!(Assignments::<Test>::get(task, round0[0]).is_none(), "settled: no record");
		let round = TaskStore::<Test>::get(task).expect("task").round;
		let key = key_of(task, round0[0]);
		let sealed = seal(&honest_image(task), task, round, &worker_bytes(round0[0]), &key);
		assert_noop!(
			Tasks::commit_result(RuntimeOrigin::signed(round0[0]), task, sealed.ciphertext, sealed.commitment),
			Error::<Test>::NotAssigned
		);
	});
}
