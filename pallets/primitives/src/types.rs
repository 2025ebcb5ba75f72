//! Task and result types shared by the chain and the worker. Every type is SCALE-encoded and
//! bounded (`MaxEncodedLen`), so it can live in runtime storage.

use bounded_collections::{BoundedVec, ConstU32};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Identifies a task on chain.
pub type TaskId = u64;
/// A verification round of a task: 0 for the first assignment, +1 for every escalation.
pub type Round = u32;
/// A 32-byte blake2-256 digest.
pub type Digest = [u8; 32];
/// A worker's account id as raw bytes (sr25519/ed25519 public key, or AccountId32).
pub type WorkerId = [u8; 32];
/// Identifies a registered model.
pub type ModelId = u32;
/// Identifies an execution profile: blake2-256 of its encoding.
pub type ProfileId = Digest;

/// Why a worker's stake was slashed.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	Debug,
)]
pub enum SlashReason {
	/// Its revealed result disagreed with the agreed reference.
	Outlier,
	/// It was assigned but did not commit.
	NoShow,
	/// Its reveal did not open its commitment.
	BadReveal,
	/// It committed but did not reveal: slashed at least as much as an outlier, so that a
	/// worker who sees it is in the minority gains nothing by staying silent.
	Withheld,
}

/// The most images one task may ask for.
pub const MAX_IMAGES: u32 = 4;
/// The most bytes of output text a text result carries.
pub const MAX_TEXT_BYTES: u32 = 4096;
/// The most verifiers a task may have, across all its rounds.
pub const MAX_VERIFIERS: u32 = 16;
/// The most bytes of each text field of an [`ExecutionProfile`].
pub const MAX_PROFILE_FIELD: u32 = 64;

/// A perceptual hash algorithm. Each yields a 64-bit hash of an image.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	PartialOrd, Ord, Debug,
)]
pub enum HashAlg {
	/// aHash: 8x8 grey thumbnail, one bit per pixel above the mean.
	Average,
	/// pHash: 16x16 grey thumbnail, 2-D DCT, one bit per coefficient of the lowest 8x8
	/// frequencies at or above their median.
	Perceptual,
	/// dHash: 9x8 grey thumbnail, one bit per horizontal gradient sign.
	Difference,
	/// Colour hash: the distribution of hue and saturation classes, 64 bits.
	Colour,
}

impl HashAlg {
	/// Every algorithm, in their canonical order.
	pub const ALL: [HashAlg; 4] =
		[HashAlg::Average, HashAlg::Perceptual, HashAlg::Difference, HashAlg::Colour];

	/// The position of this algorithm in [`HashAlg::ALL`] and in per-algorithm arrays.
	pub const fn index(self) -> usize {
		self as usize
	}
}

/// A set of hash algorithms, as a bit set (bit `HashAlg::index()`).
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	Debug, Default,
)]
pub struct HashAlgs(u8);

impl HashAlgs {
	/// The set with no algorithm.
	pub const EMPTY: HashAlgs = HashAlgs(0);
	/// The set of all four algorithms.
	pub const ALL: HashAlgs = HashAlgs(0b1111);

	/// The set holding exactly `algs`.
	pub fn of(algs: &[HashAlg]) -> Self {
		algs.iter().fold(Self::EMPTY, |set, alg| set.with(*alg))
	}

	/// This set plus `alg`.
	pub const fn with(self, alg: HashAlg) -> Self {
		HashAlgs(self.0 | (1 << alg.index()))
	}

	/// Whether `alg` is in the set.
	pub const fn contains(self, alg: HashAlg) -> bool {
		self.0 & (1 << alg.index()) != 0
	}

	/// Whether the set is empty.
	pub const fn is_empty(self) -> bool {
		self.0 == 0
	}

	/// Whether the encoding holds only known algorithms (decoded input may carry other bits).
	pub const fn is_valid(self) -> bool {
		self.0 & !Self::ALL.0 == 0
	}

	/// Number of algorithms in the set.
	pub const fn len(self) -> u32 {
		self.0.count_ones()
	}

	/// The algorithms in the set, in canonical order.
	pub fn iter(self) -> impl Iterator<Item = HashAlg> {
		HashAlg::ALL.into_iter().filter(move |alg| self.contains(*alg))
	}
}

