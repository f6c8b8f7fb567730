"""The TinyWorld corpus: a deterministic, streaming stream of documents about the world.

Documents come in seven genres (stories, encyclopedia entries, dialogues, Q&A, word problems,
recipes, lists), so every fact is stated many times in different words. Document `i` of a split
is written by its own random stream, seeded from (world seed, corpus seed, split, i), so:

- the same seeds always give byte-identical text, and any document can be rebuilt alone;
- train, validation and test documents come from different streams and never coincide;
- train documents never name a held-out entity (checked for every document as it is made).

    >>> from minillm.data.tinyworld import make_world
    >>> world = make_world(seed=0)
    >>> docs = list(iter_documents(world, split="train", seed=0, n_docs=3))
    >>> [d.id for d in docs]
    ['train-000000', 'train-000001', 'train-000002']

`write_corpus(path, n_bytes)` streams documents into a text file separated by `EOT` lines;
`corpus_stats(texts)` gives the numbers for a data card (word types, gzip ratio, ...).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from minillm.data.tinyworld.genres import GENRE_WRITERS, SplitView
from minillm.data.tinyworld.world import World, check_split, make_world

EOT = "<|endoftext|>"
SEPARATOR = "\n" + EOT + "\n"  # between documents in files written by write_corpus
GENRES = tuple(GENRE_WRITERS)
# Stories lead, as in TinyStories; facts-heavy genres follow; the rest add variety.
GENRE_WEIGHTS = {
    "story": 0.34,
    "encyclopedia": 0.2,
    "dialogue": 0.14,
    "qa": 0.08,
    "word_problem": 0.1,
    "recipe": 0.07,
    "list": 0.07,
}
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Document:
    id: str  # "train-000123"
    genre: str  # one of GENRES
    split: str  # "train", "validation" or "test"
    text: str
    subjects: tuple[str, ...]  # entity names the text mentions, in order of first mention
    templates: tuple[str, ...]  # one template id per sentence, e.g. "story.open/3"


def _document_rng(world_seed: int, seed: int, split: str, index: int) -> random.Random:
    digest = hashlib.blake2b(
        f"tinyworld/{world_seed}/{seed}/{split}/{index}".encode(), digest_size=8
    )
    return random.Random(int.from_bytes(digest.digest(), "little"))


def make_document(view: SplitView, seed: int, index: int) -> Document:
    """Document number `index` of the split that `view` describes."""
    rng = _document_rng(view.world.seed, seed, view.split, index)
    genre = rng.choices(GENRES, weights=[GENRE_WEIGHTS[g] for g in GENRES])[0]
    writer, names = GENRE_WRITERS[genre](view, rng)
    text = writer.text()
    entities = view.world.entities
    subjects = tuple(sorted((n for n in names if n in entities and n in text), key=text.index))
    if view.split == "train":
        leaked = [n for n in view.world.heldout if n in text]
        if leaked:  # an invariant of the generator, so a loud error rather than a silent skip
            raise RuntimeError(f"bug: train document {index} names held-out entities {leaked}")
    return Document(
        f"{view.split}-{index:06d}", genre, view.split, text, subjects, tuple(writer.template_ids)
    )


def iter_documents(
    world: World,
    split: str = "train",
    seed: int = 0,
    n_bytes: int | None = None,
    n_docs: int | None = None,
    start: int = 0,
) -> Iterator[Document]:
    """Yield documents lazily until `n_bytes` UTF-8 bytes of text or `n_docs` documents.

    With neither limit the stream is endless. `start` skips to document number `start`.
    """
    check_split(split)
    for name, limit in (("n_bytes", n_bytes), ("n_docs", n_docs), ("start", start)):
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError(f"{name} must be a non-negative int or None, got {limit!r}")
    view = SplitView(world, split)
    written, index = 0, start
    while (n_bytes is None or written < n_bytes) and (n_docs is None or index - start < n_docs):
        doc = make_document(view, seed, index)
        written += len(doc.text.encode("utf-8"))
        index += 1
        yield doc


def write_corpus(
    path: str | os.PathLike,
    n_bytes: int,
    seed: int = 0,
    split: str = "train",
    world: World | None = None,
) -> dict:
    """Stream documents into a UTF-8 file, separated by SEPARATOR, until `n_bytes` of text.

    The file is written to a temporary name and renamed, so it is never left half-written.
    Returns {"path", "docs", "bytes", "seconds", "split", "seed"}.
    """
    if not isinstance(n_bytes, int) or n_bytes <= 0:
        raise ValueError(f"n_bytes must be a positive int (e.g. 1_000_000), got {n_bytes!r}")
    world = world if world is not None else make_world(0)
    path = os.fspath(path)
    tmp = path + ".tmp"
    start = time.perf_counter()
    docs = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for doc in iter_documents(world, split=split, seed=seed, n_bytes=n_bytes):
            if docs:
                f.write(SEPARATOR)
            f.write(doc.text)
            docs += 1
    os.replace(tmp, path)
    return {
        "path": path,
        "docs": docs,
        "bytes": os.path.getsize(path),
        "seconds": round(time.perf_counter() - start, 3),
        "split": split,
        "seed": seed,
    }


def read_corpus(path: str | os.PathLike) -> Iterator[str]:
    """Yield the document texts of a file written by `write_corpus`."""
    with open(path, encoding="utf-8") as f:
        yield from f.read().split(SEPARATOR)


def corpus_stats(texts: Iterable[str]) -> dict:
    """Documents, words, distinct word types (lowercase a-z runs), bytes and gzip ratio.

    The gzip ratio (raw bytes / gzip -9 bytes of the texts joined by newlines) measures
    redundancy: natural English is near 3, heavily templated text much higher.
    """
    documents = words = n_bytes = 0
    types: set[str] = set()
    compressor = gzip.compress  # one-shot per chunk keeps memory bounded on big corpora
    compressed = 0
    chunk: list[str] = []
    chunk_bytes = 0
    for text in texts:
        documents += 1
        tokens = _WORD.findall(text.lower())
        words += len(tokens)
        types.update(tokens)
        data = (text + "\n").encode("utf-8")
        n_bytes += len(data)
        chunk.append(text + "\n")
        chunk_bytes += len(data)
        if chunk_bytes >= 4_000_000:
            compressed += len(compressor("".join(chunk).encode("utf-8"), 9))
            chunk, chunk_bytes = [], 0
    if chunk:
        compressed += len(compressor("".join(chunk).encode("utf-8"), 9))
    return {
        "documents": documents,
        "words": words,
        "word_types": len(types),
        "bytes": n_bytes,
        "gzip_ratio": round(n_bytes / compressed, 3) if compressed else 0.0,
    }


def word_frequencies(texts: Iterable[str]) -> Counter:
    """How often each word type (lowercase a-z run, as in `corpus_stats`) occurs in `texts`."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(_WORD.findall(text.lower()))
    return counts


def template_shares(documents: Iterable[Document]) -> dict[str, float]:
    """Fraction of all sentences written by each template id, largest first."""
    counts: dict[str, int] = {}
    total = 0
    for doc in documents:
        for template_id in doc.templates:
            counts[template_id] = counts.get(template_id, 0) + 1
        total += len(doc.templates)
    return dict(sorted(((k, v / total) for k, v in counts.items()), key=lambda kv: -kv[1]))
