//! The tolerance-voting rules, one test per rule.

mod common;
use common::*;
use replica_primitives::*;

#[test]
fn hamming_counts_differing_bits() {
	assert_eq!(hamming(0, 0), 0);
	assert_eq!(hamming(0b1011, 0b0001), 2);
	assert_eq!(hamming(u64::MAX, 0), 64);
}

#[test]
fn distance_equal_to_tolerance_agrees_one_more_does_not() {
	let t = ahash_tolerance(2);
	assert!(agree(&ahash(0), &ahash(0b11), &t), "distance 2 == t agrees");
	assert!(!agree(&ahash(0), &ahash(0b111), &t), "distance 3 == t + 1 does not");
	assert!(agree(&ahash(5), &ahash(5), &ahash_tolerance(0)), "t = 0 is exact match");
	assert!(!agree(&ahash(4), &ahash(5), &ahash_tolerance(0)));
}

#[test]
fn every_algorithm_and_every_image_must_agree() {
	let t = Tolerances::of(&[(HashAlg::Average, 1), (HashAlg::Perceptual, 2)]);
	let a = image(&[
		&[(HashAlg::Average, 0), (HashAlg::Perceptual, 0)],
		&[(HashAlg::Average, 0xff), (HashAlg::Perceptual, 0xff)],
	]);
	let close = image(&[
		&[(HashAlg::Average, 0b1), (HashAlg::Perceptual, 0b11)],
		&[(HashAlg::Average, 0xfe), (HashAlg::Perceptual, 0xfc)],
	]);
	assert!(agree(&a, &close, &t));
	// Second image's pHash three bits away: the whole result disagrees.
	let far_second = image(&[
		&[(HashAlg::Average, 0), (HashAlg::Perceptual, 0)],
		&[(HashAlg::Average, 0xff), (HashAlg::Perceptual, 0xf8)],
	]);
	assert!(!agree(&a, &far_second, &t));
	// aHash within its own tolerance 1 but pHash out of 2: disagree.
	let far_phash = image(&[
		&[(HashAlg::Average, 0), (HashAlg::Perceptual, 0b111)],
		&[(HashAlg::Average, 0xff), (HashAlg::Perceptual, 0xff)],
	]);
	assert!(!agree(&a, &far_phash, &t));
}

#[test]
fn different_image_counts_or_missing_hashes_disagree() {
	let t = ahash_tolerance(64);
	let one = ahash(0);
	let two = image(&[&[(HashAlg::Average, 0)], &[(HashAlg::Average, 0)]]);
	assert!(!agree(&one, &two, &t));
	let no_ahash = image(&[&[(HashAlg::Difference, 0)]]);
	assert!(!agree(&one, &no_ahash, &t));
	// Hashes of algorithms the task did not ask for are ignored.
	let extra = image(&[&[(HashAlg::Average, 0), (HashAlg::Colour, u64::MAX)]]);
	assert!(agree(&one, &extra, &ahash_tolerance(0)));
}

#[test]
fn text_agrees_only_on_identical_output() {
	let t = Tolerances::default();
	assert!(agree(&text(&[1, 2, 3], "abc"), &text(&[1, 2, 3], "abc"), &t));
	assert!(!agree(&text(&[1, 2, 3], "abc"), &text(&[1, 2, 4], "abc"), &t));
	assert!(!agree(&text(&[1, 2, 3], "abc"), &text(&[1, 2, 3], "abd"), &t));
	assert!(!agree(&text(&[1], "a"), &ahash(0), &t), "text never agrees with an image");
}

#[test]
fn three_honest_agree() {
	let v = tally(&[ahash(0), ahash(1), ahash(0)], &ahash_tolerance(2), Quorum::Majority, 3);
	assert_eq!(v, Verdict::Agreed { reference: 0, winners: vec![0, 1, 2], outliers: vec![] });
}

#[test]
fn one_outlier_among_three() {
	let v = tally(&[ahash(0), ahash(u64::MAX), ahash(0b11)], &ahash_tolerance(2), Quorum::Majority, 3);
	assert_eq!(v, Verdict::Agreed { reference: 0, winners: vec![0, 2], outliers: vec![1] });
}

#[test]
fn non_revealers_count_against_the_quorum() {
	let t = ahash_tolerance(2);
	// Two agreeing reveals of three assigned: 2/3 > 1/2.
	assert!(matches!(tally(&[ahash(0), ahash(0)], &t, Quorum::Majority, 3), Verdict::Agreed { .. }));
	// Two agreeing reveals of four assigned: 2/4 is not a majority.
	assert_eq!(tally(&[ahash(0), ahash(0)], &t, Quorum::Majority, 4), Verdict::NoQuorum { best_support: 2 });
	// Nothing revealed.
	assert_eq!(tally(&[], &t, Quorum::Majority, 3), Verdict::NoQuorum { best_support: 0 });
}

