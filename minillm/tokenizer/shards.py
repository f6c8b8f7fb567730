"""Token shards: a corpus tokenized once into one flat array of ids on disk.

Pretraining reads random windows of tokens millions of times; re-tokenizing text each time would
waste most of the run. So the corpus is encoded once and written as raw integers: ``uint16`` when
the vocabulary fits in 65,536 ids (half the disk and memory of ``uint32``), else ``uint32``. The
file is opened with ``numpy.memmap``, so a 10 GB shard costs no RAM until a window is read.

Documents are concatenated, each followed by the end-of-text token, which is all the structure
the model needs: it learns that after ``<|endoftext|>`` a new, unrelated document begins.

    doc 1 ids ... EOT  doc 2 ids ... EOT  doc 3 ids ... EOT

Tokenization runs through ``datasets.map`` with ``num_proc`` worker processes::

    info = write_shard(documents, encoding, "train.bin", num_proc=2)
    tokens = read_shard("train.bin", info["dtype"])      # numpy memmap, read-only
    docs = split_documents(tokens, encoding.eot_token)    # back to one array per document
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DTYPES = {"uint16": np.uint16, "uint32": np.uint32}


def dtype_for(n_vocab: int) -> str:
    """The smallest unsigned dtype that holds every token id of a vocabulary of ``n_vocab``."""
    if n_vocab <= 2**16:
        return "uint16"
    if n_vocab <= 2**32:
        return "uint32"
    raise ValueError(f"n_vocab={n_vocab} does not fit in uint32 token ids")


class _EncodeDocuments:
    """The ``datasets.map`` function: a batch of texts -> ids with EOT appended, and lengths."""

    def __init__(self, encoding, eot: int):
        self.encoding = encoding
        self.eot = eot

    def __call__(self, batch: dict) -> dict:
        encoded = self.encoding.encode_ordinary_batch(batch["text"], num_threads=1)
        ids = [doc + [self.eot] for doc in encoded]
        return {"ids": ids, "n_tokens": [len(doc) for doc in ids]}


def tokenize_documents(documents: Sequence[str], encoding, num_proc: int = 1,
                       batch_size: int = 256):
    """A ``datasets.Dataset`` with columns ``ids`` (each document's ids + EOT) and ``n_tokens``.

    Documents are encoded as ordinary text: a document that happens to contain the string
    ``<|endoftext|>`` does not end early.
    """
    import datasets

    if num_proc < 1:
        raise ValueError(f"num_proc must be >= 1, got {num_proc}")
    documents = list(documents)
    bad = next((type(d).__name__ for d in documents if not isinstance(d, str)), None)
    if bad:
        raise ValueError(f"documents must be strings, got a {bad}")
    dataset = datasets.Dataset.from_dict({"text": documents})
    # A fingerprint from the inputs, so that datasets does not try to hash the encoding object.
    digest = hashlib.sha256(f"{encoding.name}|{encoding.n_vocab}|{len(documents)}".encode())
    for doc in documents[:: max(1, len(documents) // 64)]:
        digest.update(doc.encode("utf-8", "surrogatepass"))
    num_proc = min(num_proc, max(1, len(documents)))
    progress_off = os.environ.get("TQDM_DISABLE") == "1"
    if progress_off:
        datasets.disable_progress_bars()
    try:
        return dataset.map(
            _EncodeDocuments(encoding, encoding.eot_token), batched=True, batch_size=batch_size,
            num_proc=num_proc if num_proc > 1 else None, remove_columns=["text"],
            new_fingerprint=digest.hexdigest()[:32], desc="tokenizing",
        )
    finally:
        if progress_off:
            datasets.enable_progress_bars()


def write_shard(documents: Sequence[str], encoding, path: str | Path, num_proc: int = 1) -> dict:
    """Tokenize ``documents`` and write all ids, EOT after each document, to ``path``.

    Returns ``{"dtype", "n_tokens", "n_documents"}`` (keep it: the .bin file has no header).
    """
    path = Path(path)
    documents = list(documents)
    if not documents:
        raise ValueError(f"nothing to write to {path}: no documents were given")
    dtype = dtype_for(encoding.n_vocab)
    tokenized = tokenize_documents(documents, encoding, num_proc=num_proc)
    n_tokens = int(sum(tokenized["n_tokens"]))
    shard = np.memmap(path, dtype=DTYPES[dtype], mode="w+", shape=(n_tokens,))
    offset = 0
    for chunk in tokenized.data.column("ids").chunks:
        flat = chunk.flatten().to_numpy(zero_copy_only=False)
        shard[offset:offset + len(flat)] = flat
        offset += len(flat)
    assert offset == n_tokens, "the ids column and the token counts disagree"
    shard.flush()
    del shard
    return {"dtype": dtype, "n_tokens": n_tokens, "n_documents": len(tokenized)}


def read_shard(path: str | Path, dtype: str) -> np.memmap:
    """The tokens of a shard as a read-only ``numpy.memmap`` (no data is read until indexed)."""
    path = Path(path)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    if not path.exists():
        raise FileNotFoundError(f"no token shard at {path}; build it with write_shard or "
                                f"artifacts.get('token_shards')")
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    if path.stat().st_size % itemsize:
        raise ValueError(f"{path} has {path.stat().st_size} bytes, not a whole number of {dtype} "
                         f"ids: the file is truncated or the dtype is wrong")
    return np.memmap(path, dtype=DTYPES[dtype], mode="r")


def split_documents(tokens: np.ndarray, eot: int) -> list[np.ndarray]:
    """The documents of a shard, one array of ids each, without their EOT."""
    ends = np.flatnonzero(np.asarray(tokens) == eot)
    starts = np.concatenate([[0], ends[:-1] + 1])
    docs = [np.asarray(tokens[s:e]) for s, e in zip(starts, ends, strict=True)]
    if len(ends) == 0 or ends[-1] != len(tokens) - 1:
        tail = np.asarray(tokens[(ends[-1] + 1) if len(ends) else 0:])
        if len(tail):
            docs.append(tail)                         # a shard cut mid-document
    return docs
