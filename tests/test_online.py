"""Online dataset loaders, tested offline on fixture files in each dataset's real schema."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import datasets
import pytest

from minillm.data import online
from minillm.data.online import (
    EMBEDDED_FALLBACKS,
    REQUIRED_FIELDS,
    hub_reachable,
    load_online,
    load_or_fallback,
    parse_hh_transcript,
    read_manifest,
)

FIXTURES = Path(__file__).parent / "fixtures" / "online"
KEYS = ("tinystories", "fineweb-edu", "alpaca", "smoltalk", "hh-rlhf", "ultrafeedback")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test may touch the network: the hub is declared offline and probes are forgotten."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("MINILLM_DATA_DIR", raising=False)
    monkeypatch.setattr(online, "_probe_results", {})


def fixture(key: str) -> Path:
    return FIXTURES / f"{key}.jsonl"


def rows(key: str, **kwargs) -> list[dict]:
    return list(load_online(key, data_files=fixture(key), **kwargs))


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


# ----------------------------------------------------------------------------- manifest


def test_manifest_is_well_formed():
    manifest = read_manifest()
    assert tuple(manifest) == KEYS
    assert {e["purpose"] for e in manifest.values()} == set(online.PURPOSES)
    for key, entry in manifest.items():
        assert entry["key"] == key
        assert all(field in entry for field in REQUIRED_FIELDS)
        assert entry["fallback"] in EMBEDDED_FALLBACKS
        assert entry["revision"] == "main" or re.fullmatch(r"[0-9a-f]{40}", entry["revision"])
        if entry["revision"] == "main":
            assert "not pinned" in entry["note"]
        # the fixture is written in exactly the real schema
        first = json.loads(fixture(key).read_text(encoding="utf-8").splitlines()[0])
        assert sorted(first) == sorted(entry["schema"]), key


@pytest.mark.parametrize(
    "change, message",
    [
        ({"fallback": "wikipedia"}, "fallback"),
        ({"purpose": "fun"}, "purpose"),
        ({"format": "hh"}, "does not fit purpose"),
        ({"revision": "v1.0"}, "revision"),
        ({"revision": "main", "note": ""}, "note"),
    ],
)
def test_broken_manifest_entries_are_rejected(change, message):
    entry = {**read_manifest()["tinystories"], **change}
    with pytest.raises(ValueError, match=message):
        online._check_entry(entry)
    incomplete = {k: v for k, v in read_manifest()["alpaca"].items() if k != "license"}
    with pytest.raises(ValueError, match="license"):
        online._check_entry(incomplete)


def test_unknown_key_lists_the_known_keys():
    with pytest.raises(ValueError, match="unknown dataset 'wikitext'") as err:
        load_online("wikitext")
    assert all(key in str(err.value) for key in KEYS)
    with pytest.raises(ValueError, match="known keys"):
        load_or_fallback("wikitext", fallback=lambda: None)


# ----------------------------------------------------------------------------- loaders


def test_text_datasets_keep_only_text():
    stories = rows("tinystories")
    assert len(stories) == 4 and all(list(r) == ["text"] for r in stories)
    assert stories[0]["text"].startswith("Once upon a time, there was a little frog named Pip.")
    web = rows("fineweb-edu")
    assert [list(r) for r in web] == [["text"]] * 3
    assert web[1]["text"].startswith("The Pythagorean theorem")


def test_alpaca_becomes_a_two_message_chat():
    chats = rows("alpaca")
    assert [list(r) for r in chats] == [["messages"]] * 4
    assert chats[0]["messages"][0] == user("Give three tips for keeping a houseplant alive.")
    assert chats[1]["messages"] == [
        user("Translate the sentence into French.\n\nThe library opens at nine."),
        assistant("La bibliothèque ouvre à neuf heures."),
    ]


def test_smoltalk_messages_keep_roles_and_order():
    chats = rows("smoltalk")
    assert [m["role"] for m in chats[0]["messages"]] == ["user", "assistant"] * 2
    assert chats[1]["messages"][0] == {"role": "system",
                                       "content": "You are a concise math tutor."}
    assert chats[1]["messages"][-1] == assistant("15% of 80 is 0.15 × 80 = 12.")


def test_hh_rlhf_transcripts_split_into_prompt_and_replies():
    pairs = rows("hh-rlhf")
    assert pairs[0] == {
        "prompt": [
            user("What is a good way to learn to juggle?"),
            assistant("Start with one ball and toss it from hand to hand in an arc at eye level."),
            user("And after that?"),
        ],
        "chosen": "Add a second ball: throw the first, and when it peaks, throw the second "
                  "under it.",
        "rejected": "Just keep practicing.",
    }
    # a blank line inside a reply is not a new turn
    poem = "Soft rain taps the window glass,\n\nwhispering that storms will pass."
    assert pairs[2]["chosen"] == poem


def test_parse_hh_transcript():
    assert parse_hh_transcript("\n\nHuman: hi\n\nAssistant: hello\n\nHuman: bye") == [
        user("hi"), assistant("hello"), user("bye")]
    assert parse_hh_transcript("\n\nHuman: a\n\nb\n\nAssistant:") == [user("a\n\nb"),
                                                                     assistant("")]
    with pytest.raises(ValueError, match="speaker tag"):
        parse_hh_transcript("hello\n\nHuman: hi")
    with pytest.raises(ValueError, match="end with an assistant reply"):
        online.hh_example({"chosen": "\n\nHuman: hi", "rejected": "\n\nHuman: hi"})
    with pytest.raises(ValueError, match="different conversations"):
        online.hh_example({"chosen": "\n\nHuman: a\n\nAssistant: x",
                           "rejected": "\n\nHuman: b\n\nAssistant: y"})


def test_ultrafeedback_message_lists_become_prompt_and_replies():
    pairs = rows("ultrafeedback")
    assert pairs[1] == {
        "prompt": [user("Write a Python expression that reverses the string s.")],
        "chosen": "Use slicing with a negative step: `s[::-1]`.",
        "rejected": "`reverse(s)`",
    }


def test_streaming_and_map_style_loads_agree(tmp_path):
    for key in ("hh-rlhf", "smoltalk"):
        ds = load_online(key, data_files=fixture(key), streaming=False, cache_dir=tmp_path)
        assert isinstance(ds, datasets.Dataset)
        assert ds.to_list() == rows(key)
    assert isinstance(load_online("alpaca", data_files=fixture("alpaca")),
                      datasets.IterableDataset)


def test_parquet_and_csv_files_use_their_builders(tmp_path):
    frame = datasets.Dataset.from_json(str(fixture("alpaca")), cache_dir=str(tmp_path / "c"))
    frame.to_parquet(tmp_path / "alpaca.parquet")
    frame.to_csv(tmp_path / "alpaca.csv", index=False)
    expected = rows("alpaca")
    assert list(load_online("alpaca", data_files=tmp_path / "alpaca.parquet")) == expected
    # CSV reads the empty "input" cells back as missing values
    assert list(load_online("alpaca", data_files=tmp_path / "alpaca.csv")) == expected


def test_n_rows_and_split_name(tmp_path):
    assert len(rows("tinystories", n_rows=2)) == 2
    ds = load_online("ultrafeedback", data_files=fixture("ultrafeedback"), n_rows=2,
                     streaming=False, cache_dir=tmp_path)
    assert ds.num_rows == 2 and ds.split == "train_prefs"
    raw = load_online("ultrafeedback", data_files=fixture("ultrafeedback"),
                      normalize_rows=False)
    assert "score_chosen" in next(iter(raw))
    with pytest.raises(ValueError, match="n_rows"):
        load_online("tinystories", data_files=fixture("tinystories"), n_rows=0)


def test_malformed_rows_are_dropped(tmp_path):
    path = tmp_path / "hh.jsonl"
    good = json.loads(fixture("hh-rlhf").read_text().splitlines()[1])
    bad = {"chosen": "\n\nHuman: only a question", "rejected": "\n\nHuman: only a question"}
    path.write_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n")
    assert list(load_online("hh-rlhf", data_files=path)) == [online.hh_example(good)]


def test_local_file_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_online("alpaca", data_files=tmp_path / "missing.jsonl")
    with pytest.raises(ValueError, match="does not exist"):
        load_or_fallback("alpaca", fallback=lambda: None, data_files=tmp_path / "missing.jsonl")
    odd = tmp_path / "alpaca.txt"
    odd.write_text("hello")
    with pytest.raises(ValueError, match="cannot tell the format"):
        load_online("alpaca", data_files=odd)
    with pytest.raises(ValueError, match=r"needs \['instruction', 'input', 'output'\]"):
        load_online("alpaca", data_files=fixture("tinystories"))


# ----------------------------------------------------------------------------- fallback


def tiny_fallback():
    return datasets.Dataset.from_dict({"text": ["The tower of Varn stands by the river."]})


def test_offline_fallback_prints_one_line(capsys):
    ds, source = load_or_fallback("tinystories", fallback=tiny_fallback)
    assert source == "embedded"
    assert ds["text"] == ["The tower of Varn stands by the river."]
    assert capsys.readouterr().out.splitlines() == [
        "offline: tinystories (roneneldan/TinyStories) is unreachable; "
        "using embedded TinyWorld instead"
    ]
    load_or_fallback("ultrafeedback", fallback=tiny_fallback)
    assert capsys.readouterr().out == (
        "offline: ultrafeedback (HuggingFaceH4/ultrafeedback_binarized) is unreachable; "
        "using embedded TinyWorld preference pairs instead\n"
    )


def test_local_copies_win_over_the_fallback(tmp_path, monkeypatch, capsys):
    def must_not_run():
        raise AssertionError("fallback used although a local copy exists")

    ds, source = load_or_fallback("hh-rlhf", fallback=must_not_run, data_files=fixture("hh-rlhf"))
    assert source == "local" and list(ds) == rows("hh-rlhf")

    shutil.copy(fixture("smoltalk"), tmp_path / "smoltalk.jsonl")
    monkeypatch.setenv("MINILLM_DATA_DIR", str(tmp_path))
    ds, source = load_or_fallback("smoltalk", fallback=must_not_run)
    assert source == "local" and list(ds) == rows("smoltalk")
    assert list(load_online("smoltalk")) == rows("smoltalk")  # the mirror serves load_online too
    assert capsys.readouterr().out == ""
    # a key the mirror does not hold still falls back
    assert load_or_fallback("alpaca", fallback=tiny_fallback)[1] == "embedded"

    monkeypatch.setenv("MINILLM_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="MINILLM_DATA_DIR"):
        load_or_fallback("smoltalk", fallback=must_not_run)


def test_a_failing_hub_load_falls_back_with_one_line(monkeypatch, capsys):
    def refused(*args, **kwargs):
        raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(online, "hub_reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(datasets, "load_dataset", refused)
    ds, source = load_or_fallback("alpaca", fallback=tiny_fallback)
    assert source == "embedded"
    assert capsys.readouterr().out.splitlines() == [
        "offline: alpaca (tatsu-lab/alpaca) could not be loaded (ConnectionError: connection "
        "reset by peer); using embedded TinyWorld SFT data instead"
    ]


# ----------------------------------------------------------------------------- probe


class _Answer404(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_hub_reachable_respects_offline_variables(monkeypatch):
    assert hub_reachable() is False  # HF_HUB_OFFLINE=1 from the fixture
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "true")
    assert hub_reachable() is False
    assert online._probe_results == {}  # decided without a probe


def test_hub_probe_is_real_and_cached(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Answer404)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        assert hub_reachable(timeout=2.0) is True  # any HTTP answer counts
    finally:
        server.shutdown()
        server.server_close()
    assert hub_reachable(timeout=2.0) is True  # cached: the server is gone now
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}/closed")
    assert hub_reachable(timeout=2.0) is False  # nothing listens any more