#[test]
fn supermajority_needs_more_than_two_thirds() {
	let t = ahash_tolerance(0);
	let three_of_four = [ahash(0), ahash(0), ahash(0), ahash(9)];
	assert!(matches!(tally(&three_of_four, &t, Quorum::Supermajority, 4), Verdict::Agreed { .. }));
	let two_of_three = [ahash(0), ahash(0), ahash(9)];
	assert!(matches!(tally(&two_of_three, &t, Quorum::Majority, 3), Verdict::Agreed { .. }));
	assert_eq!(tally(&two_of_three, &t, Quorum::Supermajority, 3), Verdict::NoQuorum { best_support: 2 });
	assert_eq!(Quorum::Supermajority.threshold(3), 3);
	assert_eq!(Quorum::Supermajority.threshold(4), 3);
	assert_eq!(Quorum::Supermajority.threshold(10), 7);
	assert_eq!(Quorum::Majority.threshold(4), 3);
	assert_eq!(Quorum::Majority.threshold(5), 3);
}

#[test]
fn ties_break_towards_the_lowest_position() {
	// A chain 000 ~ 001 ~ 011 ~ 111 under tolerance 1: the middle two tie with support 3 of 5.
	let t = ahash_tolerance(1);
	let (a, b, c, d) = (ahash(0b000), ahash(0b001), ahash(0b011), ahash(0b111));
	let v = tally(&[a.clone(), b.clone(), c.clone(), d.clone()], &t, Quorum::Majority, 5);
	assert_eq!(v, Verdict::Agreed { reference: 1, winners: vec![0, 1, 2], outliers: vec![3] });
	// The same results with c before b: c is now the lower position and wins the tie.
	let v = tally(&[a, c, b, d], &t, Quorum::Majority, 5);
	assert_eq!(v, Verdict::Agreed { reference: 1, winners: vec![1, 2, 3], outliers: vec![0] });
}

#[test]
fn winners_are_those_that_agree_with_the_reference() {
	// 0 and 2 are within 2 of 1 but 4 apart from each other: tolerance is not transitive.
	let t = ahash_tolerance(2);
	let v = tally(&[ahash(0b0011), ahash(0b0000), ahash(0b1100)], &t, Quorum::Majority, 3);
	assert_eq!(v, Verdict::Agreed { reference: 1, winners: vec![0, 1, 2], outliers: vec![] });
	let v = tally(&[ahash(0b0011), ahash(0b1100), ahash(0b0001)], &t, Quorum::Majority, 3);
	assert_eq!(v, Verdict::Agreed { reference: 0, winners: vec![0, 2], outliers: vec![1] });
}

#[test]
fn text_tasks_are_decided_by_exact_match() {
	let ok = text(&[5, 6], "hi");
	let wrong = text(&[5, 7], "ho");
	let v = tally(&[wrong.clone(), ok.clone(), ok.clone()], &Tolerances::default(), Quorum::Majority, 3);
	assert_eq!(v, Verdict::Agreed { reference: 1, winners: vec![1, 2], outliers: vec![0] });
}

/// Found by `scripts/fuzz.sh` (target `tally`): a result without a requested hash counted as
/// agreeing with itself, so alone (a sampled task's executor) it reached a quorum of one and
/// was reported as the winner of a result it does not agree with.
#[test]
fn a_result_missing_a_requested_hash_supports_nothing_not_even_itself() {
	let t = Tolerances::of(&[(HashAlg::Average, 2), (HashAlg::Colour, 2)]);
	let missing_colour = image(&[&[(HashAlg::Average, 0)]]);
	assert!(!agree(&missing_colour, &missing_colour, &t));
	assert_eq!(tally(&[missing_colour.clone()], &t, Quorum::Majority, 1), Verdict::NoQuorum { best_support: 0 });
	// Beside two well-formed results, it is an outlier and never the reference.
	let good = image(&[&[(HashAlg::Average, 0), (HashAlg::Colour, 0)]]);
	match tally(&[missing_colour, good.clone(), good], &t, Quorum::Majority, 3) {
		Verdict::Agreed { reference, winners, outliers } => {
			assert_eq!((reference, winners, outliers), (1, vec![1, 2], vec![0]));
		},
		other => panic!("expected a verdict, got {other:?}"),
	}
}

#[test]
fn refusals_agree_only_with_the_same_refusal_and_can_reach_quorum() {
	use replica_primitives::CannotExecute;
	let refusal = ResultPayload::CannotExecute(CannotExecute::ContextExceeded);
	let tolerances = Tolerances::default();
	assert!(agree(&refusal, &refusal, &tolerances));
	let text = ResultPayload::Text(replica_primitives::TextResult {
		tokens_digest: [0; 32],
		text: b"x".to_vec().try_into().unwrap(),
	});
	assert!(!agree(&refusal, &text, &tolerances));
	let verdict = tally(&[refusal.clone(), text, refusal], &tolerances, Quorum::Majority, 3);
	assert!(matches!(verdict, Verdict::Agreed { reference: 0, ref winners, .. } if winners == &[0, 2]));
}
