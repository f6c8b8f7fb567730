"""A curation pipeline: composable steps over a ``datasets.Dataset``, each one logged.

A *step* is a small function with a name. A **document step** sees one text and returns an
``Outcome``: the (possibly changed) text, a ``reason`` if the document must go, and a ``change``
note if it was edited. A **corpus step** (deduplication) needs all texts at once: ``fn(texts, ids)`` returns one
``Outcome`` per text. The pipeline runs consecutive document steps in one parallel
``Dataset.map`` pass (``num_proc`` workers), corpus steps in the main process, and drops removed
rows with ``Dataset.filter``. It records:

- the **exclusion log**: one row per document a step removed or changed: id, step, action
  (``removed`` / ``changed``), reason, and the text before and after (cut to ``log_chars``);
- **per-step statistics**: documents and bytes in and out, documents changed, seconds.

    from minillm.curation import pipeline as P
    steps = [P.document_step("normalize", lambda t: P.Outcome(t.strip())),
             P.document_step("min_words", lambda t: P.Outcome(t, "too short" if len(t.split()) < 3 else None))]
    result = P.Pipeline(steps).run(datasets.Dataset.from_dict({"id": ["a", "b"], "text": ["x", "a b c"]}))
    result.dataset["text"]   # ['a b c']
    result.log_frame()       # who went where, and why
    result.stats_frame()     # the funnel

Bytes and ``None`` in the text column are handled: bytes are decoded (UTF-8, else
Windows-1252, noted in the log), ``None`` becomes an empty text and is removed as ``empty``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from minillm.curation.normalize import decode_bytes


@dataclass
class Outcome:
    """What a step did to one document."""

    text: str
    reason: str | None = None      # not None: the document is removed, and this says why
    change: str = ""               # not empty: the document was edited, and this says how


@dataclass(frozen=True)
class Step:
    name: str
    fn: Callable
    kind: str = "document"         # "document": fn(text) -> Outcome; "corpus": fn(texts, ids) -> [Outcome]
    description: str = ""


def document_step(name: str, fn: Callable[[str], Outcome], description: str = "") -> Step:
    return Step(name, fn, "document", description)


def corpus_step(name: str, fn: Callable[[list[str], list[str]], list[Outcome]],
                description: str = "") -> Step:
    return Step(name, fn, "corpus", description)


@dataclass
class StepStats:
    step: str
    docs_in: int = 0
    docs_out: int = 0
    changed: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    words_out: int = 0
    seconds: float = 0.0           # document steps: CPU seconds summed over documents

    @property
    def removed(self) -> int:
        return self.docs_in - self.docs_out


@dataclass
class CurationResult:
    dataset: object                                    # the kept documents (datasets.Dataset)
    log: list[dict] = field(default_factory=list)      # the exclusion log
    stats: list[StepStats] = field(default_factory=list)
    seconds: float = 0.0

    def log_frame(self):
        import pandas as pd

        return pd.DataFrame(self.log, columns=["id", "step", "action", "reason", "before", "after"])

    def stats_frame(self):
        import pandas as pd

        rows = [{**asdict(s), "removed": s.removed} for s in self.stats]
        columns = ["step", "docs_in", "docs_out", "removed", "changed", "bytes_in", "bytes_out",
                   "words_out", "seconds"]
        return pd.DataFrame(rows, columns=columns)

    def removed_by(self) -> dict[str, str]:
        """id -> the step that removed it."""
        return {row["id"]: row["step"] for row in self.log if row["action"] == "removed"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " [...]"


def _as_text(value) -> tuple[str, str]:
    if value is None:
        return "", ""
    if isinstance(value, (bytes, bytearray)):
        text, encoding = decode_bytes(bytes(value))
        return text, "" if encoding == "utf-8" else f"bytes were not UTF-8: decoded as {encoding}"
    if not isinstance(value, str):
        raise ValueError(f"the text column holds {type(value).__name__} values; it must hold "
                         "str or bytes (convert the column first)")
    return value, ""


def _run_document_steps(texts: list, steps: Sequence[Step], log_chars: int) -> dict[str, list]:
    """The batched map function: every step on every text, stopping at a removal."""
    out = {"_text": [], "_removed_by": [], "_events": []}
    for value in texts:
        text, decoded = _as_text(value)
        events = []   # [step, action, detail, before, after, bytes_after, words_after, seconds]
        if decoded:
            events.append(["decode", "changed", decoded, "", "", len(text.encode()), 0, 0.0])
        removed_by = ""
        if not text.strip():
            removed_by = "empty"
            events.append(["empty", "removed", "empty document", text, "", 0, 0, 0.0])
        for step in steps if not removed_by else ():
            start = time.perf_counter()
            outcome = step.fn(text)
            seconds = time.perf_counter() - start
            if outcome.reason is not None:
                events.append([step.name, "removed", outcome.reason, _clip(text, log_chars), "",
                               0, 0, seconds])
                removed_by = step.name
                break
            before, text = text, outcome.text
            action = "changed" if outcome.change else "kept"
            events.append([step.name, action, outcome.change,
                           _clip(before, log_chars) if outcome.change else "",
                           _clip(text, log_chars) if outcome.change else "",
                           len(text.encode()), len(text.split()), seconds])
        out["_text"].append(text if not removed_by else "")
        out["_removed_by"].append(removed_by)
        out["_events"].append(json.dumps(events))
    return out


class Pipeline:
    """Run ``steps`` in order over a dataset; see the module docstring."""

    def __init__(self, steps: Sequence[Step], num_proc: int = 1, log_chars: int = 2000):
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique, got {names}")
        for step in steps:
            if step.kind not in ("document", "corpus"):
                raise ValueError(f"step {step.name!r} has kind {step.kind!r}; use 'document' or 'corpus'")
        if num_proc < 1:
            raise ValueError(f"num_proc must be >= 1, got {num_proc}")
        self.steps = list(steps)
        self.num_proc = num_proc
        self.log_chars = log_chars

    def run(self, dataset, text_column: str = "text", id_column: str = "id",
            output_column: str = "text") -> CurationResult:
        import datasets

        if not isinstance(dataset, datasets.Dataset):
            raise ValueError(f"run() needs a datasets.Dataset, got {type(dataset).__name__}; "
                             "build one with datasets.Dataset.from_dict({'id': [...], 'text': [...]})")
        for column in (text_column, id_column):
            if column not in dataset.column_names:
                raise ValueError(f"the dataset has no column {column!r}; its columns are "
                                 f"{dataset.column_names} (pass text_column= / id_column=)")
        start = time.perf_counter()
        result = CurationResult(dataset)
        ds = dataset
        if output_column != text_column and output_column in ds.column_names:
            ds = ds.remove_columns(output_column)
        current = text_column
        groups = self._groups()
        for kind, steps in groups:
            if kind == "document":
                ds = self._document_pass(ds, steps, current, id_column, output_column, result)
            else:  # a corpus group holds exactly one step
                ds = self._corpus_pass(ds, steps[0], current, id_column, output_column, result)
            current = output_column
        if not groups:  # no steps: still hand back output_column, decoded
            ds = ds.map(lambda b: {"_text": [_as_text(v)[0] for v in b[text_column]]}, batched=True,
                        input_columns=None)
            ds = self._replace_text(ds, output_column)
        result.dataset = ds
        result.seconds = time.perf_counter() - start
        return result

    def _groups(self) -> list[tuple[str, list[Step]]]:
        groups: list[tuple[str, list[Step]]] = []
        for step in self.steps:
            if groups and groups[-1][0] == step.kind == "document":
                groups[-1][1].append(step)
            else:
                groups.append((step.kind, [step]))
        return groups

    @staticmethod
    def _replace_text(ds, output_column: str):
        if output_column in ds.column_names:
            ds = ds.remove_columns(output_column)
        return ds.rename_column("_text", output_column)

    def _document_pass(self, ds, steps, text_column, id_column, output_column, result):
        names = ["empty", *(s.name for s in steps)]   # "empty": the built-in guard, first
        stats = {name: StepStats(name) for name in names}
        result.stats.extend(stats.values())
        if len(ds) == 0:
            empty = ds.add_column("_text", [])
            if text_column != output_column and text_column in empty.column_names:
                empty = empty.remove_columns(text_column)
            return self._replace_text(empty, output_column)
        n_proc = self.num_proc if len(ds) >= 2 * self.num_proc else 1
        mapped = ds.map(_run_document_steps, batched=True, batch_size=100, input_columns=[text_column],
                        fn_kwargs={"steps": steps, "log_chars": self.log_chars},
                        num_proc=n_proc if n_proc > 1 else None, desc=f"curate: {', '.join(names[1:])}",
                        # never reuse a cached result: the cache key cannot see edits to the steps'
                        # code, and a student changing a filter must see the change
                        load_from_cache_file=False, keep_in_memory=True)
        originals = [_as_text(v)[0] for v in ds[text_column]]
        guard = stats["empty"]
        for doc_id, events_json, original in zip(mapped[id_column], mapped["_events"], originals,
                                                 strict=True):
            size = len(original.encode())
            guard.docs_in += 1
            guard.bytes_in += size
            events = json.loads(events_json)
            if not any(event[0] == "empty" for event in events):
                guard.docs_out += 1
                guard.bytes_out += size
                guard.words_out += len(original.split())
            for step, action, detail, before, after, size_after, words, seconds in events:
                if step == "decode":
                    result.log.append({"id": doc_id, "step": "decode", "action": "changed",
                                       "reason": detail, "before": "", "after": ""})
                    continue
                s = stats[step]
                if step != "empty":
                    s.docs_in += 1
                    s.bytes_in += size
                    s.seconds += seconds
                if action == "removed":
                    result.log.append({"id": doc_id, "step": step, "action": "removed",
                                       "reason": detail, "before": before, "after": ""})
                    break
                s.docs_out += 1
                s.bytes_out += size_after
                s.words_out += words
                if action == "changed":
                    s.changed += 1
                    result.log.append({"id": doc_id, "step": step, "action": "changed",
                                       "reason": detail, "before": before, "after": after})
                size = size_after
        kept = mapped.filter(lambda removed: [r == "" for r in removed], batched=True,
                             input_columns=["_removed_by"], load_from_cache_file=False,
                             keep_in_memory=True)
        kept = kept.remove_columns(["_removed_by", "_events"])
        if text_column != output_column:
            kept = kept.remove_columns(text_column)
        return self._replace_text(kept, output_column)

    def _corpus_pass(self, ds, step, text_column, id_column, output_column, result):
        texts = [_as_text(v)[0] for v in ds[text_column]] if len(ds) else []
        ids = list(ds[id_column]) if len(ds) else []
        start = time.perf_counter()
        outcomes = step.fn(list(texts), list(ids)) if texts else []
        stats = StepStats(step.name, docs_in=len(texts), seconds=time.perf_counter() - start,
                          bytes_in=sum(len(t.encode()) for t in texts))
        if len(outcomes) != len(texts):
            raise RuntimeError(f"corpus step {step.name!r} returned {len(outcomes)} outcomes for "
                               f"{len(texts)} documents")
        keep, new_texts = [], []
        for i, (doc_id, text, outcome) in enumerate(zip(ids, texts, outcomes, strict=True)):
            if outcome.reason is not None:
                result.log.append({"id": doc_id, "step": step.name, "action": "removed",
                                   "reason": outcome.reason, "before": _clip(text, self.log_chars),
                                   "after": ""})
                continue
            keep.append(i)
            new_texts.append(outcome.text)
            stats.docs_out += 1
            stats.bytes_out += len(outcome.text.encode())
            stats.words_out += len(outcome.text.split())
            if outcome.change:
                stats.changed += 1
                result.log.append({"id": doc_id, "step": step.name, "action": "changed",
                                   "reason": outcome.change, "before": _clip(text, self.log_chars),
                                   "after": _clip(outcome.text, self.log_chars)})
        result.stats.append(stats)
        ds = ds.select(keep)
        stale = [c for c in {text_column, output_column} if c in ds.column_names]
        return ds.remove_columns(stale).add_column(output_column, new_texts)
