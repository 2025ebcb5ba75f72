//! `open` on arbitrary reveals never panics, and whatever it accepts re-seals to the same
//! ciphertext and commitment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replica_primitives::{open, seal};

fuzz_target!(|data: &[u8]| {
	if data.len() < 32 + 32 + 8 + 4 + 32 {
		return;
	}
	let (key, rest) = data.split_at(32);
	let (commitment, rest) = rest.split_at(32);
	let (task, rest) = rest.split_at(8);
	let (round, rest) = rest.split_at(4);
	let (worker, ciphertext) = rest.split_at(32);
	let key: [u8; 32] = key.try_into().unwrap();
	let commitment: [u8; 32] = commitment.try_into().unwrap();
	let task = u64::from_le_bytes(task.try_into().unwrap());
	let round = u32::from_le_bytes(round.try_into().unwrap());
	let worker: [u8; 32] = worker.try_into().unwrap();
	if let Ok(payload) = open(ciphertext, &key, &commitment, task, round, &worker) {
		let again = seal(&payload, task, round, &worker, &key);
		assert_eq!(again.ciphertext, ciphertext);
		assert_eq!(again.commitment, commitment);
	}
	// A ciphertext sealed from the input's own payload bytes must open.
	if let Ok(payload) = <replica_primitives::ResultPayload as codec::Decode>::decode(&mut &ciphertext[..]) {
		let sealed = seal(&payload, task, round, &worker, &key);
		assert_eq!(open(&sealed.ciphertext, &key, &sealed.commitment, task, round, &worker), Ok(payload));
	}
});
