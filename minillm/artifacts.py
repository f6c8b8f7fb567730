"""The artifact store: every stage's output, keyed by its config, built on demand.

The course is a pipeline. Each stage turns upstream artifacts into a new one::

    curated corpus -> tokenizer -> token shards -> base model -> SFT model -> adapters
                   -> reward model -> RLHF policy -> compressed models -> report

An artifact is a folder ``artifacts/<profile>/<name>/<key>/`` holding the stage's files and a
``MANIFEST.json`` with a SHA-256 checksum of every file. The ``key`` hashes the stage's config,
its builder version and the keys of its inputs, so a changed config (here or upstream) gives a
new key and a rebuild instead of silently reusing a stale artifact.

Builds are atomic: files are written into a temporary sibling folder, the manifest last, and the
folder is renamed into place in one step. A killed kernel leaves at most a temporary folder,
never a half-written artifact. On load every checksum is verified; a corrupted artifact is
reported and rebuilt, never silently loaded.

A stage registers a builder, the same function its notebook calls::

    from minillm import artifacts

    @artifacts.register("tokenizer", deps=("corpus",), stage="tokenize")
    def build_tokenizer(out_dir, config, inputs):
        text = (inputs["corpus"].path / "train.txt").read_text()
        ...write files into out_dir...
        return {"vocab_size": 512}          # metadata, kept in the manifest

    tok = artifacts.get("tokenizer")        # builds "corpus" first if it is missing
    tok.path, tok.meta["vocab_size"]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minillm import paths, profiles
from minillm.fileio import sha256_file

MANIFEST = "MANIFEST.json"
BuildFn = Callable[[Path, Any, dict[str, "Artifact"]], "dict | None"]


class ArtifactError(RuntimeError):
    """An artifact could not be built or read."""


@dataclass
class Builder:
    name: str
    build: BuildFn
    deps: tuple[str, ...] = ()
    stage: str | None = None                       # profiles stage whose config is used
    config: Callable[[str], Any] | None = None     # or: profile -> config
    version: int = 1
    description: str = ""

    def config_for(self, profile: str) -> Any:
        if self.config is not None:
            return self.config(profile)
        if self.stage is not None:
            return profiles.stage_config(self.stage, profile)
        return None


@dataclass(frozen=True)
class Artifact:
    name: str
    key: str
    path: Path
    config: Any
    meta: dict = field(default_factory=dict)

    def file(self, relpath: str) -> Path:
        target = self.path / relpath
        if not target.exists():
            raise ArtifactError(f"artifact {self.name!r} has no file {relpath!r} (in {self.path})")
        return target


_BUILDERS: dict[str, Builder] = {}


def register(
    name: str, *, deps: tuple[str, ...] = (), stage: str | None = None,
    config: Callable[[str], Any] | None = None, version: int = 1, description: str = "",
    registry: dict[str, Builder] | None = None,
) -> Callable[[BuildFn], BuildFn]:
    """Decorator: register ``fn(out_dir, config, inputs) -> meta`` as the builder of ``name``."""

    def decorate(fn: BuildFn) -> BuildFn:
        target = _BUILDERS if registry is None else registry
        target[name] = Builder(name, fn, tuple(deps), stage, config, version,
                               description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return decorate


def config_to_jsonable(config: Any) -> Any:
    """A config as plain JSON data (dataclasses, dicts, lists, tuples and scalars)."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: config_to_jsonable(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, dict):
        return {str(k): config_to_jsonable(v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [config_to_jsonable(v) for v in config]
    if config is None or isinstance(config, (str, int, float, bool)):
        return config
    if isinstance(config, Path):
        return str(config)
    raise TypeError(
        f"config value {config!r} of type {type(config).__name__} cannot be hashed into an "
        f"artifact key; use dataclasses, dicts, lists and scalars"
    )


def _list_files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST
    )


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class ArtifactStore:
    """Artifacts of one profile under ``root`` (default ``artifacts/<profile>/``)."""

    def __init__(
        self, profile: str | None = None, root: Path | None = None,
        builders: dict[str, Builder] | None = None, verbose: bool = True,
    ):
        self.profile = profile or profiles.active_profile()
        self.root = Path(root) if root is not None else paths.artifacts_dir(self.profile)
        self._builders = builders
        self.verbose = verbose
        self._verified: dict[Path, tuple] = {}     # path -> file signature last verified

    @property
    def builders(self) -> dict[str, Builder]:
        if self._builders is None:
            from minillm import pipeline  # noqa: F401  (registers every stage's builders)

            return _BUILDERS
        return self._builders

    def builder(self, name: str) -> Builder:
        if name not in self.builders:
            raise KeyError(f"no artifact named {name!r}; known artifacts: {sorted(self.builders)}")
        return self.builders[name]

    def key(self, name: str, _seen: tuple[str, ...] = ()) -> str:
        """Hash of the builder version, its config for this profile and its inputs' keys."""
        if name in _seen:
            raise ArtifactError(f"artifact dependency cycle: {' -> '.join((*_seen, name))}")
        builder = self.builder(name)
        payload = {
            "name": name,
            "version": builder.version,
            "config": config_to_jsonable(builder.config_for(self.profile)),
            "deps": {dep: self.key(dep, (*_seen, name)) for dep in builder.deps},
        }
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def path(self, name: str) -> Path:
        return self.root / name / self.key(name)

    def verify(self, name: str) -> tuple[bool, str]:
        """(ok, reason): does a complete artifact with matching checksums exist?"""
        folder = self.path(name)
        return self._verify_folder(folder)

    def _verify_folder(self, folder: Path) -> tuple[bool, str]:
        manifest_path = folder / MANIFEST
        if not folder.exists():
            return False, "missing"
        if not manifest_path.exists():
            return False, "no MANIFEST.json (a partial or foreign folder)"
        try:
            manifest = json.loads(manifest_path.read_text())
            recorded = manifest["files"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            return False, f"unreadable MANIFEST.json ({e})"
        present = _list_files(folder)
        if sorted(recorded) != present:
            extra = sorted(set(present) - set(recorded))
            lost = sorted(set(recorded) - set(present))
            return False, f"files differ from the manifest (missing {lost}, unexpected {extra})"
        signature = tuple((rel, (folder / rel).stat().st_size, (folder / rel).stat().st_mtime_ns)
                          for rel in present)
        if self._verified.get(folder) == signature:
            return True, "ok"
        for rel in present:
            info = recorded[rel]
            if (folder / rel).stat().st_size != info["bytes"] or sha256_file(folder / rel) != info["sha256"]:
                return False, f"checksum mismatch in {rel}"
        self._verified[folder] = signature
        return True, "ok"

    def _load(self, name: str, folder: Path) -> Artifact:
        manifest = json.loads((folder / MANIFEST).read_text())
        return Artifact(name, folder.name, folder, manifest.get("config"), manifest.get("meta", {}))

    def get(self, name: str, rebuild: bool = False) -> Artifact:
        """The artifact ``name``, building it (and any missing upstream artifact) if needed."""
        builder = self.builder(name)
        inputs = {dep: self.get(dep) for dep in builder.deps}
        folder = self.path(name)
        ok, reason = self._verify_folder(folder)
        if ok and not rebuild:
            return self._load(name, folder)
        if folder.exists() and not ok and not rebuild:
            self._say(f"artifact {name!r} at {folder} is damaged ({reason}); rebuilding it")
        return self._build(builder, folder, inputs)

    def _build(self, builder: Builder, folder: Path, inputs: dict[str, Artifact]) -> Artifact:
        config = builder.config_for(self.profile)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".building-{folder.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        self._say(f"building artifact {builder.name!r} ({self.profile} profile) ...")
        start = time.perf_counter()
        try:
            meta = builder.build(tmp, config, inputs) or {}
            files = {rel: {"sha256": sha256_file(tmp / rel), "bytes": (tmp / rel).stat().st_size}
                     for rel in _list_files(tmp)}
            manifest = {
                "name": builder.name, "key": folder.name, "profile": self.profile,
                "version": builder.version, "config": config_to_jsonable(config),
                "deps": {dep: art.key for dep, art in inputs.items()},
                "files": files, "meta": meta,
                "build_seconds": round(time.perf_counter() - start, 3),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            _write_json_atomic(tmp / MANIFEST, manifest)
            if folder.exists():
                trash = folder.parent / f".trash-{folder.name}-{uuid.uuid4().hex[:8]}"
                os.replace(folder, trash)
                shutil.rmtree(trash, ignore_errors=True)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._say(f"built {builder.name!r} in {time.perf_counter() - start:.1f} s -> {folder}")
        return self._load(builder.name, folder)

    def status(self) -> list[dict]:
        """One row per registered artifact: name, key, state (ready / missing / damaged)."""
        rows = []
        for name, builder in sorted(self.builders.items()):
            ok, reason = self.verify(name)
            state = "ready" if ok else ("missing" if reason == "missing" else "damaged")
            rows.append({"artifact": name, "depends on": ", ".join(builder.deps) or "-",
                         "key": self.key(name), "state": state, "built by": builder.description})
        return rows

    def _say(self, message: str) -> None:
        if self.verbose:
            print(message, flush=True)


_STORES: dict[str, ArtifactStore] = {}


def store(profile: str | None = None) -> ArtifactStore:
    profile = profile or profiles.active_profile()
    if profile not in _STORES or _STORES[profile].root != paths.artifacts_dir(profile):
        _STORES[profile] = ArtifactStore(profile)
    return _STORES[profile]


def get(name: str, profile: str | None = None, rebuild: bool = False) -> Artifact:
    """``artifacts.get("sft_model")``: load it, or build it and whatever it needs."""
    return store(profile).get(name, rebuild=rebuild)


def status(profile: str | None = None) -> list[dict]:
    return store(profile).status()
