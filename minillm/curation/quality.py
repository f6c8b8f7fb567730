"""Heuristic quality filters: Gopher's quality and repetition rules, and C4's line filter.

Gopher (Rae et al., 2021, appendix A) keeps a document only if simple statistics look like
prose written by people: enough words, words of normal length, few symbols, few bullet or
ellipsis lines, most words alphabetic, and some English stop words. A second set of rules
rejects repetitive pages: many duplicate lines or paragraphs, one n-gram that covers much of
the text, or many characters inside repeated n-grams. C4 (Raffel et al., 2020) works on lines:
it keeps only lines that end like a sentence and have a few words, and drops pages that keep
too few sentences. A last rule, not from either paper, catches keyword stuffing: long lines
almost free of function words ("cheap X, best X deals, X discount, ..."). Every function returns the *reason* a document fails (``None`` = it passes),
so the pipeline can log why each page went.

    >>> gopher_quality_reason("too short")
    'gopher_quality: 2 words < 50'
    >>> text, removed = c4_filter_lines("Home | News\\nThe cat sat on the mat today.")
    >>> text, removed
    ('The cat sat on the mat today.', ['Home | News'])
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
BULLETS = ("-", "*", "\u2022", "\u2023", "\u25e6", "\u2043", "\u2219")
ELLIPSES = ("...", "\u2026")
TERMINAL_PUNCTUATION = (".", "!", "?", '"', "\u201d")
_LIST_ITEM = re.compile(r"^(?:[-*\u2022]|\d{1,3}[.)])\s+\S+\s+\S")  # "- two bags", "3. Stir it"
FUNCTION_WORDS = frozenset(
    "the a an of to and in on for with at by from is are was were be it that this as or but not "
    "he she they his her their you i we".split())
_WORD = re.compile(r"\S+")
_NGRAM_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class GopherQualityConfig:
    """Published thresholds (Rae et al., 2021, A.1.1)."""

    min_words: int = 50
    max_words: int = 100_000
    min_mean_word_length: float = 3.0
    max_mean_word_length: float = 10.0
    max_symbol_word_ratio: float = 0.1          # "#" and "..." per word
    max_bullet_line_fraction: float = 0.9
    max_ellipsis_line_fraction: float = 0.3
    min_alpha_word_fraction: float = 0.8
    min_stop_words: int = 2


@dataclass(frozen=True)
class GopherRepetitionConfig:
    """Published thresholds (Rae et al., 2021, table A1)."""

    max_duplicate_line_fraction: float = 0.3
    max_duplicate_paragraph_fraction: float = 0.3
    max_duplicate_line_char_fraction: float = 0.2
    max_duplicate_paragraph_char_fraction: float = 0.2
    # n -> max share of characters in the most frequent n-gram
    max_top_ngram_char_fraction: tuple[tuple[int, float], ...] = ((2, 0.20), (3, 0.18), (4, 0.16))
    # n -> max share of characters inside n-grams that occur more than once
    max_duplicate_ngram_char_fraction: tuple[tuple[int, float], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))


@dataclass(frozen=True)
class StuffingConfig:
    """Keyword stuffing: characters in long lines with almost no function words."""

    min_line_words: int = 8
    max_function_word_fraction: float = 0.05
    max_stuffed_char_fraction: float = 0.15


@dataclass(frozen=True)
class C4Config:
    """C4's line rules (Raffel et al., 2020, section 2.2)."""

    min_words_per_line: int = 3
    require_terminal_punctuation: bool = True
    min_sentences: int = 3           # pages left with fewer sentences are dropped
    drop_javascript_lines: bool = True
    drop_lorem_ipsum: bool = True
    drop_curly_brace: bool = False   # C4 drops pages with "{"; off by default (it kills code)
    keep_list_items: bool = False    # not in C4: keep "- item" / "1. step" lines of 2+ words


