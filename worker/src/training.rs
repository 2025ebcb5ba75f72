//! The daemon's side of pallet-training: it trains when drawn as a trainer, re-runs the
//! segments it is drawn to check, and reveals both in turn.
//!
//! - **Train** (`TrainerDrawn` names this worker): it downloads the training data (checked
//!   against the spec's digest), has the device thread run the whole textual inversion with
//!   its probes ([`crate::engines::training::Trainer::run_with_probes`]), writes every
//!   checkpoint under the store, hashes each segment's probe and end
//!   ([`crate::engines::training::Lsh::for_spec`]), stores the hashes with fresh salts, and
//!   commits the checkpoints' digests and the salted commitments.
//!   If the creator does not serve the data, it declines once half its window is gone (a
//!   refund, nobody at fault) rather than miss its deadline.
//! - **Serve**: checkpoint `i` goes only to the verifiers the chain drew for segment `i`, and
//!   the training data to any drawn verifier, on a request they sign ([`download_request`],
//!   checked by [`may_download`] in [`crate::http`]); probes are never served.
//! - **Verify** (`VerifiersDrawn` gives it checks): for each, it downloads the data and the
//!   checkpoint that starts the segment from the trainer's endpoint, checks their digests
//!   against the chain, re-runs the segment, stores its hashes with a fresh salt and commits.
//!   If the trainer does not serve them, it reports the segment unavailable once two thirds
//!   of its window are gone: a vote against the trainer, which must serve its verifiers.
//! - **Reveal**: once the reveal phase is on, the trainer reveals its hashes of the checked
//!   segments and each verifier its checks.
//!
//! Every hash and salt is in the store before the chain sees its commitment; the steps follow
//! the task's status as the chain has it, read each block ([`Agent::resume`]), so a restart
//! or a late inclusion loses none of them.

use crate::{
	chain::{runtime, AccountId, Client, SubmitError, Submitter},
	engines::training::{Checkpoint, Lsh, SegmentHashes as Hashes},
	pipeline::{TrainingWork, Work},
	store::{CheckRecord, Store, TrainerRecord, TrainingRecord},
};
use anyhow::Context;
use codec::Encode;
use replica_primitives::training::{segment_commitment, SegmentHashes};
use runtime::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	replica_primitives::training::SegmentHashes as ChainHashes,
	pallet_training::types::{CheckCommitment, CheckState, SegmentClaim, TrainingStatus},
};
use std::{collections::HashSet, sync::Arc, time::Duration};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

/// The chain's record of a training task.
pub type TrainingInfo = runtime::runtime_types::pallet_training::types::TrainingInfo<AccountId, u128, u32>;

/// How long a signed download request stays valid.
pub const REQUEST_VALIDITY: Duration = Duration::from_secs(120);

/// What a verifier downloads from the trainer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Download {
	/// Checkpoint `i`: only for the verifiers of segment `i`.
	Checkpoint(u32),
	/// The training data: for every drawn verifier (the trainer, not the creator, answers for
	/// its availability to them).
	Data,
}

impl Download {
	/// The path under the trainer's endpoint.
	pub fn path(self, training: u64) -> String {
		match self {
			Download::Checkpoint(i) => format!("/training/{training}/checkpoints/{i}"),
			Download::Data => format!("/training/{training}/data"),
		}
	}

	fn code(self) -> u32 {
		match self {
			Download::Checkpoint(i) => i,
			Download::Data => u32::MAX,
		}
	}
}

/// The message a verifier signs to download `what` of `training`, valid until `expires` (Unix
/// seconds): `"replica/training/download/v1" ++ SCALE(training: u64, what: u32, expires: u64)`,
/// `what` the checkpoint index or `u32::MAX` for the data.
pub fn download_request(training: u64, what: Download, expires: u64) -> Vec<u8> {
	let mut message = b"replica/training/download/v1".to_vec();
	(training, what.code(), expires).encode_to(&mut message);
	message
}

/// The `authorization` header of a download of `what` by `signer`.
pub fn authorization(signer: &subxt_signer::sr25519::Keypair, training: u64, what: Download) -> String {
	let expires = crate::http::unix_now() + REQUEST_VALIDITY.as_secs();
	let signature = signer.sign(&download_request(training, what, expires));
	format!("Replica {} {expires} {}", crate::hex(&signer.public_key().0), crate::hex(&signature.0))
}

