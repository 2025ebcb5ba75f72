//! The worker's crash-safe memory: one record per assigned task, one per swarm query it
//! answered (its answer's key, its ranking and salt) and one per training task it was drawn
//! into (its hashes and salts), in an embedded redb database (`<store>/worker.redb`); the
//! generated files under `<store>/results/<task>/`, a trainer's checkpoints under
//! `<store>/training/<id>/`.
//!
//! The pipeline writes a task's sealing key, ciphertext and commitment here, durably, *before*
//! it submits `commit_result`, so a worker killed at any point can still reveal after a
//! restart, and never seals a second, different result for the same task.

use anyhow::Context;
use redb::{Database, ReadableTable, TableDefinition, TableHandle};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A table of JSON records by a u64 key.
type Table = TableDefinition<'static, u64, &'static [u8]>;

const TASKS: Table = TableDefinition::new("tasks");
/// Swarm queries this worker answered (`crate::swarm`), by query id.
const QUERIES: Table = TableDefinition::new("swarm-queries");
/// Training tasks this worker was drawn into (`crate::training`), by training id.
const TRAININGS: Table = TableDefinition::new("trainings");

/// Where a task is in this worker's pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
	/// Drawn for it; waiting for or in execution.
	Assigned,
	/// Executed and sealed; key and ciphertext are stored; the commitment may or may not be
	/// on chain yet.
	Sealed,
	/// The commitment is on chain.
	Committed,
	/// The key is on chain.
	Revealed,
	/// Nothing more to do: see the outcome.
	Done,
}

/// How a task ended for this worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
	/// Among the winners; credited `share` to its worker record, claimed later (in the
	/// chain's smallest unit; `None` when the worker was away when the verdict came).
	Won { share: Option<u128> },
	/// Not among the winners (an outlier, or a bad or missing reveal).
	NotPaid,
	/// The task failed (no workers, no quorum) and was refunded to its creator.
	Failed { reason: String },
	/// Not executed: its commit deadline had passed, or the queue was full.
	Skipped { reason: String },
	/// The engine could not run it.
	ExecutionFailed { error: String },
}

/// The sealed result: what `commit_result` and `reveal_result` send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedResult {
	pub key: [u8; 32],
	pub commitment: [u8; 32],
	pub ciphertext: Vec<u8>,
	/// SCALE encoding of the `ResultPayload`.
	pub payload: Vec<u8>,
}

/// Everything this worker knows about one of its tasks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
	pub task: u64,
	pub round: u32,
	pub model: u32,
	/// The block by which the commitment must be on chain.
	pub commit_deadline: u64,
	/// The block it was assigned in.
	pub assigned_at: u64,
	pub phase: Phase,
	/// Whether this worker's key is on chain. `Done` says nothing about it: a task can end
	/// for this worker without its reveal (a passed deadline, a failed round).
	#[serde(default)]
	pub revealed: bool,
	/// Executions started (recorded before each, so a crash counts too).
	#[serde(default)]
	pub attempts: u32,
	pub sealed: Option<SealedResult>,
	/// Files under `results/<task>/`: `image-0.png`, … or `text.txt`.
	pub outputs: Vec<String>,
	/// Slashes this worker took in the task, in the chain's smallest unit.
	pub slashed: u128,
	pub outcome: Option<Outcome>,
}

impl TaskRecord {
	/// A task just assigned.
	pub fn assigned(task: u64, round: u32, model: u32, commit_deadline: u64, assigned_at: u64) -> Self {
		Self {
			task,
			round,
			model,
			commit_deadline,
			assigned_at,
			phase: Phase::Assigned,
			revealed: false,
			attempts: 0,
			sealed: None,
			outputs: Vec::new(),
			slashed: 0,
			outcome: None,
		}
	}

	/// Whether its result may be served: only once its key is public, so nobody can copy it
	/// before committing. A result never revealed stays private after the task ends: a later
	/// round of the same task could otherwise copy it.
	pub fn is_public(&self) -> bool {
		self.revealed && !self.outputs.is_empty()
	}
}

/// Where a swarm query is for this worker, in the order it gets there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SwarmPhase {
	/// Answered and sealed; the key and ciphertext are stored; the commitment may or may not
	/// be on chain yet.
	Sealed,
	/// The answer's commitment is on chain.
	Committed,
	/// The answer's key is on chain.
	Revealed,
	/// The ranking's commitment is on chain (its order and salt are stored).
	Ranked,
	/// The ranking is on chain.
	RankRevealed,
	/// Nothing more to do: see the outcome.
	Done,
}

