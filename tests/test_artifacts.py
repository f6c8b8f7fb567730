"""The artifact store: keys follow configs, builds are atomic, damage is detected and rebuilt."""

import json
from dataclasses import dataclass

import pytest

from minillm import artifacts


@dataclass(frozen=True)
class CorpusConfig:
    n_words: int


class Pipeline:
    """A two-stage toy pipeline (corpus -> vocab) with build counters."""

    def __init__(self, n_words: int = 5):
        self.registry: dict = {}
        self.n_words = n_words
        self.builds = {"corpus": 0, "vocab": 0}
        self.crash_vocab = False

        @artifacts.register("corpus", config=lambda profile: CorpusConfig(self.n_words),
                            registry=self.registry)
        def build_corpus(out_dir, config, inputs):
            self.builds["corpus"] += 1
            words = [f"w{i}" for i in range(config.n_words)]
            (out_dir / "corpus.txt").write_text(" ".join(words))
            return {"n_words": len(words)}

        @artifacts.register("vocab", deps=("corpus",), registry=self.registry, version=1)
        def build_vocab(out_dir, config, inputs):
            self.builds["vocab"] += 1
            words = inputs["corpus"].file("corpus.txt").read_text().split()
            (out_dir / "sub").mkdir()
            (out_dir / "sub" / "vocab.json").write_text(json.dumps(sorted(set(words))))
            if self.crash_vocab:
                raise KeyboardInterrupt("kernel killed mid-write")
            return {"size": len(set(words))}

    def store(self, root):
        return artifacts.ArtifactStore("smoke", root=root, builders=self.registry, verbose=True)


def test_get_builds_missing_upstream_then_reuses(tmp_path):
    pipe = Pipeline()
    store = pipe.store(tmp_path)
    vocab = store.get("vocab")
    assert pipe.builds == {"corpus": 1, "vocab": 1}
    assert vocab.meta == {"size": 5}
    assert json.loads(vocab.file("sub/vocab.json").read_text())[0] == "w0"
    # a second store (a new kernel) reuses both without building
    again = pipe.store(tmp_path).get("vocab")
    assert pipe.builds == {"corpus": 1, "vocab": 1}
    assert again.path == vocab.path and again.key == vocab.key


def test_changed_config_changes_keys_downstream(tmp_path):
    pipe = Pipeline(n_words=5)
    store = pipe.store(tmp_path)
    old = store.get("vocab")
    pipe.n_words = 7
    new = store.get("vocab")
    assert new.key != old.key and new.meta == {"size": 7}
    assert pipe.builds == {"corpus": 2, "vocab": 2}
    assert old.path.exists()          # the old artifact is kept, not overwritten


def test_builder_version_is_part_of_the_key(tmp_path):
    pipe = Pipeline()
    store = pipe.store(tmp_path)
    key = store.key("vocab")
    pipe.registry["vocab"].version = 2
    assert store.key("vocab") != key
    assert store.key("corpus") == pipe.store(tmp_path).key("corpus")


def test_crash_during_build_leaves_nothing_behind(tmp_path):
    pipe = Pipeline()
    store = pipe.store(tmp_path)
    pipe.crash_vocab = True
    with pytest.raises(KeyboardInterrupt):
        store.get("vocab")
    assert not store.path("vocab").exists()
    assert [p.name for p in (tmp_path / "vocab").iterdir()] == []   # no temp folder left
    pipe.crash_vocab = False
    assert store.get("vocab").meta == {"size": 5}


def test_partial_folder_from_a_killed_process_is_rebuilt(tmp_path, capsys):
    pipe = Pipeline()
    store = pipe.store(tmp_path)
    folder = store.path("vocab")
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text("[")          # killed before the manifest was written
    art = store.get("vocab")
    assert "damaged" in capsys.readouterr().out
    assert art.meta == {"size": 5} and not (folder / "vocab.json").exists()


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "delete", "extra_file", "bad_manifest"])
def test_corruption_is_detected_and_rebuilt(tmp_path, capsys, damage):
    pipe = Pipeline()
    store = pipe.store(tmp_path)
    art = store.get("vocab")
    target = art.path / "sub" / "vocab.json"
    if damage == "flip_byte":
        data = bytearray(target.read_bytes())
        data[3] ^= 0x01
        target.write_bytes(bytes(data))
    elif damage == "truncate":
        target.write_bytes(target.read_bytes()[:-2])
    elif damage == "delete":
        target.unlink()
    elif damage == "extra_file":
        (art.path / "stray.bin").write_bytes(b"x")
    else:
        (art.path / artifacts.MANIFEST).write_text("{not json")
    fresh = pipe.store(tmp_path)
    ok, reason = fresh.verify("vocab")
    assert not ok and reason
    rebuilt = fresh.get("vocab")
    out = capsys.readouterr().out
    assert "damaged" in out and "rebuilding" in out
    assert pipe.builds["vocab"] == 2
    assert fresh.verify("vocab") == (True, "ok")
    assert json.loads((rebuilt.path / "sub" / "vocab.json").read_text())[-1] == "w4"


def test_damage_after_a_verified_load_is_still_caught(tmp_path):
    pipe = Pipeline()
    store = pipe.store(tmp_path)
    art = store.get("vocab")
    store.get("vocab")                              # verified and remembered
    (art.path / "sub" / "vocab.json").write_text('["tampered"]')
    assert store.verify("vocab")[0] is False


def test_unknown_artifact_and_cycles_are_clear_errors(tmp_path):
    pipe = Pipeline()
    store = pipe.store(tmp_path)
    with pytest.raises(KeyError, match="known artifacts"):
        store.get("nope")
    artifacts.register("a", deps=("b",), registry=pipe.registry)(lambda o, c, i: None)
    artifacts.register("b", deps=("a",), registry=pipe.registry)(lambda o, c, i: None)
    with pytest.raises(artifacts.ArtifactError, match="cycle"):
        store.key("a")


def test_config_must_be_plain_data():
    @dataclass
    class Nested:
        inner: CorpusConfig
        names: tuple

    assert artifacts.config_to_jsonable(Nested(CorpusConfig(3), ("x", "y"))) == {
        "inner": {"n_words": 3}, "names": ["x", "y"]}
    with pytest.raises(TypeError, match="cannot be hashed"):
        artifacts.config_to_jsonable({"fn": print})


def test_status_lists_states(tmp_path):
    pipe = Pipeline()
    store = pipe.store(tmp_path)
    store.get("corpus")
    states = {row["artifact"]: row["state"] for row in store.status()}
    assert states == {"corpus": "ready", "vocab": "missing"}
