//! The trainer's checkpoint commitment, and the verifiers' and the trainer's commit-reveal of
//! segment hashes.

use alloc::vec::Vec;
use frame_support::{dispatch::DispatchResult, ensure, BoundedVec};
use replica_primitives::{
	training::{segment_commitment, SegmentHashes},
	Digest,
};
use sp_runtime::traits::{BlockNumberProvider, One, Saturating};

use crate::*;

impl<T: Config> Pallet<T> {
	/// An account as the 32 bytes the commitments bind (its SCALE encoding, zero-padded).
	pub fn account_bytes(who: &T::AccountId) -> [u8; 32] {
		let encoded = codec::Encode::encode(who);
		let mut out = [0u8; 32];
		let n = encoded.len().min(32);
		out[..n].copy_from_slice(&encoded[..n]);
		out
	}

	pub(crate) fn do_commit_checkpoints(
		trainer: T::AccountId,
		training: TrainingId,
		initial: Digest,
		claims: ClaimsOf<T>,
	) -> DispatchResult {
		let mut info = Trainings::<T>::get(training).ok_or(Error::<T>::UnknownTraining)?;
		ensure!(matches!(info.status, TrainingStatus::Training { .. }), Error::<T>::NotTrainingPhase);
		ensure!(info.trainer.as_ref() == Some(&trainer), Error::<T>::NotTrainer);
		ensure!(claims.len() as u32 == info.spec.segments(), Error::<T>::WrongClaimCount);
		Claims::<T>::insert(training, (initial, claims));
		let now = frame_system::Pallet::<T>::block_number();
		// The segments are drawn with randomness nobody knows yet: the trainer's claims are
		// fixed before anyone learns which of them will be checked.
		info.draw_after = T::Clock::current_block_number();
		info.status =
			TrainingStatus::AwaitingVerifiers { timeout_at: now.saturating_add(Self::params().draw_timeout) };
		Self::schedule(training, &mut info, now.saturating_add(One::one()));
		Trainings::<T>::insert(training, info);
		Self::deposit_event(Event::CheckpointsCommitted { training, trainer });
		Ok(())
	}

	pub(crate) fn do_decline(trainer: T::AccountId, training: TrainingId) -> DispatchResult {
		let mut info = Trainings::<T>::get(training).ok_or(Error::<T>::UnknownTraining)?;
		ensure!(matches!(info.status, TrainingStatus::Training { .. }), Error::<T>::NotTrainingPhase);
		ensure!(info.trainer.as_ref() == Some(&trainer), Error::<T>::NotTrainer);
		Self::fail(training, &mut info, FailReason::Declined);
		Trainings::<T>::insert(training, info);
		Ok(())
	}

	/// The index in `info.checks` of `who`'s check of `segment`.
	fn check_index(info: &TrainingOf<T>, who: &T::AccountId, segment: u32) -> Option<usize> {
		info.checks.iter().position(|c| &c.verifier == who && c.segment == segment)
	}

	pub(crate) fn do_commit_check(
		verifier: T::AccountId,
		training: TrainingId,
		segment: u32,
		commitment: CheckCommitment,
	) -> DispatchResult {
		let mut info = Trainings::<T>::get(training).ok_or(Error::<T>::UnknownTraining)?;
		ensure!(matches!(info.status, TrainingStatus::Verifying { .. }), Error::<T>::NotVerifyPhase);
		let index = Self::check_index(&info, &verifier, segment).ok_or(Error::<T>::NotVerifier)?;
		let check = info.checks.get_mut(index).ok_or(Error::<T>::NotVerifier)?;
		ensure!(check.state == CheckState::Drawn, Error::<T>::AlreadyCommitted);
		check.state = match commitment {
			CheckCommitment::Hashes(digest) => CheckState::Committed(digest),
			CheckCommitment::Unavailable => CheckState::Unavailable,
		};
		Self::deposit_event(Event::CheckCommitted { training, segment, verifier });
		if info.checks.iter().all(|c| c.state != CheckState::Drawn) {
			Self::start_reveals(training, &mut info);
		}
		Trainings::<T>::insert(training, info);
		Ok(())
	}