/// Everything this worker knows about a swarm query it answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwarmRecord {
	pub query: u64,
	pub model: u32,
	pub key: [u8; 32],
	pub commitment: [u8; 32],
	pub ciphertext: Vec<u8>,
	pub answer: String,
	pub phase: SwarmPhase,
	/// The ranking it committed to: answer indices best first, and the salt.
	pub ranking: Option<(Vec<u32>, [u8; 32])>,
	/// How it ended, in words.
	pub outcome: Option<String>,
}

/// What this worker did as the trainer of a training task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerRecord {
	/// The initial checkpoint's digest.
	pub initial: [u8; 32],
	/// Per segment: the digest of the checkpoint that ends it, its probe and end hashes, and
	/// the salt of their commitment.
	pub segments: Vec<([u8; 32], u64, u64, [u8; 32])>,
	/// The checkpoints' commitment is in a block (what comes after follows the chain).
	pub committed: bool,
}

/// One segment this worker checks: its hashes of the re-run and the salt (whether they are
/// committed or revealed, the chain says).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
	pub segment: u32,
	pub probe: u64,
	pub end: u64,
	pub salt: [u8; 32],
}

/// Everything this worker knows about a training task it was drawn into.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
	pub training: u64,
	/// The block in which this worker learnt it was drawn (for pruning).
	#[serde(default)]
	pub drawn_at: u64,
	/// Set once it trained (as the trainer).
	pub trainer: Option<TrainerRecord>,
	/// The segments it checks (as a verifier), once re-run.
	pub checks: Vec<CheckRecord>,
	/// As the trainer: who may download which checkpoint — `(i, account)` for each verifier
	/// drawn for segment `i`.
	pub readers: Vec<(u32, [u8; 32])>,
	pub done: bool,
	/// How it ended, in words.
	pub outcome: Option<String>,
}

impl TrainingRecord {
	/// A task this worker was drawn into, as it learnt in block `drawn_at`.
	pub fn new(training: u64, drawn_at: u64) -> Self {
		Self { training, drawn_at, trainer: None, checks: Vec::new(), readers: Vec::new(), done: false, outcome: None }
	}
}

/// The store of one worker account.
pub struct Store {
	db: Database,
	dir: PathBuf,
}