def gopher_quality_stats(text: str) -> dict[str, float]:
    words = _WORD.findall(text)
    lines = [line for line in text.split("\n") if line.strip()]
    n_words = len(words)
    lowered = [w.lower().strip(".,;:!?\"'()") for w in words]
    return {
        "words": n_words,
        "mean_word_length": sum(map(len, words)) / n_words if n_words else 0.0,
        "symbol_word_ratio": (text.count("#") + sum(text.count(e) for e in ELLIPSES)) / max(1, n_words),
        "bullet_line_fraction": sum(line.lstrip().startswith(BULLETS) for line in lines) / max(1, len(lines)),
        "ellipsis_line_fraction": sum(line.rstrip().endswith(ELLIPSES) for line in lines) / max(1, len(lines)),
        "alpha_word_fraction": sum(any(c.isalpha() for c in w) for w in words) / max(1, n_words),
        "stop_words": sum(1 for w in set(lowered) if w in STOP_WORDS),
    }


def gopher_quality_reason(text: str, config: GopherQualityConfig = GopherQualityConfig()) -> str | None:
    """Why the text fails Gopher's quality rules, or None if it passes."""
    s, c = gopher_quality_stats(text), config
    checks = (
        (s["words"] < c.min_words, f"{s['words']} words < {c.min_words}"),
        (s["words"] > c.max_words, f"{s['words']} words > {c.max_words}"),
        (s["mean_word_length"] < c.min_mean_word_length,
         f"mean word length {s['mean_word_length']:.1f} < {c.min_mean_word_length}"),
        (s["mean_word_length"] > c.max_mean_word_length,
         f"mean word length {s['mean_word_length']:.1f} > {c.max_mean_word_length}"),
        (s["symbol_word_ratio"] > c.max_symbol_word_ratio,
         f"symbol/word ratio {s['symbol_word_ratio']:.2f} > {c.max_symbol_word_ratio}"),
        (s["bullet_line_fraction"] > c.max_bullet_line_fraction,
         f"bullet lines {s['bullet_line_fraction']:.0%} > {c.max_bullet_line_fraction:.0%}"),
        (s["ellipsis_line_fraction"] > c.max_ellipsis_line_fraction,
         f"ellipsis lines {s['ellipsis_line_fraction']:.0%} > {c.max_ellipsis_line_fraction:.0%}"),
        (s["alpha_word_fraction"] < c.min_alpha_word_fraction,
         f"alphabetic words {s['alpha_word_fraction']:.0%} < {c.min_alpha_word_fraction:.0%}"),
        (s["stop_words"] < c.min_stop_words, f"{s['stop_words']} stop words < {c.min_stop_words}"),
    )
    for failed, why in checks:
        if failed:
            return f"gopher_quality: {why}"
    return None


def _duplicate_fractions(items: list[str]) -> tuple[float, float]:
    """(share of items that repeat an earlier one, share of characters in those repeats)."""
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    dup_items = dup_chars = 0
    for item in items:
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        seen.add(item)
    return dup_items / len(items), dup_chars / max(1, sum(map(len, items)))


def top_ngram_char_fraction(words: list[str], n: int) -> float:
    """Characters covered by the most frequent word n-gram (each occurrence counted)."""
    if len(words) < n:
        return 0.0
    counts = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    gram, count = counts.most_common(1)[0]
    if count < 2:
        return 0.0
    return sum(map(len, gram)) * count / max(1, sum(map(len, words)))


def duplicate_ngram_char_fraction(words: list[str], n: int) -> float:
    """Characters of words that sit inside some n-gram occurring more than once."""
    if len(words) < n:
        return 0.0
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    counts = Counter(grams)
    covered = [False] * len(words)
    for i, gram in enumerate(grams):
        if counts[gram] > 1:
            covered[i:i + n] = [True] * n
    return sum(len(w) for w, hit in zip(words, covered, strict=True) if hit) / max(1, sum(map(len, words)))


