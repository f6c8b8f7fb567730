"""Tokenizer benchmark: parity, training speed, encoding speed and compression, in one run.

1. Parity: the pure-Python encoder on cl100k_base ranks vs tiktoken, on a varied test set
   (English, code, emoji, CJK, whitespace runs, numbers, special tokens) plus real docstrings;
   and our trained tokenizer through both paths (pure Python and its tiktoken export).
2. Training (best of 3 runs each): ``train_bpe`` at vocab 8,192 on ~10 MB (TinyWorld +
   PyDocs, cpu-profile artifacts) vs the Rust ``tokenizers`` BPE trainer on the same
   documents, split pattern and vocabulary.
3. Encoding throughput: our fast path (cl100k ranks saved by us, loaded back and exported to
   tiktoken) vs tiktoken's own cl100k_base encoding; the pure-Python path for scale.
4. Compression: UTF-8 bytes per token of our tokenizer at 1k/4k/8k/16k vs cl100k_base, on
   held-out TinyWorld and PyDocs text.

    python benchmarks/bench_tokenizer.py [--mb 10] [--num-proc 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("RAYON_NUM_THREADS", "2")        # the Rust trainer gets the same 2 cores

from minillm import artifacts  # noqa: E402
from minillm.data.build import load_pydocs_records  # noqa: E402
from minillm.tokenizer import (  # noqa: E402
    DEFAULT_SPECIAL_TOKENS,
    GPT4_SPLIT_PATTERN,
    from_tiktoken,
    load_encoding,
    load_tiktoken,
    save_tokenizer,
    to_tiktoken,
    train_bpe,
    truncate,
)
from minillm.tokenizer.stage import read_documents  # noqa: E402

PARITY_TEXTS = [
    "Hello, world! The quick brown fox jumps over the lazy dog.",
    "I'm sure you've seen it; they'll say it's THEIR'S, don't they? WE'LL SEE.",
    "def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)",
    "for (int i = 0; i < 10; ++i) { printf(\"%d\\n\", i); }  // C code\r\n",
    "Emoji: 🤖🎉👩‍👩‍👧‍👦 🇫🇷 ❤️ and a thumbs up 👍🏽.",
    "中文文本：你好，世界！日本語：こんにちは。한국어: 안녕하세요.",
    "Ελληνικά, русский текст, العربية, עברית, हिन्दी",
    " " * 37 + "leading spaces, then tabs\t\t\t\tand newlines\n\n\n\n\nend",
    "trailing whitespace   \n   \t ",
    "Numbers: 1234567890 3.14159 1,000,000 -42 0x1F 2024-11-24 12:30:45 1e-9",
    "Special: <|endoftext|> between <|endoftext|>documents<|endoftext|>",
    "<|fim_prefix|>def <|fim_suffix|> return<|fim_middle|>",
    "",
    "\n",
    "a" * 500,
    "  \u00a0\u2003 non-breaking and em spaces \u200b zero width",
]


def timed(fn, repeat: int = 1):
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def load_corpora(mb: float):
    tinyworld = artifacts.get("tinyworld_corpus", profile="cpu")
    pydocs = [r.text for r in load_pydocs_records(artifacts.get("pydocs", profile="cpu"))]
    cut = int(len(pydocs) * 0.8)
    pydocs_train, pydocs_heldout = pydocs[:cut], pydocs[cut:]
    budget = int(mb * 1_000_000)
    pydocs_bytes = sum(len(d.encode()) for d in pydocs_train)
    tinyworld_train = read_documents(tinyworld.file("train.txt"), max(0, budget - pydocs_bytes))
    train = pydocs_train + tinyworld_train
    heldout = {"TinyWorld": read_documents(tinyworld.file("validation.txt")),
               "PyDocs": pydocs_heldout}
    return train, heldout


def parity(cl100k, trained, real_docs):
    reference = from_tiktoken(cl100k)
    texts = PARITY_TEXTS + real_docs
    fast = to_tiktoken(trained)

    def same(a, b, text):
        return a.encode(text, allowed_special="all") == b.encode(text, allowed_special="all")

    same_cl = sum(same(reference, cl100k, t) for t in texts)
    same_ours = sum(same(trained, fast, t) for t in texts)
    round_trip = sum(fast.decode(fast.encode(t, allowed_special="all")) == t for t in texts)
    n = len(texts)
    print(f"[parity] pure-Python vs tiktoken on cl100k_base: {same_cl}/{n} texts identical")
    print(f"[parity] trained tokenizer, pure-Python vs tiktoken export: {same_ours}/{n} identical")
    print(f"[parity] decode(encode(text)) == text: {round_trip}/{len(texts)}")


def training_speed(train_docs, vocab_size: int, num_proc: int):
    n_bytes = sum(len(d.encode()) for d in train_docs)
    ours_s, result = timed(lambda: train_bpe(train_docs, vocab_size, num_proc=num_proc), repeat=3)
    print(f"[train] {n_bytes / 1e6:.1f} MB, {len(train_docs)} documents, vocab {vocab_size}, "
          f"{result.n_pretokens} unique pre-tokens")
    print(f"[train] minillm train_bpe (num_proc={num_proc}): {ours_s:.2f} s")
    try:
        from tokenizers import Regex, pre_tokenizers, trainers
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers.models import BPE
    except ImportError:
        print("[train] `tokenizers` is not installed (pip install tokenizers): no Rust reference")
        return result

    def hf_train():
        tok = HFTokenizer(BPE())
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(GPT4_SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=list(DEFAULT_SPECIAL_TOKENS), min_frequency=0,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(train_docs, trainer)
        return tok

    hf_s, hf_tok = timed(hf_train, repeat=3)
    print(f"[train] HF tokenizers BpeTrainer (Rust, RAYON_NUM_THREADS="
          f"{os.environ['RAYON_NUM_THREADS']}): {hf_s:.2f} s, vocab {hf_tok.get_vocab_size()}")
    print(f"[train] ratio minillm / tokenizers: {ours_s / hf_s:.2f}x  (goal <= 10x; "
          f"absolute goal <= 60 s: {'met' if ours_s <= 60 else 'NOT met'})")
    return result


def encoding_speed(cl100k, text: str):
    with tempfile.TemporaryDirectory() as tmp:
        save_tokenizer(from_tiktoken(cl100k), tmp)
        ours = load_tiktoken(tmp)
    reference = from_tiktoken(cl100k)
    n_bytes = len(text.encode())
    lines = text.splitlines(keepends=True)
    theirs_s, theirs_ids = timed(lambda: cl100k.encode_ordinary(text), repeat=5)
    ours_s, ours_ids = timed(lambda: ours.encode_ordinary(text), repeat=5)
    assert ours_ids == theirs_ids, "the fast path disagrees with tiktoken"
    batch_theirs_s, _ = timed(lambda: cl100k.encode_ordinary_batch(lines, num_threads=2), repeat=5)
    batch_ours_s, _ = timed(lambda: ours.encode_ordinary_batch(lines, num_threads=2), repeat=5)
    small = text[: 200_000]
    pure_s, _ = timed(lambda: reference.encode_ordinary(small))     # one run: its cache is empty
    mb = n_bytes / 1e6
    print(f"[encode] {mb:.1f} MB; tiktoken cl100k_base: {mb / theirs_s:.1f} MB/s; "
          f"ours (saved+loaded ranks -> tiktoken): {mb / ours_s:.1f} MB/s; "
          f"ratio ours/tiktoken throughput {theirs_s / ours_s:.3f} (goal >= 0.90)")
    print(f"[encode] batch of {len(lines)} lines, 2 threads: ratio ours/tiktoken "
          f"{batch_theirs_s / batch_ours_s:.3f}")
    small_mb = len(small.encode()) / 1e6
    print(f"[encode] pure-Python reference, fresh cache: {small_mb / pure_s:.2f} MB/s "
          f"({(small_mb / pure_s) / (mb / theirs_s):.4f}x tiktoken)")


def compression(trained, cl100k, heldout):
    rows = []
    sizes = [v for v in (1024, 4096, 8192, 16384) if v <= trained.n_vocab]
    tokenizers = {f"minillm {v}": to_tiktoken(truncate(trained, v)) for v in sizes}
    tokenizers["cl100k_base"] = cl100k
    print(f"[compress] bytes per token (higher = better), held-out text; "
          f"ours trained once at {trained.n_vocab} and truncated")
    header = f"{'tokenizer':>16} " + " ".join(f"{name:>10}" for name in heldout)
    print(header)
    for name, enc in tokenizers.items():
        cells = []
        for docs in heldout.values():
            n_bytes = sum(len(d.encode()) for d in docs)
            n_tokens = sum(len(ids) for ids in enc.encode_ordinary_batch(docs, num_threads=2))
            cells.append(n_bytes / n_tokens)
        rows.append((name, cells))
        print(f"{name:>16} " + " ".join(f"{c:>10.3f}" for c in cells))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=10.0, help="training corpus size in MB")
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=8192)
    args = parser.parse_args()

    cl100k = load_encoding("cl100k_base")
    train_docs, heldout = load_corpora(args.mb)
    result = training_speed(train_docs, args.vocab, args.num_proc)
    parity(cl100k, result.tokenizer, heldout["PyDocs"][:200] + heldout["TinyWorld"][:50])
    encoding_speed(cl100k, "\n".join(heldout["PyDocs"] + heldout["TinyWorld"]))
    big = train_bpe(train_docs, 16384, num_proc=args.num_proc).tokenizer
    compression(big, cl100k, heldout)


if __name__ == "__main__":
    main()
