"""BPE training: the incremental trainer equals a naive one, is deterministic, and fails clearly."""

from collections import Counter
from itertools import pairwise

import pytest

from minillm.tokenizer import (
    DEFAULT_SPECIAL_TOKENS,
    ENDOFTEXT,
    GPT2_SPLIT_PATTERN,
    count_pretokens,
    pretokenize,
    train_bpe,
    truncate,
)

TEXT = (
    "The cat sat on the mat. The dog sat on the log! Cats and dogs, dogs and cats: 12345 of them.\n"
    "def sat(mat):\n    return mat + 1  # the mat\n\n"
    "Naïve café owners said “bonjour” to 東京 visitors 🙂🙂 three times.\n"
) * 6


def naive_merges(text: str, n_merges: int) -> list[tuple[int, int, int]]:
    """The textbook loop: recount every pair of every pre-token after each merge."""
    words = Counter(p.encode() for p in pretokenize(text))
    seqs = {w: list(w) for w in words}
    vocab = {bytes([i]): i for i in range(256)}
    token = [bytes([i]) for i in range(256)]
    merges = []
    while len(vocab) < 256 + n_merges:
        counts = Counter()
        for w, seq in seqs.items():
            for pair in pairwise(seq):
                counts[pair] += words[w]
        best = min(counts, key=lambda p: (-counts[p], p))
        merged = token[best[0]] + token[best[1]]
        new = vocab.setdefault(merged, len(token))
        if new == len(token):
            token.append(merged)
        merges.append((*best, new))
        for w, seq in seqs.items():
            out, i = [], 0
            while i < len(seq):
                if i + 1 < len(seq) and (seq[i], seq[i + 1]) == best:
                    out.append(new)
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            seqs[w] = out
    return merges


def test_incremental_training_equals_naive_recounting():
    result = train_bpe(TEXT, 256 + 95 + len(DEFAULT_SPECIAL_TOKENS))
    assert result.merges == naive_merges(TEXT, 95)
    # the counts recorded for each merge never increase (greedy: the best pair first)
    assert all(a >= b for a, b in pairwise(result.merge_counts))


def test_training_is_deterministic_and_parallel_counting_changes_nothing():
    docs = TEXT.split("\n")
    first = train_bpe(docs, 350)
    again = train_bpe(list(docs), 350)
    parallel = train_bpe(docs, 350, num_proc=2)
    assert first.merges == again.merges == parallel.merges
    assert first.tokenizer.mergeable_ranks == parallel.tokenizer.mergeable_ranks
    assert count_pretokens(docs, num_proc=2) == count_pretokens(docs, num_proc=1)


def test_vocab_layout_and_special_tokens_stay_out_of_merges():
    text = f"hello world{ENDOFTEXT}hello there{ENDOFTEXT}" * 20
    result = train_bpe(text, 275)
    tok = result.tokenizer
    assert tok.n_vocab == 275
    n_special = len(DEFAULT_SPECIAL_TOKENS)
    assert sorted(tok.special_tokens.values()) == list(range(275 - n_special, 275))
    assert tok.special_tokens[ENDOFTEXT] == 275 - n_special
    assert sorted(tok.mergeable_ranks.values()) == list(range(275 - n_special))
    for token in tok.mergeable_ranks:
        assert b"<|" not in token and b"|>" not in token, token
    # every learned token is the concatenation of the tokens it merged
    for a, b, new in result.merges:
        assert tok.decoder[new] == tok.decoder[a] + tok.decoder[b]


def test_truncating_a_long_run_equals_a_short_run():
    long = train_bpe(TEXT, 256 + 95 + len(DEFAULT_SPECIAL_TOKENS)).tokenizer
    short = train_bpe(TEXT, 256 + 60 + len(DEFAULT_SPECIAL_TOKENS)).tokenizer
    cut = truncate(long, short.n_vocab)
    assert cut.mergeable_ranks == short.mergeable_ranks
    assert cut.special_tokens == short.special_tokens
    assert cut.encode(TEXT) == short.encode(TEXT)
    with pytest.raises(ValueError, match="larger vocab_size"):
        truncate(short, long.n_vocab)


def test_gpt2_pattern_splits_differently_and_trains():
    assert pretokenize("x 12345", GPT2_SPLIT_PATTERN) == ["x", " 12345"]
    assert pretokenize("x 12345", "gpt4") == ["x", " ", "123", "45"]
    tok = train_bpe(TEXT, 320, pattern="gpt2").tokenizer
    assert tok.pattern == GPT2_SPLIT_PATTERN
    assert tok.decode(tok.encode(TEXT)) == TEXT


@pytest.mark.parametrize("corpus", ["", [], ["", ""], [ENDOFTEXT, ENDOFTEXT * 3]])
def test_empty_corpus_is_a_clear_error(corpus):
    with pytest.raises(ValueError, match="corpus is empty"):
        train_bpe(corpus, 512)


def test_vocab_smaller_than_the_bytes_is_a_clear_error():
    with pytest.raises(ValueError, match=r"too small.*256 byte tokens"):
        train_bpe(TEXT, 200)
    with pytest.raises(ValueError, match=rf"vocab_size >= {256 + len(DEFAULT_SPECIAL_TOKENS)}"):
        train_bpe(TEXT, 256)
    n_min = 256 + len(DEFAULT_SPECIAL_TOKENS)
    assert train_bpe(TEXT, n_min).tokenizer.n_vocab == n_min  # no merges: bytes + specials


def test_vocab_too_large_for_the_corpus_is_a_clear_error():
    with pytest.raises(ValueError, match=r"runs out of pairs to merge after \d+ new tokens"):
        train_bpe("abc abd", 1000)
    small = train_bpe("abc abd", 1000, stop_early=True).tokenizer
    assert small.n_vocab == 256 + 4 + len(DEFAULT_SPECIAL_TOKENS)    # ab, " ab", abc, " abd"
    assert small.encode("abc abd") == [258, 259]


def test_bad_inputs():
    with pytest.raises(ValueError, match="iterable of strings"):
        train_bpe(["text", 3], 300)
    with pytest.raises(ValueError, match="not a valid regular expression"):
        train_bpe(TEXT, 300, pattern="(unclosed")
    with pytest.raises(ValueError, match="num_proc"):
        count_pretokens(["a"], num_proc=0)
