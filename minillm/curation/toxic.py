"""A blocklist filter for toxic language, as C4 did with its "bad words" list.

A page is dropped when it contains at least ``min_hits`` blocklisted words (whole words,
any case). The default list is the crawl's own: mild insults and profanity. A blocklist is
crude (it cannot tell a quote from an insult, and drops pages about, say, Scunthorpe in
other lists); the notebook shows what it catches and what it misses.

    >>> toxic_reason("What a load of crap.")
    "toxic: blocklisted word 'crap'"
    >>> toxic_reason("A crappie is a fish.") is None
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from minillm.data.tinyworld.crawl import BLOCKLIST

DEFAULT_BLOCKLIST: tuple[str, ...] = BLOCKLIST


@dataclass(frozen=True)
class ToxicConfig:
    blocklist: tuple[str, ...] = DEFAULT_BLOCKLIST
    min_hits: int = 1


_PATTERNS: dict[tuple[str, ...], re.Pattern] = {}


def _pattern(blocklist: Sequence[str]) -> re.Pattern:
    key = tuple(blocklist)
    if key not in _PATTERNS:
        if not key:
            raise ValueError("the blocklist is empty; give at least one word or drop the toxic step")
        words = sorted(map(re.escape, key), key=len, reverse=True)
        _PATTERNS[key] = re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)
    return _PATTERNS[key]


def blocklisted_words(text: str, blocklist: Sequence[str] = DEFAULT_BLOCKLIST) -> list[str]:
    return [m.group(0).lower() for m in _pattern(blocklist).finditer(text)]


def toxic_reason(text: str, config: ToxicConfig = ToxicConfig()) -> str | None:
    hits = blocklisted_words(text, config.blocklist)
    if len(hits) >= config.min_hits:
        shown = ", ".join(repr(h) for h in sorted(set(hits))[:3])
        return f"toxic: blocklisted word{'s' if len(set(hits)) > 1 else ''} {shown}"
    return None
