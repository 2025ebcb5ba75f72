//! Attack 7 (unrunnable tasks slash honest workers): the chain refuses what it can know — a
//! text model whose `max_tokens` leaves no room for a prompt in its context — and a task that
//! still cannot run is answered by a deterministic refusal that fails it with a refund.

use super::*;
use replica_primitives::CannotExecute;

fn refusal() -> ResultPayload {
	ResultPayload::CannotExecute(CannotExecute::ContextExceeded)
}

/// At 570b9a3 a model registered with 256 new tokens for a 128-position context (what the CLI
/// did) was accepted; every task asking for more tokens than fit failed on every worker.
#[test]
fn attack_a_model_whose_tokens_do_not_fit_its_context_is_refused() {
	test(|| {
		for bad in [
			ModelInfo { max_tokens: 128, context_len: 128, ..text_model() },
			ModelInfo { max_tokens: 256, context_len: 128, ..text_model() },
		] {
			assert_noop!(Tasks::register_model(RuntimeOrigin::root(), bad), Error::<Test>::InvalidModel);
		}
		assert_ok!(Tasks::register_model(RuntimeOrigin::root(), ModelInfo { max_tokens: 127, context_len: 128, ..text_model() }));
	});
}

/// At 570b9a3 a task that no worker could run (a prompt too long for the context) left every
/// worker with nothing to commit, and every one was slashed as a no-show. Now the workers
/// commit the refusal; its quorum fails the task with a refund and slashes nobody.
#[test]
fn attack_an_unrunnable_task_fails_with_a_refund_and_slashes_nobody() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let dapp = Balances::balance(&DAPP);
		let task = create(text_spec(100));
		run_to(2);
		let ws = workers_of(task);
		let keys: Vec<_> = ws.iter().map(|w| commit(task, *w, &refusal())).collect();
		for (w, k) in ws.iter().zip(keys) {
			reveal(task, *w, k);
		}
		assert_eq!(status(task), TaskStatus::Failed { reason: FailReason::Unrunnable });
		assert_eq!(Balances::balance(&DAPP), dapp, "full refund");
		for w in ws {
			assert_eq!(held_stake(w), STAKE, "nobody slashed");
			assert_eq!(Tasks::outcome_of(task, &w).unwrap(), Outcome::Unpaid);
		}
	});
}

/// A refusal is no way out of an image task, and a lone refusal does not beat a quorum.
#[test]
fn a_refusal_of_an_image_task_is_a_bad_reveal_and_a_minority_refusal_an_outlier() {
	test(|| {
		online(&WORKERS[..3], "RTX 4090");
		let (task, ws) = assigned_image_task(3, 100);
		let k0 = commit(task, ws[0], &image(1, 1));
		let k1 = commit(task, ws[1], &image(1, 1));
		let k2 = commit(task, ws[2], &refusal());
		reveal(task, ws[0], k0);
		reveal(task, ws[1], k1);
		reveal(task, ws[2], k2);
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(Tasks::outcome_of(task, &ws[2]).unwrap(), Outcome::BadReveal);

		let task = create(text_spec(100));
		run_to(System::block_number() + 1);
		let ws = workers_of(task);
		let k0 = commit(task, ws[0], &text("an answer"));
		let k1 = commit(task, ws[1], &text("an answer"));
		let k2 = commit(task, ws[2], &refusal());
		reveal(task, ws[0], k0);
		reveal(task, ws[1], k1);
		reveal(task, ws[2], k2);
		assert_eq!(status(task), TaskStatus::Finalized);
		assert_eq!(Tasks::outcome_of(task, &ws[2]).unwrap(), Outcome::Outlier);
	});
}
