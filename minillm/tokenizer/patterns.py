"""Pre-tokenization: cut text into chunks that BPE merges never cross.

Byte-level BPE on raw text would learn tokens such as ``"dog."`` and ``"dog!"`` and ``" dog,"``:
the same word glued to every punctuation mark that follows it. GPT-2 first splits text with a
regular expression into words, numbers, punctuation runs and whitespace, then runs BPE inside each
chunk (a *pre-token*). Merges never cross a chunk boundary, so the vocabulary is spent on reusable
pieces. GPT-4's pattern (``cl100k_base``) adds case-insensitive contractions, caps numbers at three
digits and keeps newlines apart from other whitespace.

The patterns use ``\\p{L}`` (any letter) and possessive quantifiers, which the ``regex`` package
understands and Python's ``re`` does not. They are the exact strings tiktoken uses, so the
pure-Python path and tiktoken cut text identically.

    >>> pretokenize("Hello world!!! 12345", GPT4_SPLIT_PATTERN)
    ['Hello', ' world', '!!!', ' ', '123', '45']
    >>> pretokenize("Hello world!!! 12345", GPT2_SPLIT_PATTERN)
    ['Hello', ' world', '!!!', ' 12345']

``count_pretokens`` turns a corpus into a table ``{pre-token bytes: count}``; BPE training only
ever looks at that table, never at the corpus again. It can fan out over processes.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Iterable, Sequence

import regex

GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
PATTERNS = {"gpt2": GPT2_SPLIT_PATTERN, "gpt4": GPT4_SPLIT_PATTERN}

_COMPILED: dict[str, regex.Pattern] = {}


def resolve_pattern(pattern: str) -> str:
    """A pattern name ("gpt2", "gpt4") or a regular expression -> the regular expression."""
    return PATTERNS.get(pattern, pattern)


def compiled(pattern: str) -> regex.Pattern:
    pattern = resolve_pattern(pattern)
    if pattern not in _COMPILED:
        try:
            _COMPILED[pattern] = regex.compile(pattern)
        except regex.error as e:
            raise ValueError(
                f"the split pattern {pattern!r} is not a valid regular expression ({e}); "
                f"use one of {sorted(PATTERNS)} or a pattern the `regex` package accepts"
            ) from e
    return _COMPILED[pattern]


def pretokenize(text: str, pattern: str = GPT4_SPLIT_PATTERN) -> list[str]:
    """The chunks of ``text`` that BPE runs on, in order; joined they give ``text`` back."""
    return compiled(pattern).findall(text)


def split_on_special(text: str, special_tokens: Iterable[str]) -> list[str]:
    """``text`` cut at every special token, the special tokens themselves left out.

    Training calls this so that no merge ever reaches into ``<|endoftext|>`` and friends.
    """
    specials = sorted(set(special_tokens), key=len, reverse=True)
    if not specials:
        return [text]
    splitter = regex.compile("|".join(regex.escape(s) for s in specials))
    return [part for part in splitter.split(text) if part]


def _count_chunk(args: tuple[Sequence[str], str]) -> Counter:
    texts, pattern = args
    finder = compiled(pattern)
    counts: Counter = Counter()
    for text in texts:
        counts.update(finder.findall(text))
    return counts


def _batches(texts: Sequence[str], n_batches: int) -> list[Sequence[str]]:
    size = max(1, -(-len(texts) // n_batches))
    return [texts[i:i + size] for i in range(0, len(texts), size)]


def count_pretokens(
    texts: Sequence[str], pattern: str = GPT4_SPLIT_PATTERN, num_proc: int = 1,
) -> dict[bytes, int]:
    """``{pre-token as UTF-8 bytes: how often it occurs}`` over all ``texts`` (documents).

    Documents are independent, so with ``num_proc > 1`` they are counted in worker processes
    and the tables summed: the result is identical to ``num_proc=1``.
    """
    if num_proc < 1:
        raise ValueError(f"num_proc must be >= 1, got {num_proc}")
    pattern = resolve_pattern(pattern)
    compiled(pattern)                                # fail here, not inside a worker
    texts = list(texts)
    if num_proc == 1 or len(texts) < 2 * num_proc:
        counts = _count_chunk((texts, pattern))
    else:
        jobs = [(batch, pattern) for batch in _batches(texts, 4 * num_proc)]
        # Not "fork": forking a process that runs threads (a Jupyter kernel, tiktoken, torch)
        # can deadlock the children. A fork server starts workers from a clean process.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        with context.Pool(num_proc) as pool:
            counts = Counter()
            for part in pool.imap(_count_chunk, jobs):
                counts.update(part)
    return {piece.encode("utf-8"): n for piece, n in counts.items()}
