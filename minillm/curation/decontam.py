"""Decontamination: drop training pages that contain text from the evaluation set.

If test questions leak into pretraining data, a benchmark measures memory, not skill. The
GPT-3 paper (Brown et al., 2020) dropped training documents that share a 13-gram with a test
set. Our test items are short questions, many under 13 words, so a test text shorter than
``n`` words must match whole: a page is contaminated when it contains, as a run of ``\\w+``
words, either any ``n``-gram of a long test text or all of a short one. Matching ignores
punctuation and spacing; it ignores case only with ``lowercase=True`` (GPT-3 did), because
with short questions "Who makes Meirzels" in a story is not a copy of "Who makes Meirzels?". Short test
texts under ``min_words`` words are skipped (a 2-word "question" matches everything).

Matching is fast: sequences are indexed by their first three words, so a page costs one dict
look-up per word.

    >>> finder = Decontaminator(["Which river flows through Pamnaish?"], n=13)
    >>> finder.match("Q: Which river flows through  Pamnaish? A: the Guposh.")
    'Which river flows through Pamnaish'
    >>> finder.match("Rivers flow through Pamnaish.") is None
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
_KEY = 3


@dataclass(frozen=True)
class DecontamConfig:
    n: int = 13
    min_words: int = 3
    lowercase: bool = False


def words_of(text: str, lowercase: bool = False) -> list[str]:
    return _WORD.findall(text.lower() if lowercase else text)


class Decontaminator:
    """Index of test-set word sequences; ``match(text)`` returns the first one found, or None."""

    def __init__(self, test_texts: Iterable[str], n: int = 13, min_words: int = 3,
                 lowercase: bool = False):
        if n < _KEY or min_words < _KEY:
            raise ValueError(f"n and min_words must be at least {_KEY} words")
        self.n = n
        self.lowercase = lowercase
        self.by_prefix: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        self.size = 0
        for text in test_texts:
            words = words_of(text, lowercase)
            if len(words) < min_words:
                continue
            grams = [tuple(words)] if len(words) <= n else [
                tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
            for gram in grams:
                bucket = self.by_prefix.setdefault(gram[:_KEY], set())
                if gram not in bucket:
                    bucket.add(gram)
                    self.size += 1

    def match(self, text: str) -> str | None:
        words = words_of(text, self.lowercase)
        for i in range(len(words) - _KEY + 1):
            bucket = self.by_prefix.get(tuple(words[i:i + _KEY]))
            if bucket:
                for gram in bucket:
                    if tuple(words[i:i + len(gram)]) == gram:
                        return " ".join(gram)
        return None

    def reason(self, text: str) -> str | None:
        found = self.match(text)
        if found is None:
            return None
        shown = found if len(found) <= 80 else found[:77] + "..."
        return f"contaminated: shares {len(found.split())} words with the test set: {shown!r}"
