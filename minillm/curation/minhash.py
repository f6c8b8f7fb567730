"""Near-duplicate detection with MinHash and locality-sensitive hashing, in vectorized numpy.

**Shingles.** A document becomes the set of its word ``n``-grams (lowercased ``\\w+`` words).
Two documents' similarity is the Jaccard index of their shingle sets, |A ∩ B| / |A ∪ B|.

**MinHash** (Broder, 1997). Apply a random hash function h to every shingle and keep the
minimum. For a random h, P[min h(A) = min h(B)] = J(A, B): the two minima agree exactly when
the smallest shingle of A ∪ B lies in A ∩ B. With ``num_perm`` independent hash functions the
share of agreeing minima estimates J with standard error sqrt(J(1-J)/num_perm). Our hash
functions are h(x) = ((a·x + b) mod 2^64) >> 32 for random odd a and random b (Dietzfelbinger's
multiply-add-shift), computed for all shingles and all functions at once as a numpy matrix.

**LSH** (Indyk & Motwani, 1998). Cut each signature into ``bands`` bands of ``rows`` values;
two documents become a *candidate pair* if all rows of at least one band agree. That happens
with probability 1 - (1 - J^rows)^bands: an S-curve that is near 0 for dissimilar pairs and
near 1 for similar ones, steepest around (1/bands)^(1/rows). Candidates are then checked with
their exact Jaccard, so LSH costs recall only, never precision.

    >>> hasher = MinHasher(num_perm=128, seed=0)
    >>> a = "the quick brown fox jumps over the lazy dog near the river bank today"
    >>> b = "the quick brown fox jumps over the lazy dog near the river bank tonight"
    >>> sig = hasher.signatures([a, b])
    >>> abs(jaccard_from_signatures(sig[0], sig[1]) - 9 / 11) < 0.1   # exact Jaccard: 9/11
    True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"\w+")
_MAX = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True)
class MinHashConfig:
    shingle_size: int = 5
    num_perm: int = 128
    bands: int = 16
    rows: int = 8
    threshold: float = 0.7       # exact Jaccard a candidate pair needs to count as near-duplicate
    seed: int = 0

    def __post_init__(self):
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = "
                             f"{self.num_perm}; lower bands or rows, or raise num_perm")
        if min(self.shingle_size, self.num_perm, self.bands, self.rows) < 1:
            raise ValueError("shingle_size, num_perm, bands and rows must all be >= 1")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold is a Jaccard similarity in [0, 1], got {self.threshold}")


def detection_probability(jaccard, bands: int, rows: int):
    """P(a pair with this Jaccard becomes an LSH candidate) = 1 - (1 - J^rows)^bands."""
    return 1.0 - (1.0 - np.asarray(jaccard, dtype=float) ** rows) ** bands


def lsh_threshold(bands: int, rows: int) -> float:
    """Where the S-curve is steepest, approximately: (1/bands)^(1/rows)."""
    return (1.0 / bands) ** (1.0 / rows)


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class ShingleHasher:
    """Text -> sorted unique uint32 hashes of its word n-grams (same text, same hashes, always)."""

    def __init__(self, shingle_size: int = 5):
        self.shingle_size = shingle_size
        self._cache: dict[str, int] = {}

    def word_ids(self, words: list[str]) -> np.ndarray:
        cache = self._cache
        out = np.empty(len(words), dtype=np.uint64)
        for i, word in enumerate(words):
            value = cache.get(word)
            if value is None:
                value = cache[word] = _word_hash(word)
            out[i] = value
        return out

    def __call__(self, text: str) -> np.ndarray:
        words = _WORD.findall(text.lower())
        if not words:
            return np.empty(0, dtype=np.uint32)
        ids = self.word_ids(words)
        n = min(self.shingle_size, len(ids))  # a text shorter than n words is one shingle
        count = len(ids) - n + 1
        combined = np.zeros(count, dtype=np.uint64)
        for offset in range(n):  # polynomial combination of the n word hashes, mod 2^64
            combined = combined * np.uint64(0x100000001B3) + ids[offset:offset + count]
        return np.unique((combined >> np.uint64(32)) ^ (combined & _MAX)).astype(np.uint32)


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two sorted unique hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def jaccard_from_signatures(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    return float(np.mean(sig_a == sig_b))


class MinHasher:
    """``num_perm`` hash functions h(x) = ((a x + b) mod 2^64) >> 32, fixed by ``seed``."""

    def __init__(self, num_perm: int = 128, seed: int = 0, shingle_size: int = 5):
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self.b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
        self.shingles = ShingleHasher(shingle_size)

    def signature_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        return self.signatures_of_hash_lists([hashes])[0]

    def signatures_of_hash_lists(self, hash_lists: Sequence[np.ndarray], chunk: int = 1 << 16) -> np.ndarray:
        """(n_docs, num_perm) uint32 signatures; an empty document gets all 0xFFFFFFFF."""
        n_docs = len(hash_lists)
        signatures = np.full((n_docs, self.num_perm), 0xFFFFFFFF, dtype=np.uint32)
        lengths = np.array([len(h) for h in hash_lists], dtype=np.int64)
        start = 0
        while start < n_docs:  # chunks of whole documents, about `chunk` shingles each
            stop, total = start, 0
            while stop < n_docs and (total == 0 or total + lengths[stop] <= chunk):
                total += lengths[stop]
                stop += 1
            docs = [i for i in range(start, stop) if lengths[i] > 0]
            if docs:
                flat = np.concatenate([hash_lists[i] for i in docs]).astype(np.uint64)
                hashed = (flat[None, :] * self.a[:, None] + self.b[:, None]) >> np.uint64(32)
                offsets = np.concatenate(([0], np.cumsum(lengths[docs])[:-1]))
                signatures[docs] = np.minimum.reduceat(hashed, offsets, axis=1).T.astype(np.uint32)
            start = stop
        return signatures

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        return self.signatures_of_hash_lists([self.shingles(t) for t in texts])


def lsh_candidate_pairs(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n_pairs, 2) int array of document pairs i < j that share at least one band bucket."""
    n_docs = signatures.shape[0]
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"bands x rows = {bands * rows} needs signatures of at least that length, "
                         f"got {signatures.shape[1]}")
    empty = np.all(signatures == np.uint32(0xFFFFFFFF), axis=1)  # empty documents match nothing
    pairs = []
    for band in range(bands):
        block = signatures[:, band * rows:(band + 1) * rows].astype(np.uint64)
        key = np.zeros(n_docs, dtype=np.uint64)
        for column in block.T:  # a 64-bit fingerprint of the band's rows
            key = key * np.uint64(0x9E3779B97F4A7C15) + column
        key[empty] = np.arange(empty.sum(), dtype=np.uint64) + np.uint64(band) * np.uint64(n_docs)
        order = np.argsort(key, kind="stable")
        sorted_keys = key[order]
        boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
        for group in np.split(order, boundaries):
            if len(group) > 1 and not empty[group[0]]:
                group = np.sort(group)
                i, j = np.triu_indices(len(group), k=1)
                pairs.append(np.stack([group[i], group[j]], axis=1))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(pairs), axis=0)


