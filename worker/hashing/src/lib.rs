//! Perceptual hashes of generated images, in exactly the types the chain compares
//! ([`replica_primitives::ImageHashes`]).
//!
//! Honest workers on different machines must get the same 64 bits from the same image, so
//! every step that touches pixels is integer arithmetic, identical on every CPU:
//!
//! 1. **One integer pass** over the RGB image box-averages it down to the small thumbnail the
//!    algorithm needs (each source pixel falls into exactly one cell; cells differ in size by
//!    at most one row or column) and converts to grey (BT.601 weights 77/150/29 of 256).
//!    Resizing the full image is what makes hashing slow; this pass reads each byte once, in
//!    a contiguous widening add that vectorises (see `box_sums`).
//! 2. **`image_hasher`** hashes the thumbnail, which already has its target size, so its own
//!    resize (nearest-neighbour) copies it unchanged:
//!    - aHash ([`HashAlg::Average`]): 8x8 thumbnail, a bit per pixel at or above the mean;
//!    - pHash ([`HashAlg::Perceptual`]): 16x16 thumbnail, 2-D DCT-II, a bit per coefficient of
//!      the lowest 8x8 frequencies at or above their median (the median, unlike the mean, is
//!      not dominated by the DC term; the DCT of a 16x16 grid of small integers in `f32` is
//!      scalar code, the same on every CPU — the golden vectors check it);
//!    - dHash ([`HashAlg::Difference`]): 9x8 thumbnail, a bit per horizontal gradient sign.
//! 3. The **colour hash** ([`HashAlg::Colour`]) is ours: the image box-averaged to 32x32 RGB
//!    cells, each classed as dark, unsaturated, or one of six hue sectors (by the order of its
//!    channels); each class's share of the cells is a level 0..=8 written as a thermometer code
//!    in one byte. The Hamming distance of two colour hashes is then the sum of the changes of
//!    the eight shares, in eighths.
//!
//! Golden vectors (`worker/tests/golden/`) pin every hash of committed PNGs.

use image::{GrayImage, RgbImage};
use image_hasher::{FilterType, HashAlg as HasherAlg, Hasher, HasherConfig};
use replica_primitives::{HashAlg, HashAlgs, ImageHashes};

/// Errors of reading an image to hash.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
	/// The bytes are not a PNG this crate can decode.
	#[error("not a decodable PNG: {0}")]
	Decode(#[from] image::ImageError),
	/// An image with no pixels has no hash.
	#[error("the image is empty ({width}x{height})")]
	Empty { width: u32, height: u32 },
}

/// Hashes images with the algorithms of [`replica_primitives::HashAlg`]. Build once, reuse:
/// it holds the DCT plan.
pub struct ImageHasher {
	average: Hasher<[u8; 8]>,
	perceptual: Hasher<[u8; 8]>,
	difference: Hasher<[u8; 8]>,
}

impl Default for ImageHasher {
	fn default() -> Self {
		Self::new()
	}
}

/// Thumbnail sizes (width, height) each algorithm hashes.
const AVERAGE_SIZE: (u32, u32) = (8, 8);
const PERCEPTUAL_SIZE: (u32, u32) = (16, 16);
const DIFFERENCE_SIZE: (u32, u32) = (9, 8);
/// Cells per side of the colour hash's grid.
const COLOUR_GRID: u32 = 32;

impl ImageHasher {
	pub fn new() -> Self {
		// Nearest-neighbour at the same size is an exact copy: the thumbnail passes unchanged.
		let config = || HasherConfig::with_bytes_type::<[u8; 8]>().hash_size(8, 8).resize_filter(FilterType::Nearest);
		Self {
			average: config().hash_alg(HasherAlg::Mean).to_hasher(),
			perceptual: config().hash_alg(HasherAlg::Median).preproc_dct().to_hasher(),
			difference: config().hash_alg(HasherAlg::Gradient).to_hasher(),
		}
	}

	/// The hashes of `algs` of one image; the others are `None`.
	pub fn hash(&self, image: &RgbImage, algs: HashAlgs) -> Result<ImageHashes, HashError> {
		check_not_empty(image)?;
		let mut hashes = ImageHashes::default();
		for alg in algs.iter() {
			hashes.set(alg, self.hash_one(image, alg));
		}
		Ok(hashes)
	}

	/// Decodes a PNG and hashes it.
	pub fn hash_png(&self, png: &[u8], algs: HashAlgs) -> Result<ImageHashes, HashError> {
		let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)?.to_rgb8();
		self.hash(&image, algs)
	}

	/// One algorithm's hash of a non-empty image.
	pub fn hash_one(&self, image: &RgbImage, alg: HashAlg) -> u64 {
		match alg {
			HashAlg::Average => hash_thumbnail(&self.average, image, AVERAGE_SIZE),
			HashAlg::Perceptual => hash_thumbnail(&self.perceptual, image, PERCEPTUAL_SIZE),
			HashAlg::Difference => hash_thumbnail(&self.difference, image, DIFFERENCE_SIZE),
			HashAlg::Colour => colour_hash(image),
		}
	}
}

