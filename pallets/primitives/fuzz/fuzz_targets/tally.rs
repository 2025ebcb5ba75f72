//! `tally` on arbitrary results never panics; an agreed verdict partitions the revealed set
//! and its winners agree with the reference.
#![no_main]

use codec::Decode;
use libfuzzer_sys::fuzz_target;
use replica_primitives::{agree, tally, Quorum, ResultPayload, Tolerances, Verdict, MAX_VERIFIERS};

fuzz_target!(|data: &[u8]| {
	let mut input = data;
	let Ok((tolerances, quorum, extra)) = <(Tolerances, Quorum, u8)>::decode(&mut input) else { return };
	let mut results = Vec::new();
	while results.len() < MAX_VERIFIERS as usize {
		match ResultPayload::decode(&mut input) {
			Ok(r) => results.push(r),
			Err(_) => break,
		}
	}
	let assigned = results.len() as u32 + u32::from(extra % 4);
	if let Verdict::Agreed { reference, winners, outliers } = tally(&results, &tolerances, quorum, assigned) {
		let mut all: Vec<u32> = winners.iter().chain(&outliers).copied().collect();
		all.sort();
		assert_eq!(all, (0..results.len() as u32).collect::<Vec<_>>());
		assert!(quorum.is_reached(winners.len() as u32, assigned));
		for w in winners {
			assert!(agree(&results[reference as usize], &results[w as usize], &tolerances));
		}
	}
});
