"""TinyWorld corpus: richness, determinism, splits, held-out safety, arithmetic, streaming."""

import gzip
import itertools
import os
import random
import re
import subprocess
import sys
import time
import types
from collections import Counter

import pytest

from minillm.data.tinyworld import RELATIONS, Fact, cloze, make_world
from minillm.data.tinyworld.corpus import (
    EOT,
    GENRE_WEIGHTS,
    GENRES,
    SEPARATOR,
    corpus_stats,
    iter_documents,
    read_corpus,
    template_shares,
    write_corpus,
)
from minillm.data.tinyworld.genres import SplitView, fact_context
from minillm.data.tinyworld.phrasebook import POOLS
from minillm.data.tinyworld.writer import COMPILED, Writer, compile_template

RICHNESS_BYTES = 10_000_000


@pytest.fixture(scope="module")
def train_docs(world):
    start = time.perf_counter()
    docs = list(iter_documents(world, split="train", seed=0, n_bytes=RICHNESS_BYTES))
    print(
        f"\ngenerated {RICHNESS_BYTES / 1e6:.0f} MB of train text in {time.perf_counter() - start:.1f} s"
    )
    return docs


@pytest.fixture(scope="module")
def validation_docs(world):
    return list(iter_documents(world, split="validation", seed=0, n_bytes=1_000_000))


def test_richness_of_a_10mb_train_corpus(train_docs):
    stats = corpus_stats(d.text for d in train_docs)
    shares = template_shares(train_docs)
    top_id, top_share = next(iter(shares.items()))
    print(
        f"\n10 MB train corpus: {stats}; templates used {len(shares)}; "
        f"max template share {top_share:.4f} ({top_id})"
    )
    assert stats["bytes"] >= RICHNESS_BYTES
    assert stats["word_types"] >= 4000
    assert stats["gzip_ratio"] <= 4.5
    assert top_share <= 0.02
    assert len(shares) >= 500
    # Every template in the phrasebook gets used at this size (no dead templates).
    assert set(shares) == {t.id for pool in COMPILED.values() for t in pool}


def test_every_genre_appears_in_about_its_share(train_docs):
    counts = Counter(d.genre for d in train_docs)
    assert set(counts) == set(GENRES)
    for genre, weight in GENRE_WEIGHTS.items():
        assert abs(counts[genre] / len(train_docs) - weight) < 0.03, genre


def test_train_never_names_a_heldout_entity(world, train_docs):
    pattern = re.compile("|".join(sorted(world.heldout)))
    leaks = [d.id for d in train_docs if pattern.search(d.text)]
    assert leaks == []


def test_heldout_entities_are_written_about_in_validation(world, validation_docs):
    text = "\n".join(d.text for d in validation_docs)
    mentioned = {name for name in world.heldout if name in text}
    assert len(mentioned) / len(world.heldout) >= 0.9
    # and their facts are stated, e.g. in the cloze wording the evaluation uses
    stated = sum(1 for f in world.heldout_facts() if "".join(cloze(f)) in text)
    assert stated >= 20


def test_train_states_each_fact_several_times(world, train_docs):
    """Count, per fact, the sentences that hold both its subject and its value."""
    counts = Counter()
    splitter = re.compile(r"(?<=[.!?])\s+|\n")
    facts_of = {name: world.facts([name]) for name in world.entities}
    for doc in train_docs:
        for sentence in splitter.split(doc.text):
            for name in doc.subjects:
                if name in sentence:
                    for fact in facts_of[name]:
                        if re.search(
                            rf"\b{re.escape(fact.value)}\b", sentence.replace(name, "", 1)
                        ):
                            counts[fact] += 1
    train_facts = world.split_facts("train")
    often = sum(1 for f in train_facts if counts[f] >= 3)
    print(f"\ntrain facts stated >= 3 times: {often}/{len(train_facts)}")
    assert often / len(train_facts) >= 0.95
    assert all(counts[f] == 0 for f in world.heldout_facts() if f.subject in world.heldout)


