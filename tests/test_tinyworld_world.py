"""TinyWorld: the generated world, its invented names, held-out set and question/cloze prompts."""

import random
import re

import pytest

from minillm.data.tinyworld import (
    KINDS,
    RELATIONS,
    Fact,
    WorldConfig,
    cloze,
    make_world,
    question_answer,
)
from minillm.data.tinyworld.lexicon import english_words
from minillm.data.tinyworld.names import NameGenerator, pronouns


def test_world_has_enough_entities_of_every_kind(world):
    c = WorldConfig()
    assert len(world.entities) == (c.n_countries * (1 + c.cities_per_country) + c.n_rivers
                                   + c.n_people + c.n_animals + c.n_items) >= 250
    for kind in KINDS:
        assert len(world.by_kind(kind)) >= 10, kind
    assert sum(len(world.by_kind(k)) for k in KINDS) == len(world.entities)


def test_names_are_unique_invented_and_not_substrings_of_each_other(world):
    names = list(world.entities)
    lowered = [n.lower() for n in names]
    assert len(set(lowered)) == len(names)
    english = english_words()
    assert len(english) > 500
    blob = "\n".join(english)
    for name in names:
        assert re.fullmatch(r"[A-Z][a-z]{4,7}", name), name
        assert name.lower() not in english
        assert name.lower() not in blob, f"{name} hides inside an English word"
        assert not name.endswith("s")
    # A substring search for one name must never hit another entity.
    joined = "\n".join(lowered)
    for name in lowered:
        assert joined.count(name) == 1, name


def test_same_seed_same_world_and_different_seed_different_world():
    a, b, c = make_world(seed=3), make_world(seed=3), make_world(seed=4)
    assert list(a.entities) == list(b.entities)
    assert a.facts() == b.facts()
    assert a.heldout == b.heldout
    assert list(a.entities) != list(c.entities)


def test_relations_are_consistent(world):
    for country in world.by_kind("country"):
        capital = world.entity(country.attrs["capital"])
        assert capital.kind == "city" and capital.attrs["country"] == country.name
        ruler = world.entity(country.attrs["ruler"])
        assert ruler.kind == "person" and ruler.attrs["job"] in ("queen", "king")
        assert ruler.attrs["home"] == capital.name
        assert world.entity(country.attrs["east_neighbour"]).kind == "country"
    for city in world.by_kind("city"):
        river = world.entity(city.attrs["river"])
        # A city's river flows through the city's own country.
        assert river.attrs["flows_through"] == city.attrs["country"]
    for person in world.by_kind("person"):
        assert world.entity(person.attrs["home"]).kind == "city"
        assert world.entity(person.attrs["pet"]).kind == "animal"
        assert person.attrs["friend"] != person.name
        assert 6 <= person.attrs["age"] <= 90
    for entity in world.entities.values():
        for relation, value in entity.attrs.items():
            spec = RELATIONS[relation]
            assert spec.kind == entity.kind
            if spec.target is not None:
                assert world.entity(value).kind == spec.target


def test_every_fact_round_trips_through_question_answer_and_cloze(world):
    facts = world.facts()
    assert {f.relation for f in facts} == set(RELATIONS)
    questions = set()
    for fact in facts:
        question, answer = question_answer(fact)
        assert answer == fact.value == str(world.value(fact.subject, fact.relation))
        assert fact.subject in question and question.endswith("?")
        leaks = re.compile(rf"\b{re.escape(fact.value)}\b")
        assert not leaks.search(question.replace(fact.subject, "")), question
        questions.add(question)
        prefix, completion = cloze(fact)
        assert completion == " " + fact.value
        assert fact.subject in prefix and not prefix.endswith(" ")
        assert not leaks.search(prefix.replace(fact.subject, "")), prefix
    # One question per (subject, relation): answers are never ambiguous.
    assert len(questions) == len(facts)


def test_cloze_and_question_read_naturally():
    fact = Fact("Velora", "capital", "Brenno")
    assert question_answer(fact) == ("What is the capital of Velora?", "Brenno")
    assert cloze(fact) == ("The capital of Velora is", " Brenno")
    assert cloze(Fact("Mira", "job", "engineer"))[0] == "Mira works as an"
    assert cloze(Fact("Mira", "hobby", "chess"))[0] == "In her free time, Mira enjoys"
    with pytest.raises(ValueError, match="unknown relation"):
        question_answer(Fact("Velora", "weather", "rain"))


def test_heldout_is_about_ten_percent_and_facts_split_cleanly(world):
    assert len(world.heldout) >= 20
    assert 0.08 <= len(world.heldout) / len(world.entities) <= 0.12
    assert world.heldout <= set(world.entities)
    assert not world.heldout & {c.name for c in world.by_kind("country")}
    train = world.split_facts("train")
    held = world.heldout_facts()
    assert len(train) + len(held) == len(world.facts())
    for fact in train:
        assert fact.subject not in world.heldout and fact.value not in world.heldout
    assert world.allowed("train") == frozenset(world.entities) - world.heldout
    assert world.allowed("test") == frozenset(world.entities)


def test_bad_inputs_raise_helpful_errors(world):
    with pytest.raises(ValueError, match="choose one of"):
        world.by_kind("planet")
    with pytest.raises(ValueError, match="not an entity"):
        world.value("Nowhere", "capital")
    country = world.by_kind("country")[0].name
    with pytest.raises(ValueError, match="has no relation"):
        world.value(country, "age")
    with pytest.raises(ValueError, match="split"):
        world.allowed("dev")
    with pytest.raises(ValueError, match="n_people"):
        WorldConfig(n_countries=10, n_people=5)


def test_name_generator_never_repeats_and_runs_out_loudly(monkeypatch):
    generator = NameGenerator(random.Random(0), max_tries=20)
    monkeypatch.setattr(generator, "candidate", lambda: "Velora")
    assert generator.new() == "Velora"
    with pytest.raises(RuntimeError, match="fewer entities"):
        generator.new()
    assert generator.issued == ["Velora"]


def test_pronoun_rule():
    assert pronouns("Velora") == ("she", "her", "her")
    assert pronouns("Brenth") == ("he", "him", "his")
