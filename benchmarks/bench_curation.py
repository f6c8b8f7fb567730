"""How fast is the curation pipeline, and how fast is our numpy MinHash next to datasketch?

1. Generates a TinyWorld crawl of ``--docs`` pages (default 10,000) and runs the full pipeline
   (extraction, normalization, language ID, Gopher, stuffing, toxic, decontamination, PII, C4,
   exact and near dedup) with ``--num-proc`` workers, printing docs/s and the time per step.
   The course target is 10,000 pages in 60 s on 2 cores.
2. Computes 128-permutation MinHash signatures of the same pages with ``minillm.curation.minhash``
   (vectorized numpy) and with the ``datasketch`` package (one update per shingle batch), both
   from raw text, and prints the speed ratio and how closely their Jaccard estimates agree.

    python benchmarks/bench_curation.py [--docs 10000] [--num-proc 2]
"""

import argparse
import re
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--minhash-docs", type=int, default=3000)
    args = parser.parse_args()

    import datasets

    from minillm.curation import minhash, stage
    from minillm.data.tinyworld import make_world
    from minillm.data.tinyworld.crawl import CrawlConfig, crawl_dataset, sft_test_questions

    datasets.disable_progress_bars()
    world = make_world(0)
    crawl = crawl_dataset(world, CrawlConfig(n_docs=args.docs, seed=0))
    questions = [q for q, _ in sft_test_questions(world)]
    config = stage.tinyworld_config(num_proc=args.num_proc)

    start = time.perf_counter()
    result = stage.curate(crawl, config, questions)
    seconds = time.perf_counter() - start
    print(f"pipeline: {args.docs:,} crawl pages -> {len(result.dataset):,} kept in {seconds:.1f} s "
          f"with num_proc={args.num_proc}: {args.docs / seconds:,.0f} docs/s "
          f"(target: 10,000 pages in <= 60 s on 2 cores)")
    stats = result.stats_frame()
    print(stats[["step", "docs_in", "docs_out", "seconds"]].to_string(index=False))

    from datasketch import MinHash

    texts = [t for t in crawl["clean_text"][: args.minhash_docs]]
    start = time.perf_counter()
    ours = minhash.MinHasher(128, seed=0).signatures(texts)
    ours_seconds = time.perf_counter() - start

    start = time.perf_counter()
    theirs = []
    for text in texts:
        words = re.findall(r"\w+", text.lower())
        n = min(5, len(words))
        shingles = {" ".join(words[i:i + n]).encode() for i in range(len(words) - n + 1)}
        sketch = MinHash(num_perm=128, seed=0)
        sketch.update_batch(list(shingles))
        theirs.append(sketch)
    theirs_seconds = time.perf_counter() - start
    print(f"minhash (128 perms, {len(texts):,} pages, from raw text): minillm {ours_seconds:.2f} s, "
          f"datasketch {theirs_seconds:.2f} s -> minillm is {theirs_seconds / ours_seconds:.1f}x "
          "the speed of datasketch")

    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(texts), size=(500, 2))
    difference = [abs(minhash.jaccard_from_signatures(ours[i], ours[j]) - theirs[i].jaccard(theirs[j]))
                  for i, j in pairs]
    print(f"Jaccard estimates of 500 random pairs: mean |minillm - datasketch| = "
          f"{np.mean(difference):.4f}")


if __name__ == "__main__":
    main()