def test_cloze_wording_is_the_first_paraphrase_of_each_fact(world):
    view = SplitView(world, "validation")
    for relation in RELATIONS:
        fact = next(f for f in world.facts() if f.relation == relation)
        pool = COMPILED[f"fact.{relation}"]
        assert len(pool) >= 4, relation
        writer = Writer(random.Random(0), {})
        writer.say_text("first", POOLS[f"fact.{relation}"][0], **fact_context(view, fact))
        prefix, completion = cloze(fact)
        text = writer.text()
        assert text.startswith(prefix + completion), relation
        assert re.fullmatch(r"( coins)?\.", text[len(prefix + completion) :]), relation


def test_stated_cloze_facts_are_true(world, train_docs):
    """Wherever a document uses a cloze prefix, the value that follows is the world's value."""
    checked = 0
    for doc in train_docs[:3000]:
        for name in doc.subjects:
            for fact in world.facts([name]):
                prefix, completion = cloze(fact)
                for match in re.finditer(re.escape(prefix) + " ", doc.text):
                    rest = doc.text[match.start() :]
                    assert re.match(re.escape(prefix + completion) + r"\b", rest), (doc.id, prefix)
                    checked += 1
    assert checked > 100


EQUATION = re.compile(r"(\d+) (x|times|\+|plus|-|minus|/|divided by) (\d+) (?:=|is) (\d+)")
OPERATIONS = {
    "x": lambda a, b: a * b,
    "times": lambda a, b: a * b,
    "+": lambda a, b: a + b,
    "plus": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "minus": lambda a, b: a - b,
    "/": lambda a, b: a / b,
    "divided by": lambda a, b: a / b,
}


def test_word_problem_arithmetic_is_correct(world, train_docs):
    problems = [d for d in train_docs if d.genre == "word_problem"]
    assert len(problems) > 500
    for doc in problems:
        equations = EQUATION.findall(doc.text)
        assert equations, doc.text
        for a, op, b, result in equations:
            assert OPERATIONS[op](int(a), int(b)) == int(result), doc.text
        answer = re.search(r"(?:answer is|Answer:|makes) (\d+)\.$", doc.text)
        assert answer and answer.group(1) == equations[-1][3], doc.text
        # prices quoted in a problem are the world's prices
        for item, price in re.findall(r"[Ee]ach ([A-Z][a-z]+) costs (\d+) coins", doc.text):
            assert str(world.value(item, "price")) == price


def test_same_seed_same_bytes_and_different_seeds_differ(world):
    first = [d.text for d in iter_documents(world, seed=0, n_docs=200)]
    again = [d.text for d in iter_documents(make_world(0), seed=0, n_docs=200)]
    other_seed = [d.text for d in iter_documents(world, seed=1, n_docs=200)]
    other_world = [d.text for d in iter_documents(make_world(1), seed=0, n_docs=200)]
    assert first == again
    assert not set(first) & set(other_seed)
    assert not set(first) & set(other_world)


def test_output_does_not_depend_on_python_hash_seed():
    """String hashing is salted per process; the corpus must not notice."""
    code = (
        "import hashlib; from minillm.data.tinyworld import iter_documents, make_world; "
        "docs = iter_documents(make_world(2), split='validation', seed=5, n_docs=150); "
        "print(hashlib.sha256(''.join(d.text for d in docs).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": salt},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for salt in ("1", "2")
    }
    assert len(digests) == 1


def test_splits_are_disjoint_streams(world):
    texts = {
        s: [d.text for d in iter_documents(world, split=s, n_docs=300)]
        for s in ("train", "validation", "test")
    }
    assert not set(texts["train"]) & set(texts["validation"])
    assert not set(texts["train"]) & set(texts["test"])
    assert not set(texts["validation"]) & set(texts["test"])
    doc = next(iter_documents(world, split="test"))
    assert doc.id == "test-000000" and doc.split == "test"