impl Store {
	/// Opens (or creates) the store in `dir`. Fails if another process has it open.
	pub fn open(dir: &Path) -> anyhow::Result<Self> {
		std::fs::create_dir_all(dir.join("results")).with_context(|| format!("creating the store {}", dir.display()))?;
		let path = dir.join("worker.redb");
		let db = Database::create(&path).with_context(|| format!("opening the store {}", path.display()))?;
		// Sealed keys live here until revealed: this user's only.
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			let private = |p: &Path, mode: u32| {
				std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
					.with_context(|| format!("restricting {} to this user", p.display()))
			};
			private(dir, 0o700)?;
			private(&dir.join("results"), 0o700)?;
			private(&path, 0o600)?;
		}
		let store = Self { db, dir: dir.to_path_buf() };
		// Create the table, so that readers of a fresh store find it.
		let tx = store.db.begin_write()?;
		tx.open_table(TASKS)?;
		tx.open_table(QUERIES)?;
		tx.open_table(TRAININGS)?;
		tx.commit()?;
		Ok(store)
	}

	/// The record of `task`, if this worker was ever assigned to it.
	pub fn get(&self, task: u64) -> anyhow::Result<Option<TaskRecord>> {
		self.read(TASKS, task)
	}

	/// Writes `record`; durable when this returns (redb commits with fsync).
	pub fn put(&self, record: &TaskRecord) -> anyhow::Result<()> {
		self.write(TASKS, record.task, record)
	}

	/// Reads, changes and writes one record in one transaction; `None` if there is none.
	pub fn update(&self, task: u64, change: impl FnOnce(&mut TaskRecord)) -> anyhow::Result<Option<TaskRecord>> {
		self.modify(TASKS, task, change)
	}

	/// Every record, by task id.
	pub fn all(&self) -> anyhow::Result<Vec<TaskRecord>> {
		self.read_all(TASKS)
	}

	/// The record of swarm query `query`, if this worker answered it.
	pub fn swarm_get(&self, query: u64) -> anyhow::Result<Option<SwarmRecord>> {
		self.read(QUERIES, query)
	}

	/// Writes `record`; durable when this returns.
	pub fn swarm_put(&self, record: &SwarmRecord) -> anyhow::Result<()> {
		self.write(QUERIES, record.query, record)
	}

	/// Reads, changes and writes one swarm record in one transaction; `None` if there is none.
	pub fn swarm_update(&self, query: u64, change: impl FnOnce(&mut SwarmRecord)) -> anyhow::Result<Option<SwarmRecord>> {
		self.modify(QUERIES, query, change)
	}

	/// Every swarm record not yet done.
	pub fn swarm_unfinished(&self) -> anyhow::Result<Vec<SwarmRecord>> {
		Ok(self.read_all::<SwarmRecord>(QUERIES)?.into_iter().filter(|r| r.phase != SwarmPhase::Done).collect())
	}

	/// The record of training task `training`, if this worker was drawn into it.
	pub fn training_get(&self, training: u64) -> anyhow::Result<Option<TrainingRecord>> {
		self.read(TRAININGS, training)
	}

	/// Writes `record`; durable when this returns.
	pub fn training_put(&self, record: &TrainingRecord) -> anyhow::Result<()> {
		self.write(TRAININGS, record.training, record)
	}

	/// Reads, changes and writes one training record in one transaction; `None` if there is
	/// none.
	pub fn training_update(
		&self,
		training: u64,
		change: impl FnOnce(&mut TrainingRecord),
	) -> anyhow::Result<Option<TrainingRecord>> {
		self.modify(TRAININGS, training, change)
	}

	/// Every training record not yet done.
	pub fn training_unfinished(&self) -> anyhow::Result<Vec<TrainingRecord>> {
		Ok(self.read_all::<TrainingRecord>(TRAININGS)?.into_iter().filter(|r| !r.done).collect())
	}

	/// Deletes the records and checkpoints of training tasks that ended and were drawn before
	/// block `before`; returns how many. Unfinished ones are never pruned.
	pub fn prune_trainings(&self, before: u64) -> anyhow::Result<usize> {
		let old: Vec<u64> = self
			.read_all::<TrainingRecord>(TRAININGS)?
			.into_iter()
			.filter(|r| r.done && r.drawn_at < before)
			.map(|r| r.training)
			.collect();
		if old.is_empty() {
			return Ok(0);
		}
		let tx = self.db.begin_write()?;
		{
			let mut table = tx.open_table(TRAININGS)?;
			for training in &old {
				table.remove(*training)?;
			}
		}
		tx.commit().context("committing to the store")?;
		for training in &old {
			let dir = self.training_dir(*training);
			if dir.exists() {
				std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
			}
		}
		Ok(old.len())
	}

	/// The directory of a training task's checkpoints (as its trainer).
	pub fn training_dir(&self, training: u64) -> PathBuf {
		self.dir.join("training").join(training.to_string())
	}

	fn read<T: DeserializeOwned>(&self, table: Table, key: u64) -> anyhow::Result<Option<T>> {
		let tx = self.db.begin_read()?;
		let Some(bytes) = tx.open_table(table)?.get(key)? else { return Ok(None) };
		Ok(Some(decode(table, key, bytes.value())?))
	}

	fn write<T: Serialize>(&self, table: Table, key: u64, record: &T) -> anyhow::Result<()> {
		let bytes = serde_json::to_vec(record)?;
		let tx = self.db.begin_write()?;
		tx.open_table(table)?.insert(key, bytes.as_slice())?;
		tx.commit().context("committing to the store")?;
		Ok(())
	}

	fn modify<T: Serialize + DeserializeOwned>(
		&self,
		table: Table,
		key: u64,
		change: impl FnOnce(&mut T),
	) -> anyhow::Result<Option<T>> {
		let tx = self.db.begin_write()?;
		let updated = {
			let mut open = tx.open_table(table)?;
			let current = match open.get(key)? {
				Some(bytes) => decode(table, key, bytes.value())?,
				None => return Ok(None),
			};
			let mut record = current;
			change(&mut record);
			open.insert(key, serde_json::to_vec(&record)?.as_slice())?;
			record
		};
		tx.commit().context("committing to the store")?;
		Ok(Some(updated))
	}

	fn read_all<T: DeserializeOwned>(&self, table: Table) -> anyhow::Result<Vec<T>> {
		let tx = self.db.begin_read()?;
		let mut out = Vec::new();
		for entry in tx.open_table(table)?.iter()? {
			let (key, bytes) = entry?;
			out.push(decode(table, key.value(), bytes.value())?);
		}
		Ok(out)
	}

	/// Every record not yet done.
	pub fn unfinished(&self) -> anyhow::Result<Vec<TaskRecord>> {
		Ok(self.all()?.into_iter().filter(|r| r.phase != Phase::Done).collect())
	}

	/// Deletes the records and files of tasks that ended for this worker and were assigned
	/// before block `before`; returns how many. Unfinished tasks are never pruned.
	pub fn prune_finished(&self, before: u64) -> anyhow::Result<usize> {
		let old: Vec<u64> =
			self.all()?.into_iter().filter(|r| r.phase == Phase::Done && r.assigned_at < before).map(|r| r.task).collect();
		if old.is_empty() {
			return Ok(0);
		}
		let tx = self.db.begin_write()?;
		{
			let mut table = tx.open_table(TASKS)?;
			for task in &old {
				table.remove(*task)?;
			}
		}
		tx.commit().context("committing to the store")?;
		for task in &old {
			let dir = self.results_dir(*task);
			if dir.exists() {
				std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
			}
		}
		Ok(old.len())
	}

	/// The directory of a task's generated files.
	pub fn results_dir(&self, task: u64) -> PathBuf {
		self.dir.join("results").join(task.to_string())
	}
}