def gopher_repetition_reason(text: str, config: GopherRepetitionConfig = GopherRepetitionConfig()) -> str | None:
    """Why the text fails Gopher's repetition rules, or None if it passes."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    line_frac, line_chars = _duplicate_fractions(lines)
    par_frac, par_chars = _duplicate_fractions(paragraphs)
    c = config
    if line_frac > c.max_duplicate_line_fraction:
        return f"gopher_repetition: duplicate lines {line_frac:.0%} > {c.max_duplicate_line_fraction:.0%}"
    if par_frac > c.max_duplicate_paragraph_fraction:
        return f"gopher_repetition: duplicate paragraphs {par_frac:.0%}"
    if line_chars > c.max_duplicate_line_char_fraction:
        return f"gopher_repetition: characters in duplicate lines {line_chars:.0%}"
    if par_chars > c.max_duplicate_paragraph_char_fraction:
        return f"gopher_repetition: characters in duplicate paragraphs {par_chars:.0%}"
    words = _NGRAM_WORD.findall(text.lower())
    for n, limit in c.max_top_ngram_char_fraction:
        share = top_ngram_char_fraction(words, n)
        if share > limit:
            return f"gopher_repetition: top {n}-gram covers {share:.0%} > {limit:.0%}"
    for n, limit in c.max_duplicate_ngram_char_fraction:
        share = duplicate_ngram_char_fraction(words, n)
        if share > limit:
            return f"gopher_repetition: duplicate {n}-grams cover {share:.0%} > {limit:.0%}"
    return None


def c4_line_keep(line: str, config: C4Config = C4Config()) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if config.keep_list_items and _LIST_ITEM.match(stripped):
        return "javascript" not in stripped.lower()
    if config.require_terminal_punctuation and not stripped.endswith(TERMINAL_PUNCTUATION):
        return False
    if len(stripped.split()) < config.min_words_per_line:
        return False
    return not (config.drop_javascript_lines and "javascript" in stripped.lower())


def c4_filter_lines(text: str, config: C4Config = C4Config()) -> tuple[str, list[str]]:
    """(text with only C4-style lines kept, the removed non-blank lines)."""
    kept, removed = [], []
    for line in text.split("\n"):
        if c4_line_keep(line, config):
            kept.append(line.strip())
        elif line.strip():
            removed.append(line.strip())
    return "\n".join(kept), removed


def count_sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:[\"'\u201d)]?)(?=\s|$)", text))


def c4_page_reason(text: str, config: C4Config = C4Config()) -> str | None:
    """Why C4 drops a page (after its lines were filtered), or None."""
    lowered = text.lower()
    if config.drop_lorem_ipsum and "lorem ipsum" in lowered:
        return "c4: contains 'lorem ipsum'"
    if config.drop_curly_brace and "{" in text:
        return "c4: contains '{' (code)"
    sentences = count_sentences(text)
    if sentences < config.min_sentences:
        return f"c4: {sentences} sentences left < {config.min_sentences}"
    return None


def stuffed_char_fraction(text: str, config: StuffingConfig = StuffingConfig()) -> float:
    """Share of characters in lines of >= min_line_words words that are nearly all content words:
    prose needs "the", "of", "and"; a keyword list does not."""
    stuffed = 0
    for line in text.split("\n"):
        words = re.findall(r"[a-z']+", line.lower())
        if len(words) >= config.min_line_words:
            function = sum(word in FUNCTION_WORDS for word in words)
            if function / len(words) < config.max_function_word_fraction:
                stuffed += len(line)
    return stuffed / max(1, len(text))


def stuffing_reason(text: str, config: StuffingConfig = StuffingConfig()) -> str | None:
    share = stuffed_char_fraction(text, config)
    if share > config.max_stuffed_char_fraction:
        return f"keyword_stuffing: {share:.0%} of characters in keyword lists > {config.max_stuffed_char_fraction:.0%}"
    return None