	/// The verify phase is over (deadline, or every check committed): everyone reveals.
	pub(crate) fn start_reveals(training: TrainingId, info: &mut TrainingOf<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(info.windows.reveal);
		info.status = TrainingStatus::Revealing { deadline };
		Self::schedule(training, info, deadline);
		Self::deposit_event(Event::RevealPhaseStarted { training, deadline });
	}

	pub(crate) fn do_reveal_trainer(
		trainer: T::AccountId,
		training: TrainingId,
		reveal: TrainerRevealOf<T>,
	) -> DispatchResult {
		let mut info = Trainings::<T>::get(training).ok_or(Error::<T>::UnknownTraining)?;
		ensure!(matches!(info.status, TrainingStatus::Revealing { .. }), Error::<T>::NotRevealPhase);
		ensure!(info.trainer.as_ref() == Some(&trainer), Error::<T>::NotTrainer);
		ensure!(info.trainer_hashes.is_empty(), Error::<T>::AlreadyRevealed);
		ensure!(reveal.len() == info.sampled.len(), Error::<T>::WrongRevealCount);
		let (_, claims) = Claims::<T>::get(training).ok_or(Error::<T>::UnknownTraining)?;
		let who = Self::account_bytes(&trainer);
		for (segment, (hashes, salt)) in info.sampled.iter().zip(reveal.iter()) {
			let claim = claims.get(*segment as usize).ok_or(Error::<T>::CommitmentMismatch)?;
			ensure!(
				segment_commitment(training, *segment, &who, hashes, salt) == claim.commitment,
				Error::<T>::CommitmentMismatch
			);
		}
		let hashes: Vec<SegmentHashes> = reveal.iter().map(|(h, _)| *h).collect();
		info.trainer_hashes = BoundedVec::truncate_from(hashes.clone());
		Self::deposit_event(Event::TrainerRevealed { training, hashes });
		Self::settle_when_all_revealed(training, &mut info);
		Trainings::<T>::insert(training, info);
		Ok(())
	}

	pub(crate) fn do_reveal_check(
		verifier: T::AccountId,
		training: TrainingId,
		segment: u32,
		hashes: SegmentHashes,
		salt: [u8; 32],
	) -> DispatchResult {
		let mut info = Trainings::<T>::get(training).ok_or(Error::<T>::UnknownTraining)?;
		ensure!(matches!(info.status, TrainingStatus::Revealing { .. }), Error::<T>::NotRevealPhase);
		let index = Self::check_index(&info, &verifier, segment).ok_or(Error::<T>::NotVerifier)?;
		let check = info.checks.get_mut(index).ok_or(Error::<T>::NotVerifier)?;
		let commitment = match check.state {
			CheckState::Drawn => return Err(Error::<T>::NotCommitted.into()),
			CheckState::Revealed(_) | CheckState::Unavailable => return Err(Error::<T>::AlreadyRevealed.into()),
			CheckState::Committed(commitment) => commitment,
		};
		ensure!(
			segment_commitment(training, segment, &Self::account_bytes(&verifier), &hashes, &salt) == commitment,
			Error::<T>::CommitmentMismatch
		);
		check.state = CheckState::Revealed(hashes);
		Self::deposit_event(Event::CheckRevealed { training, segment, verifier, hashes });
		Self::settle_when_all_revealed(training, &mut info);
		Trainings::<T>::insert(training, info);
		Ok(())
	}

	/// Once the trainer and every committed verifier revealed, the settlement runs in the next
	/// block's hook (not in the last reveal, which should not pay for it).
	fn settle_when_all_revealed(training: TrainingId, info: &mut TrainingOf<T>) {
		let verifiers_done = info.checks.iter().all(|c| !matches!(c.state, CheckState::Committed(_)));
		if verifiers_done && !info.trainer_hashes.is_empty() {
			Self::schedule(training, info, frame_system::Pallet::<T>::block_number().saturating_add(One::one()));
		}
	}
}
