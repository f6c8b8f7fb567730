"""TinyWorld: a small fictional world, generated from a seed, whose every fact is known.

The world holds countries, cities, rivers, people, animal species and items, all with invented
names (see `names.py`), attributes ("the climate of Velora is rainy") and relations between
them (person -> home city -> country). The corpus writers in `corpus.py` turn these facts into
stories, encyclopedia entries, dialogues and word problems. Because the world is known exactly,
a trained model can be scored fact by fact, with `question_answer` and `cloze` prompts.

About 10% of the entities are *held out*: their names never appear in train documents, only
in validation and test documents, so generalisation can be told apart from memorisation. A
fact is held out when its subject or its value names a held-out entity.

    >>> world = make_world(seed=0)
    >>> country = world.by_kind("country")[0]
    >>> capital = world.value(country.name, "capital")
    >>> fact = Fact(country.name, "capital", capital)
    >>> question_answer(fact) == (f"What is the capital of {country.name}?", capital)
    True
    >>> cloze(fact) == (f"The capital of {country.name} is", " " + capital)
    True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from minillm.data.tinyworld import lexicon
from minillm.data.tinyworld.names import NameGenerator, plural, pronouns

KINDS = ("country", "city", "river", "person", "animal", "item")
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Fact:
    subject: str  # entity name, e.g. "Velora"
    relation: str  # e.g. "capital", "climate", "job"
    value: str  # rendered value, e.g. "Brenno", "cold", "12"


@dataclass
class Entity:
    name: str
    kind: str  # one of KINDS
    attrs: dict[str, object] = field(default_factory=dict)  # relation -> str | int


@dataclass(frozen=True)
class Relation:
    """How one relation reads in English. `{s}` is the subject, `{v}` the value."""

    name: str
    kind: str  # kind of the subject entity; `{ss}` in the texts is the subject's plural
    target: str | None  # kind of entity the value names, or None for a plain word/number
    question: str  # `{p}` is the subject's possessive pronoun (people only)
    cloze: str  # ends right before the value; `{a}` is "a"/"an" chosen for the value


# Relation names are unique across kinds, so a Fact alone says how to phrase it.
RELATIONS: dict[str, Relation] = {
    r.name: r
    for r in (
        Relation(
            "capital", "country", "city", "What is the capital of {s}?", "The capital of {s} is"
        ),
        Relation("ruler", "country", "person", "Who rules {s}?", "The ruler of {s} is"),
        Relation(
            "climate", "country", None, "What is the climate of {s} like?", "The climate of {s} is"
        ),
        Relation(
            "export",
            "country",
            None,
            "What is the main export of {s}?",
            "The main export of {s} is",
        ),
        Relation(
            "east_neighbour",
            "country",
            "country",
            "Which country lies to the east of {s}?",
            "To the east of {s} lies",
        ),
        Relation(
            "flag_colour", "country", None, "What colour is the flag of {s}?", "The flag of {s} is"
        ),
        Relation(
            "country",
            "city",
            "country",
            "In which country is the city of {s}?",
            "The city of {s} is in",
        ),
        Relation(
            "river",
            "city",
            "river",
            "Which river flows through {s}?",
            "The river that flows through {s} is the",
        ),
        Relation("food", "city", None, "What food is {s} famous for?", "{s} is famous for its"),
        Relation(
            "landmark",
            "city",
            None,
            "What is the most famous building in {s}?",
            "The most famous building in {s} is the",
        ),
        Relation(
            "flows_through",
            "river",
            "country",
            "Which country does the {s} River flow through?",
            "The {s} River flows through",
        ),
        Relation(
            "length",
            "river",
            None,
            "How many miles long is the {s} River?",
            "The length of the {s} River in miles is",
        ),
        Relation("job", "person", None, "What is {s}'s job?", "{s} works as {a}"),
        Relation(
            "home", "person", "city", "In which city does {s} live?", "{s} lives in the city of"
        ),
        Relation("pet", "person", "animal", "What kind of pet does {s} have?", "{s} has a pet"),
        Relation("friend", "person", "person", "Who is {s}'s best friend?", "{s}'s best friend is"),
        Relation("age", "person", None, "How old is {s}?", "{s}'s age is"),
        Relation(
            "favourite_colour",
            "person",
            None,
            "What is {s}'s favourite colour?",
            "{s}'s favourite colour is",
        ),
        Relation(
            "hobby",
            "person",
            None,
            "What does {s} like to do in {p} free time?",
            "In {p} free time, {s} enjoys",
        ),
        Relation("colour", "animal", None, "What colour is a {s}?", "The colour of a {s} is"),
        Relation("diet", "animal", None, "What does a {s} eat?", "A {s} mostly eats"),
        Relation(
            "habitat", "animal", None, "Where do wild {ss} live?", "Wild {ss} make their homes in"
        ),
        Relation(
            "sound",
            "animal",
            None,
            "What sound does a {s} make?",
            "The sound a {s} makes is called a",
        ),
        Relation(
            "legs",
            "animal",
            None,
            "How many legs does a {s} have?",
            "The number of legs on a {s} is",
        ),
        Relation("price", "item", None, "How many coins does a {s} cost?", "A {s} costs"),
        Relation("material", "item", None, "What is a {s} made of?", "A {s} is made of"),
        Relation("maker", "item", "person", "Who makes {ss}?", "{ss} are made by"),
        Relation("item_type", "item", None, "What kind of thing is a {s}?", "A {s} is a kind of"),
    )
}

RULER_JOBS = ("queen", "king")  # a ruler's job follows the pronoun rule in names.py


@dataclass(frozen=True)
class WorldConfig:
    n_countries: int = 16
    cities_per_country: int = 4
    n_rivers: int = 24
    n_people: int = 64  # few enough that the cpu model reads most person facts often
    n_animals: int = 40
    n_items: int = 48
    heldout_fraction: float = 0.1  # of every kind except countries

    def __post_init__(self):
        if (
            self.n_countries < 2
            or self.cities_per_country < 1
            or self.n_people < self.n_countries + 2
        ):
            raise ValueError(
                "WorldConfig needs n_countries >= 2, cities_per_country >= 1 and "
                "n_people >= n_countries + 2 (every country needs a ruler); got " + repr(self)
            )
        if self.n_rivers < self.n_countries or self.n_animals < 1 or self.n_items < 1:
            raise ValueError(
                "WorldConfig needs n_rivers >= n_countries, n_animals >= 1, n_items >= 1"
            )
        if not 0.0 <= self.heldout_fraction < 0.5:
            raise ValueError(f"heldout_fraction must be in [0, 0.5), got {self.heldout_fraction}")


@dataclass
class World:
    seed: int
    entities: dict[str, Entity]  # name -> entity, in generation order
    heldout: frozenset[str]  # names whose facts never appear in train text

    def by_kind(self, kind: str) -> list[Entity]:
        if kind not in KINDS:
            raise ValueError(f"unknown entity kind {kind!r}; choose one of {KINDS}")
        return [e for e in self.entities.values() if e.kind == kind]

    def entity(self, name: str) -> Entity:
        if name not in self.entities:
            raise ValueError(f"{name!r} is not an entity of this world; see world.entities")
        return self.entities[name]

    def value(self, subject: str, relation: str) -> object:
        entity = self.entity(subject)
        if relation not in entity.attrs:
            raise ValueError(
                f"{subject!r} ({entity.kind}) has no relation {relation!r}; "
                f"it has {tuple(entity.attrs)}"
            )
        return entity.attrs[relation]

    def facts(self, subjects=None) -> list[Fact]:
        """All facts, or those about `subjects` (an iterable of names), in a fixed order."""
        names = self.entities if subjects is None else subjects
        out = []
        for name in names:
            for relation, value in self.entity(name).attrs.items():
                out.append(Fact(name, relation, str(value)))
        return out

    def is_heldout_fact(self, fact: Fact) -> bool:
        return fact.subject in self.heldout or fact.value in self.heldout

    def allowed(self, split: str) -> frozenset[str]:
        """Entity names a document of `split` may mention (train never sees held-out names)."""
        check_split(split)
        if split == "train":
            return frozenset(self.entities) - self.heldout
        return frozenset(self.entities)

    def split_facts(self, split: str) -> list[Fact]:
        """Facts that documents of `split` can state (train: no held-out facts)."""
        check_split(split)
        facts = self.facts()
        if split == "train":
            return [f for f in facts if not self.is_heldout_fact(f)]
        return facts

    def heldout_facts(self) -> list[Fact]:
        return [f for f in self.facts() if self.is_heldout_fact(f)]


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")


def _article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def _relation_of(fact: Fact) -> Relation:
    if fact.relation not in RELATIONS:
        raise ValueError(f"unknown relation {fact.relation!r}; choose one of {tuple(RELATIONS)}")
    return RELATIONS[fact.relation]


def question_answer(fact: Fact) -> tuple[str, str]:
    """A natural question about the fact and its exact answer, e.g.
    ("What is the capital of Velora?", "Brenno")."""
    relation = _relation_of(fact)
    possessive = pronouns(fact.subject)[2] if relation.kind == "person" else ""
    question = relation.question.format(s=fact.subject, ss=plural(fact.subject), p=possessive)
    return question, fact.value


def cloze(fact: Fact) -> tuple[str, str]:
    """A prefix that the fact completes, and the completion with its leading space, e.g.
    ("The capital of Velora is", " Brenno")."""
    relation = _relation_of(fact)
    possessive = pronouns(fact.subject)[2] if relation.kind == "person" else ""
    prefix = relation.cloze.format(
        s=fact.subject, ss=plural(fact.subject), a=_article(fact.value), p=possessive
    )
    return prefix, " " + fact.value


def make_world(seed: int = 0, config: WorldConfig | None = None) -> World:
    """Generate the world for `seed`. The same seed always gives the same world."""
    if not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    config = config or WorldConfig()
    # Separate streams so that, say, changing how ages are drawn does not rename everything.
    names = NameGenerator(random.Random(f"tinyworld-names-{seed}"))
    rng = random.Random(f"tinyworld-attrs-{seed}")
    entities: dict[str, Entity] = {}

    def add(kind: str) -> Entity:
        entity = Entity(names.new(), kind, {})
        entities[entity.name] = entity
        return entity

    countries = [add("country") for _ in range(config.n_countries)]
    cities = {c.name: [add("city") for _ in range(config.cities_per_country)] for c in countries}
    rivers = [add("river") for _ in range(config.n_rivers)]
    people = [add("person") for _ in range(config.n_people)]
    animals = [add("animal") for _ in range(config.n_animals)]
    items = [add("item") for _ in range(config.n_items)]

    # Every country gets at least one river; the rest go to random countries.
    river_country = [c.name for c in countries] + [
        rng.choice(countries).name for _ in range(config.n_rivers - config.n_countries)
    ]
    rivers_of: dict[str, list[str]] = {c.name: [] for c in countries}
    for river, country in zip(rivers, river_country, strict=True):
        river.attrs = {"flows_through": country, "length": rng.randint(40, 900)}
        rivers_of[country].append(river.name)

    rulers = rng.sample(people, config.n_countries)
    all_cities = [city for group in cities.values() for city in group]
    # Countries sit in a ring around an inland sea, so every country has one east neighbour.
    for i, country in enumerate(countries):
        country.attrs = {
            "capital": cities[country.name][0].name,
            "ruler": rulers[i].name,
            "climate": rng.choice(lexicon.CLIMATES),
            "export": rng.choice(lexicon.EXPORTS),
            "east_neighbour": countries[(i + 1) % len(countries)].name,
            "flag_colour": rng.choice(lexicon.COLOURS),
        }
        for city in cities[country.name]:
            city.attrs = {
                "country": country.name,
                "river": rng.choice(rivers_of[country.name]),
                "food": rng.choice(lexicon.FOODS),
                "landmark": rng.choice(lexicon.LANDMARKS),
            }

    sound_nouns = tuple(lexicon.ANIMAL_SOUNDS)
    for animal in animals:
        animal.attrs = {
            "colour": rng.choice(lexicon.COLOURS),
            "diet": rng.choice(lexicon.ANIMAL_DIETS),
            "habitat": rng.choice(lexicon.ANIMAL_HABITATS),
            "sound": rng.choice(sound_nouns),
            "legs": rng.choice(lexicon.ANIMAL_LEGS),
        }

    ruled = {ruler.name: countries[i] for i, ruler in enumerate(rulers)}
    for person in people:
        if person.name in ruled:
            job = RULER_JOBS[0] if pronouns(person.name)[0] == "she" else RULER_JOBS[1]
            home, age = ruled[person.name].attrs["capital"], rng.randint(30, 80)
        else:
            job, home, age = (
                rng.choice(lexicon.JOBS),
                rng.choice(all_cities).name,
                rng.randint(6, 90),
            )
        friend = rng.choice([p for p in people if p is not person])
        person.attrs = {
            "job": job,
            "home": home,
            "pet": rng.choice(animals).name,
            "friend": friend.name,
            "age": age,
            "favourite_colour": rng.choice(lexicon.COLOURS),
            "hobby": rng.choice(lexicon.HOBBIES),
        }

    for item in items:
        item.attrs = {
            "price": rng.randint(2, 60),
            "material": rng.choice(lexicon.MATERIALS),
            "maker": rng.choice(people).name,
            "item_type": rng.choice(lexicon.ITEM_TYPES),
        }

    # Capitals and rulers stay visible so every train country reads complete.
    protected = {c.attrs["capital"] for c in countries} | {r.name for r in rulers}
    heldout: set[str] = set()
    for kind in KINDS[1:]:
        of_kind = [e.name for e in entities.values() if e.kind == kind]
        candidates = [name for name in of_kind if name not in protected]
        count = min(len(candidates), round(config.heldout_fraction * len(of_kind)))
        heldout.update(rng.sample(candidates, count))
    return World(seed=seed, entities=entities, heldout=frozenset(heldout))