fn check_not_empty(image: &RgbImage) -> Result<(), HashError> {
	let (width, height) = image.dimensions();
	if width == 0 || height == 0 {
		return Err(HashError::Empty { width, height });
	}
	Ok(())
}

fn hash_thumbnail(hasher: &Hasher<[u8; 8]>, image: &RgbImage, (width, height): (u32, u32)) -> u64 {
	let thumbnail = grey_thumbnail(image, width, height);
	let bytes: [u8; 8] = hasher.hash_image(&thumbnail).as_bytes().try_into().expect("an 8x8 hash has 8 bytes");
	u64::from_be_bytes(bytes)
}

/// The source range of cell `i` of `cells` over `len` pixels: a partition when `len >= cells`,
/// nearest pixel otherwise.
fn cell_bounds(i: u32, cells: u32, len: u32) -> (usize, usize) {
	let start = (i as u64 * len as u64 / cells as u64) as usize;
	let end = ((i as u64 + 1) * len as u64 / cells as u64) as usize;
	(start, end.max(start + 1))
}

/// Per-channel pixel sums and pixel counts of each cell of a `cols` x `rows` grid over the
/// image, row-major.
///
/// Rows of a cell are first added column by column into `u16` lanes (at most 257 rows of
/// bytes fit; longer cells flush into `u32`) — a contiguous widening add the compiler
/// vectorises — and only then split into cells and channels. Reading each byte once is what
/// makes the hashes fast; everything is integer, so the sums are exact.
fn box_sums(image: &RgbImage, cols: u32, rows: u32) -> Vec<([u64; 3], u64)> {
	const ROWS_PER_U16: usize = 257; // 257 * 255 = 65535
	let (src_width, src_height) = image.dimensions();
	let raw: &[u8] = image.as_raw();
	let stride = src_width as usize * 3;
	let columns: Vec<(usize, usize)> = (0..cols).map(|x| cell_bounds(x, cols, src_width)).collect();
	let mut narrow = vec![0u16; stride];
	let mut wide = vec![0u32; stride];
	let mut out = Vec::with_capacity((cols * rows) as usize);
	for y in 0..rows {
		let (y0, y1) = cell_bounds(y, rows, src_height);
		wide.fill(0);
		for group in raw[y0 * stride..y1 * stride].chunks(stride * ROWS_PER_U16) {
			narrow.fill(0);
			for row in group.chunks_exact(stride) {
				// Cannot overflow (ROWS_PER_U16); wrapping keeps overflow checks out of the loop.
				for (sum, &byte) in narrow.iter_mut().zip(row) {
					*sum = sum.wrapping_add(byte as u16);
				}
			}
			for (sum, &part) in wide.iter_mut().zip(&narrow) {
				*sum = sum.wrapping_add(part as u32);
			}
		}
		let height = (y1 - y0) as u64;
		for &(x0, x1) in &columns {
			let mut sums = [0u64; 3];
			for px in wide[x0 * 3..x1 * 3].chunks_exact(3) {
				for c in 0..3 {
					sums[c] += px[c] as u64;
				}
			}
			out.push((sums, height * (x1 - x0) as u64));
		}
	}
	out
}

/// Grey (BT.601, integer) box-averaged thumbnail of `width` x `height`: the rounded mean of
/// `(77 R + 150 G + 29 B) / 256` over each cell (the same as greying each pixel first, since
/// the sum is linear).
pub fn grey_thumbnail(image: &RgbImage, width: u32, height: u32) -> GrayImage {
	let grey = box_sums(image, width, height)
		.into_iter()
		.map(|([r, g, b], count)| {
			let weight = count * 256;
			((77 * r + 150 * g + 29 * b + weight / 2) / weight) as u8
		})
		.collect();
	GrayImage::from_raw(width, height, grey).expect("width * height values")
}

/// RGB box-averaged to `cells` x `cells`, as rounded integer means.
fn rgb_cells(image: &RgbImage, cells: u32) -> Vec<[u8; 3]> {
	box_sums(image, cells, cells)
		.into_iter()
		.map(|(sums, count)| sums.map(|s| ((s + count / 2) / count) as u8))
		.collect()
}

