"""Encoding: parity with tiktoken (cl100k_base and our own merges), round trips, special tokens."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minillm.tokenizer import (
    CHAT_SPECIAL_TOKENS,
    ENDOFTEXT,
    Tokenizer,
    bpe_merge,
    from_tiktoken,
    load_encoding,
    to_tiktoken,
    train_bpe,
)

VARIED = [
    "Hello, world! The quick brown fox jumps over the lazy dog.",
    "I'm sure you've seen it; they'll say it's THEIR'S, don't they? WE'LL SEE.",
    "def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)",
    "for (int i = 0; i < 10; ++i) { printf(\"%d\\n\", i); }\r\n",
    "Emoji 🤖🎉👩‍👩‍👧‍👦 🇫🇷 ❤️ 👍🏽",
    "中文文本：你好，世界！日本語：こんにちは。한국어: 안녕하세요.",
    "Ελληνικά, русский текст, العربية, हिन्दी",
    " " * 37 + "spaces\t\t\t\ttabs\n\n\n\n\nnewlines",
    "trailing whitespace   \n   \t ",
    "1234567890 3.14159 1,000,000 -42 0x1F 2024-11-24 1e-9",
    "",
    "a" * 300,
    "\u00a0\u2003 odd spaces \u200b zero width",
]
TRAIN_TEXT = "\n".join(VARIED[:10]) * 3


@pytest.fixture(scope="module")
def cl100k():
    return load_encoding("cl100k_base")


@pytest.fixture(scope="module")
def cl100k_reference(cl100k):
    return from_tiktoken(cl100k)


@pytest.fixture(scope="module")
def trained():
    return train_bpe(TRAIN_TEXT, 330).tokenizer


@pytest.mark.parametrize("text", VARIED)
def test_pure_python_matches_tiktoken_on_cl100k(cl100k, cl100k_reference, text):
    assert cl100k_reference.encode_ordinary(text) == cl100k.encode_ordinary(text)
    with_special = f"{text}{ENDOFTEXT}{text}"
    assert (cl100k_reference.encode(with_special, allowed_special="all")
            == cl100k.encode(with_special, allowed_special="all"))


def test_cl100k_known_ids(cl100k_reference):
    # ids published with cl100k_base: "hello world" -> [15339, 1917]
    assert cl100k_reference.encode("hello world") == [15339, 1917]
    assert cl100k_reference.eot_token == 100257


def test_trained_tokenizer_same_ids_both_paths(trained):
    fast = to_tiktoken(trained)
    for text in [*VARIED, TRAIN_TEXT]:
        assert trained.encode(text) == fast.encode(text)
        assert trained.decode(trained.encode(text)) == text
    assert trained.encode_batch(VARIED) == fast.encode_batch(VARIED)
    assert fast.n_vocab == trained.n_vocab == 330
    assert fast.eot_token == trained.eot_token


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_round_trip_and_parity_on_arbitrary_strings(trained, text):
    ids = trained.encode_ordinary(text)
    assert trained.decode(ids) == text
    assert to_tiktoken(trained).encode_ordinary(text) == ids


@settings(max_examples=60, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list("ab 1\n😀é東<|>endoftx")), max_size=60))
def test_cl100k_parity_on_adversarial_strings(cl100k, cl100k_reference, text):
    assert cl100k_reference.encode_ordinary(text) == cl100k.encode_ordinary(text)


def test_bpe_merge_takes_lowest_rank_then_leftmost():
    ranks = {bytes([i]): i for i in range(256)} | {b"bc": 256, b"ab": 257, b"abc": 258}
    # "bc" has the lower rank, so it merges first, and "a"+"bc" is then a token
    assert bpe_merge(b"abc", ranks) == [b"abc"]
    assert bpe_merge(b"aaaa", {**ranks, b"aa": 259}) == [b"aa", b"aa"]
    assert bpe_merge(b"", ranks) == []


def test_decode_replaces_invalid_utf8(trained):
    snake = trained.encode("🙂")
    partial = [trained.mergeable_ranks[bytes([b])] for b in "🙂".encode()[:2]]
    assert trained.decode(partial) == "\ufffd"
    assert to_tiktoken(trained).decode(partial) == "\ufffd"
    with pytest.raises(UnicodeDecodeError):
        trained.decode(partial, errors="strict")
    assert trained.decode(snake) == "🙂"
    with pytest.raises(KeyError, match="not in the vocabulary"):
        trained.decode([10**6])


def test_lone_surrogates_are_replaced_like_tiktoken(trained, cl100k, cl100k_reference):
    text = "ok \ud83d broken"
    assert cl100k_reference.encode(text) == cl100k.encode(text)
    assert trained.decode(trained.encode(text)) == "ok \ufffd broken"


def test_special_token_rules_match_tiktoken(trained, cl100k, cl100k_reference):
    text = f"hi{ENDOFTEXT}there"
    for tok in (trained, to_tiktoken(trained), cl100k, cl100k_reference):
        with pytest.raises(ValueError, match="special token"):
            tok.encode(text)                                  # disallowed by default
        special = tok.encode(text, allowed_special={ENDOFTEXT})
        assert tok.eot_token in special
        assert special == tok.encode(text, allowed_special="all")
        plain = tok.encode(text, disallowed_special=())
        assert tok.eot_token not in plain
        assert plain == tok.encode_ordinary(text)
        assert tok.decode(special) == tok.decode(plain) == text
    assert (cl100k_reference.encode(text, allowed_special={ENDOFTEXT})
            == cl100k.encode(text, allowed_special={ENDOFTEXT}))


def test_special_token_error_says_what_to_do(trained):
    with pytest.raises(ValueError, match=r"'<\|user\|>'.*allowed_special.*disallowed_special=\(\)"):
        trained.encode("hello <|user|>")
    # only the listed tokens are rejected; others are then plain text
    ids = trained.encode("<|user|> x", disallowed_special={ENDOFTEXT})
    assert trained.special_tokens["<|user|>"] not in ids
    with pytest.raises(ValueError, match="not special tokens"):
        trained.encode("x", allowed_special={"<|nope|>"})


def test_chat_special_tokens_are_single_tokens(trained):
    fast = to_tiktoken(trained)
    for name in (ENDOFTEXT, *CHAT_SPECIAL_TOKENS):
        assert trained.encode(name, allowed_special="all") == [trained.special_tokens[name]]
        assert fast.encode_single_token(name) == trained.encode_single_token(name)
    chat = "<|system|>Be brief.<|end|><|user|>Hi!<|end|><|assistant|>Hello.<|end|>"
    assert fast.encode(chat, allowed_special="all") == trained.encode(chat, allowed_special="all")
    assert fast.decode(fast.encode(chat, allowed_special="all")) == chat


def test_tokenizer_rejects_broken_tables():
    with pytest.raises(ValueError, match="256 single bytes"):
        Tokenizer({b"a": 0})
    ranks = {bytes([i]): i for i in range(256)}
    with pytest.raises(ValueError, match="also ordinary token ids"):
        Tokenizer(ranks, special_tokens={ENDOFTEXT: 3})


def test_analysis_helpers(trained, cl100k):
    from minillm.tokenizer.analysis import bytes_per_token, piece_text, token_pieces, tokens_html

    text = "Hello 東京 🙂 world<|endoftext|>"
    for enc in (trained, cl100k):
        assert len(token_pieces(enc, text)) == len(enc.encode(text, allowed_special="all"))
    plain = "Hello, world!<|endoftext|>"
    assert "".join(token_pieces(cl100k, plain)) == plain
    assert "<e6><9d><b1>" in "".join(token_pieces(cl100k, text))      # 東 split inside its bytes
    assert token_pieces(cl100k, "hello world") == ["hello", " world"]
    assert piece_text("東".encode()[:2]) == "<e6><9d>"
    assert piece_text(b"a" + "東".encode()[:1]) == "a<e6>"
    assert bytes_per_token(cl100k, ["hello world"]) == 11 / 2
    assert bytes_per_token(trained, ["abc"]) == bytes_per_token(to_tiktoken(trained), ["abc"])
    with pytest.raises(ValueError, match="no tokens"):
        bytes_per_token(cl100k, [""])
    page = tokens_html(cl100k, "a <b>", show_ids=True)
    assert "&lt;" in page and "&gt;" in page and "<b>" not in page
    assert f"{len(cl100k.encode('a <b>'))} tokens, 5 bytes" in page
