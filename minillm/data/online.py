"""Online datasets: load real corpora from the Hugging Face hub, or fall back to embedded data.

``data/datasets.json`` lists the datasets the course can use online (TinyStories,
FineWeb-Edu, Alpaca, SmolTalk, HH-RLHF, UltraFeedback): hub id, config, revision, split,
schema, licence and the embedded dataset that replaces each one offline. Loading goes
through ``datasets.load_dataset`` (streaming by default, so nothing huge is downloaded), and
every dataset is normalized into one of the course's three formats:

- pretraining / curation text:  ``text``
- supervised fine-tuning:       ``messages``, a list of ``{"role", "content"}``
- preferences:                  ``prompt`` (list of messages), ``chosen``, ``rejected`` (str)

The same code reads local files in the real schema: ``data_files=`` (fixtures, a workshop
mirror on a USB stick) or a folder named by ``MINILLM_DATA_DIR`` holding ``<key>.jsonl``.
When neither a local copy nor the hub is available, ``load_or_fallback`` prints one line
and returns the embedded stand-in:

    from minillm.data.online import load_or_fallback
    ds, source = load_or_fallback("tinystories", fallback=build_tinyworld_stories, n_rows=1000)
    # offline, this prints the one line
    # offline: tinystories (roneneldan/TinyStories) is unreachable; using embedded TinyWorld instead
    # and returns (build_tinyworld_stories(), "embedded"); online it returns (stream, "hub").
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PURPOSES = ("pretraining", "curation", "sft", "preferences")
REQUIRED_FIELDS = (
    "key", "hub_id", "config", "revision", "split", "purpose", "format", "schema", "license",
    "fallback", "description",
)
# The embedded datasets that stand in for online ones, with the name the offline line prints.
EMBEDDED_FALLBACKS = {
    "tinyworld": "TinyWorld",
    "tinyworld-crawl": "TinyWorld web crawl",
    "tinyworld-sft": "TinyWorld SFT data",
    "tinyworld-preferences": "TinyWorld preference pairs",
    "pydocs": "PyDocs",
}
# format -> (purposes it serves, source columns the normalizer reads, columns it produces)
FORMATS = {
    "text": (("pretraining", "curation"), ("text",), ("text",)),
    "alpaca": (("sft",), ("instruction", "input", "output"), ("messages",)),
    "chat": (("sft",), ("messages",), ("messages",)),
    "hh": (("preferences",), ("chosen", "rejected"), ("prompt", "chosen", "rejected")),
    "ultrafeedback": (("preferences",), ("chosen", "rejected"), ("prompt", "chosen", "rejected")),
}
ROLES = ("system", "user", "assistant")
LOCAL_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
OFFLINE_ENV_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
DEFAULT_ENDPOINT = "https://huggingface.co"

_probe_results: dict[str, bool] = {}  # endpoint -> reachable, once per process

# ----------------------------------------------------------------------------- manifest


def _find_manifest() -> Path:
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "data" / "datasets.json"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"data/datasets.json was not found in any folder above {Path(__file__).parent}; "
        "run the course from a checkout of the minillm repository."
    )


def _check_entry(entry: dict[str, Any]) -> None:
    key = entry.get("key", "<no key>")
    missing = [field for field in REQUIRED_FIELDS if field not in entry]
    if missing:
        raise ValueError(f"manifest entry {key!r} lacks fields {missing}")
    if entry["purpose"] not in PURPOSES:
        raise ValueError(f"manifest entry {key!r}: purpose must be one of {PURPOSES}")
    if entry["format"] not in FORMATS or entry["purpose"] not in FORMATS[entry["format"]][0]:
        raise ValueError(
            f"manifest entry {key!r}: format {entry['format']!r} does not fit purpose "
            f"{entry['purpose']!r}; formats are {sorted(FORMATS)}"
        )
    if entry["fallback"] not in EMBEDDED_FALLBACKS:
        raise ValueError(
            f"manifest entry {key!r}: fallback must be one of {sorted(EMBEDDED_FALLBACKS)}"
        )
    revision = entry["revision"]
    if revision != "main" and not re.fullmatch(r"[0-9a-f]{40}", revision):
        raise ValueError(f"manifest entry {key!r}: revision must be 'main' or a commit hash")
    if revision == "main" and not entry.get("note"):
        raise ValueError(f"manifest entry {key!r}: an unpinned revision needs a note saying why")
    needed = FORMATS[entry["format"]][1]
    if not set(needed) <= set(entry["schema"]):
        raise ValueError(f"manifest entry {key!r}: schema must include columns {list(needed)}")


def read_manifest() -> dict[str, dict[str, Any]]:
    """The online datasets, key -> manifest entry, checked for completeness."""
    path = _find_manifest()
    entries = json.loads(path.read_text(encoding="utf-8"))["datasets"]
    manifest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        _check_entry(entry)
        if entry["key"] in manifest:
            raise ValueError(f"{path}: key {entry['key']!r} appears twice")
        manifest[entry["key"]] = entry
    return manifest


def _entry(key: str) -> dict[str, Any]:
    manifest = read_manifest()
    if key not in manifest:
        raise ValueError(f"unknown dataset {key!r}; known keys: {', '.join(manifest)}")
    return manifest[key]


# ----------------------------------------------------------------------------- normalizers


def _message(role: str, content: Any) -> dict[str, str]:
    if role not in ROLES:
        raise ValueError(f"unknown chat role {role!r}; expected one of {ROLES}")
    if not isinstance(content, str):
        raise ValueError(f"message content must be a string, got {type(content).__name__}")
    return {"role": role, "content": content}


def text_example(example: dict[str, Any]) -> dict[str, Any]:
    """TinyStories / FineWeb-Edu row -> ``{"text"}``."""
    text = example["text"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("row has no text")
    return {"text": text}


def alpaca_example(example: dict[str, Any]) -> dict[str, Any]:
    """Alpaca instruction / input / output -> a two-message chat; the optional input goes
    below the instruction, as in the Alpaca prompt template."""
    instruction = (example["instruction"] or "").strip()
    extra = (example.get("input") or "").strip()
    if not instruction:
        raise ValueError("Alpaca row has an empty instruction")
    user = f"{instruction}\n\n{extra}" if extra else instruction
    return {"messages": [_message("user", user), _message("assistant", example["output"] or "")]}


def chat_example(example: dict[str, Any]) -> dict[str, Any]:
    """SmolTalk ``messages`` -> the same list, reduced to role and content and checked."""
    messages = [_message(m["role"], m["content"]) for m in example["messages"]]
    if not any(m["role"] == "assistant" for m in messages):
        raise ValueError("conversation has no assistant turn")
    return {"messages": messages}


_HH_TURN = re.compile(r"\n\n(Human|Assistant):")


def parse_hh_transcript(transcript: str) -> list[dict[str, str]]:
    """``"\\n\\nHuman: hi\\n\\nAssistant: hello"`` -> ``[user "hi", assistant "hello"]``.

    A blank line followed by a speaker tag starts a new turn; blank lines inside a turn stay.
    """
    pieces = _HH_TURN.split(transcript)
    if pieces[0].strip():
        raise ValueError(f"transcript does not start with a speaker tag: {transcript[:60]!r}")
    roles = {"Human": "user", "Assistant": "assistant"}
    turns = zip(pieces[1::2], pieces[2::2], strict=True)
    return [_message(roles[tag], text.strip()) for tag, text in turns]


def _split_final_reply(messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    if len(messages) < 2 or messages[-1]["role"] != "assistant":
        raise ValueError("a preference side must end with an assistant reply after a prompt")
    return messages[:-1], messages[-1]["content"]


def _preference(chosen: list, rejected: list) -> dict[str, Any]:
    prompt, chosen_reply = _split_final_reply(chosen)
    rejected_prompt, rejected_reply = _split_final_reply(rejected)
    if rejected_prompt != prompt:
        raise ValueError("chosen and rejected continue different conversations")
    return {"prompt": prompt, "chosen": chosen_reply, "rejected": rejected_reply}


def hh_example(example: dict[str, Any]) -> dict[str, Any]:
    """HH-RLHF full transcripts -> shared prompt messages + the two final assistant replies."""
    return _preference(parse_hh_transcript(example["chosen"]),
                       parse_hh_transcript(example["rejected"]))


def ultrafeedback_example(example: dict[str, Any]) -> dict[str, Any]:
    """UltraFeedback chosen / rejected message lists -> prompt messages + the two replies."""
    def side(messages):
        return [_message(m["role"], m["content"]) for m in messages]

    return _preference(side(example["chosen"]), side(example["rejected"]))


NORMALIZERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "text": text_example,
    "alpaca": alpaca_example,
    "chat": chat_example,
    "hh": hh_example,
    "ultrafeedback": ultrafeedback_example,
}


def _target_features(fmt: str):
    import datasets

    message = {"role": datasets.Value("string"), "content": datasets.Value("string")}
    string = datasets.Value("string")
    columns = {"text": string, "messages": [message], "prompt": [message],
               "chosen": string, "rejected": string}
    features = {name: columns[name] for name in FORMATS[fmt][2]}
    return datasets.Features({**features, "_ok": datasets.Value("bool")})


def normalize(ds, fmt: str):
    """Map a raw dataset (map-style or streaming) into the course format ``fmt``.

    Real corpora have a few malformed rows (an HH transcript that does not end with the
    assistant, an empty Alpaca instruction); those rows are dropped rather than stopping a
    long streaming run halfway.
    """
    if fmt not in NORMALIZERS:
        raise ValueError(f"unknown format {fmt!r}; choose from {sorted(NORMALIZERS)}")
    convert, outputs = NORMALIZERS[fmt], FORMATS[fmt][2]
    empty = {"text": "", "messages": [], "prompt": [], "chosen": "", "rejected": ""}

    def safe(example):
        try:
            return {**convert(example), "_ok": True}
        except (ValueError, KeyError, TypeError):
            return {**{name: empty[name] for name in outputs}, "_ok": False}

    source_columns = ds.column_names
    mapped = ds.map(safe, remove_columns=source_columns, features=_target_features(fmt))
    if source_columns is None:  # a stream whose columns are only known once read
        mapped = mapped.select_columns([*outputs, "_ok"])
    return mapped.filter(lambda example: example["_ok"]).remove_columns("_ok")


# ----------------------------------------------------------------------------- loading


def hub_reachable(timeout: float = 3.0) -> bool:
    """False when HF_HUB_OFFLINE / HF_DATASETS_OFFLINE is set; otherwise whether the hub
    endpoint answers an HTTPS request within ``timeout`` seconds (asked once per process)."""
    for name in OFFLINE_ENV_VARS:
        if os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            return False
    endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    if endpoint not in _probe_results:
        request = urllib.request.Request(endpoint, method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                reachable = True
        except urllib.error.HTTPError:
            reachable = True  # the server answered, just not with 200
        except (OSError, ValueError):  # URLError, timeouts, refused connections, bad URL
            reachable = False
        _probe_results[endpoint] = reachable
    return _probe_results[endpoint]


def _builder_for(path: Path) -> str:
    suffixes = path.suffixes
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst"):
        suffixes = suffixes[:-1]  # the json and csv builders read compressed files
    builder = LOCAL_BUILDERS.get(suffixes[-1] if suffixes else "")
    if builder is None:
        raise ValueError(
            f"cannot tell the format of {path}; use one of {sorted(LOCAL_BUILDERS)} "
            "(optionally .gz)"
        )
    return builder


def _local_files(key: str, data_files) -> list[Path] | None:
    """The local files to read for ``key``: ``data_files``, else ``$MINILLM_DATA_DIR/<key>.*``,
    else None (use the hub)."""
    if data_files is not None:
        if isinstance(data_files, (str, os.PathLike)):
            data_files = [data_files]
        files = [Path(f) for f in data_files]
        if not files:
            raise ValueError(f"data_files for {key!r} is empty; pass at least one file")
        for f in files:
            if not f.is_file():
                raise ValueError(
                    f"local data file {f} for {key!r} does not exist; pass existing "
                    "JSON/JSONL/Parquet/CSV files in the dataset's schema, or leave "
                    "data_files unset to use the hub."
                )
        return files
    mirror = os.environ.get("MINILLM_DATA_DIR")
    if not mirror:
        return None
    folder = Path(mirror).expanduser()
    if not folder.is_dir():
        raise ValueError(f"MINILLM_DATA_DIR={mirror} is not a folder; fix or unset it.")
    for name in (f"{key}.jsonl", f"{key}.jsonl.gz", f"{key}.parquet"):
        if (folder / name).is_file():
            return [folder / name]
    return None


def load_online(
    key: str,
    split: str | None = None,
    n_rows: int | None = None,
    streaming: bool = True,
    data_files=None,
    normalize_rows: bool = True,
    cache_dir: str | Path | None = None,
):
    """Load dataset ``key`` from local files if given (or mirrored), else from the hub.

    Returns a ``datasets.IterableDataset`` when ``streaming`` (the default), else a
    ``datasets.Dataset``; its columns are the course format unless ``normalize_rows=False``.
    ``n_rows`` keeps only the first rows.
    """
    import datasets

    entry = _entry(key)
    split = split or entry["split"]
    if n_rows is not None and (not isinstance(n_rows, int) or n_rows <= 0):
        raise ValueError(f"n_rows must be a positive int or None, got {n_rows!r}")
    cache = str(cache_dir) if cache_dir is not None else None
    files = _local_files(key, data_files)
    if files is not None:
        builders = {_builder_for(f) for f in files}
        if len(builders) > 1:
            raise ValueError(f"data_files for {key!r} mix formats {sorted(builders)}; use one")
        ds = datasets.load_dataset(
            builders.pop(), data_files={split: [str(f) for f in files]}, split=split,
            streaming=streaming, cache_dir=cache,
        )
        needed = FORMATS[entry["format"]][1]
        if ds.column_names is not None and not set(needed) <= set(ds.column_names):
            raise ValueError(
                f"{[str(f) for f in files]} have columns {ds.column_names}, but {key!r} "
                f"needs {list(needed)} (the {entry['hub_id']} schema: {entry['schema']})"
            )
    else:
        ds = datasets.load_dataset(
            entry["hub_id"], entry["config"], split=split, revision=entry["revision"],
            streaming=streaming, cache_dir=cache,
        )
    if n_rows is not None:
        ds = ds.take(n_rows) if streaming else ds.select(range(min(n_rows, len(ds))))
    return normalize(ds, entry["format"]) if normalize_rows else ds


def load_or_fallback(
    key: str,
    fallback: Callable[[], Any],
    split: str | None = None,
    n_rows: int | None = None,
    streaming: bool = True,
    data_files: str | Path | Sequence[str | Path] | None = None,
    **load_kwargs: Any,
):
    """``(dataset, source)`` with source "local", "hub" or "embedded".

    Local files win (``data_files`` or ``MINILLM_DATA_DIR``), then the hub; if neither is
    available, print one line saying so and return ``fallback()``.
    """
    entry = _entry(key)
    if not callable(fallback):
        raise TypeError("fallback must be a function that returns the embedded dataset")
    kwargs = dict(split=split, n_rows=n_rows, streaming=streaming, **load_kwargs)
    files = _local_files(key, data_files)
    if files is not None:
        return load_online(key, data_files=files, **kwargs), "local"
    if hub_reachable():
        try:
            return load_online(key, **kwargs), "hub"
        except Exception as err:  # any failure at the network boundary means: use embedded
            detail = str(err).strip().splitlines()[0][:120] if str(err).strip() else ""
            reason = f"could not be loaded ({type(err).__name__}: {detail})"
    else:
        reason = "is unreachable"
    name = EMBEDDED_FALLBACKS[entry["fallback"]]
    print(f"offline: {key} ({entry['hub_id']}) {reason}; using embedded {name} instead")
    return fallback(), "embedded"