/// The colour class of one averaged cell: 0 dark, 1 unsaturated, 2..=7 a hue sector.
fn colour_class([r, g, b]: [u8; 3]) -> usize {
	let max = r.max(g).max(b) as u32;
	let min = r.min(g).min(b) as u32;
	if max < 48 {
		return 0;
	}
	// Saturation (max - min) / max below 1/4.
	if (max - min) * 4 < max {
		return 1;
	}
	// The six orderings of the channels are the six hue sectors of 60 degrees.
	2 + match (r >= g, g >= b, r >= b) {
		(true, true, _) => 0,      // r >= g >= b: red to yellow
		(false, _, true) => 1,     // g > r >= b: yellow to green
		(false, true, false) => 2, // g >= b > r: green to cyan
		(false, false, _) => 3,    // b > g > r: cyan to blue
		(true, false, false) => 4, // b > r >= g: blue to magenta
		(true, false, true) => 5,  // r >= b > g: magenta to red
	}
}

/// The colour hash (see the module docs): eight classes, one thermometer-coded byte each.
pub fn colour_hash(image: &RgbImage) -> u64 {
	let cells = rgb_cells(image, COLOUR_GRID);
	let mut counts = [0u32; 8];
	for cell in cells.iter() {
		counts[colour_class(*cell)] += 1;
	}
	let total = cells.len() as u32;
	counts.iter().enumerate().fold(0u64, |hash, (class, &count)| {
		// The share in eighths, rounded: 0..=8 ones, from the low bit up.
		let level = (count * 8 + total / 2) / total;
		let byte = ((1u16 << level) - 1) as u64;
		hash | byte << (8 * (7 - class))
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use replica_primitives::voting::hamming;

	fn solid(width: u32, height: u32, rgb: [u8; 3]) -> RgbImage {
		RgbImage::from_pixel(width, height, image::Rgb(rgb))
	}

	#[test]
	fn cells_partition_the_source_or_take_the_nearest_pixel() {
		let cover: Vec<_> = (0..3).map(|i| cell_bounds(i, 3, 10)).collect();
		assert_eq!(cover, [(0, 3), (3, 6), (6, 10)]);
		let up: Vec<_> = (0..4).map(|i| cell_bounds(i, 4, 2)).collect();
		assert_eq!(up, [(0, 1), (0, 1), (1, 2), (1, 2)]);
	}

	#[test]
	fn the_grey_thumbnail_is_the_rounded_mean_of_bt601_grey() {
		let mut image = solid(4, 2, [0, 0, 0]);
		image.put_pixel(0, 0, image::Rgb([255, 255, 255]));
		image.put_pixel(3, 1, image::Rgb([255, 0, 0]));
		let thumb = grey_thumbnail(&image, 2, 1);
		// Left cell: one white pixel of four; right: one red pixel (77/256 of 255) of four.
		assert_eq!(thumb.as_raw(), &vec![64, 19]);
		assert_eq!(grey_thumbnail(&solid(3, 3, [10, 200, 30]), 9, 8).as_raw().len(), 72);
	}

	#[test]
	fn colour_classes_cover_dark_grey_and_six_hue_sectors() {
		assert_eq!(colour_class([10, 20, 30]), 0);
		assert_eq!(colour_class([200, 190, 180]), 1);
		let sectors: Vec<_> = [[250, 120, 10], [120, 250, 10], [10, 250, 120], [10, 120, 250], [120, 10, 250], [250, 10, 120]]
			.into_iter()
			.map(colour_class)
			.collect();
		assert_eq!(sectors, [2, 3, 4, 5, 6, 7]);
	}

	#[test]
	fn colour_hash_distance_counts_eighths_of_change() {
		let red = colour_hash(&solid(64, 64, [250, 10, 10]));
		assert_eq!(red, 0x0000_FF00_0000_0000);
		let mut half = solid(64, 64, [250, 10, 10]);
		for y in 0..64 {
			for x in 32..64 {
				half.put_pixel(x, y, image::Rgb([10, 10, 250]));
			}
		}
		// Half the red moved to blue: -4 eighths of red, +4 of blue.
		assert_eq!(hamming(red, colour_hash(&half)), 8);
	}

	#[test]
	fn empty_images_and_bad_png_are_typed_errors() {
		let hasher = ImageHasher::new();
		assert!(matches!(hasher.hash(&RgbImage::new(0, 5), HashAlgs::ALL), Err(HashError::Empty { width: 0, height: 5 })));
		assert!(matches!(hasher.hash_png(b"not a png", HashAlgs::ALL), Err(HashError::Decode(_))));
	}

	#[test]
	fn only_requested_algorithms_are_hashed() {
		let hasher = ImageHasher::new();
		let algs = HashAlgs::of(&[HashAlg::Average, HashAlg::Colour]);
		let hashes = hasher.hash(&solid(16, 16, [1, 2, 3]), algs).unwrap();
		assert!(hashes.get(HashAlg::Average).is_some());
		assert!(hashes.get(HashAlg::Perceptual).is_none());
		assert!(hashes.get(HashAlg::Difference).is_none());
		assert!(hashes.get(HashAlg::Colour).is_some());
	}
}