/// The perceptual hashes of one image: one 64-bit hash per algorithm the task asked for.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	Debug, Default,
)]
pub struct ImageHashes {
	/// Indexed by [`HashAlg::index`]; `None` for an algorithm that was not computed.
	pub hashes: [Option<u64>; 4],
}

impl ImageHashes {
	/// The hash computed with `alg`, if any.
	pub fn get(&self, alg: HashAlg) -> Option<u64> {
		self.hashes[alg.index()]
	}

	/// Sets the hash computed with `alg`.
	pub fn set(&mut self, alg: HashAlg, hash: u64) {
		self.hashes[alg.index()] = Some(hash);
	}

	/// The set of algorithms this value carries a hash for.
	pub fn algs(&self) -> HashAlgs {
		HashAlg::ALL
			.into_iter()
			.filter(|alg| self.get(*alg).is_some())
			.fold(HashAlgs::EMPTY, |set, alg| set.with(alg))
	}
}

/// The result of one generated image: its perceptual hashes and the blake2-256 digest of the
/// encoded PNG (so a client can check the file it downloads from a worker).
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	Debug,
)]
pub struct ImageResult {
	pub hashes: ImageHashes,
	pub png_digest: Digest,
}

/// Output text, at most [`MAX_TEXT_BYTES`] bytes of UTF-8.
pub type BoundedText = BoundedVec<u8, ConstU32<MAX_TEXT_BYTES>>;

/// The result of a text task: the digest of the output token ids and the output text.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct TextResult {
	/// blake2-256 of the SCALE encoding of the generated token ids (`Vec<u32>`).
	pub tokens_digest: Digest,
	/// The decoded output text.
	pub text: BoundedText,
}

/// The images of an image task, at most [`MAX_IMAGES`].
pub type ImageResults = BoundedVec<ImageResult, ConstU32<MAX_IMAGES>>;

/// Why a task cannot be run: a reason every honest worker of the task reaches the same way,
/// from the task and the model alone (never from its own hardware or load).
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	Debug,
)]
pub enum CannotExecute {
	/// The prompt's tokens plus `max_tokens` exceed the model's context.
	ContextExceeded,
}

/// What a worker commits to (encrypted) and later reveals.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub enum ResultPayload {
	/// One [`ImageResult`] per generated image, in generation order.
	Image(ImageResults),
	/// The generated text.
	Text(TextResult),
	/// The task cannot be run, for a deterministic reason. A quorum on it fails the task with a
	/// refund and slashes nobody who revealed.
	CannotExecute(CannotExecute),
}

/// The numeric type a model runs in. Part of the execution profile: results are only
/// bit-comparable within one dtype.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq,
	Debug,
)]
pub enum Dtype {
	F32,
	F16,
	BF16,
}

/// A bounded text field of an [`ExecutionProfile`].
pub type ProfileField = BoundedVec<u8, ConstU32<MAX_PROFILE_FIELD>>;

/// Everything about a worker's hardware and software that can change its output bits.
/// Text tasks only pair workers whose [`profile_id`](ExecutionProfile::profile_id) is equal.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct ExecutionProfile {
	/// GPU model as the driver names it, e.g. `NVIDIA H100 80GB HBM3`, or for the CPU `cpu` and
	/// its instruction-set level, e.g. `cpu x86-64-v3`.
	pub gpu_model: ProfileField,
	/// Device memory in MiB (system memory for `cpu`). Not part of the profile id.
	pub vram_mib: u32,
	/// Driver version, e.g. `550.54.15` (empty for `cpu`).
	pub driver: ProfileField,
	/// CUDA runtime version, e.g. `12.4` (empty for `cpu`).
	pub cuda: ProfileField,
	/// libtorch version, e.g. `2.13.0`.
	pub libtorch: ProfileField,
	/// The dtype models run in.
	pub dtype: Dtype,
	/// Worker software version.
	pub worker_version: ProfileField,
}

/// Why an [`ExecutionProfile`] is not acceptable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProfileError {
	/// The GPU model is empty.
	EmptyGpuModel,
	/// The device memory is zero.
	ZeroVram,
	/// The libtorch or worker version is empty.
	EmptyVersion,
}

