"""How much does checksum verification cost when an artifact is loaded?

Builds a 200 MB artifact (the size of a cpu-profile token shard set) in a temporary store and
prints the time to verify it, cold (full SHA-256) and warm (same process: file signatures
unchanged), as ratios against simply reading the same bytes from disk in this run.

    python benchmarks/bench_artifacts.py [--mb 200]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from minillm import artifacts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    registry: dict = {}

    @artifacts.register("shards", config=lambda profile: {"mb": args.mb}, registry=registry)
    def build(out_dir, config, inputs):
        rng = np.random.default_rng(0)
        for i in range(4):
            rng.integers(0, 50_000, size=config["mb"] * 2**20 // 8, dtype=np.uint16).tofile(
                out_dir / f"shard_{i}.bin")
        return {}

    with tempfile.TemporaryDirectory() as tmp:
        store = artifacts.ArtifactStore("smoke", root=Path(tmp), builders=registry, verbose=False)
        art = store.get("shards")
        files = sorted(art.path.glob("*.bin"))

        start = time.perf_counter()
        total = sum(len(f.read_bytes()) for f in files)
        read_s = time.perf_counter() - start

        cold = artifacts.ArtifactStore("smoke", root=Path(tmp), builders=registry, verbose=False)
        start = time.perf_counter()
        assert cold.verify("shards") == (True, "ok")
        cold_s = time.perf_counter() - start

        start = time.perf_counter()
        assert cold.verify("shards") == (True, "ok")
        warm_s = time.perf_counter() - start

    print(f"artifact of {total / 2**20:.0f} MB in {len(files)} files")
    print(f"read the bytes (reference): {read_s * 1e3:8.1f} ms")
    print(f"verify, cold (sha256):      {cold_s * 1e3:8.1f} ms   ratio to read {cold_s / read_s:5.2f}x")
    print(f"verify, warm (signature):   {warm_s * 1e3:8.1f} ms   ratio to read {warm_s / read_s:7.4f}x")


if __name__ == "__main__":
    main()