fn decode<T: DeserializeOwned>(table: Table, key: u64, bytes: &[u8]) -> anyhow::Result<T> {
	serde_json::from_slice(bytes).with_context(|| format!("the store's record {key} of table {} is corrupt", table.name()))
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A swarm answer's key, and a ranking with its salt, are in the store before the chain
	/// sees their commitments, and survive a restart; finished queries are not resumed, and
	/// task records are apart from them.
	#[test]
	fn swarm_records_survive_reopening() {
		let dir = tempfile::tempdir().unwrap();
		let record = SwarmRecord {
			query: 3,
			model: 1,
			key: [5; 32],
			commitment: [6; 32],
			ciphertext: vec![7; 30],
			answer: "an answer".into(),
			phase: SwarmPhase::Sealed,
			ranking: None,
			outcome: None,
		};
		{
			let store = Store::open(dir.path()).unwrap();
			assert!(store.swarm_get(3).unwrap().is_none());
			store.swarm_put(&record).unwrap();
			store.swarm_put(&SwarmRecord { query: 4, ..record.clone() }).unwrap();
			let ranked = store.swarm_update(3, |r| {
				r.phase = SwarmPhase::Ranked;
				r.ranking = Some((vec![2, 0], [8; 32]));
			});
			assert_eq!(ranked.unwrap().unwrap().ranking, Some((vec![2, 0], [8; 32])));
			assert!(store.swarm_update(99, |r| r.phase = SwarmPhase::Done).unwrap().is_none());
		}
		let store = Store::open(dir.path()).unwrap();
		let resumed = store.swarm_get(3).unwrap().unwrap();
		assert_eq!((resumed.key, resumed.phase, resumed.ranking), ([5; 32], SwarmPhase::Ranked, Some((vec![2, 0], [8; 32]))));
		store.swarm_update(4, |r| r.phase = SwarmPhase::Done).unwrap();
		let unfinished: Vec<u64> = store.swarm_unfinished().unwrap().iter().map(|r| r.query).collect();
		assert_eq!(unfinished, vec![3]);
		assert!(store.all().unwrap().is_empty(), "no task records");
	}

	/// A trainer's salts and a verifier's hashes are in the store before their commitments
	/// reach the chain, and survive a restart.
	#[test]
	fn training_records_survive_reopening() {
		let dir = tempfile::tempdir().unwrap();
		{
			let store = Store::open(dir.path()).unwrap();
			assert!(store.training_get(7).unwrap().is_none());
			store.training_put(&TrainingRecord::new(7, 10)).unwrap();
			store.training_put(&TrainingRecord::new(8, 20)).unwrap();
			let trained = TrainerRecord { initial: [1; 32], segments: vec![([2; 32], 3, 4, [5; 32])], committed: false };
			store.training_update(7, |r| r.trainer = Some(trained.clone())).unwrap();
			let check = CheckRecord { segment: 0, probe: 9, end: 10, salt: [11; 32] };
			store.training_update(8, |r| r.checks.push(check.clone())).unwrap();
			assert!(store.training_update(99, |r| r.done = true).unwrap().is_none());
		}
		let store = Store::open(dir.path()).unwrap();
		let trainer = store.training_get(7).unwrap().unwrap().trainer.unwrap();
		assert_eq!((trainer.initial, trainer.segments), ([1; 32], vec![([2; 32], 3, 4, [5; 32])]));
		let checks = store.training_get(8).unwrap().unwrap().checks;
		assert_eq!((checks[0].salt, checks[0].end), ([11; 32], 10));
		store.training_update(8, |r| r.done = true).unwrap();
		let unfinished: Vec<u64> = store.training_unfinished().unwrap().iter().map(|r| r.training).collect();
		assert_eq!(unfinished, vec![7]);
		assert!(store.training_dir(7).ends_with("training/7"));
		// Pruning takes finished records drawn before the cut, and their checkpoints.
		std::fs::create_dir_all(store.training_dir(8)).unwrap();
		std::fs::write(store.training_dir(8).join("checkpoint-0.bin"), b"x").unwrap();
		assert_eq!(store.prune_trainings(20).unwrap(), 0, "drawn at the cut");
		store.training_update(7, |r| r.done = true).unwrap();
		assert_eq!(store.prune_trainings(21).unwrap(), 2);
		assert!(store.training_get(8).unwrap().is_none() && !store.training_dir(8).exists());
	}

	#[test]
	fn records_survive_reopening_and_updates_are_atomic() {
		let dir = tempfile::tempdir().unwrap();
		let mut record = TaskRecord::assigned(7, 0, 1, 50, 3);
		{
			let store = Store::open(dir.path()).unwrap();
			assert!(store.get(7).unwrap().is_none());
			store.put(&record).unwrap();
			// One process at a time: a second open fails instead of corrupting the store.
			assert!(Store::open(dir.path()).is_err());
			record.sealed = Some(SealedResult { key: [1; 32], commitment: [2; 32], ciphertext: vec![3; 40], payload: vec![4] });
			record.phase = Phase::Sealed;
			store.put(&record).unwrap();
			store.put(&TaskRecord::assigned(9, 1, 1, 60, 4)).unwrap();
		}
		let store = Store::open(dir.path()).unwrap();
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
			assert_eq!(mode(dir.path()), 0o700);
			assert_eq!(mode(&dir.path().join("worker.redb")), 0o600);
		}
		assert_eq!(store.get(7).unwrap().unwrap(), record);
		assert_eq!(store.unfinished().unwrap().len(), 2);
		let done = store.update(9, |r| {
			r.phase = Phase::Done;
			r.outcome = Some(Outcome::Skipped { reason: "deadline passed".into() });
		});
		assert_eq!(done.unwrap().unwrap().phase, Phase::Done);
		assert_eq!(store.unfinished().unwrap().iter().map(|r| r.task).collect::<Vec<_>>(), [7]);
		assert!(store.update(99, |_| {}).unwrap().is_none());
		// Pruning takes finished tasks assigned before the cut-off, files included, and
		// nothing unfinished.
		std::fs::create_dir_all(store.results_dir(9)).unwrap();
		std::fs::write(store.results_dir(9).join("text.txt"), b"old").unwrap();
		assert_eq!(store.prune_finished(4).unwrap(), 0, "assigned at block 4: not before 4");
		assert_eq!(store.prune_finished(100).unwrap(), 1);
		assert!(store.get(9).unwrap().is_none() && !store.results_dir(9).exists());
		assert!(store.get(7).unwrap().is_some(), "unfinished tasks stay");
		assert!(!record.is_public(), "a sealed result is secret until revealed");
		let mut ended = record.clone();
		ended.outputs = vec!["image-0.png".into()];
		ended.phase = Phase::Done;
		assert!(!ended.is_public(), "a task that ended unrevealed keeps its result private");
		ended.revealed = true;
		assert!(ended.is_public());
	}
}
