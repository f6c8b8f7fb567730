"""PyDocs: the docstring harvest is deterministic, capped, correctly labelled and cached."""

from __future__ import annotations

import ast
import inspect
import json
import json.decoder
from collections import Counter

import pytest

from minillm.data import pydocs
from minillm.data.pydocs import COLUMNS, build_pydocs, iter_pydocs, load_pydocs, read_pydocs

CAP = 1_000_000


@pytest.fixture(scope="module")
def harvest():
    return list(iter_pydocs(max_bytes=CAP, sources=("stdlib",)))


def _size(docs):
    return sum(len(d.text.encode("utf-8")) for d in docs)


def test_two_harvests_are_identical(harvest):
    again = list(iter_pydocs(max_bytes=CAP, sources=("stdlib",)))
    assert again == harvest
    assert len({d.id for d in harvest}) == len(harvest)  # ids are unique


def test_size_cap_stops_at_a_prefix(harvest):
    assert CAP - 20_000 < _size(harvest) <= CAP
    small_cap = 200_000
    small = list(iter_pydocs(max_bytes=small_cap, sources=("stdlib",)))
    assert small == harvest[: len(small)]
    assert _size(small) <= small_cap
    # it stopped because the next record would not fit, not earlier
    assert _size(small) + len(harvest[len(small)].text.encode("utf-8")) > small_cap


def test_order_is_by_module_path_then_source_order(harvest):
    modules = [d.module for d in harvest]
    keys = [tuple(m.split(".")) for m in dict.fromkeys(modules)]
    assert keys == sorted(keys)
    runs = [m for i, m in enumerate(modules) if i == 0 or modules[i - 1] != m]
    assert len(runs) == len(set(runs))  # each module's records are contiguous


def test_json_records_match_the_runtime_docstrings():
    docs = list(iter_pydocs(packages=["json"]))
    by_key = {(d.module, d.object): d for d in docs}
    dumps = by_key[("json", "dumps")]
    assert (dumps.package, dumps.kind, dumps.id) == ("stdlib", "function", "stdlib/json:dumps")
    assert dumps.text == inspect.cleandoc(json.dumps.__doc__)
    module = by_key[("json", "")]
    assert module.kind == "module" and module.text == inspect.cleandoc(json.__doc__)
    decoder = by_key[("json.decoder", "JSONDecoder")]
    assert decoder.kind == "class"
    assert decoder.text == inspect.cleandoc(json.decoder.JSONDecoder.__doc__)
    method = by_key[("json.decoder", "JSONDecoder.decode")]
    assert method.kind == "function"
    assert method.text == inspect.cleandoc(json.decoder.JSONDecoder.decode.__doc__)
    assert {d.package for d in docs} == {"stdlib"}
    assert all(d.module == "json" or d.module.startswith("json.") for d in docs)


def test_real_duplicates_exist(harvest):
    counts = Counter(d.text for d in harvest)
    duplicated = sum(c for c in counts.values() if c > 1)
    assert duplicated > 0
    assert duplicated / len(harvest) < 0.5  # boilerplate, not a degenerate harvest


def test_site_packages_records_name_their_package():
    docs = list(iter_pydocs(max_bytes=20_000, sources=("site-packages",), packages=["datasets"]))
    assert docs
    assert {d.package for d in docs} == {"datasets"}
    assert all(d.module.split(".")[0] == "datasets" for d in docs)
    assert all(d.kind in pydocs.KINDS and d.text for d in docs)


def test_qualified_names_follow_python_conventions():
    source = '''
"""Module."""
class A:
    """Class A."""
    def f(self):
        """Method."""
        def g():
            """Inner."""
if True:
    def h():
        """Conditional."""
def empty():
    pass
'''
    found = list(pydocs._docstrings(ast.parse(source)))
    assert found == [
        ("", "module", "Module."),
        ("A", "class", "Class A."),
        ("A.f", "function", "Method."),
        ("A.f.<locals>.g", "function", "Inner."),
        ("h", "function", "Conditional."),
    ]


