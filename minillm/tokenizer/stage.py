"""The tokenize stage: per-profile configs and the ``tokenizer`` and ``token_shards`` artifacts.

- ``tokenizer``     byte-level BPE trained on (a slice of) the curated training text, with the
                    chat-template special tokens reserved; files ``tokenizer.tiktoken`` +
                    ``tokenizer.json``
- ``token_shards``  the curated train and validation text tokenized into ``train.bin`` and
                    ``val.bin`` (flat uint16/uint32 ids, EOT after each document) + ``meta.json``

Later stages only need::

    from minillm.tokenizer.stage import load_tokenizer, load_token_shard
    enc = load_tokenizer()                  # tiktoken.Encoding, built on demand
    train = load_token_shard("train")       # numpy memmap of token ids
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from minillm import artifacts, profiles
from minillm.curation import stage as _curation_stage  # noqa: F401  (registers curated_corpus)
from minillm.tokenizer.bpe import Tokenizer
from minillm.tokenizer.shards import read_shard, write_shard
from minillm.tokenizer.tiktoken_io import load_tokenizer_files, save_tokenizer, to_tiktoken
from minillm.tokenizer.train import train_bpe

CORPUS_ARTIFACT = "curated_corpus"       # train.txt + validation.txt, <|endoftext|>-separated
DOCUMENT_SEPARATOR = "\n<|endoftext|>\n"
SPLIT_FILES = {"train": "train.bin", "val": "val.bin"}


@dataclass(frozen=True)
class TokenizeConfig:
    vocab_size: int            # all ids: 256 bytes + merges + special tokens
    train_bytes: int           # BPE learns from the first documents of train.txt up to this size
    pattern: str = "gpt4"      # pre-tokenization: "gpt2", "gpt4" or a regex
    num_proc: int = 2          # processes for pre-token counting and for shard tokenization


profiles.register_stage(
    "tokenize",
    configs={
        "smoke": TokenizeConfig(vocab_size=512, train_bytes=200_000),
        "cpu": TokenizeConfig(vocab_size=4096, train_bytes=4_000_000),
        "gpu": TokenizeConfig(vocab_size=8192, train_bytes=16_000_000),
    },
    minutes={"smoke": 0.5, "cpu": 2, "gpu": 6},
    description="byte-level BPE tokenizer and token shards",
)


def read_documents(path: str | Path, max_bytes: int | None = None) -> list[str]:
    """The documents of a corpus file (separated by ``<|endoftext|>`` lines), optionally only
    the first ones up to ``max_bytes`` of UTF-8."""
    documents = [d for d in Path(path).read_text(encoding="utf-8").split(DOCUMENT_SEPARATOR) if d]
    if max_bytes is None:
        return documents
    kept, total = [], 0
    for doc in documents:
        if total >= max_bytes:
            break
        kept.append(doc)
        total += len(doc.encode("utf-8"))
    return kept


@artifacts.register("tokenizer", deps=(CORPUS_ARTIFACT,), stage="tokenize")
def build_tokenizer(out_dir, config: TokenizeConfig, inputs):
    """Byte-level BPE trained on the curated corpus, chat special tokens reserved."""
    corpus = inputs[CORPUS_ARTIFACT]
    documents = read_documents(corpus.file("train.txt"), config.train_bytes)
    result = train_bpe(documents, config.vocab_size, pattern=config.pattern,
                       num_proc=config.num_proc, progress=True,
                       name=f"minillm-bpe-{config.vocab_size}")
    encoding = to_tiktoken(result.tokenizer)
    validation = read_documents(corpus.file("validation.txt"))
    val_bytes = sum(len(d.encode("utf-8")) for d in validation)
    val_tokens = sum(len(ids) for ids in encoding.encode_ordinary_batch(validation, num_threads=1))
    save_tokenizer(result.tokenizer, out_dir, extra_meta={"trained_on_bytes": result.n_bytes,
                                                          "unique_pretokens": result.n_pretokens})
    return {"vocab_size": result.tokenizer.n_vocab, "n_merges": len(result.merges),
            "trained_on_bytes": result.n_bytes, "unique_pretokens": result.n_pretokens,
            "special_tokens": result.tokenizer.special_tokens,
            "validation_bytes_per_token": round(val_bytes / max(1, val_tokens), 4)}


@artifacts.register("token_shards", deps=("tokenizer", CORPUS_ARTIFACT), stage="tokenize")
def build_token_shards(out_dir, config: TokenizeConfig, inputs):
    """The curated train/validation text as flat token-id shards (train.bin, val.bin)."""
    encoding = load_tokenizer(inputs["tokenizer"])
    corpus = inputs[CORPUS_ARTIFACT]
    meta = {"tokenizer_key": inputs["tokenizer"].key, "n_vocab": encoding.n_vocab,
            "eot_token": encoding.eot_token, "splits": {}}
    for split, source in (("train", "train.txt"), ("val", "validation.txt")):
        documents = read_documents(corpus.file(source))
        info = write_shard(documents, encoding, out_dir / SPLIT_FILES[split],
                           num_proc=config.num_proc)
        info["bytes_of_text"] = sum(len(d.encode("utf-8")) for d in documents)
        meta["splits"][split] = info
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def _artifact(name: str, artifact: artifacts.Artifact | None) -> artifacts.Artifact:
    return artifact if artifact is not None else artifacts.get(name)


def load_reference_tokenizer(artifact: artifacts.Artifact | None = None) -> Tokenizer:
    """The trained tokenizer as the readable pure-Python ``Tokenizer``."""
    return load_tokenizer_files(_artifact("tokenizer", artifact).path)


def load_tokenizer(artifact: artifacts.Artifact | None = None):
    """The trained tokenizer as a fast ``tiktoken.Encoding`` (built on demand)."""
    return to_tiktoken(load_reference_tokenizer(artifact))


def token_shards_meta(artifact: artifacts.Artifact | None = None) -> dict:
    return json.loads(_artifact("token_shards", artifact).file("meta.json").read_text())


def load_token_shard(split: str = "train", artifact: artifacts.Artifact | None = None):
    """The ``train`` or ``val`` token ids as a read-only ``numpy.memmap``."""
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(SPLIT_FILES)}, got {split!r}")
    artifact = _artifact("token_shards", artifact)
    meta = token_shards_meta(artifact)
    return read_shard(artifact.file(SPLIT_FILES[split]), meta["splits"][split]["dtype"])
