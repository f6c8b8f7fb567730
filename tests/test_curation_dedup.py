"""Exact and near-duplicate detection: MinHash estimates against exact Jaccard, LSH candidate
rates against the theoretical S-curve, and one survivor per duplicate cluster."""

import random

import numpy as np
import pytest

from minillm.curation import dedup, minhash
from minillm.data.tinyworld import make_world
from minillm.data.tinyworld.crawl import CrawlConfig, jaccard, make_crawl, word_shingles


def random_text(rng, n_words=120):
    vocab = [f"word{i}" for i in range(3000)]
    return " ".join(rng.choice(vocab) for _ in range(n_words))


def edit(text, rng, n_edits):
    words = text.split()
    for _ in range(n_edits):
        k = rng.randrange(len(words))
        words[k] = f"edit{rng.randrange(10**6)}"
    return " ".join(words)


@pytest.fixture(scope="module")
def crawl_docs():
    return make_crawl(make_world(0), CrawlConfig(n_docs=400, seed=0))


# --- exact -----------------------------------------------------------------------------------

def test_exact_duplicates_keep_the_first_of_each_group():
    texts = ["a b c", "x", "A  b c", "x", "y", "a b c "]
    assert dedup.duplicate_of(texts) == [-1, -1, 0, 1, -1, 0]
    assert dedup.duplicate_of([]) == []


def test_frequent_lines_are_removed_from_all_but_the_first_page():
    pages = [f"Story {i} begins here.\nShare this: Facebook Twitter" for i in range(5)]
    frequent = dedup.frequent_lines(pages, max_docs_per_line=3)
    assert frequent == {dedup.normalized_key("Share this: Facebook Twitter")}
    cleaned = dedup.remove_lines(pages, frequent)
    assert cleaned[0] == (pages[0], [])
    for i, (text, removed) in enumerate(cleaned[1:], start=1):
        assert text == f"Story {i} begins here." and removed == ["Share this: Facebook Twitter"]


def test_exact_dedup_on_crawl_matches_labels(crawl_docs):
    flagged = [i >= 0 for i in dedup.duplicate_of([d.clean_text for d in crawl_docs])]
    assert flagged == [bool(d.labels["exact_dup_of"]) for d in crawl_docs]


# --- MinHash -----------------------------------------------------------------------------------

def test_shingle_jaccard_equals_the_crawl_definition(crawl_docs):
    hasher = minhash.ShingleHasher(5)
    by_id = {d.id: d for d in crawl_docs}
    pairs = [(d, by_id[d.labels["near_dup_of"]]) for d in crawl_docs if d.labels["near_dup_of"]]
    assert len(pairs) >= 10
    for copy, original in pairs:
        ours = minhash.exact_jaccard(hasher(copy.clean_text), hasher(original.clean_text))
        theirs = jaccard(word_shingles(copy.clean_text), word_shingles(original.clean_text))
        assert ours == pytest.approx(theirs, abs=1e-12)
        assert ours == pytest.approx(copy.labels["near_dup_jaccard"], abs=1e-12)


def test_minhash_estimates_match_exact_jaccard():
    rng = random.Random(0)
    hasher = minhash.MinHasher(num_perm=128, seed=1)
    errors, z_squared = [], []
    for _ in range(200):
        base = random_text(rng)
        other = edit(base, rng, rng.randrange(0, 60))
        a, b = hasher.shingles(base), hasher.shingles(other)
        exact = minhash.exact_jaccard(a, b)
        sig = hasher.signatures_of_hash_lists([a, b])
        estimate = minhash.jaccard_from_signatures(sig[0], sig[1])
        errors.append(abs(estimate - exact))
        if 0.05 < exact < 0.95:
            z_squared.append((estimate - exact) ** 2 / (exact * (1 - exact) / 128))
    assert np.mean(errors) < 0.05          # the course target: within 0.05 of exact Jaccard
    assert max(errors) < 0.2
    assert 0.6 < np.mean(z_squared) < 1.5  # errors the size the binomial theory predicts