/// Whether `authorization` is a valid, unexpired request for `what` of `training` by an
/// account in `readers` (`(segment, account)` of every drawn check).
pub fn may_download(authorization: &str, training: u64, what: Download, readers: &[(u32, [u8; 32])]) -> bool {
	let mut parts = authorization.split(' ');
	let (Some("Replica"), Some(account), Some(expires), Some(signature), None) =
		(parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
	else {
		return false;
	};
	let (Some(account), Ok(expires), Some(signature)) =
		(crate::unhex::<32>(account), expires.parse::<u64>(), crate::unhex::<64>(signature))
	else {
		return false;
	};
	let now = crate::http::unix_now();
	if expires < now || expires > now + 2 * REQUEST_VALIDITY.as_secs() {
		return false;
	}
	let allowed = match what {
		Download::Checkpoint(i) => readers.contains(&(i, account)),
		Download::Data => readers.iter().any(|(_, a)| *a == account),
	};
	allowed &&
		subxt_signer::sr25519::verify(
			&subxt_signer::sr25519::Signature(signature),
			download_request(training, what, expires),
			&subxt_signer::sr25519::PublicKey(account),
		)
}

/// The step under way for a task (so that an event and a reconciliation never run one twice).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
	Train,
	Verify,
	Reveal,
}

/// What the training agent works with; cheap to clone into each step.
#[derive(Clone)]
pub struct Agent {
	pub client: Client,
	pub submitter: Arc<Submitter>,
	pub store: Arc<Store>,
	pub jobs: mpsc::Sender<Work>,
	pub account: AccountId,
	/// Signs checkpoint requests.
	pub signer: subxt_signer::sr25519::Keypair,
	/// Steps under way; kept by the daemon across blocks and reconnects.
	pub busy: Busy,
}

/// The steps under way, by task.
pub type Busy = Arc<std::sync::Mutex<HashSet<(u64, Step)>>>;

/// The span of everything done for one training task.
pub fn training_span(training: u64) -> tracing::Span {
	tracing::info_span!("training", training)
}

impl Agent {
	/// Acts on the training events of block `number`.
	pub async fn on_block(&self, number: u64, events: &subxt::events::Events<crate::chain::ReplicaConfig>) -> anyhow::Result<()> {
		use runtime::training::events as training;
		for event in events.find::<training::TrainerDrawn>() {
			let event = event?;
			if event.trainer == self.account {
				self.adopt(event.training, number)?;
			}
		}
		for event in events.find::<training::VerifiersDrawn>() {
			let event = event?;
			if event.checks.iter().any(|(_, v)| *v == self.account) {
				self.adopt(event.training, number)?;
			}
		}
		for event in events.find::<training::TrainingFinalized>() {
			let event = event?;
			if self.store.training_get(event.training)?.is_some() {
				let outcome = if event.trainer == self.account {
					format!("finalized; trained, earned {}", crate::config::format_amount(event.earned))
				} else {
					"finalized".to_string()
				};
				self.done(event.training, outcome)?;
			}
		}
		for event in events.find::<training::TrainingFailed>() {
			let event = event?;
			if self.store.training_get(event.training)?.is_some() {
				self.done(event.training, format!("failed: {:?}", event.reason))?;
			}
		}
		self.resume().await
	}

	/// Starts a record for a task this worker was drawn into (idempotent): from an event, or
	/// from the open tasks the chain lists for it after a restart; `now` is the block.
	pub fn adopt(&self, training: u64, now: u64) -> anyhow::Result<()> {
		if self.store.training_get(training)?.is_none() {
			self.store.training_put(&TrainingRecord::new(training, now))?;
		}
		Ok(())
	}

