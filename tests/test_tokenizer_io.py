"""Save/load, real encodings, token shards and the tokenize stage's artifacts."""

import json

import numpy as np
import pytest
import tiktoken
from tiktoken.load import load_tiktoken_bpe

from minillm import artifacts
from minillm.tokenizer import (
    DEFAULT_SPECIAL_TOKENS,
    ENDOFTEXT,
    load_encoding,
    load_tiktoken,
    load_tokenizer_files,
    read_shard,
    save_tokenizer,
    split_documents,
    tiktoken_io,
    train_bpe,
    write_shard,
)
from minillm.tokenizer.shards import dtype_for
from minillm.tokenizer.stage import load_reference_tokenizer, load_token_shard, load_tokenizer

DOCS = [
    "The first document.\nIt has two lines.",
    "Second: code `x = 1` and 12345 numbers.",
    "",                                            # an empty document still gets its EOT
    f"A document that mentions {ENDOFTEXT} as plain text.",
    "Unicode: café, 東京, 🙂.",
] * 3


@pytest.fixture(scope="module")
def trained():
    return train_bpe(DOCS * 4, 300, name="test-bpe").tokenizer


def test_save_load_round_trip(trained, tmp_path):
    save_tokenizer(trained, tmp_path, extra_meta={"note": "hi"})
    meta = json.loads((tmp_path / "tokenizer.json").read_text())
    assert meta["special_tokens"] == trained.special_tokens
    assert meta["pattern"] == trained.pattern and meta["note"] == "hi"
    loaded = load_tokenizer_files(tmp_path)
    assert loaded.mergeable_ranks == trained.mergeable_ranks
    assert loaded.special_tokens == trained.special_tokens and loaded.name == "test-bpe"
    # the ranks file is tiktoken's own format
    assert load_tiktoken_bpe(str(tmp_path / "tokenizer.tiktoken")) == trained.mergeable_ranks
    fast = load_tiktoken(tmp_path)
    for doc in DOCS:
        assert fast.encode(doc, disallowed_special=()) == trained.encode(doc, disallowed_special=())


def test_loading_broken_files_is_a_clear_error(trained, tmp_path):
    with pytest.raises(FileNotFoundError, match="save_tokenizer"):
        load_tokenizer_files(tmp_path)
    save_tokenizer(trained, tmp_path)
    (tmp_path / "tokenizer.tiktoken").write_text("not base64 at all\n")
    with pytest.raises(ValueError, match="line 1.*tiktoken ranks file"):
        load_tokenizer_files(tmp_path)


def test_cl100k_loads_offline_from_the_bundled_file():
    enc = load_encoding("cl100k_base")
    assert enc.n_vocab == 100277 and enc.eot_token == 100257
    assert enc.encode("hello world") == [15339, 1917]


def test_unavailable_encoding_gives_a_clear_message(monkeypatch):
    def offline(name):
        raise ConnectionError("no network")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    monkeypatch.setattr(tiktoken_io, "_ENCODINGS", {})
    with pytest.raises(RuntimeError, match="offline.*cl100k_base"):
        load_encoding("gpt2")
    with pytest.raises(ValueError, match="unknown encoding"):
        load_encoding("gpt5_base")
    assert not tiktoken_io.encoding_available("gpt2")


def test_shard_round_trip_with_document_boundaries(trained, tmp_path):
    from minillm.tokenizer.tiktoken_io import to_tiktoken

    enc = to_tiktoken(trained)
    info = write_shard(DOCS, enc, tmp_path / "s.bin")
    assert info["dtype"] == "uint16" and info["n_documents"] == len(DOCS)
    tokens = read_shard(tmp_path / "s.bin", info["dtype"])
    assert isinstance(tokens, np.memmap) and len(tokens) == info["n_tokens"]
    assert tokens[-1] == enc.eot_token
    assert int((tokens == enc.eot_token).sum()) == len(DOCS)
    docs = split_documents(tokens, enc.eot_token)
    assert [enc.decode(d.tolist()) for d in docs] == DOCS
    expected = [i for d in DOCS for i in (*enc.encode_ordinary(d), enc.eot_token)]
    assert tokens.tolist() == expected
    parallel = write_shard(DOCS, enc, tmp_path / "p.bin", num_proc=2)
    assert parallel == info
    assert (tmp_path / "p.bin").read_bytes() == (tmp_path / "s.bin").read_bytes()


def test_large_vocabularies_use_uint32(tmp_path):
    enc = load_encoding("cl100k_base")
    info = write_shard(["hello world", "🙂"], enc, tmp_path / "c.bin")
    assert info["dtype"] == "uint32" == dtype_for(enc.n_vocab)
    tokens = read_shard(tmp_path / "c.bin", "uint32")
    assert tokens.tolist() == [15339, 1917, 100257, *enc.encode("🙂"), 100257]
    assert dtype_for(65536) == "uint16" and dtype_for(65537) == "uint32"


def test_shard_errors(trained, tmp_path):
    from minillm.tokenizer.tiktoken_io import to_tiktoken

    with pytest.raises(ValueError, match="no documents"):
        write_shard([], to_tiktoken(trained), tmp_path / "e.bin")
    (tmp_path / "odd.bin").write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="truncated or the dtype is wrong"):
        read_shard(tmp_path / "odd.bin", "uint16")
    with pytest.raises(FileNotFoundError, match="token_shards"):
        read_shard(tmp_path / "missing.bin", "uint16")
    with pytest.raises(ValueError, match="dtype must be"):
        read_shard(tmp_path / "odd.bin", "int8")


def test_stage_artifacts_build_the_chain(minillm_home):
    shards = artifacts.get("token_shards")
    tok_artifact = artifacts.get("tokenizer")
    enc = load_tokenizer(tok_artifact)
    assert isinstance(enc, tiktoken.Encoding)
    config = tok_artifact.config
    assert enc.n_vocab == config["vocab_size"] == tok_artifact.meta["vocab_size"]
    for name in DEFAULT_SPECIAL_TOKENS:
        assert enc.encode(name, allowed_special="all") == [enc.encode_single_token(name)]
    reference = load_reference_tokenizer(tok_artifact)
    sample = "The capital of the land is a quiet city. 42 boats!"
    assert reference.encode(sample) == enc.encode(sample)

    meta = json.loads((shards.path / "meta.json").read_text())
    assert meta["eot_token"] == enc.eot_token
    for split in ("train", "val"):
        tokens = load_token_shard(split, shards)
        assert len(tokens) == meta["splits"][split]["n_tokens"]
        assert int((tokens == enc.eot_token).sum()) == meta["splits"][split]["n_documents"]
        assert int(tokens.max()) < enc.n_vocab
    first_doc = split_documents(load_token_shard("val", shards)[:5000], enc.eot_token)[0]
    corpus_name = [d for d in ("curated_corpus", "tinyworld_corpus")
                   if d in artifacts.store().builder("token_shards").deps][0]
    val_text = artifacts.get(corpus_name).file("validation.txt").read_text()
    assert val_text.startswith(enc.decode(first_doc.tolist()))
    with pytest.raises(ValueError, match="split must be"):
        load_token_shard("test", shards)
