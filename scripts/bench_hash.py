#!/usr/bin/env python3
"""Helper of scripts/bench-hash.sh: makes the benchmark images and times Python imagehash.

  bench_hash.py generate DIR N          N deterministic 512x512 RGB PNGs (smooth fields + noise)
  bench_hash.py compare DIR ROUNDS RUST  times imagehash on the same images, in memory, and
                                         prints it beside the Rust times (file RUST) with ratios
"""
import sys
import time

import imagehash
import numpy as np
from PIL import Image


def generate(directory, count):
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:512, 0:512] / 512.0
    for i in range(count):
        a, b, c = rng.uniform(1, 6, size=3)
        field = np.stack(
            [np.sin(xx * a + yy * b + i), np.cos(xx * b - yy * c), np.sin((xx + yy) * c + a)], axis=-1
        )
        noise = rng.normal(0, 0.08, size=field.shape)
        rgb = ((field + noise) * 0.5 + 0.5).clip(0, 1) * 255
        Image.fromarray(rgb.astype(np.uint8), "RGB").save(f"{directory}/{i:03}.png")


PYTHON = {
    "Average": ("aHash", imagehash.average_hash),
    "Perceptual": ("pHash", imagehash.phash),
    "Difference": ("dHash", imagehash.dhash),
    "Colour": ("colour hash", imagehash.colorhash),
}


def compare(directory, rounds, rust_file):
    import glob

    images = []
    for path in sorted(glob.glob(f"{directory}/*.png")):
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    rust = {}
    for line in open(rust_file):
        alg, ms, _ = line.split()
        rust[alg] = float(ms)
    rounds = max(1, rounds // 4)  # Python is slower; fewer rounds keep the run short
    print(f"{len(images)} images of 512x512 RGB, in memory; time per image")
    print(f"{'hash':<12} {'imagehash (ms)':>15} {'replica (ms)':>13} {'speed-up':>9}")
    for alg, (label, function) in PYTHON.items():
        for image in images:
            function(image)  # warm-up
        start = time.perf_counter()
        for _ in range(rounds):
            for image in images:
                function(image)
        python_ms = (time.perf_counter() - start) * 1e3 / (rounds * len(images))
        print(f"{label:<12} {python_ms:>15.3f} {rust[alg]:>13.4f} {python_ms / rust[alg]:>8.1f}x")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)
