"""A small quality classifier: hashed word n-grams and logistic regression, in numpy.

FineWeb-Edu (Penedo et al., 2024) and the GPT-3 filter (Brown et al., 2020) train a classifier
to tell text worth learning from apart from the rest, then keep what scores high. Here at toy
scale: features are counts of word unigrams and bigrams hashed into ``n_features`` buckets
(the hashing trick, Weinberger et al., 2009), scaled by log(1 + count) and L2-normalized;
the model is logistic regression trained by full-batch gradient descent with L2 weight decay,
each class weighted equally so the majority class does not swamp the other.

A page has a few hundred distinct n-grams out of 2^16 buckets, so features are kept sparse, as
(row, bucket, value) triplets: a product with the weights is a gather plus ``np.bincount``.

    >>> clf = QualityClassifier(n_features=2**12, epochs=200).fit(
    ...     ["the cat sat on the mat.", "buy cheap deals now!!!"] * 10, [1, 0] * 10)
    >>> bool(clf.predict_proba(["the dog sat on the rug."])[0] > 0.5)
    True
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass
class HashedFeatures:
    """A sparse (n_rows, n_features) matrix as triplets."""

    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    n_rows: int

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """self @ weights, shape (n_rows,)."""
        return np.bincount(self.rows, weights=self.values * weights[self.columns], minlength=self.n_rows)

    def transpose_dot(self, vector: np.ndarray, n_features: int) -> np.ndarray:
        """self.T @ vector, shape (n_features,)."""
        return np.bincount(self.columns, weights=self.values * vector[self.rows], minlength=n_features)


@dataclass
class QualityClassifier:
    n_features: int = 2**16
    ngrams: int = 2
    learning_rate: float = 10.0
    epochs: int = 400
    weight_decay: float = 1e-5

    def features(self, texts: Sequence[str]) -> HashedFeatures:
        """Hashed, log-scaled, L2-normalized n-gram counts of each text."""
        rows, columns, values = [], [], []
        for row, text in enumerate(texts):
            tokens = _TOKEN.findall(text.lower())
            grams = [" ".join(tokens[i:i + n]) for n in range(1, self.ngrams + 1)
                     for i in range(len(tokens) - n + 1)]
            # crc32 is stable across runs and machines (Python's hash() is salted per process)
            counts = Counter(zlib.crc32(g.encode("utf-8")) % self.n_features for g in grams)
            if not counts:
                continue
            scaled = np.log1p(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            rows.append(np.full(len(counts), row, dtype=np.int64))
            columns.append(np.fromiter(counts.keys(), dtype=np.int64, count=len(counts)))
            values.append(scaled / np.linalg.norm(scaled))
        if not rows:
            empty = np.empty(0, dtype=np.int64)
            return HashedFeatures(empty, empty, np.empty(0), len(texts))
        return HashedFeatures(np.concatenate(rows), np.concatenate(columns), np.concatenate(values),
                              len(texts))

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> QualityClassifier:
        y = np.asarray(labels, dtype=np.float64)
        if len(texts) != len(y):
            raise ValueError(f"{len(texts)} texts but {len(y)} labels")
        if set(np.unique(y).tolist()) != {0.0, 1.0}:
            raise ValueError("labels must contain both classes, 1 (good) and 0 (junk)")
        x = self.features(texts)
        # each class carries half of the loss, whatever its size
        sample_weight = np.where(y == 1, 0.5 / y.sum(), 0.5 / (len(y) - y.sum()))
        self.weights = np.zeros(self.n_features)
        self.bias = 0.0
        self.losses = []
        for _ in range(self.epochs):
            p = 1.0 / (1.0 + np.exp(-(x.dot(self.weights) + self.bias)))
            eps = 1e-12
            self.losses.append(float(-np.sum(sample_weight * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))))
            error = sample_weight * (p - y)
            gradient = x.transpose_dot(error, self.n_features) + self.weight_decay * self.weights
            self.weights -= self.learning_rate * gradient
            self.bias -= self.learning_rate * float(error.sum())
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(good) for each text."""
        if not hasattr(self, "weights"):
            raise RuntimeError("the classifier is not trained yet; call fit(texts, labels) first")
        return 1.0 / (1.0 + np.exp(-(self.features(texts).dot(self.weights) + self.bias)))
