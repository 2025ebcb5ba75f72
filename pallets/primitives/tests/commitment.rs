//! The commitment scheme: test vector, typed failures, binding to task, round and worker.

mod common;
use common::*;
use replica_primitives::{commitment, *};

const KEY: [u8; 32] = {
	let mut k = [0u8; 32];
	let mut i = 0;
	while i < 32 {
		k[i] = i as u8;
		i += 1;
	}
	k
};
const WORKER: WorkerId = [0x11; 32];

fn vector_payload() -> ResultPayload {
	ResultPayload::Text(TextResult {
		tokens_digest: [0xaa; 32],
		text: b"hello".to_vec().try_into().unwrap(),
	})
}

/// Values computed independently by scripts/commitment-vectors.py (Python hashlib and
/// pycryptodome), so this checks the wire format, not just self-consistency.
#[test]
fn commitment_test_vector() {
	let ctx = commitment::context(42, 1, &WORKER);
	assert_eq!(
		hex::encode(commitment::nonce(&ctx)),
		"07e678b57f5490896e18426575a8f743f84d16c74ef4e8de"
	);
	let sealed = seal(&vector_payload(), 42, 1, &WORKER, &KEY);
	assert_eq!(
		hex::encode(&sealed.ciphertext),
		"e658dcc93bd021c87b28f7a2c53322242358a6486830c2c6d090f33bd7ca7f7c\
		 3af1e77c7ef3e278b696e49f38e9012f2fe4e140fbb4a3"
			.replace(char::is_whitespace, "")
	);
	assert_eq!(
		hex::encode(sealed.commitment),
		"6356de219e7c61e34ff782cc6f1a704e68fe3adc877caf81ba4881d023e4a5b0"
	);
	assert_eq!(open(&sealed.ciphertext, &KEY, &sealed.commitment, 42, 1, &WORKER), Ok(vector_payload()));
}

#[test]
fn wrong_key_is_a_commitment_mismatch() {
	let sealed = seal(&ahash(1), 1, 0, &WORKER, &KEY);
	let mut other = KEY;
	other[0] ^= 1;
	assert_eq!(
		open(&sealed.ciphertext, &other, &sealed.commitment, 1, 0, &WORKER),
		Err(OpenError::CommitmentMismatch)
	);
}

#[test]
fn copied_commitment_is_useless_to_another_worker() {
	let sealed = seal(&ahash(1), 1, 0, &WORKER, &KEY);
	let thief = [0x22; 32];
	assert_eq!(
		open(&sealed.ciphertext, &KEY, &sealed.commitment, 1, 0, &thief),
		Err(OpenError::CommitmentMismatch)
	);
}

#[test]
fn matching_commitment_over_a_bad_ciphertext_fails_decryption() {
	// A worker who commits to garbage (a correct commitment over bytes that are no AEAD output).
	let ctx = commitment::context(1, 0, &WORKER);
	let garbage = vec![0u8; 40];
	let c = commitment::commitment(&ctx, &KEY, &garbage);
	assert_eq!(open(&garbage, &KEY, &c, 1, 0, &WORKER), Err(OpenError::DecryptionFailed));
}

#[test]
fn well_encrypted_garbage_is_a_malformed_payload() {
	use chacha20poly1305::{aead::{Aead, KeyInit, Payload}, XChaCha20Poly1305, XNonce};
	let ctx = commitment::context(1, 0, &WORKER);
	let encrypt = |plaintext: &[u8]| {
		XChaCha20Poly1305::new((&KEY).into())
			.encrypt(XNonce::from_slice(&commitment::nonce(&ctx)), Payload { msg: plaintext, aad: &ctx })
			.unwrap()
	};
	for plaintext in [&b"\x07 not a payload"[..], &[][..]] {
		let ct = encrypt(plaintext);
		let c = commitment::commitment(&ctx, &KEY, &ct);
		assert_eq!(open(&ct, &KEY, &c, 1, 0, &WORKER), Err(OpenError::MalformedPayload));
	}
	// A valid payload followed by trailing bytes is malformed too.
	let mut plaintext = codec::Encode::encode(&ahash(3));
	plaintext.push(0);
	let ct = encrypt(&plaintext);
	let c = commitment::commitment(&ctx, &KEY, &ct);
	assert_eq!(open(&ct, &KEY, &c, 1, 0, &WORKER), Err(OpenError::MalformedPayload));
}

#[test]
fn oversized_ciphertext_is_rejected_unread() {
	let ct = vec![0u8; commitment::max_ciphertext_len() + 1];
	assert_eq!(open(&ct, &KEY, &[0; 32], 1, 0, &WORKER), Err(OpenError::TooLarge));
}

#[test]
fn the_largest_payload_fits_the_limit() {
	let text = "x".repeat(MAX_TEXT_BYTES as usize);
	let sealed = seal(&common::text(&[1], &text), 9, 3, &WORKER, &KEY);
	assert!(sealed.ciphertext.len() <= commitment::max_ciphertext_len());
	assert!(open(&sealed.ciphertext, &KEY, &sealed.commitment, 9, 3, &WORKER).is_ok());
}