@dataclass
class NearDuplicates:
    duplicate_of: list[int]                 # index of the kept document, or -1
    similarity: list[float]                 # exact Jaccard to that document (0.0 if kept)
    candidate_pairs: int
    verified_pairs: int


def find_near_duplicates(texts: Sequence[str], config: MinHashConfig = MinHashConfig()) -> NearDuplicates:
    """Cluster near-duplicates (candidate pairs with exact Jaccard >= threshold, joined
    transitively) and keep the first document of each cluster."""
    hasher = MinHasher(config.num_perm, config.seed, config.shingle_size)
    shingles = [hasher.shingles(t) for t in texts]
    signatures = hasher.signatures_of_hash_lists(shingles)
    candidates = lsh_candidate_pairs(signatures, config.bands, config.rows)
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    best: dict[int, tuple[float, int]] = {}
    verified = 0
    for i, j in candidates.tolist():
        similarity = exact_jaccard(shingles[i], shingles[j])
        if similarity >= config.threshold:
            verified += 1
            ri, rj = root(i), root(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)  # the earliest document roots the cluster
            if similarity > best.get(j, (-1.0, -1))[0]:
                best[j] = (similarity, i)
    duplicate_of, similarity = [], []
    for i in range(len(texts)):
        r = root(i)
        duplicate_of.append(-1 if r == i else r)
        similarity.append(0.0 if r == i else best.get(i, (0.0, r))[0])
    return NearDuplicates(duplicate_of, similarity, len(candidates), verified)
