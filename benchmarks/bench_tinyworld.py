"""How fast is TinyWorld generated, against the issue's budgets and against gzip?

Prints the seconds to stream 1 MB and 20 MB of train text (budgets: 5 s and 60 s on 2 cores),
the richness figures of the first 10 MB, and, as a reference measured in the same run, the
time gzip -6 takes to compress the same text (a C-speed pass over the same bytes).

    python benchmarks/bench_tinyworld.py [--mb 20]
"""

import argparse
import gzip
import time

from minillm.data.tinyworld import make_world
from minillm.data.tinyworld.corpus import corpus_stats, iter_documents, template_shares

BUDGET_SECONDS = {1: 5.0, 20: 60.0}


def generate(world, megabytes: int) -> tuple[list, float]:
    start = time.perf_counter()
    docs = list(iter_documents(world, split="train", seed=0, n_bytes=megabytes * 1_000_000))
    return docs, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=20)
    args = parser.parse_args()
    start = time.perf_counter()
    world = make_world(0)
    print(f"world: {len(world.entities)} entities, {len(world.facts())} facts "
          f"in {time.perf_counter() - start:.2f} s")
    for megabytes in sorted({1, max(args.mb, 10)}):
        docs, seconds = generate(world, megabytes)
        text = "\n".join(d.text for d in docs).encode()
        start = time.perf_counter()
        gzip.compress(text, 6)
        gzip_seconds = time.perf_counter() - start
        line = (f"{megabytes:3d} MB: {seconds:6.2f} s ({len(text) / 1e6 / seconds:5.2f} MB/s); "
                f"gzip of the same bytes {gzip_seconds:5.2f} s, ratio generate/gzip {seconds / gzip_seconds:5.1f}x")
        if megabytes in BUDGET_SECONDS:
            line += f"; {seconds / BUDGET_SECONDS[megabytes]:.2f} of the {BUDGET_SECONDS[megabytes]:.0f} s budget"
        print(line)
    cut, total = [], 0
    for d in docs:
        total += len(d.text.encode())
        if total > 10_000_000:
            break
        cut.append(d)
    stats = corpus_stats(d.text for d in cut)
    shares = template_shares(cut)
    print(f"first 10 MB: {stats['word_types']} word types (target >= 3000), gzip ratio "
          f"{stats['gzip_ratio']} (target <= 5.0), {len(shares)} templates, largest share "
          f"{100 * next(iter(shares.values())):.2f}% (target <= 2%)")


if __name__ == "__main__":
    main()
