"""Language identification with ``langid`` (Lui & Baldwin, 2012): a naive Bayes model over
byte n-grams that ships inside the package, so it works offline.

A page is kept when the identifier names an allowed language with probability at least
``min_probability``. Only the first ``max_chars`` characters are classified: a page's language
is clear from its first paragraphs, and this bounds the cost of very long pages.

One speed fix: langid multiplies a dense 7,480-long feature vector by its weight matrix, and
that BLAS call can start a team of threads for every page (10x slower on a busy machine). A
page only has a few hundred non-zero features, so we multiply those rows only: the same
numbers (a test checks it against ``langid.classify``), without the threads.

    >>> detect_language("The cat sat on the mat and looked at the birds.")[0]
    'en'
    >>> language_reason("Der Hund schläft im Garten und die Katze spielt.")
    'language: de (p=1.00), not one of en'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_IDENTIFIER = None  # built once per process: loading the model takes about a second


@dataclass(frozen=True)
class LanguageConfig:
    languages: tuple[str, ...] = ("en",)
    min_probability: float = 0.65
    max_chars: int = 1000


def _identifier():
    global _IDENTIFIER
    if _IDENTIFIER is None:
        from langid.langid import LanguageIdentifier, model

        identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)

        def sparse_classprobs(fv):
            rows = np.flatnonzero(fv)
            return fv[rows].astype(np.float64) @ identifier.nb_ptc[rows] + identifier.nb_pc

        identifier.nb_classprobs = sparse_classprobs
        _IDENTIFIER = identifier
    return _IDENTIFIER


def detect_language(text: str, max_chars: int = 1000) -> tuple[str, float]:
    """(ISO 639-1 code, probability); ("", 0.0) for text without letters."""
    sample = text[:max_chars]
    if not any(ch.isalpha() for ch in sample):
        return "", 0.0
    language, probability = _identifier().classify(sample)
    return language, float(probability)


def language_reason(text: str, config: LanguageConfig = LanguageConfig()) -> str | None:
    language, probability = detect_language(text, config.max_chars)
    allowed = ", ".join(config.languages)
    if language not in config.languages:
        return f"language: {language or 'none'} (p={probability:.2f}), not one of {allowed}"
    if probability < config.min_probability:
        return f"language: {language} with p={probability:.2f} < {config.min_probability}"
    return None