	/// Takes every unfinished task one step on from where the chain is: after a start or a
	/// reconnect, and on every block.
	pub async fn resume(&self) -> anyhow::Result<()> {
		for record in self.store.training_unfinished()? {
			let training = record.training;
			let Some(info) = training_info(&self.client, training).await? else {
				self.done(training, "pruned while away".into())?;
				continue;
			};
			let trainer = info.trainer.as_ref() == Some(&self.account);
			let mine: Vec<u32> = info.checks.0.iter().filter(|c| c.verifier == self.account).map(|c| c.segment).collect();
			if trainer {
				// The verifiers drawn for segment `i` may download checkpoint `i`.
				let readers: Vec<(u32, [u8; 32])> = info.checks.0.iter().map(|c| (c.segment, c.verifier.0)).collect();
				if readers != record.readers {
					self.store.training_update(training, |r| r.readers = readers)?;
				}
			}
			match info.status {
				// Once its commitment is in a block, the finalized state catches up.
				TrainingStatus::Training { .. } if trainer && !record.trainer.as_ref().is_some_and(|t| t.committed) =>
					self.spawn(training, Step::Train),
				TrainingStatus::Verifying { .. } => {
					let pending = info
						.checks
						.0
						.iter()
						.any(|c| c.verifier == self.account && matches!(c.state, CheckState::Drawn));
					if pending && !mine.is_empty() {
						self.spawn(training, Step::Verify);
					}
				},
				TrainingStatus::Revealing { .. } => self.spawn(training, Step::Reveal),
				TrainingStatus::Finalized | TrainingStatus::Failed { .. } => self.done(training, "ended while away".into())?,
				_ => {},
			}
		}
		Ok(())
	}

	fn done(&self, training: u64, outcome: String) -> anyhow::Result<()> {
		let _span = training_span(training).entered();
		tracing::info!("training task: {outcome}");
		self.store.training_update(training, |r| {
			r.done = true;
			r.outcome = Some(outcome);
		})?;
		Ok(())
	}