def test_signatures_are_deterministic_and_seed_dependent():
    texts = [random_text(random.Random(i)) for i in range(5)] + [""]
    first = minhash.MinHasher(64, seed=3).signatures(texts)
    again = minhash.MinHasher(64, seed=3).signatures(texts)
    other = minhash.MinHasher(64, seed=4).signatures(texts)
    assert first.dtype == np.uint32 and first.shape == (6, 64)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert np.all(first[-1] == 0xFFFFFFFF)  # the empty text


def test_chunked_signatures_equal_one_shot():
    hasher = minhash.MinHasher(32, seed=0)
    lists = [hasher.shingles(random_text(random.Random(i), 50 + i)) for i in range(20)]
    assert np.array_equal(hasher.signatures_of_hash_lists(lists, chunk=64),
                          hasher.signatures_of_hash_lists(lists, chunk=1 << 20))


# --- LSH ----------------------------------------------------------------------------------------

def make_pair(rng, jaccard_target, size=400):
    """Two sets of random hashes with Jaccard exactly common / (common + 2 * own)."""
    common = int(round(size * 2 * jaccard_target / (1 + jaccard_target)))
    own = size - common
    values = rng.choice(2**32, size=common + 2 * own, replace=False).astype(np.uint32)
    a = np.sort(np.concatenate([values[:common], values[common:common + own]]))
    b = np.sort(np.concatenate([values[:common], values[common + own:]]))
    return a, b


@pytest.mark.parametrize("bands, rows", [(16, 8), (32, 4)])
def test_lsh_candidate_rate_follows_the_s_curve(bands, rows):
    rng = np.random.default_rng(0)
    hasher = minhash.MinHasher(bands * rows, seed=5)
    n_pairs = 150
    for target in (0.3, 0.5, 0.7, 0.9):
        lists, exact = [], []
        for _ in range(n_pairs):
            a, b = make_pair(rng, target)
            lists += [a, b]
            exact.append(minhash.exact_jaccard(a, b))
        pairs = {tuple(p) for p in minhash.lsh_candidate_pairs(
            hasher.signatures_of_hash_lists(lists), bands, rows).tolist()}
        found = np.mean([(2 * k, 2 * k + 1) in pairs for k in range(n_pairs)])
        expected = float(np.mean(minhash.detection_probability(np.array(exact), bands, rows)))
        tolerance = 4 * np.sqrt(expected * (1 - expected) / n_pairs) + 0.02
        assert abs(found - expected) <= tolerance, (target, found, expected)


def test_s_curve_formula():
    assert minhash.detection_probability(0.0, 16, 8) == 0.0
    assert minhash.detection_probability(1.0, 16, 8) == 1.0
    assert minhash.detection_probability(0.5, 1, 1) == pytest.approx(0.5)
    assert minhash.detection_probability(0.8, 16, 8) == pytest.approx(1 - (1 - 0.8**8) ** 16)
    assert minhash.lsh_threshold(16, 8) == pytest.approx(16 ** (-1 / 8))


def test_config_is_checked():
    with pytest.raises(ValueError, match="exceeds num_perm"):
        minhash.MinHashConfig(num_perm=64, bands=16, rows=8)
    with pytest.raises(ValueError, match="threshold"):
        minhash.MinHashConfig(threshold=1.5)


def test_near_dedup_keeps_exactly_one_per_cluster():
    rng = random.Random(7)
    texts, cluster_of = [], []
    for cluster in range(8):
        base = random_text(rng, 200)
        for _ in range(rng.randint(1, 4)):
            texts.append(edit(base, rng, rng.randint(0, 1)))  # any two: Jaccard > 0.9
            cluster_of.append(cluster)
    order = list(range(len(texts)))
    rng.shuffle(order)
    texts = [texts[i] for i in order]
    cluster_of = [cluster_of[i] for i in order]
    found = minhash.find_near_duplicates(texts, minhash.MinHashConfig(threshold=0.8))
    for cluster in set(cluster_of):
        members = [i for i, c in enumerate(cluster_of) if c == cluster]
        kept = [i for i in members if found.duplicate_of[i] < 0]
        assert kept == [members[0]]                     # the first one, and only it
        assert all(found.duplicate_of[i] == members[0] for i in members[1:])
        assert all(found.similarity[i] >= 0.8 for i in members[1:])
    assert minhash.find_near_duplicates([], minhash.MinHashConfig()).duplicate_of == []
