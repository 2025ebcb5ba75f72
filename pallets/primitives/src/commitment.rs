//! Commit-reveal of encrypted results, wire format **v1**.
//!
//! A worker must commit to its result before it can see anyone else's, and nobody may copy a
//! committed result. The scheme, precise enough for a client in any language:
//!
//! - `key`: 32 random bytes, fresh for every commitment (never reused).
//! - `context` = SCALE(task id: u64) ++ SCALE(round: u32) ++ worker account id (32 bytes).
//! - `nonce` = the first 24 bytes of blake2-256(`b"replica/nonce/v1"` ++ context).
//! - `ciphertext` = XChaCha20-Poly1305(key, nonce, plaintext = SCALE(ResultPayload),
//!   associated data = context).
//! - `commitment` = blake2-256(`b"replica/commit/v1"` ++ context ++ key ++ ciphertext).
//!
//! The commitment binds the worker (a copied commitment or ciphertext is useless to any other
//! account: its context differs) and the key (AEADs are not key-committing on their own).
//! Reveal = the key: [`open`] recomputes the commitment, decrypts and decodes, and each failure
//! is its own [`OpenError`].
//!
//! ## Test vector
//! Computed independently of this crate (Python `hashlib` + `pycryptodome`, see
//! `scripts/commitment-vectors.py`) and asserted by `tests/commitment.rs`:
//! ```text
//! key        = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
//! task id    = 42, round = 1, worker = 0x11 repeated 32 times
//! payload    = ResultPayload::Text(TextResult { tokens_digest: [0xaa; 32], text: "hello" })
//! SCALE      = 01 aa×32 14 68656c6c6f
//! nonce      = 07e678b57f5490896e18426575a8f743f84d16c74ef4e8de
//! ciphertext = e658dcc93bd021c87b28f7a2c53322242358a6486830c2c6d090f33bd7ca7f7c
//!              3af1e77c7ef3e278b696e49f38e9012f2fe4e140fbb4a3
//! commitment = 6356de219e7c61e34ff782cc6f1a704e68fe3adc877caf81ba4881d023e4a5b0
//! ```

use alloc::vec::Vec;
use chacha20poly1305::{
	aead::{Aead, KeyInit, Payload},
	XChaCha20Poly1305, XNonce,
};
use codec::{DecodeLimit, Encode, MaxEncodedLen};

use crate::types::{Digest, ResultPayload, Round, TaskId, WorkerId};

/// Domain tag of the nonce derivation.
pub const NONCE_TAG: &[u8] = b"replica/nonce/v1";
/// Domain tag of the commitment.
pub const COMMIT_TAG: &[u8] = b"replica/commit/v1";
/// Bytes the AEAD adds to the plaintext.
pub const TAG_LEN: usize = 16;

/// The largest ciphertext a valid payload can produce; longer input is rejected unread.
pub fn max_ciphertext_len() -> usize {
	ResultPayload::max_encoded_len() + TAG_LEN
}

/// A sealed result: what `commit_result` carries.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Sealed {
	pub ciphertext: Vec<u8>,
	pub commitment: Digest,
}

/// Why a reveal does not open a commitment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpenError {
	/// The ciphertext is longer than any valid payload can produce.
	TooLarge,
	/// blake2-256(tag ++ context ++ key ++ ciphertext) is not the commitment.
	CommitmentMismatch,
	/// The AEAD rejected the ciphertext under this key and context.
	DecryptionFailed,
	/// The plaintext is not exactly one SCALE-encoded `ResultPayload`.
	MalformedPayload,
}

/// `context` = SCALE(task) ++ SCALE(round) ++ worker.
pub fn context(task: TaskId, round: Round, worker: &WorkerId) -> Vec<u8> {
	let mut ctx = Vec::with_capacity(8 + 4 + 32);
	task.encode_to(&mut ctx);
	round.encode_to(&mut ctx);
	ctx.extend_from_slice(worker);
	ctx
}

/// `nonce` = blake2-256(NONCE_TAG ++ context)[..24].
pub fn nonce(context: &[u8]) -> [u8; 24] {
	let mut input = Vec::with_capacity(NONCE_TAG.len() + context.len());
	input.extend_from_slice(NONCE_TAG);
	input.extend_from_slice(context);
	let hash = sp_crypto_hashing::blake2_256(&input);
	let mut out = [0u8; 24];
	out.copy_from_slice(&hash[..24]);
	out
}

/// `commitment` = blake2-256(COMMIT_TAG ++ context ++ key ++ ciphertext).
pub fn commitment(context: &[u8], key: &[u8; 32], ciphertext: &[u8]) -> Digest {
	let mut input =
		Vec::with_capacity(COMMIT_TAG.len() + context.len() + key.len() + ciphertext.len());
	input.extend_from_slice(COMMIT_TAG);
	input.extend_from_slice(context);
	input.extend_from_slice(key);
	input.extend_from_slice(ciphertext);
	sp_crypto_hashing::blake2_256(&input)
}

/// Encrypts `payload` for `(task, round, worker)` under `key` and commits to it. The caller
/// supplies a fresh random key (the worker persists it before it submits the commitment).
pub fn seal(
	payload: &ResultPayload,
	task: TaskId,
	round: Round,
	worker: &WorkerId,
	key: &[u8; 32],
) -> Sealed {
	seal_in(payload, &context(task, round, worker), key)
}

/// [`seal`] under any `context` (other protocols bind other ids, e.g. a swarm query's
/// answers: [`crate::swarm::answer_context`]; contexts of different lengths never collide).
pub fn seal_in(payload: &ResultPayload, ctx: &[u8], key: &[u8; 32]) -> Sealed {
	let cipher = XChaCha20Poly1305::new(key.into());
	let plaintext = payload.encode();
	let ciphertext = cipher
		.encrypt(XNonce::from_slice(&nonce(ctx)), Payload { msg: &plaintext, aad: ctx })
		// XChaCha20-Poly1305 only fails for plaintexts beyond 256 GiB.
		.expect("a bounded payload always encrypts; qed");
	let commitment = commitment(ctx, key, &ciphertext);
	Sealed { ciphertext, commitment }
}

/// Checks a reveal: the commitment, then the AEAD, then the payload's encoding.
pub fn open(
	ciphertext: &[u8],
	key: &[u8; 32],
	expected: &Digest,
	task: TaskId,
	round: Round,
	worker: &WorkerId,
) -> Result<ResultPayload, OpenError> {
	open_in(ciphertext, key, expected, &context(task, round, worker))
}

/// [`open`] under any `context` (see [`seal_in`]).
pub fn open_in(ciphertext: &[u8], key: &[u8; 32], expected: &Digest, ctx: &[u8]) -> Result<ResultPayload, OpenError> {
	if ciphertext.len() > max_ciphertext_len() {
		return Err(OpenError::TooLarge);
	}
	if &commitment(ctx, key, ciphertext) != expected {
		return Err(OpenError::CommitmentMismatch);
	}
	let cipher = XChaCha20Poly1305::new(key.into());
	let plaintext = cipher
		.decrypt(XNonce::from_slice(&nonce(ctx)), Payload { msg: ciphertext, aad: ctx })
		.map_err(|_| OpenError::DecryptionFailed)?;
	let mut input = &plaintext[..];
	let payload = ResultPayload::decode_with_depth_limit(8, &mut input)
		.map_err(|_| OpenError::MalformedPayload)?;
	if !input.is_empty() {
		return Err(OpenError::MalformedPayload);
	}
	Ok(payload)
}