def test_streaming_limits_and_random_access(world):
    stream = iter_documents(world)
    assert isinstance(stream, types.GeneratorType)
    endless = list(itertools.islice(stream, 5))
    assert [d.id for d in endless] == [f"train-{i:06d}" for i in range(5)]
    docs = list(iter_documents(world, n_bytes=50_000))
    sizes = [len(d.text.encode()) for d in docs]
    assert sum(sizes) >= 50_000 and sum(sizes) - sizes[-1] < 50_000
    assert len(list(iter_documents(world, n_docs=7))) == 7
    assert len(list(iter_documents(world, n_docs=100, n_bytes=1000))) < 100
    tenth = next(iter_documents(world, start=10))
    assert tenth == list(iter_documents(world, n_docs=11))[10]


def test_documents_are_well_formed(world):
    known_ids = {t.id for pool in COMPILED.values() for t in pool}
    for doc in iter_documents(world, split="validation", n_docs=400):
        assert doc.genre in GENRES and doc.text and EOT not in doc.text
        assert doc.templates and set(doc.templates) <= known_ids
        assert all(name in world.entities and name in doc.text for name in doc.subjects)
        assert "{" not in doc.text and "[" not in doc.text, doc.text


def test_write_and_read_corpus_round_trip(tmp_path, world):
    path = tmp_path / "train.txt"
    stats = write_corpus(path, n_bytes=1_000_000, seed=0, world=world)
    print(f"\nwrote 1 MB in {stats['seconds']:.2f} s ({stats['docs']} documents)")
    assert stats["bytes"] == path.stat().st_size >= 1_000_000
    texts = list(read_corpus(path))
    assert len(texts) == stats["docs"]
    assert texts == [d.text for d in iter_documents(world, n_bytes=1_000_000)]
    assert path.read_text(encoding="utf-8").count(SEPARATOR) == stats["docs"] - 1
    again = tmp_path / "again.txt"
    write_corpus(again, n_bytes=1_000_000, seed=0, world=world)
    assert again.read_bytes() == path.read_bytes()
    assert not (tmp_path / "train.txt.tmp").exists()


def test_corpus_stats_exact_values():
    stats = corpus_stats(["A b a!", "c"])
    raw = b"A b a!\nc\n"
    assert stats == {
        "documents": 2,
        "words": 4,
        "word_types": 3,
        "bytes": len(raw),
        "gzip_ratio": round(len(raw) / len(gzip.compress(raw, 9)), 3),
    }


def test_template_language():
    template = compile_template("t", "[Once|One day], {hero} found {a:adj} {obj}.{?pal}")
    assert template.needs == ("hero", "pal")
    writer = Writer(random.Random(1), {"hero": "Velora", "pal": "Brenth"})
    writer.say_text("t", "[Once|One day], {hero} found {a:adj} {obj}.{?pal}")
    text = writer.text()
    assert re.fullmatch(r"(Once|One day), Velora found (a|an) [a-z ]+\.", text), text
    article, word = re.search(r"found (a|an) (\w)", text).groups()
    assert (article == "an") == (word in "aeiou")
    for bad, message in (
        ("{nosuch}", "unknown slot"),
        ("[a|b", "unclosed"),
        ("a]", "unbalanced"),
        ("a|b", "outside"),
    ):
        with pytest.raises(ValueError, match=message):
            compile_template("bad", bad)


def test_bad_arguments_raise_helpful_errors(world, tmp_path):
    with pytest.raises(ValueError, match="split"):
        next(iter_documents(world, split="dev"))
    with pytest.raises(ValueError, match="n_bytes"):
        next(iter_documents(world, n_bytes=-1))
    with pytest.raises(ValueError, match="n_bytes"):
        write_corpus(tmp_path / "x.txt", n_bytes=0)
    assert Fact("a", "b", "c") == Fact("a", "b", "c")
