#!/usr/bin/env python3
"""Golden vectors of Replica's perceptual hashes, computed independently of the Rust code.

Writes `worker/tests/golden/*.png` (deterministic images: smooth, sharp-edged, noisy, an odd
size, one smaller than every thumbnail) and `worker/tests/golden/hashes.json`, the four 64-bit
hashes of each as `worker/src/hashing.rs` defines them, computed here with numpy from the
definitions (integer grey/box thumbnails, image_hasher's bit packing, a float64 DCT-II).
`worker/tests/hashing.rs` checks that the Rust hashes equal these, so a change in any
dependency, CPU or compiler that moves one bit fails a test.

Usage: python3 scripts/hash-vectors.py   (needs numpy and Pillow)
"""
import json
import pathlib

import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parent.parent / "worker" / "tests" / "golden"


def cell_bounds(i, cells, length):
    start = i * length // cells
    end = (i + 1) * length // cells
    return start, max(end, start + 1)


def grey_thumbnail(rgb, width, height):
    """BT.601 grey (77/150/29 of 256), box-averaged with rounding, as integers."""
    h, w, _ = rgb.shape
    grey = rgb[:, :, 0].astype(np.int64) * 77 + rgb[:, :, 1].astype(np.int64) * 150 + rgb[:, :, 2].astype(np.int64) * 29
    out = np.zeros((height, width), dtype=np.int64)
    for ty in range(height):
        y0, y1 = cell_bounds(ty, height, h)
        for tx in range(width):
            x0, x1 = cell_bounds(tx, width, w)
            weight = (y1 - y0) * (x1 - x0) * 256
            out[ty, tx] = (int(grey[y0:y1, x0:x1].sum()) + weight // 2) // weight
    return out


def pack(bits):
    """image_hasher's LsbFirst packing of 64 bools into 8 bytes, read as a big-endian u64."""
    data = bytearray(8)
    for i, bit in enumerate(bits):
        if bit:
            data[i // 8] |= 1 << (i % 8)
    return int.from_bytes(bytes(data), "big")


def average_hash(rgb):
    thumb = grey_thumbnail(rgb, 8, 8).flatten()
    mean = int(thumb.sum()) // 64
    return pack(thumb >= mean)


def difference_hash(rgb):
    thumb = grey_thumbnail(rgb, 9, 8)
    return pack((thumb[:, :-1] < thumb[:, 1:]).flatten())


def perceptual_hash(rgb):
    thumb = grey_thumbnail(rgb, 16, 16).astype(np.float64)
    n = 16
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    basis = np.cos(np.pi / n * (x + 0.5) * k)  # unnormalised DCT-II, as rustdct computes it
    dct = basis @ thumb @ basis.T
    low = dct[:8, :8].flatten()
    return pack(low >= np.median(low))


def colour_class(r, g, b):
    mx, mn = max(r, g, b), min(r, g, b)
    if mx < 48:
        return 0
    if (mx - mn) * 4 < mx:
        return 1
    if r >= g and g >= b:
        return 2
    if r < g and r >= b:
        return 3
    if r < g and g >= b and r < b:
        return 4
    if r < g and g < b:
        return 5
    if r >= g and g < b and r < b:
        return 6
    return 7


def colour_hash(rgb):
    h, w, _ = rgb.shape
    counts = [0] * 8
    for ty in range(32):
        y0, y1 = cell_bounds(ty, 32, h)
        for tx in range(32):
            x0, x1 = cell_bounds(tx, 32, w)
            count = (y1 - y0) * (x1 - x0)
            block = rgb[y0:y1, x0:x1].reshape(-1, 3).astype(np.int64).sum(axis=0)
            r, g, b = ((int(s) + count // 2) // count for s in block)
            counts[colour_class(r, g, b)] += 1
    value = 0
    for cls, count in enumerate(counts):
        level = (count * 8 + 512) // 1024
        value |= ((1 << level) - 1) << (8 * (7 - cls))
    return value


def images():
    rng = np.random.default_rng(20261122)
    yy, xx = np.mgrid[0:256, 0:256]
    smooth = np.stack([xx, yy, 255 - (xx + yy) // 2], axis=-1).astype(np.uint8)
    yield "smooth_256x256", smooth

    shapes = np.full((201, 333, 3), (30, 60, 200), dtype=np.uint8)
    yy, xx = np.mgrid[0:201, 0:333]
    shapes[(xx - 100) ** 2 + (yy - 90) ** 2 < 60**2] = (240, 200, 20)
    shapes[(yy > 130) & (xx > 180) & (xx < 300)] = (20, 180, 40)
    shapes[10:40, 220:320] = (250, 250, 250)
    yield "shapes_333x201", shapes

    yield "noise_64x64", rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)

    yield "tiny_7x5", rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)

    # A digit-like stroke on black, as the embedded digits model draws them.
    digit = np.zeros((64, 64, 3), dtype=np.uint8)
    digit[10:16, 14:50] = 255
    for y in range(16, 56):
        x = 46 - (y - 16) * 22 // 40
        digit[y, x - 3 : x + 3] = 255
    yield "digit_64x64", digit


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    vectors = {}
    for name, rgb in images():
        Image.fromarray(rgb, "RGB").save(OUT / f"{name}.png", optimize=True)
        # Hash what was written, decoded again, exactly as the Rust test reads it.
        decoded = np.asarray(Image.open(OUT / f"{name}.png").convert("RGB"))
        assert (decoded == rgb).all()
        vectors[f"{name}.png"] = {
            "average": f"{average_hash(rgb):016x}",
            "perceptual": f"{perceptual_hash(rgb):016x}",
            "difference": f"{difference_hash(rgb):016x}",
            "colour": f"{colour_hash(rgb):016x}",
        }
    (OUT / "hashes.json").write_text(json.dumps(vectors, indent=2, sort_keys=True) + "\n")
    print(json.dumps(vectors, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
