use crate::{mock::*, InsecureFallback, Latest, RelayRandomness as Stored};
use frame_support::traits::Randomness;
use sp_core::H256;

const R1: [u8; 32] = [0x11; 32];
const R2: [u8; 32] = [0x22; 32];

fn random(subject: &[u8]) -> (H256, u64) {
	<RelayRandomness as Randomness<H256, u64>>::random(subject)
}

#[test]
fn reads_babe_randomness_from_a_verified_relay_proof() {
	new_test_ext(false).execute_with(|| {
		inherent(7, Some(Some(R1)));
		assert_eq!(Latest::<Test>::get(), Some(Stored { value: R1, relay_block: 7, since: 1 }));
	});
}

#[test]
fn a_proof_without_randomness_changes_nothing() {
	new_test_ext(false).execute_with(|| {
		inherent(7, None);
		assert_eq!(Latest::<Test>::get(), None);
		// A relay block without a primary VRF output stores `None` under the key.
		inherent(8, Some(None));
		assert_eq!(Latest::<Test>::get(), None);
		inherent(9, Some(Some(R1)));
		System::set_block_number(2);
		inherent(10, None);
		assert_eq!(Latest::<Test>::get(), Some(Stored { value: R1, relay_block: 9, since: 1 }));
	});
}

#[test]
fn keeps_the_block_a_relay_parent_was_first_seen_in() {
	new_test_ext(false).execute_with(|| {
		inherent(7, Some(Some(R1)));
		// Two more parachain blocks on the same relay parent, then one on an older one (a
		// collator may build on any allowed relay parent): the first sighting stays.
		for (block, relay) in [(2, 7), (3, 7), (4, 6)] {
			System::set_block_number(block);
			inherent(relay, Some(Some(R2)));
			assert_eq!(Latest::<Test>::get(), Some(Stored { value: R1, relay_block: 7, since: 1 }));
		}
		System::set_block_number(5);
		inherent(8, Some(Some(R2)));
		assert_eq!(Latest::<Test>::get(), Some(Stored { value: R2, relay_block: 8, since: 5 }));
	});
}

#[test]
fn output_depends_on_subject_and_relay_value_and_says_since_when() {
	new_test_ext(false).execute_with(|| {
		inherent(7, Some(Some(R1)));
		let (a, since) = random(b"task 1");
		let (b, _) = random(b"task 2");
		// Relay block 7's randomness may be known to blocks built on relay parents from 5 on.
		assert_eq!(since, 7 - LOOKAHEAD as u64);
		assert_ne!(a, b);
		assert_ne!(a, H256::zero());
		// Same relay value, same subject, later parachain block: same output.
		System::set_block_number(3);
		assert_eq!(random(b"task 1"), (a, 5));
		inherent(8, Some(Some(R2)));
		let (c, since) = random(b"task 1");
		assert_eq!(since, 6);
		assert_ne!(a, c);
	});
}

#[test]
fn without_relay_randomness_nothing_is_fresh_unless_the_dev_fallback_is_on() {
	new_test_ext(false).execute_with(|| {
		System::set_block_number(5);
		assert!(!InsecureFallback::<Test>::get());
		assert_eq!(random(b"task 1"), (H256::zero(), 0));
	});
	new_test_ext(true).execute_with(|| {
		System::set_block_number(5);
		set_relay_block(4);
		System::set_parent_hash(H256::repeat_byte(1));
		let (a, since) = random(b"task 1");
		assert_eq!(since, 4, "the current relay parent: anyone may know it now");
		assert_ne!(a, H256::zero());
		System::set_parent_hash(H256::repeat_byte(2));
		assert_ne!(random(b"task 1").0, a);
		// Real relay randomness wins over the fallback as soon as it appears.
		inherent(7, Some(Some(R1)));
		let (b, since) = random(b"task 1");
		assert_eq!(since, 5);
		System::set_parent_hash(H256::repeat_byte(3));
		assert_eq!(random(b"task 1").0, b);
	});
}

#[test]
fn try_state_rejects_randomness_from_the_future() {
	new_test_ext(false).execute_with(|| {
		Latest::<Test>::put(Stored { value: R1, relay_block: 1, since: 9 });
		assert!(RelayRandomness::do_try_state(System::block_number()).is_err());
	});
}
