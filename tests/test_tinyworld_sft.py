import re

import pytest

from minillm.data.tinyworld.judge import is_refusal
from minillm.data.tinyworld.names import pronouns
from minillm.data.tinyworld.sft import (
    FAMILIES,
    NEGATIVE_LINES,
    POSITIVE_LINES,
    Example,
    make_sft_examples,
    split_of,
)
from minillm.data.tinyworld.world import WorldConfig, make_world


@pytest.fixture(scope="module")
def splits(world):
    return {split: make_sft_examples(world, split, n_per_family=120, seed=0)
            for split in ("train", "validation", "test")}


def prompt_key(example: Example) -> tuple:
    return tuple((m["role"], m["content"]) for m in example.prompt if m["role"] != "system")


def test_families_counts_and_chat_shape(splits):
    for split, examples in splits.items():
        assert [e.family for e in examples] == [f for f in FAMILIES for _ in range(120)]
        assert len({e.id for e in examples}) == len(examples)
        for e in examples:
            roles = [m["role"] for m in e.messages if m["role"] != "system"]
            assert roles == ["user", "assistant"] * (len(roles) // 2), e.messages
            assert e.messages[-1]["role"] == "assistant" and e.prompt == e.messages[:-1]
            assert e.messages[-1]["content"].strip()
            assert (e.answer == "") == (e.family == "refusal"), (split, e)
        # within a split every prompt is asked once
        assert len({prompt_key(e) for e in examples}) == len(examples)


def test_same_seed_same_examples_and_other_seed_differs(world):
    a = make_sft_examples(world, "train", n_per_family=40, seed=3)
    b = make_sft_examples(world, "train", n_per_family=40, seed=3)
    c = make_sft_examples(world, "train", n_per_family=40, seed=4)
    assert repr(a) == repr(b)
    assert [e.messages for e in a] != [e.messages for e in c]


def test_splits_share_no_prompt_whatever_the_seeds(world, splits):
    other_seed_train = make_sft_examples(world, "train", n_per_family=120, seed=7)
    train = {prompt_key(e) for e in splits["train"]} | {prompt_key(e) for e in other_seed_train}
    validation = {prompt_key(e) for e in splits["validation"]}
    test = {prompt_key(e) for e in splits["test"]}
    assert not train & test and not train & validation and not validation & test
    assert split_of("fact|Velora|capital") in ("train", "validation", "test")


def asked_facts(examples):
    facts = set()
    for e in examples:
        if e.family == "fact_qa":
            facts.add(e.meta["fact"][:2])
        if e.family == "multi_turn" and "facts" in e.meta:
            facts.update(f[:2] for f in e.meta["facts"])
    return facts


def test_test_facts_are_never_asked_in_train(splits):
    train, test = asked_facts(splits["train"]), asked_facts(splits["test"])
    assert len(train) > 100 and len(test) > 100
    assert not train & test


def test_heldout_entities_never_appear_in_train(world, splits):
    for e in splits["train"]:
        text = " ".join(m["content"] for m in e.messages)
        assert not [name for name in world.heldout if name in text], e.messages
        assert "heldout" not in e.meta
    flagged = [e for e in splits["test"] if e.meta.get("heldout")]
    assert flagged, "test examples may use held-out entities and must flag them"
    for e in flagged:
        assert any(name in " ".join(m["content"] for m in e.messages) for name in world.heldout)


def test_fact_and_multi_turn_answers_match_the_world(world, splits):
    for e in splits["train"] + splits["test"]:
        if "fact" in e.meta:
            subject, relation, value = e.meta["fact"]
            assert str(world.value(subject, relation)) == value == e.answer
            assert value in e.messages[-1]["content"]
    follow_ups = [e for e in splits["train"] if e.family == "multi_turn" and "fact" in e.meta]
    assert len(follow_ups) > 40
    for e in follow_ups:
        # the follow-up must lean on the earlier turn: it never names what it asks about
        assert e.meta["fact"][0] not in e.prompt[-1]["content"], e.messages


def test_arithmetic_replies_are_right(world, splits):
    ops = {"+": int.__add__, "-": int.__sub__, "×": int.__mul__}
    for e in splits["train"] + splits["test"]:
        if e.family not in ("arithmetic", "multi_turn") or "fact" in e.meta:
            continue
        a, op, b, result = re.search(r"(\d+) ([-+×]) (\d+) = (\d+)", e.messages[-1]["content"]).groups()
        assert ops[op](int(a), int(b)) == int(result) == int(e.answer), e.messages
        for item in re.findall(r"\b[A-Z][a-z]+\b", e.prompt[-1]["content"]):
            if item in world.entities and world.entities[item].kind == "item":
                assert str(world.value(item, "price")) in e.prompt[-1]["content"]


def test_string_answers_recomputed(splits):
    checks = {
        "reverse": lambda w, e: w[::-1],
        "length": lambda w, e: str(len(w)),
        "upper": lambda w, e: w.upper(),
        "first": lambda w, e: w[0],
        "last": lambda w, e: w[-1],
        "count": lambda w, e: str(w.lower().count(e.meta["letter"])),
        "words": lambda w, e: str(len(w.split())),
    }
    seen = set()
    for e in splits["train"] + splits["test"]:
        if e.family == "string":
            word = re.findall(r"'([^']+)'", e.prompt[-1]["content"])[-1]
            assert checks[e.meta["task"]](word, e) == e.answer, e.messages
            seen.add(e.meta["task"])
    assert seen == set(checks)


def test_classification_and_extraction_labels(world, splits):
    for e in splits["train"] + splits["test"]:
        question = e.prompt[-1]["content"]
        if e.family == "classification" and e.answer in ("positive", "negative"):
            person = re.search(r"(\w+) spent a day in", question).group(1)
            he, _, pos = pronouns(person)
            hits = [sum(line.format(p=person, he=he, pos=pos) in question for line in lines)
                    for lines in (POSITIVE_LINES, NEGATIVE_LINES)]
            assert hits == ([2, 0] if e.answer == "positive" else [0, 2]), question
        elif e.family == "classification":
            name = re.match(r"Is (\w+) ", question).group(1)
            assert world.entities[name].kind == e.answer
        elif e.family == "extraction" and e.meta["question"] == "main":
            story_start = question.split("Story: ")[-1]
            assert story_start.index(e.answer) <= min(
                story_start.index(d) for d in e.meta["distractors"])
        elif e.family == "extraction" and e.meta["question"] == "place":
            main = next(p.name for p in world.by_kind("person") if p.name in question
                        and world.value(p.name, "home") == e.answer)
            assert main


def test_refusal_family_mixes_harmful_and_benign(splits):
    for examples in splits.values():
        refusal = [e for e in examples if e.family == "refusal"]
        harmful = [e for e in refusal if e.meta["harmful"]]
        benign = [e for e in refusal if not e.meta["harmful"]]
        assert len(harmful) >= 30 and len(benign) >= 30
        assert all(is_refusal(e.messages[-1]["content"]) for e in harmful)
        assert all("instead" in e.messages[-1]["content"] or "I can help" in e.messages[-1]["content"]
                   for e in harmful)
        assert not any(is_refusal(e.messages[-1]["content"]) for e in benign)
        assert all(e.meta["looks_risky"] and e.meta["keywords"] for e in benign)


def test_bad_arguments_raise_helpful_errors(world):
    with pytest.raises(ValueError, match="split"):
        make_sft_examples(world, "dev")
    with pytest.raises(ValueError, match="n_per_family"):
        make_sft_examples(world, "train", n_per_family=0)
    with pytest.raises(ValueError, match="families"):
        make_sft_examples(world, "train", families=("poetry",))
    with pytest.raises(ValueError, match="World"):
        make_sft_examples({"not": "a world"}, "train")


def test_asking_for_more_than_exists_says_how_many_there_are():
    small = make_world(0, WorldConfig(n_countries=2, cities_per_country=1, n_rivers=2,
                                      n_people=4, n_animals=1, n_items=1, heldout_fraction=0.0))
    with pytest.raises(ValueError, match=r"only \d+ distinct fact_qa prompts"):
        make_sft_examples(small, "test", n_per_family=500, families=("fact_qa",))