	/// Runs `step` in the background, once at a time.
	fn spawn(&self, training: u64, step: Step) {
		if !self.busy.lock().unwrap_or_else(|p| p.into_inner()).insert((training, step)) {
			return;
		}
		let agent = self.clone();
		tokio::spawn(
			async move {
				let outcome = match step {
					Step::Train => agent.train(training).await,
					Step::Verify => agent.verify(training).await,
					Step::Reveal => agent.reveal(training).await,
				};
				if let Err(e) = outcome {
					tracing::warn!("training {step:?}: {e:#}");
				}
				agent.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&(training, step));
			}
			.instrument(training_span(training)),
		);
	}

	/// Trains, stores the checkpoints, hashes and salts, then commits.
	async fn train(&self, training: u64) -> anyhow::Result<()> {
		let record = self.store.training_get(training)?.context("no record")?;
		let work = match record.trainer {
			Some(work) => work,
			None => {
				let info = training_info(&self.client, training).await?.context("the task is gone")?;
				let spec = worker_spec(&info.spec);
				let url = String::from_utf8_lossy(&info.spec.data_url.0).into_owned();
				let data = match download_data(&url, &info.spec.data_digest, &[]).await {
					Ok(data) => data,
					Err(e) => return self.decline_if_late(training, &info, e).await,
				};
				tracing::info!("training {} steps ({} segments)", spec.steps, spec.steps / spec.checkpoint_interval);
				let (done, trained) = oneshot::channel();
				let work = TrainingWork::Train { model: info.spec.model, spec: spec.clone(), data: data.clone(), done };
				self.jobs.send(Work::Training(work)).await.map_err(|_| anyhow::anyhow!("the device thread has stopped"))?;
				let (run, probes) = trained.await.map_err(|_| anyhow::anyhow!("the device thread has stopped"))??;
				let dir = self.store.training_dir(training);
				std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
				// Served to the verifiers: the trainer answers for the data's availability.
				std::fs::write(dir.join(DATA_FILE), &data).with_context(|| format!("writing the data under {}", dir.display()))?;
				for (i, checkpoint) in run.iter().enumerate() {
					let path = dir.join(checkpoint_file(i as u32));
					std::fs::write(&path, checkpoint.to_bytes()).with_context(|| format!("writing {}", path.display()))?;
				}
				let lsh = Lsh::for_spec(&spec, run[0].embedding.len());
				let mut segments = Vec::with_capacity(probes.len());
				for (i, probe) in probes.iter().enumerate() {
					let hashes = Hashes { probe: lsh.hash(&probe.embedding), end: lsh.hash(&run[i + 1].embedding) };
					segments.push((run[i + 1].digest(), hashes.probe, hashes.end, fresh_salt()?));
				}
				let work = TrainerRecord { initial: run[0].digest(), segments, committed: false };
				// Stored before the chain sees the commitment: the salts must survive a crash.
				self.store.training_update(training, |r| r.trainer = Some(work.clone()))?;
				work
			},
		};
		let claims: Vec<SegmentClaim> = work
			.segments
			.iter()
			.enumerate()
			.map(|(i, (end, probe, hash_end, salt))| SegmentClaim {
				end: *end,
				commitment: segment_commitment(
					training,
					i as u32,
					&self.account.0,
					&SegmentHashes { probe: *probe, end: *hash_end },
					salt,
				),
			})
			.collect();
		tracing::info!("committing {} checkpoints", claims.len() + 1);
		let call = runtime::tx().training().commit_checkpoints(training, work.initial, BoundedVec(claims));
		match self.submitter.in_block(&call).await {
			Ok(()) => self.trainer_step(training, |t| t.committed = true),
			Err(SubmitError::Rejected(e)) => self.refused(training, "checkpoint commitment", &e),
			Err(e) => Err(e.into()),
		}
	}

	/// Re-runs each segment this worker checks, stores its hashes and salt, commits. When the
	/// trainer does not serve what it needs and the verify window is running out, it reports
	/// the segment unavailable instead (a vote against the trainer).
	async fn verify(&self, training: u64) -> anyhow::Result<()> {
		let info = training_info(&self.client, training).await?.context("the task is gone")?;
		let trainer = info.trainer.clone().context("no trainer")?;
		let spec = worker_spec(&info.spec);
		let mut data = None;
		for check in info.checks.0.iter().filter(|c| c.verifier == self.account) {
			let segment = check.segment;
			if !matches!(check.state, CheckState::Drawn) {
				continue;
			}
			let record = self.store.training_get(training)?.context("no record")?;
			let stored = record.checks.iter().find(|c| c.segment == segment).cloned();
			let check_record = match stored {
				Some(c) => c,
				None => {
					let fetched = async {
						if data.is_none() {
							data = Some(self.download_data_from(training, &trainer, &info.spec.data_digest).await?);
						}
						self.download_checkpoint(training, &trainer, segment).await
					};
					let start = match fetched.await {
						Ok(start) => start,
						Err(e) => {
							self.unavailable_if_late(training, &info, segment, e).await?;
							continue;
						},
					};
					let (done, ran) = oneshot::channel();
					let work = TrainingWork::Segment {
						model: info.spec.model,
						spec: spec.clone(),
						data: data.clone().unwrap_or_default(),
						start: start.clone(),
						done,
					};
					self.jobs.send(Work::Training(work)).await.map_err(|_| anyhow::anyhow!("the device thread has stopped"))?;
					let run = ran.await.map_err(|_| anyhow::anyhow!("the device thread has stopped"))??;
					let lsh = Lsh::for_spec(&spec, start.embedding.len());
					let hashes = Hashes::of(&lsh, &run);
					let c = CheckRecord { segment, probe: hashes.probe, end: hashes.end, salt: fresh_salt()? };
					self.store.training_update(training, |r| r.checks.push(c.clone()))?;
					c
				},
			};
			// Drawn on chain (checked above): its commitment is not in, whatever the record says.
			tracing::info!("segment {segment}: committing hashes {:016x} {:016x}", check_record.probe, check_record.end);
			let hashes = SegmentHashes { probe: check_record.probe, end: check_record.end };
			let commitment = segment_commitment(training, segment, &self.account.0, &hashes, &check_record.salt);
			let claim = CheckCommitment::Hashes(commitment);
			match self.submitter.in_block(&runtime::tx().training().commit_check(training, segment, claim)).await {
				// Done, or done already.
				Ok(()) => {},
				Err(e) if e.is("Training::AlreadyCommitted") => {},
				Err(SubmitError::Rejected(e)) => self.refused(training, "check commitment", &e)?,
				Err(e) => return Err(e.into()),
			}
		}
		Ok(())
	}

	/// The trainer could not get the training data from the creator: once half its window is
	/// gone it declines (the fee goes back; nobody is at fault), instead of missing its
	/// deadline.
	async fn decline_if_late(&self, training: u64, info: &TrainingInfo, error: anyhow::Error) -> anyhow::Result<()> {
		let TrainingStatus::Training { deadline } = info.status else { return Err(error) };
		let now = self.client.at_current_block().await?.block_number() as u32;
		if deadline.saturating_sub(now) > info.windows.train / 2 {
			return Err(error.context("will decline if it persists"));
		}
		tracing::warn!("declining: {error:#}");
		match self.submitter.in_block(&runtime::tx().training().decline_training(training)).await {
			Ok(()) => self.done(training, "declined: the training data could not be had".into()),
			Err(SubmitError::Rejected(e)) => self.refused(training, "decline", &e),
			Err(e) => Err(e.into()),
		}
	}

	/// The trainer does not serve what segment `segment` needs: once two thirds of the verify
	/// window are gone, the verifier reports it unavailable.
	async fn unavailable_if_late(&self, training: u64, info: &TrainingInfo, segment: u32, error: anyhow::Error) -> anyhow::Result<()> {
		let TrainingStatus::Verifying { deadline } = info.status else { return Err(error) };
		let now = self.client.at_current_block().await?.block_number() as u32;
		if deadline.saturating_sub(now) > info.windows.verify / 3 {
			return Err(error.context("will report the segment unavailable if it persists"));
		}
		tracing::warn!("segment {segment}: reporting it unavailable: {error:#}");
		let call = runtime::tx().training().commit_check(training, segment, CheckCommitment::Unavailable);
		match self.submitter.in_block(&call).await {
			Ok(()) => Ok(()),
			Err(SubmitError::Rejected(e)) => self.refused(training, "unavailability report", &e),
			Err(e) => Err(e.into()),
		}
	}

	/// Downloads the training data from the trainer with a signed request, checked against
	/// the task's digest.
	async fn download_data_from(&self, training: u64, trainer: &AccountId, digest: &[u8; 32]) -> anyhow::Result<Vec<u8>> {
		let endpoint = self.endpoint_of(trainer).await?;
		let url = format!("{endpoint}{}", Download::Data.path(training));
		let authorization = authorization(&self.signer, training, Download::Data);
		download_data(&url, digest, &[("authorization", authorization.as_str())]).await
	}

	/// A registered worker's endpoint, without a trailing slash.
	async fn endpoint_of(&self, who: &AccountId) -> anyhow::Result<String> {
		let at = self.client.at_current_block().await?;
		let worker = at
			.storage()
			.try_fetch(runtime::storage().workers().workers(), (who.clone(),))
			.await?
			.context("the trainer is not registered")?
			.decode()?;
		Ok(String::from_utf8_lossy(&worker.endpoint.0).trim_end_matches('/').to_string())
	}

	/// Downloads checkpoint `index` from the trainer's endpoint with a signed request and
	/// checks it against the digest the trainer committed.
	async fn download_checkpoint(&self, training: u64, trainer: &AccountId, index: u32) -> anyhow::Result<Checkpoint> {
		let at = self.client.at_current_block().await?;
		let (initial, claims) = at
			.storage()
			.try_fetch(runtime::storage().training().claims(), (training,))
			.await?
			.context("the trainer's claims are gone")?
			.decode()?;
		let expected = if index == 0 {
			initial
		} else {
			claims.0.get(index as usize - 1).context("no claim for the segment")?.end
		};
		let endpoint = self.endpoint_of(trainer).await?;
		let url = format!("{endpoint}{}", Download::Checkpoint(index).path(training));
		let authorization = authorization(&self.signer, training, Download::Checkpoint(index));
		let bytes = crate::http::get_with(&url, &[("authorization", authorization.as_str())]).await?;
		let digest = sp_crypto_hashing::blake2_256(&bytes);
		anyhow::ensure!(digest == expected, "checkpoint {index} from {url} does not match the trainer's digest");
		Checkpoint::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("checkpoint {index}: {e}"))
	}

	/// Reveals: the trainer its hashes of the checked segments, a verifier each of its checks.
	/// What to reveal follows the chain (a commitment that got in while this worker did not
	/// hear back is revealed all the same: withholding is slashed).
	async fn reveal(&self, training: u64) -> anyhow::Result<()> {
		let Some(record) = self.store.training_get(training)? else { return Ok(()) };
		let info = training_info(&self.client, training).await?.context("the task is gone")?;
		if let Some(work) = record.trainer.as_ref().filter(|_| info.trainer_hashes.0.is_empty()) {
			let mut reveal = Vec::with_capacity(info.sampled.0.len());
			for segment in &info.sampled.0 {
				let (_, probe, end, salt) = work.segments.get(*segment as usize).context("a checked segment out of range")?;
				reveal.push((ChainHashes { probe: *probe, end: *end }, *salt));
			}
			tracing::info!("revealing the hashes of segments {:?}", info.sampled.0);
			match self.submitter.in_block(&runtime::tx().training().reveal_trainer(training, BoundedVec(reveal))).await {
				// Done, or done already.
				Ok(()) => {},
				Err(e) if e.is("Training::AlreadyRevealed") => {},
				Err(SubmitError::Rejected(e)) => self.refused(training, "trainer reveal", &e)?,
				Err(e) => return Err(e.into()),
			}
		}
		let committed = info.checks.0.iter().filter(|c| c.verifier == self.account && matches!(c.state, CheckState::Committed(_)));
		for chain_check in committed {
			let Some(check) = record.checks.iter().find(|c| c.segment == chain_check.segment) else {
				tracing::error!("segment {}: committed on chain, but its hashes are not in the store", chain_check.segment);
				continue;
			};
			let hashes = ChainHashes { probe: check.probe, end: check.end };
			let call = runtime::tx().training().reveal_check(training, check.segment, hashes, check.salt);
			match self.submitter.in_block(&call).await {
				// Done, or done already.
				Ok(()) => {},
				Err(e) if e.is("Training::AlreadyRevealed") => {},
				Err(SubmitError::Rejected(e)) => self.refused(training, "check reveal", &e)?,
				Err(e) => return Err(e.into()),
			}
		}
		Ok(())
	}

	fn trainer_step(&self, training: u64, change: impl FnOnce(&mut TrainerRecord)) -> anyhow::Result<()> {
		self.store.training_update(training, |r| {
			if let Some(t) = r.trainer.as_mut() {
				change(t)
			}
		})?;
		Ok(())
	}

	/// The chain refused a step: the task's status on chain, read each block, decides what
	/// comes next.
	fn refused(&self, training: u64, step: &str, error: &str) -> anyhow::Result<()> {
		let _span = training_span(training).entered();
		tracing::warn!("the chain refused the {step}: {error}");
		Ok(())
	}
}