def test_unparsable_files_are_skipped(tmp_path):
    bad_syntax = tmp_path / "bad.py"
    bad_syntax.write_text("def broken(:\n    pass\n")
    bad_encoding = tmp_path / "latin.py"
    bad_encoding.write_bytes(b'"""caf\xe9"""\n')  # Latin-1 bytes without a coding cookie
    assert pydocs._parse(bad_syntax) is None
    assert pydocs._parse(bad_encoding) is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_bytes": 0}, "max_bytes"),
        ({"sources": ("web",)}, "sources"),
        ({"sources": ()}, "sources"),
        ({"packages": ["no_such_package_xyz"]}, "no_such_package_xyz"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        list(iter_pydocs(**kwargs))


# ----------------------------------------------------------------------------- cache

JSON_ONLY = {"max_bytes": 30_000, "packages": ["json"]}


def test_build_writes_the_harvest_once_and_reuses_it(tmp_path, monkeypatch):
    path = build_pydocs(tmp_path, **JSON_ONLY)
    assert read_pydocs(path) == list(iter_pydocs(**JSON_ONLY))
    assert not list(tmp_path.glob("*.tmp"))
    stamp = path.stat().st_mtime_ns

    def no_harvest(*args, **kwargs):
        raise AssertionError("the cache should have been reused")

    monkeypatch.setattr(pydocs, "iter_pydocs", no_harvest)
    assert build_pydocs(tmp_path, **JSON_ONLY) == path
    assert path.stat().st_mtime_ns == stamp


def test_changed_parameters_or_environment_rebuild(tmp_path, monkeypatch):
    path = build_pydocs(tmp_path, **JSON_ONLY)
    smaller = build_pydocs(tmp_path, max_bytes=10_000, packages=["json"])
    assert smaller != path and len(read_pydocs(smaller)) < len(read_pydocs(path))
    assert build_pydocs(tmp_path, max_bytes=30_000, packages=["json", "csv"]) != path

    monkeypatch.setattr(pydocs.platform, "python_version", lambda: "9.99.0")
    assert build_pydocs(tmp_path, **JSON_ONLY) != path

    site = {"max_bytes": 5_000, "sources": ("site-packages",), "packages": ["datasets"]}
    before = build_pydocs(tmp_path, **site)
    real_versions = pydocs._distribution_versions
    monkeypatch.setattr(pydocs, "_distribution_versions",
                        lambda: {**real_versions(), "datasets": "datasets==0.0.1"})
    assert build_pydocs(tmp_path, **site) != before


@pytest.mark.parametrize("damage", ["truncate", "edit", "drop_meta"])
def test_corrupted_cache_is_detected_and_rebuilt(tmp_path, capsys, damage):
    path = build_pydocs(tmp_path, **JSON_ONLY)
    original = path.read_bytes()
    capsys.readouterr()
    if damage == "truncate":
        path.write_bytes(original[: len(original) // 2])
    elif damage == "edit":
        path.write_bytes(original.replace(b"JSON", b"YAML", 1))
    else:
        pydocs._meta_path(path).unlink()
    assert build_pydocs(tmp_path, **JSON_ONLY) == path
    out = capsys.readouterr().out
    assert "corrupted" in out and str(path) in out and "rebuilding" in out
    assert path.read_bytes() == original


def test_load_pydocs_returns_a_dataset(tmp_path):
    ds = load_pydocs(tmp_path, **JSON_ONLY)
    assert tuple(ds.column_names) == COLUMNS
    docs = list(iter_pydocs(**JSON_ONLY))
    assert ds.num_rows == len(docs)
    row = ds[[d.object for d in docs].index("dumps")]
    assert (row["module"], row["kind"], row["package"]) == ("json", "function", "stdlib")
    assert row["text"] == inspect.cleandoc(json.dumps.__doc__)