impl ExecutionProfile {
	/// The profile's id: blake2-256 of the SCALE encoding of every field that decides the bits
	/// a model produces — all but `vram_mib`, which decides only what fits. Workers whose
	/// devices differ in memory alone therefore share a group for exact-match verification.
	pub fn profile_id(&self) -> Digest {
		let bits = (&self.gpu_model, &self.driver, &self.cuda, &self.libtorch, self.dtype, &self.worker_version);
		sp_crypto_hashing::blake2_256(&bits.encode())
	}

	/// Checks the fields that the chain relies on. Over-long fields cannot be represented.
	pub fn validate(&self) -> Result<(), ProfileError> {
		if self.gpu_model.is_empty() {
			return Err(ProfileError::EmptyGpuModel);
		}
		if self.vram_mib == 0 {
			return Err(ProfileError::ZeroVram);
		}
		if self.libtorch.is_empty() || self.worker_version.is_empty() {
			return Err(ProfileError::EmptyVersion);
		}
		Ok(())
	}
}

/// blake2-256 of `data`; the digest used for PNGs and token ids.
pub fn digest(data: &[u8]) -> Digest {
	sp_crypto_hashing::blake2_256(data)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn hash_alg_set_operations() {
		let set = HashAlgs::of(&[HashAlg::Perceptual, HashAlg::Average]);
		assert!(set.contains(HashAlg::Average) && set.contains(HashAlg::Perceptual));
		assert!(!set.contains(HashAlg::Colour));
		assert_eq!(set.len(), 2);
		assert_eq!(set.iter().collect::<alloc::vec::Vec<_>>(), [HashAlg::Average, HashAlg::Perceptual]);
		assert!(set.is_valid() && !set.is_empty());
		assert!(!HashAlgs(0b1_0000).is_valid());
		assert_eq!(HashAlgs::ALL.len(), 4);
	}

	#[test]
	fn image_hashes_report_their_algorithms() {
		let mut h = ImageHashes::default();
		h.set(HashAlg::Difference, 7);
		assert_eq!(h.get(HashAlg::Difference), Some(7));
		assert_eq!(h.algs(), HashAlgs::of(&[HashAlg::Difference]));
	}

	fn profile() -> ExecutionProfile {
		ExecutionProfile {
			gpu_model: b"NVIDIA H100".to_vec().try_into().unwrap(),
			vram_mib: 81_559,
			driver: b"550.54".to_vec().try_into().unwrap(),
			cuda: b"12.4".to_vec().try_into().unwrap(),
			libtorch: b"2.13.0".to_vec().try_into().unwrap(),
			dtype: Dtype::F32,
			worker_version: b"0.1.0".to_vec().try_into().unwrap(),
		}
	}

	#[test]
	fn profile_id_changes_with_every_field_that_decides_the_bits_and_not_with_memory() {
		let a = profile();
		assert_eq!(a.profile_id(), a.clone().profile_id());
		let field = |s: &[u8]| -> ProfileField { s.to_vec().try_into().unwrap() };
		let changes: [fn(&mut ExecutionProfile, &dyn Fn(&[u8]) -> ProfileField); 6] = [
			|p, f| p.gpu_model = f(b"NVIDIA A100"),
			|p, f| p.driver = f(b"555.1"),
			|p, f| p.cuda = f(b"12.6"),
			|p, f| p.libtorch = f(b"2.12.0"),
			|p, _| p.dtype = Dtype::F16,
			|p, f| p.worker_version = f(b"0.2.0"),
		];
		for change in changes {
			let mut b = a.clone();
			change(&mut b, &field);
			assert_ne!(a.profile_id(), b.profile_id(), "{b:?}");
		}
		let mut more_memory = a.clone();
		more_memory.vram_mib *= 2;
		assert_eq!(a.profile_id(), more_memory.profile_id(), "memory decides what fits, not the bits");
	}

	#[test]
	fn profile_validation() {
		assert_eq!(profile().validate(), Ok(()));
		let mut p = profile();
		p.gpu_model = Default::default();
		assert_eq!(p.validate(), Err(ProfileError::EmptyGpuModel));
		let mut p = profile();
		p.vram_mib = 0;
		assert_eq!(p.validate(), Err(ProfileError::ZeroVram));
		let mut p = profile();
		p.libtorch = Default::default();
		assert_eq!(p.validate(), Err(ProfileError::EmptyVersion));
	}
}