/// The file name of checkpoint `index` under a task's store directory.
pub fn checkpoint_file(index: u32) -> String {
	format!("checkpoint-{index}.bin")
}

/// The training data's file name under a task's store directory.
pub const DATA_FILE: &str = "data.latents";

fn fresh_salt() -> anyhow::Result<[u8; 32]> {
	let mut salt = [0u8; 32];
	getrandom::getrandom(&mut salt).context("no randomness from the OS for a salt")?;
	Ok(salt)
}

/// The worker's view of the chain's spec.
pub fn worker_spec(spec: &runtime::runtime_types::pallet_training::types::TrainingSpec) -> crate::engines::training::TrainingSpec {
	crate::engines::training::TrainingSpec {
		seed: spec.seed,
		learning_rate: f64::from(spec.learning_rate.0) / 1e9,
		steps: spec.steps,
		batch_size: spec.batch_size,
		checkpoint_interval: spec.checkpoint_interval,
		init_token: String::from_utf8_lossy(&spec.init_token.0).into_owned(),
		templates: spec.templates.0.iter().map(|t| String::from_utf8_lossy(&t.0).into_owned()).collect(),
		latent_noise: f64::from(spec.latent_noise.0) / 1e9,
	}
}

/// Downloads the training data from `url` and checks its digest.
async fn download_data(url: &str, digest: &[u8; 32], headers: &[(&str, &str)]) -> anyhow::Result<Vec<u8>> {
	let bytes = crate::http::get_with(url, headers).await.with_context(|| format!("downloading the training data from {url}"))?;
	anyhow::ensure!(sp_crypto_hashing::blake2_256(&bytes) == *digest, "the training data from {url} does not match the task's digest");
	Ok(bytes)
}

/// A training task, until it is pruned.
pub async fn training_info(client: &Client, training: u64) -> anyhow::Result<Option<TrainingInfo>> {
	let at = client.at_current_block().await?;
	let value = at.storage().try_fetch(runtime::storage().training().trainings(), (training,)).await?;
	Ok(value.map(|v| v.decode()).transpose()?)
}
