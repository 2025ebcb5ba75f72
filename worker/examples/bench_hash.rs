//! Times each of Replica's perceptual hashes over in-memory RGB images; `scripts/bench-hash.sh`
//! runs it beside Python `imagehash` on the same images and prints the ratios.
//!
//! Usage: bench_hash <dir of PNGs> [rounds]; prints `alg ms_per_image` lines.

use replica_primitives::HashAlg;
use replica_worker::hashing::ImageHasher;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
	let mut args = std::env::args().skip(1);
	let dir = args.next().ok_or_else(|| anyhow::anyhow!("usage: bench_hash <dir of PNGs> [rounds]"))?;
	let rounds: u32 = args.next().map(|r| r.parse()).transpose()?.unwrap_or(20);
	let mut paths: Vec<_> = std::fs::read_dir(&dir)?
		.map(|e| e.map(|e| e.path()))
		.collect::<Result<_, _>>()?;
	paths.retain(|p| p.extension().is_some_and(|e| e == "png"));
	paths.sort();
	// Decoding is not timed: both sides hash images already in memory.
	let images: Vec<_> = paths.iter().map(|p| image::open(p).map(|i| i.to_rgb8())).collect::<Result<_, _>>()?;
	anyhow::ensure!(!images.is_empty(), "no PNG in {dir}");
	let hasher = ImageHasher::new();
	for alg in HashAlg::ALL {
		let mut sink = 0u64;
		for image in &images {
			sink ^= hasher.hash_one(image, alg); // warm-up
		}
		let start = Instant::now();
		for _ in 0..rounds {
			for image in &images {
				sink ^= hasher.hash_one(std::hint::black_box(image), alg);
			}
		}
		let per_image = start.elapsed().as_secs_f64() * 1e3 / (rounds as f64 * images.len() as f64);
		println!("{:?} {per_image:.4} {sink:016x}", alg);
	}
	Ok(())
}
