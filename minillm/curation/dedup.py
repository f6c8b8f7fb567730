"""Exact deduplication by hashing: whole documents, and lines that recur across many pages.

Documents: two pages are exact duplicates when their normalized text (lowercased, whitespace
collapsed) has the same SHA-1. The first page of each group is kept, later ones are dropped
and point at it. Lines: a line that appears on many different pages ("Share this: Facebook
Twitter Email", "All rights reserved.") is site furniture, not content; lines seen on more than
``max_docs_per_line`` pages are removed from every page but the first (as in CCNet, Wenzek et
al., 2020). Hashes come from ``hashlib``, never Python's ``hash()``, so runs are reproducible.

    >>> duplicate_of(["a b", "A  b", "c"])
    [-1, 0, -1]
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ExactDedupConfig:
    documents: bool = True
    lines: bool = True
    max_docs_per_line: int = 10   # a line on more pages than this is boilerplate
    min_line_chars: int = 1


def normalized_key(text: str) -> bytes:
    return hashlib.sha1(_SPACE.sub(" ", text.strip().lower()).encode("utf-8")).digest()


def duplicate_of(texts: Sequence[str]) -> list[int]:
    """For each text, the index of the first text with the same normalized content, or -1."""
    first: dict[bytes, int] = {}
    result = []
    for i, text in enumerate(texts):
        key = normalized_key(text)
        original = first.setdefault(key, i)
        result.append(-1 if original == i else original)
    return result


def frequent_lines(texts: Sequence[str], max_docs_per_line: int, min_line_chars: int = 1) -> set[bytes]:
    """Hashes of lines that occur on more than ``max_docs_per_line`` different texts."""
    pages_with = Counter()
    for text in texts:
        keys = {normalized_key(line) for line in text.split("\n") if len(line.strip()) >= min_line_chars}
        pages_with.update(keys)
    return {key for key, n in pages_with.items() if n > max_docs_per_line}


def remove_lines(texts: Sequence[str], boilerplate: set[bytes]) -> list[tuple[str, list[str]]]:
    """(text without boilerplate lines, removed lines) per text; the first page that has a
    boilerplate line keeps it, so a line is never lost from the corpus altogether."""
    seen: set[bytes] = set()
    out = []
    for text in texts:
        kept, removed = [], []
        for line in text.split("\n"):
            key = normalized_key(line)
            if key in boilerplate and key in seen:
                removed.append(line)
            else:
                kept.append(line)
                if key in boilerplate:
                    seen.add(key)
        out.append(("\n".join(kept).strip("\n"), removed))
    return out
