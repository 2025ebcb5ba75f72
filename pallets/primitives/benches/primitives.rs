//! `tally` at its worst case (16 verifiers × 4 algorithms × 4 images) and `open` of a 4 KiB
//! payload. Run: `cargo bench -p replica-primitives`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use replica_primitives::*;

fn worst_case_results() -> Vec<ResultPayload> {
	(0..MAX_VERIFIERS as u64)
		.map(|v| {
			let images: Vec<ImageResult> = (0..MAX_IMAGES as u64)
				.map(|i| {
					let mut hashes = ImageHashes::default();
					for alg in HashAlg::ALL {
						// Every pair within tolerance, so no comparison short-circuits.
						hashes.set(alg, (i << 8) ^ (v & 1));
					}
					ImageResult { hashes, png_digest: [i as u8; 32] }
				})
				.collect();
			ResultPayload::Image(images.try_into().unwrap())
		})
		.collect()
}

fn bench(c: &mut Criterion) {
	let results = worst_case_results();
	let tolerances = Tolerances::of(&HashAlg::ALL.map(|alg| (alg, 2)));
	c.bench_function("tally 16 verifiers x 4 algorithms x 4 images", |b| {
		b.iter(|| tally(black_box(&results), &tolerances, Quorum::Supermajority, 16))
	});

	let text = "a".repeat(MAX_TEXT_BYTES as usize);
	let payload = ResultPayload::Text(TextResult {
		tokens_digest: [1; 32],
		text: text.into_bytes().try_into().unwrap(),
	});
	let (key, worker) = ([7u8; 32], [9u8; 32]);
	let sealed = seal(&payload, 1, 0, &worker, &key);
	c.bench_function("open 4 KiB text payload", |b| {
		b.iter(|| open(black_box(&sealed.ciphertext), &key, &sealed.commitment, 1, 0, &worker).unwrap())
	});
}

criterion_group!(benches, bench);
criterion_main!(benches);
