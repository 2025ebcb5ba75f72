//! Property tests: order independence of the verdict, partition of winners and outliers, and
//! the commitment's round trip and binding.

mod common;
use proptest::prelude::*;
use replica_primitives::*;

fn arb_payload() -> impl Strategy<Value = ResultPayload> {
	// Hashes from a small set of nearby values so that agreement and disagreement both occur.
	let hash = prop_oneof![Just(0u64), Just(1), Just(3), Just(7), Just(0xff), any::<u64>()];
	prop::collection::vec(prop::collection::vec(hash, 2), 1..=2).prop_map(|images| {
		let images: Vec<Vec<(HashAlg, u64)>> = images
			.into_iter()
			.map(|h| vec![(HashAlg::Average, h[0]), (HashAlg::Difference, h[1])])
			.collect();
		let refs: Vec<&[(HashAlg, u64)]> = images.iter().map(|v| v.as_slice()).collect();
		common::image(&refs)
	})
}

fn tolerances() -> Tolerances {
	Tolerances::of(&[(HashAlg::Average, 1), (HashAlg::Difference, 2)])
}

fn support(results: &[ResultPayload], i: usize) -> usize {
	results.iter().filter(|r| agree(&results[i], r, &tolerances())).count()
}

proptest! {
	#[test]
	fn winners_and_outliers_partition_the_revealed_set(
		results in prop::collection::vec(arb_payload(), 0..=16),
		extra in 0u32..4,
	) {
		let assigned = results.len() as u32 + extra;
		if let Verdict::Agreed { reference, winners, outliers } =
			tally(&results, &tolerances(), Quorum::Majority, assigned)
		{
			let mut all: Vec<u32> = winners.iter().chain(outliers.iter()).copied().collect();
			all.sort();
			prop_assert_eq!(all, (0..results.len() as u32).collect::<Vec<_>>());
			prop_assert!(winners.contains(&reference));
			for w in &winners {
				prop_assert!(agree(&results[reference as usize], &results[*w as usize], &tolerances()));
			}
			for o in &outliers {
				prop_assert!(!agree(&results[reference as usize], &results[*o as usize], &tolerances()));
			}
		}
	}

	#[test]
	fn verdict_is_independent_of_arrival_order_but_for_ties(
		results in prop::collection::vec(arb_payload(), 1..=16),
		seed in any::<[u8; 32]>(),
	) {
		let n = results.len();
		let order = sample_distinct(seed, &(0..n).collect::<Vec<_>>(), n);
		let shuffled: Vec<_> = order.iter().map(|i| results[*i].clone()).collect();
		let assigned = n as u32;
		let a = tally(&results, &tolerances(), Quorum::Majority, assigned);
		let b = tally(&shuffled, &tolerances(), Quorum::Majority, assigned);
		let best = (0..n).map(|i| support(&results, i)).max().unwrap();
		let tied = (0..n).filter(|i| support(&results, *i) == best).count();
		match (a, b) {
			(Verdict::NoQuorum { best_support: x }, Verdict::NoQuorum { best_support: y }) => prop_assert_eq!(x, y),
			(Verdict::Agreed { reference: ra, winners: wa, .. }, Verdict::Agreed { reference: rb, winners: wb, .. }) => {
				// Map the shuffled indices back to the original positions.
				let mut wb: Vec<u32> = wb.iter().map(|i| order[*i as usize] as u32).collect();
				wb.sort();
				if tied == 1 {
					prop_assert_eq!(ra, order[rb as usize] as u32);
					prop_assert_eq!(wa, wb);
				} else {
					// With ties, each order's reference is its lowest-positioned best result.
					let lowest = (0..n).find(|i| support(&results, *i) == best).unwrap() as u32;
					prop_assert_eq!(ra, lowest);
					let lowest_shuffled = (0..n).find(|i| support(&shuffled, *i) == best).unwrap() as u32;
					prop_assert_eq!(rb, lowest_shuffled);
				}
			},
			(a, b) => prop_assert!(false, "quorum must not depend on order: {:?} vs {:?}", a, b),
		}
	}

	#[test]
	fn open_undoes_seal(payload in arb_payload(), task in any::<u64>(), round in any::<u32>(),
		worker in any::<[u8; 32]>(), key in any::<[u8; 32]>())
	{
		let sealed = seal(&payload, task, round, &worker, &key);
		prop_assert_eq!(open(&sealed.ciphertext, &key, &sealed.commitment, task, round, &worker), Ok(payload));
	}

	#[test]
	fn any_one_bit_change_fails_to_open(payload in arb_payload(), task in any::<u64>(),
		round in any::<u32>(), worker in any::<[u8; 32]>(), key in any::<[u8; 32]>(),
		which in 0usize..5, bit in any::<prop::sample::Index>())
	{
		let sealed = seal(&payload, task, round, &worker, &key);
		let (mut ct, mut k, mut t, mut r, mut w) = (sealed.ciphertext.clone(), key, task, round, worker);
		match which {
			0 => { let i = bit.index(ct.len() * 8); ct[i / 8] ^= 1 << (i % 8); },
			1 => { let i = bit.index(256); k[i / 8] ^= 1 << (i % 8); },
			2 => t ^= 1 << bit.index(64),
			3 => r ^= 1 << bit.index(32),
			_ => { let i = bit.index(256); w[i / 8] ^= 1 << (i % 8); },
		}
		prop_assert!(open(&ct, &k, &sealed.commitment, t, r, &w).is_err());
	}
}

proptest! {
	/// A swarm round's settlement pays out exactly the fee and the tickets, the winner at
	/// least its ticket and the fee, and nobody else more than a ticket.
	#[test]
	fn swarm_tickets_conserve_funds(
		weights in prop::collection::vec(0u128..1_000, 1..=40),
		fee in 0u128..1_000_000,
		ticket in 0u128..10_000,
		winner_share in 0u32..=1_000_000_000,
		pick in any::<prop::sample::Index>(),
	) {
		let winner = pick.index(weights.len()) as u32;
		let share = sp_arithmetic::Perbill::from_parts(winner_share);
		let s = swarm::settle_tickets(fee, ticket, &weights, winner, share).unwrap();
		prop_assert_eq!(s.paid.iter().sum::<u128>() + s.to_pot, fee + ticket * weights.len() as u128);
		prop_assert!(s.paid[winner as usize] >= fee + ticket);
		for (i, paid) in s.paid.iter().enumerate() {
			if i as u32 != winner {
				prop_assert!(*paid == 0 || *paid == ticket);
			}
		}
	}

	#[test]
	fn swarm_forfeits_conserve_funds(
		lost in prop::collection::vec(any::<bool>(), 1..=64),
		fee in 0u128..1_000_000,
		ticket in 0u128..10_000,
		winner_share in 0u32..=1_000_000_000,
		pick in any::<prop::sample::Index>(),
	) {
		let winner = pick.index(lost.len()) as u32;
		let share = sp_arithmetic::Perbill::from_parts(winner_share);
		let s = swarm::settle_forfeits(fee, ticket, &lost, winner, share).unwrap();
		prop_assert_eq!(s.paid.iter().sum::<u128>() + s.to_pot, fee + ticket * lost.len() as u128);
		prop_assert!(s.paid[winner as usize] >= fee);
		let kept = if lost[winner as usize] { 0 } else { ticket };
		prop_assert_eq!(s.paid[winner as usize], kept + fee + s.taken);
		for (i, (paid, l)) in s.paid.iter().zip(&lost).enumerate() {
			if i as u32 != winner {
				prop_assert_eq!(*paid, if *l { 0 } else { ticket });
			}
		}
	}
}
