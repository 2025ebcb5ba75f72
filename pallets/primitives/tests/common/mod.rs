//! Builders shared by the integration tests.
#![allow(dead_code)]

use replica_primitives::*;

/// An image payload with one image per entry of `images`; each image carries the given
/// `(algorithm, hash)` pairs.
pub fn image(images: &[&[(HashAlg, u64)]]) -> ResultPayload {
	let results: Vec<ImageResult> = images
		.iter()
		.map(|hashes| {
			let mut h = ImageHashes::default();
			for (alg, v) in *hashes {
				h.set(*alg, *v);
			}
			ImageResult { hashes: h, png_digest: digest(&v_bytes(hashes)) }
		})
		.collect();
	ResultPayload::Image(results.try_into().expect("at most MAX_IMAGES"))
}

fn v_bytes(hashes: &[(HashAlg, u64)]) -> Vec<u8> {
	hashes.iter().flat_map(|(_, v)| v.to_le_bytes()).collect()
}

/// A one-image payload with only an aHash.
pub fn ahash(v: u64) -> ResultPayload {
	image(&[&[(HashAlg::Average, v)]])
}

pub fn text(tokens: &[u32], s: &str) -> ResultPayload {
	use codec::Encode;
	ResultPayload::Text(TextResult {
		tokens_digest: digest(&tokens.to_vec().encode()),
		text: s.as_bytes().to_vec().try_into().unwrap(),
	})
}

pub fn ahash_tolerance(t: u8) -> Tolerances {
	Tolerances::of(&[(HashAlg::Average, t)])
}
