"""PyDocs: real, human-written text harvested from the docstrings of installed Python code.

Every machine that runs the course has the Python standard library and the course's
dependencies installed, and their docstrings are real English prose mixed with code, with
the real duplicates and boilerplate such text has: repeated "See Also" blocks, copied
license notes, identical docstrings on overriding methods. That makes them a good offline
stand-in for web text when we study curation and tokenization.

The harvest parses source files with ``ast`` and never imports them (importing is slow and
runs arbitrary code). Records come out in a fixed order: the standard library first (the
same on every machine with the same Python version), then site-packages sorted by package
name; inside a package, modules sorted by dotted path, and objects in source order. A
``max_bytes`` cap stops the harvest at the first record that would overflow it, so a capped
harvest is always a prefix of the uncapped one.

    >>> from minillm.data.pydocs import iter_pydocs
    >>> doc = next(d for d in iter_pydocs(packages=["json"]) if d.object == "dumps")
    >>> (doc.package, doc.module, doc.kind)
    ('stdlib', 'json', 'function')

``build_pydocs(cache_dir)`` writes the harvest once as JSONL (atomically, with a checksum in
a sidecar file) and ``load_pydocs(cache_dir)`` returns it as a ``datasets.Dataset``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import platform
import sysconfig
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from minillm.fileio import sha256_file

SOURCES = ("stdlib", "site-packages")
KINDS = ("module", "class", "function")
CACHE_FORMAT = 1  # bump when the record layout or harvest rules change

# Directories that hold tests, vendored copies of other projects, or tooling rather than
# the package's own documented API.
SKIP_DIRS = frozenset(
    {"test", "tests", "idle_test", "__pycache__", "_vendor", "vendor", "vendored", "_vendored",
     "site-packages", "dist-packages"}
)
# Generated tables (unicode data, parser tables) can be megabytes of code and no prose.
MAX_SOURCE_BYTES = 1_000_000


@dataclass(frozen=True)
class PyDoc:
    """One docstring and where it came from."""

    id: str  # "<package>/<module>:<object>", with "#n" appended to repeats
    package: str  # top-level import name, or "stdlib"
    module: str  # dotted module path, e.g. "json.decoder"
    object: str  # qualified name, e.g. "JSONDecoder.decode"; "" for the module itself
    kind: str  # "module", "class" or "function"
    text: str


COLUMNS = tuple(f.name for f in fields(PyDoc))


@dataclass(frozen=True)
class _Package:
    label: str  # what goes into PyDoc.package
    name: str  # top-level import name
    path: Path  # a package directory or a single .py module


# ----------------------------------------------------------------------------- discovery


def _stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"]).resolve()


def _site_roots() -> list[Path]:
    paths = sysconfig.get_paths()
    roots: list[Path] = []
    for key in ("purelib", "platlib"):
        root = Path(paths[key]).resolve()
        if root.is_dir() and root not in roots:
            roots.append(root)
    return roots


def _top_level_entries(root: Path) -> Iterator[tuple[str, Path]]:
    """Importable top-level modules and packages directly under ``root``."""
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.is_dir():
            name = entry.name
        elif entry.suffix == ".py":
            name = entry.stem
        else:
            continue
        if not name.isidentifier() or name in SKIP_DIRS or name.startswith("__editable__"):
            continue
        yield name, entry


def _distribution_versions() -> dict[str, str]:
    """Top-level import name -> installed version(s) of the distribution(s) providing it."""
    versions: dict[str, str] = {}
    for name, dists in importlib.metadata.packages_distributions().items():
        found = []
        for dist in sorted(set(dists)):
            try:
                found.append(f"{dist}=={importlib.metadata.version(dist)}")
            except importlib.metadata.PackageNotFoundError:
                continue
        versions[name] = ",".join(found) or "unknown"
    return versions


def _check_sources(sources: Iterable[str]) -> tuple[str, ...]:
    if isinstance(sources, str):
        sources = (sources,)
    chosen = set(sources)
    unknown = chosen - set(SOURCES)
    if unknown or not chosen:
        raise ValueError(
            f"sources must be a non-empty subset of {SOURCES}, got {tuple(sources)!r}; "
            "e.g. sources=('stdlib',) for the standard library only."
        )
    return tuple(s for s in SOURCES if s in chosen)  # canonical order: stdlib first


def _discover(sources: Sequence[str], packages: Sequence[str] | None) -> list[_Package]:
    """The packages to harvest, in harvest order."""
    found: list[_Package] = []
    if "stdlib" in sources:
        for name, path in _top_level_entries(_stdlib_root()):
            found.append(_Package("stdlib", name, path))
    if "site-packages" in sources:
        seen: set[str] = set()
        site = []
        for root in _site_roots():
            for name, path in _top_level_entries(root):
                if name not in seen:
                    seen.add(name)
                    site.append(_Package(name, name, path))
        found.extend(sorted(site, key=lambda p: (p.name.lower(), p.name)))
    if packages is not None:
        if isinstance(packages, str):
            packages = [packages]
        wanted = set(packages)
        missing = sorted(wanted - {p.name for p in found})
        if missing:
            raise ValueError(
                f"packages {missing} were not found in sources {tuple(sources)}; give "
                "top-level import names (e.g. 'json', 'numpy') that are installed."
            )
        found = [p for p in found if p.name in wanted]
    return found


def _module_files(package: _Package) -> list[tuple[str, Path]]:
    """(dotted module name, file) pairs of a package, sorted by module path."""
    if package.path.is_file():
        return [(package.name, package.path)]
    modules: list[tuple[tuple[str, ...], Path]] = []
    for dirpath, dirnames, filenames in os.walk(package.path):
        dirnames[:] = sorted(d for d in dirnames if d.isidentifier() and d not in SKIP_DIRS)
        rel = Path(dirpath).relative_to(package.path).parts
        for filename in filenames:
            stem, ext = os.path.splitext(filename)
            if ext != ".py" or not stem.isidentifier():
                continue
            parts = (package.name, *rel) if stem == "__init__" else (package.name, *rel, stem)
            modules.append((parts, Path(dirpath) / filename))
    modules.sort(key=lambda item: item[0])
    return [(".".join(parts), path) for parts, path in modules]


# ----------------------------------------------------------------------------- harvest


def _parse(path: Path) -> ast.Module | None:
    """The syntax tree of a source file, or None if it cannot be read or parsed."""
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        source = path.read_bytes()
        with warnings.catch_warnings():
            # old code is full of invalid escape sequences; they do not matter here
            warnings.simplefilter("ignore")
            return ast.parse(source, filename=str(path))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None


def _docstrings(tree: ast.Module) -> Iterator[tuple[str, str, str]]:
    """(qualified name, kind, docstring) for the module and every class and function in it."""
    text = ast.get_docstring(tree, clean=True)
    if text:
        yield "", "module", text

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[str, str, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = prefix + child.name
                kind = "class" if isinstance(child, ast.ClassDef) else "function"
                text = ast.get_docstring(child, clean=True)
                if text:
                    yield qualname, kind, text
                # same convention as __qualname__: names inside a function get "<locals>"
                inner = qualname + (".<locals>." if kind == "function" else ".")
                yield from visit(child, inner)
            else:
                yield from visit(child, prefix)  # defs inside if/try/with blocks

    yield from visit(tree, "")


def iter_pydocs(
    max_bytes: int | None = None,
    sources: Sequence[str] = SOURCES,
    packages: Sequence[str] | None = None,
) -> Iterator[PyDoc]:
    """Yield docstrings in harvest order until the next one would push the UTF-8 total past
    ``max_bytes`` (None: no cap).

    ``sources`` picks the standard library and/or site-packages; ``packages`` narrows the
    harvest to the given top-level import names (stdlib modules such as "json" count).
    """
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes <= 0):
        raise ValueError(f"max_bytes must be a positive int or None, got {max_bytes!r}")
    sources = _check_sources(sources)
    total = 0
    for package in _discover(sources, packages):
        for module, path in _module_files(package):
            tree = _parse(path)
            if tree is None:
                continue
            seen: dict[str, int] = {}
            for qualname, kind, text in _docstrings(tree):
                try:
                    size = len(text.encode("utf-8"))
                except UnicodeEncodeError:  # lone surrogates written as escapes
                    continue
                if max_bytes is not None and total + size > max_bytes:
                    return
                total += size
                record_id = f"{package.label}/{module}:{qualname}" if qualname else (
                    f"{package.label}/{module}"
                )
                seen[record_id] = seen.get(record_id, 0) + 1
                if seen[record_id] > 1:  # conditional or overloaded definitions
                    record_id += f"#{seen[record_id]}"
                yield PyDoc(record_id, package.label, module, qualname, kind, text)


# ----------------------------------------------------------------------------- cache


def _cache_key(max_bytes: int | None, sources: Sequence[str], packages: Sequence[str] | None):
    """Everything the harvest depends on; a change in any of it means a rebuild."""
    sources = _check_sources(sources)
    discovered = _discover(sources, packages)
    environment = {("stdlib", platform.python_version())} if "stdlib" in sources else set()
    site = [p.name for p in discovered if p.label != "stdlib"]
    if site:
        versions = _distribution_versions()
        environment |= {(name, versions.get(name, "unknown")) for name in site}
    spec = {
        "format": CACHE_FORMAT,
        "max_bytes": max_bytes,
        "sources": list(sources),
        "packages": sorted(packages) if packages is not None else None,
        "python": platform.python_version(),
        "environment": sorted(environment),
    }
    blob = json.dumps(spec, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest(), spec


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".jsonl") + ".meta.json")


def _atomic_write(path: Path, chunks: Iterable[bytes]) -> str:
    """Write ``chunks`` to ``path`` via a temp file and rename; returns the sha256."""
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                digest.update(chunk)
                f.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _cache_problem(path: Path, key: str) -> str | None:
    """Why the cached file cannot be trusted, or None if it is intact."""
    meta_path = _meta_path(path)
    if not meta_path.exists():
        return "its metadata file is missing, so the build was interrupted"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return f"its metadata file is unreadable ({err})"
    if meta.get("key") != key:
        return "its metadata belongs to a different configuration"
    if sha256_file(path) != meta.get("sha256"):
        return "its checksum does not match (truncated or edited)"
    return None


def build_pydocs(
    cache_dir: Path | str,
    max_bytes: int | None = 2_000_000,
    sources: Sequence[str] = SOURCES,
    packages: Sequence[str] | None = None,
) -> Path:
    """Harvest once into ``cache_dir/pydocs-<key>.jsonl`` and return that path.

    The key covers the arguments, the Python version and the versions of every candidate
    package, so a changed environment rebuilds instead of reusing a stale file. A file whose
    checksum no longer matches is reported and rebuilt.
    """
    key, spec = _cache_key(max_bytes, sources, packages)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"pydocs-{key[:16]}.jsonl"
    if path.exists():
        problem = _cache_problem(path, key)
        if problem is None:
            return path
        print(f"pydocs: cached {path} is corrupted: {problem}; rebuilding it.")

    counts = {"records": 0, "text_bytes": 0}
    packages_seen: set[str] = set()

    def lines() -> Iterator[bytes]:
        for doc in iter_pydocs(max_bytes=max_bytes, sources=sources, packages=packages):
            counts["records"] += 1
            counts["text_bytes"] += len(doc.text.encode("utf-8"))
            packages_seen.add(doc.package)
            yield (json.dumps(asdict(doc), ensure_ascii=False) + "\n").encode("utf-8")

    sha256 = _atomic_write(path, lines())
    meta = {"key": key, "spec": spec, "sha256": sha256, **counts,
            "packages": sorted(packages_seen)}
    # the metadata goes last: a kill between the two renames leaves a file without
    # metadata, which the next call treats as unfinished and rebuilds
    _atomic_write(_meta_path(path), [json.dumps(meta, indent=1).encode("utf-8")])
    return path


def read_pydocs(path: Path | str) -> list[PyDoc]:
    """The records of a JSONL file written by ``build_pydocs``."""
    with open(path, encoding="utf-8") as f:
        return [PyDoc(**json.loads(line)) for line in f if line.strip()]


def load_pydocs(
    cache_dir: Path | str,
    max_bytes: int | None = 2_000_000,
    sources: Sequence[str] = SOURCES,
    packages: Sequence[str] | None = None,
):
    """The (cached) harvest as a ``datasets.Dataset`` with columns id, package, module,
    object, kind, text."""
    import datasets  # imported here: the harvest itself does not need it

    path = build_pydocs(cache_dir, max_bytes=max_bytes, sources=sources, packages=packages)
    docs = read_pydocs(path)
    columns = {name: [getattr(doc, name) for doc in docs] for name in COLUMNS}
    features = datasets.Features({name: datasets.Value("string") for name in COLUMNS})
    return datasets.Dataset.from_dict(columns, features=features)
