"""A byte-level BPE tokenizer in plain Python: the readable reference for encode and decode.

A tokenizer is three things:

- ``mergeable_ranks``: every token as the bytes it stands for, ``{b"the": 1820, ...}``. The 256
  single bytes are tokens, so any text can be encoded; a token's *rank* is its id and says when it
  was learned (lower = earlier = merged first).
- ``pattern``: the pre-tokenization regex (see ``patterns.py``); merges never cross its chunks.
- ``special_tokens``: strings such as ``<|endoftext|>`` with ids of their own, never produced by
  merges, only recognised when the caller allows it.

Encoding a chunk is the BPE loop: start from its bytes, repeatedly merge the adjacent pair whose
concatenation has the lowest rank, stop when no adjacent pair is a token. This is exactly what
tiktoken does in Rust, including its tie-break (leftmost first) and its shortcut (a chunk that is
a token as a whole becomes that token), so both give the same ids; ``to_tiktoken`` in
``tiktoken_io.py`` exports the same tables to tiktoken for speed.

    >>> tok = Tokenizer({bytes([i]): i for i in range(256)} | {b"ab": 256}, "gpt4")
    >>> tok.encode("abc")
    [256, 99]
    >>> tok.decode([256, 99])
    'abc'
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Literal

import regex

from minillm.tokenizer.patterns import compiled, resolve_pattern

ENDOFTEXT = "<|endoftext|>"
CHAT_SPECIAL_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
PAD = "<|pad|>"
N_RESERVED = 3
# Reserved now so that later stages (chat templates, tools) never have to resize the embedding.
DEFAULT_SPECIAL_TOKENS = (ENDOFTEXT, *CHAT_SPECIAL_TOKENS, PAD,
                          *(f"<|reserved_{i}|>" for i in range(N_RESERVED)))

AllowedSpecial = Literal["all"] | Collection[str]


def bpe_merge(piece: bytes, ranks: dict[bytes, int]) -> list[bytes]:
    """Split one pre-token into tokens: merge the lowest-ranked adjacent pair until none is left."""
    parts = [piece[i:i + 1] for i in range(len(piece))]
    while len(parts) > 1:
        best_rank, best_index = None, -1
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and (best_rank is None or rank < best_rank):
                best_rank, best_index = rank, i          # strict "<": the leftmost pair wins ties
        if best_rank is None:
            break
        parts[best_index:best_index + 2] = [parts[best_index] + parts[best_index + 1]]
    return parts


def _utf8_safe(text: str) -> str:
    # Lone surrogates (e.g. half an emoji from a bad slice) have no UTF-8 form; like tiktoken,
    # turn them into U+FFFD instead of failing.
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class Tokenizer:
    """Byte-level BPE with tiktoken's interface, written for reading rather than speed."""

    def __init__(self, mergeable_ranks: dict[bytes, int], pattern: str = "gpt4",
                 special_tokens: dict[str, int] | None = None, name: str = "minillm-bpe"):
        self.name = name
        self.mergeable_ranks = dict(mergeable_ranks)
        self.pattern = resolve_pattern(pattern)
        self.special_tokens = dict(special_tokens or {})
        self._check_tables()
        self.decoder = {rank: token for token, rank in self.mergeable_ranks.items()}
        self.special_decoder = {i: s.encode("utf-8") for s, i in self.special_tokens.items()}
        self._finder = compiled(self.pattern)
        self._cache: dict[bytes, list[int]] = {}

    def _check_tables(self) -> None:
        missing = [b for b in range(256) if bytes([b]) not in self.mergeable_ranks]
        if missing:
            raise ValueError(f"a byte-level tokenizer needs all 256 single bytes as tokens; "
                             f"{len(missing)} are missing (e.g. byte {missing[0]})")
        if len(set(self.mergeable_ranks.values())) != len(self.mergeable_ranks):
            raise ValueError("two tokens share a rank; every token needs its own id")
        clash = set(self.special_tokens.values()) & set(self.mergeable_ranks.values())
        if clash:
            raise ValueError(f"special token ids {sorted(clash)[:5]} are also ordinary token ids; "
                             f"give special tokens ids above {max(self.mergeable_ranks.values())}")

    # -- sizes and special tokens ----------------------------------------------------------------
    @property
    def n_vocab(self) -> int:
        return max([*self.mergeable_ranks.values(), *self.special_tokens.values()]) + 1

    @property
    def special_tokens_set(self) -> set[str]:
        return set(self.special_tokens)

    @property
    def eot_token(self) -> int:
        if ENDOFTEXT not in self.special_tokens:
            raise ValueError(f"this tokenizer has no {ENDOFTEXT} token")
        return self.special_tokens[ENDOFTEXT]

    # -- encoding ----------------------------------------------------------------------------------
    def encode_piece(self, piece: bytes) -> list[int]:
        """The token ids of one pre-token (cached: real text repeats its words a lot)."""
        if piece in self.mergeable_ranks:                # tiktoken's shortcut, kept for parity
            return [self.mergeable_ranks[piece]]
        ids = self._cache.get(piece)
        if ids is None:
            ids = [self.mergeable_ranks[part] for part in bpe_merge(piece, self.mergeable_ranks)]
            if len(self._cache) < 100_000:
                self._cache[piece] = ids
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode ``text`` treating special-token strings as ordinary text."""
        ids: list[int] = []
        for piece in self._finder.findall(_utf8_safe(text)):
            ids.extend(self.encode_piece(piece.encode("utf-8")))
        return ids

    def encode(self, text: str, *, allowed_special: AllowedSpecial = frozenset(),
               disallowed_special: AllowedSpecial = "all") -> list[int]:
        """Encode ``text`` with tiktoken's rules for special tokens.

        ``allowed_special`` strings become their special id. ``disallowed_special`` strings raise
        an error if they appear (the default: all special tokens that are not allowed), because a
        user typing ``<|endoftext|>`` into a chat box must not end the document. Special tokens
        in neither set are encoded as ordinary text.
        """
        allowed = self._special_set(allowed_special, "allowed_special")
        if disallowed_special == "all":
            disallowed = self.special_tokens_set - allowed
        else:
            disallowed = set(disallowed_special)
        text = _utf8_safe(text)
        if disallowed:
            found = _special_regex(disallowed).search(text)
            if found:
                raise ValueError(
                    f"the text contains the special token {found.group()!r}, which is not allowed. "
                    f"To encode it as a special token pass allowed_special={{{found.group()!r}}} "
                    f"(or allowed_special='all'); to encode it as plain text pass "
                    f"disallowed_special=() (or use encode_ordinary)."
                )
        if not allowed:
            return self.encode_ordinary(text)
        ids: list[int] = []
        start = 0
        for match in _special_regex(allowed).finditer(text):
            ids.extend(self.encode_ordinary(text[start:match.start()]))
            ids.append(self.special_tokens[match.group()])
            start = match.end()
        ids.extend(self.encode_ordinary(text[start:]))
        return ids

    def encode_batch(self, texts: Sequence[str], *, allowed_special: AllowedSpecial = frozenset(),
                     disallowed_special: AllowedSpecial = "all") -> list[list[int]]:
        return [self.encode(t, allowed_special=allowed_special,
                            disallowed_special=disallowed_special) for t in texts]

    def encode_single_token(self, text: str | bytes) -> int:
        """The id of a string that is exactly one token (ordinary or special)."""
        if isinstance(text, str) and text in self.special_tokens:
            return self.special_tokens[text]
        key = text.encode("utf-8") if isinstance(text, str) else text
        if key not in self.mergeable_ranks:
            raise KeyError(f"{text!r} is not a single token of {self.name}")
        return self.mergeable_ranks[key]

    def _special_set(self, value: AllowedSpecial, argument: str) -> set[str]:
        if value == "all":
            return self.special_tokens_set
        chosen = set(value)
        unknown = chosen - self.special_tokens_set
        if unknown:
            raise ValueError(f"{argument} names {sorted(unknown)}, which are not special tokens of "
                             f"{self.name}; its special tokens are {sorted(self.special_tokens)}")
        return chosen

    # -- decoding ----------------------------------------------------------------------------------
    def decode_single_token_bytes(self, token: int) -> bytes:
        if token in self.decoder:
            return self.decoder[token]
        if token in self.special_decoder:
            return self.special_decoder[token]
        raise KeyError(f"token id {token} is not in the vocabulary of {self.name} "
                       f"(ids run from 0 to {self.n_vocab - 1})")

    def decode_bytes(self, tokens: Iterable[int]) -> bytes:
        return b"".join(self.decode_single_token_bytes(t) for t in tokens)

    def decode(self, tokens: Iterable[int], errors: str = "replace") -> str:
        """Text of ``tokens``. A token sequence can end inside a multi-byte character (BPE knows
        bytes, not characters), so invalid UTF-8 becomes U+FFFD unless ``errors="strict"``."""
        return self.decode_bytes(tokens).decode("utf-8", errors=errors)

    def __repr__(self) -> str:
        return (f"Tokenizer(name={self.name!r}, n_vocab={self.n_vocab}, "
                f"specials={len(self.special_tokens)})")


def _special_regex(specials: Iterable[str]) -> regex.Pattern:
    # longest first, so that a special token that is a prefix of another does not shadow it
    ordered = sorted(specials, key=lambda s: (-len(s), s))
    return regex.compile("|".join(regex.escape(s) for s in ordered))
