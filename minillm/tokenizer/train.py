"""Training byte-level BPE: learn merges from a corpus, updating pair counts incrementally.

The textbook loop (count every adjacent pair in the corpus, merge the most frequent, repeat) reads
the whole corpus once per merge: 8,000 merges on 10 MB is 80 GB of work. Three observations make
it fast:

1. Merges never cross pre-token boundaries, so the corpus is only a table of *unique* pre-tokens
   with counts (``count_pretokens``): "the" appearing 50,000 times is one word of weight 50,000.
2. Merging the pair (a, b) only changes the pair counts of words that contain (a, b). An index
   ``pair -> words containing it`` finds them; only those words are rewritten and recounted.
3. The most frequent pair comes from a heap. A count that changes is pushed again, and stale
   entries are skipped when popped ("lazy invalidation") instead of being searched for.

Ties are broken deterministically: the highest count wins, then the smallest pair of ids, so the
same corpus always gives the same merges. Special tokens are cut out of the text before counting,
so no merge ever touches them; they get the last ids of the vocabulary.

    >>> result = train_bpe(["low lower lowest"] * 10, vocab_size=256 + 3 + 2,
    ...                    special_tokens=("<|a|>", "<|b|>"))
    >>> [result.tokenizer.decode_single_token_bytes(256 + i) for i in range(3)]
    [b'lo', b'low', b' low']
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from minillm.tokenizer.bpe import DEFAULT_SPECIAL_TOKENS, Tokenizer
from minillm.tokenizer.patterns import count_pretokens, resolve_pattern, split_on_special


@dataclass
class TrainResult:
    tokenizer: Tokenizer
    merges: list[tuple[int, int, int]] = field(default_factory=list)  # (left, right, new id)
    merge_counts: list[int] = field(default_factory=list)    # frequency of each merged pair
    n_pretokens: int = 0                                     # unique pre-tokens seen
    n_bytes: int = 0                                         # UTF-8 bytes trained on


def _pairs(word: list[int]) -> Iterable[tuple[int, int]]:
    return pairwise(word)


def _merge_word(word: list[int], a: int, b: int, new: int) -> list[int]:
    merged, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
            merged.append(new)
            i += 2
        else:
            merged.append(word[i])
            i += 1
    return merged


def _as_documents(corpus: str | Iterable[str], special_tokens: Sequence[str]) -> list[str]:
    documents = [corpus] if isinstance(corpus, str) else list(corpus)
    pieces = []
    for doc in documents:
        if not isinstance(doc, str):
            raise ValueError(f"the corpus must be a string or an iterable of strings, "
                             f"got an item of type {type(doc).__name__}")
        pieces.extend(split_on_special(doc, special_tokens))
    return pieces


def train_bpe(
    corpus: str | Iterable[str], vocab_size: int, *, pattern: str = "gpt4",
    special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS, num_proc: int = 1,
    progress: bool = False, name: str = "minillm-bpe", stop_early: bool = False,
    on_merge: Callable[[int, bytes, int], None] | None = None,
) -> TrainResult:
    """Learn a byte-level BPE with ``vocab_size`` ids in all (256 bytes + merges + specials).

    ``corpus`` is one string or an iterable of documents. ``num_proc`` counts pre-tokens in
    that many processes. ``on_merge(new_id, token_bytes, count)`` is called after every merge.
    A corpus too small for ``vocab_size`` is an error, unless ``stop_early`` (then the
    vocabulary is as large as the corpus allows).
    """
    special_tokens = tuple(dict.fromkeys(special_tokens))
    n_merges = vocab_size - 256 - len(special_tokens)
    if n_merges < 0:
        raise ValueError(f"vocab_size={vocab_size} is too small: a byte-level tokenizer needs 256 "
                         f"byte tokens + {len(special_tokens)} special tokens; use vocab_size >= "
                         f"{256 + len(special_tokens)}")
    pattern = resolve_pattern(pattern)
    documents = _as_documents(corpus, special_tokens)
    counts = count_pretokens(documents, pattern, num_proc=num_proc)
    n_bytes = sum(len(piece) * n for piece, n in counts.items())
    if n_bytes == 0:
        raise ValueError("the corpus is empty (no text outside special tokens); "
                         "train on some text")

    # sorted, so that word indices (and everything after) do not depend on dict order
    pieces = sorted(counts)
    words = [list(piece) for piece in pieces]
    freqs = [counts[piece] for piece in pieces]
    pair_counts: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], set[int]] = {}
    for w, word in enumerate(words):
        for pair in _pairs(word):
            pair_counts[pair] = pair_counts.get(pair, 0) + freqs[w]
            where.setdefault(pair, set()).add(w)
    heap = [(-n, pair) for pair, n in pair_counts.items()]
    heapq.heapify(heap)

    token_bytes = [bytes([i]) for i in range(256)]
    ranks = {t: i for i, t in enumerate(token_bytes)}
    result = TrainResult(tokenizer=None, n_pretokens=len(pieces),  # type: ignore[arg-type]
                         n_bytes=n_bytes)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_merges, desc="BPE merges", unit="merge")
    while len(ranks) < 256 + n_merges:
        best = None
        while heap:
            neg_count, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) == -neg_count and neg_count < 0:
                best = pair
                break                                    # else: a stale entry, skip it
        if best is None and stop_early:
            break
        if best is None:
            raise ValueError(
                f"the corpus runs out of pairs to merge after {len(ranks) - 256} new tokens "
                f"(every pre-token is a single token), but vocab_size={vocab_size} asks for "
                f"{n_merges}; use vocab_size <= {len(ranks) + len(special_tokens)}, train on more "
                f"text, or pass stop_early=True")
        a, b = best
        merged_bytes = token_bytes[a] + token_bytes[b]
        # Two different pairs can spell the same bytes ("a"+"bc", "ab"+"c"): reuse the token.
        new = ranks.get(merged_bytes)
        if new is None:
            new = len(token_bytes)
            token_bytes.append(merged_bytes)
            ranks[merged_bytes] = new
            if bar is not None:
                bar.update(1)
        result.merges.append((a, b, new))
        result.merge_counts.append(pair_counts[best])
        if on_merge is not None:
            on_merge(new, merged_bytes, pair_counts[best])

        changed: set[tuple[int, int]] = set()
        for w in sorted(where.pop(best)):
            word = words[w]
            if len(word) < 2:
                continue
            new_word = _merge_word(word, a, b, new)
            if len(new_word) == len(word):
                continue                                 # an index entry left over from before
            freq = freqs[w]
            for pair in _pairs(word):
                pair_counts[pair] -= freq
                changed.add(pair)
            for pair in _pairs(new_word):
                pair_counts[pair] = pair_counts.get(pair, 0) + freq
                changed.add(pair)
                if pair != best:
                    where.setdefault(pair, set()).add(w)
            words[w] = new_word
        for pair in changed:
            n = pair_counts[pair]
            if n > 0:
                heapq.heappush(heap, (-n, pair))
            else:
                del pair_counts[pair]
                where.pop(pair, None)
    if bar is not None:
        bar.close()

    first_special = len(token_bytes)
    specials = {s: first_special + i for i, s in enumerate(special_tokens)}
    result.tokenizer = Tokenizer(ranks, pattern, specials, name=name)
    return result


def truncate(tokenizer: Tokenizer, vocab_size: int) -> Tokenizer:
    """The tokenizer that training with a smaller ``vocab_size`` would have given.

    Training is greedy, so the first k merges of a long run are exactly a run that stops after k
    merges: one training run at 16k gives the 1k, 4k and 8k tokenizers too.
    """
    n_special = len(tokenizer.special_tokens)
    n_ordinary = vocab_size - n_special
    if n_ordinary < 256:
        raise ValueError(f"vocab_size={vocab_size} is too small: 256 bytes + {n_special} special "
                         f"tokens need at least {256 + n_special}")
    if n_ordinary > len(tokenizer.mergeable_ranks):
        raise ValueError(f"cannot truncate {tokenizer.name} (n_vocab {tokenizer.n_vocab}) to a "
                         f"larger vocab_size={vocab_size}; train a bigger tokenizer instead")
    ranks = {t: r for t, r in tokenizer.mergeable_ranks.items() if r < n_ordinary}
    if len(ranks) != n_ordinary:
        raise ValueError(f"{tokenizer.name} has gaps in its ranks; it cannot be truncated")
    order = sorted(tokenizer.special_tokens, key=tokenizer.special_tokens.__getitem__)
    specials = {s: n_ordinary + i for i, s in enumerate(order)}
    return Tokenizer(ranks, tokenizer.pattern, specials, name=f"{tokenizer.name}-{vocab_size}")
