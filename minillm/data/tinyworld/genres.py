"""The seven TinyWorld genres: each function writes one document about the world.

Every writer gets a `SplitView` (the entities a split may mention) and a seeded `random.Random`,
and returns a `Writer` holding the text and one template id per sentence. Stories, dialogues
and word problems only ever state facts that are true in the world; everything else they say
is fluff from the lexicon (weather, feelings, objects), which carries no facts.

    >>> import random
    >>> from minillm.data.tinyworld.world import make_world
    >>> view = SplitView(make_world(0), "train")
    >>> writer, names = write_encyclopedia(view, random.Random(0))
    >>> len(writer.template_ids) > 3
    True
"""

from __future__ import annotations

import random

from minillm.data.tinyworld import lexicon as lx
from minillm.data.tinyworld.names import plural, pronouns
from minillm.data.tinyworld.phrasebook import LIST_STYLES, QA_STYLES, RECIPE_STYLES, STORY_PLOTS
from minillm.data.tinyworld.world import RELATIONS, Fact, World, question_answer
from minillm.data.tinyworld.writer import Writer

KIND_WORDS = {
    "country": "country",
    "city": "city",
    "river": "river",
    "person": "person",
    "animal": "animal",
    "item": "object",
}


class SplitView:
    """What documents of one split may mention. Validation and test documents pick their main
    subject from the held-out entities half of the time, so those facts get stated there."""

    def __init__(self, world: World, split: str, heldout_share: float = 0.5):
        self.world, self.split = world, split
        self.allowed = world.allowed(split)
        self.heldout_share = 0.0 if split == "train" else heldout_share
        self.kinds = {
            k: [e.name for e in world.by_kind(k) if e.name in self.allowed]
            for k in ("country", "city", "river", "person", "animal", "item")
        }
        self.held = {k: [n for n in names if n in world.heldout] for k, names in self.kinds.items()}
        self.facts = {
            name: [f for f in world.facts([name]) if self.fact_ok(f)] for name in self.allowed
        }

    def fact_ok(self, fact: Fact) -> bool:
        target = RELATIONS[fact.relation].target
        return fact.subject in self.allowed and (target is None or fact.value in self.allowed)

    def pick(self, rng: random.Random, kind: str) -> str:
        if self.held[kind] and rng.random() < self.heldout_share:
            return rng.choice(self.held[kind])
        return rng.choice(self.kinds[kind])

    def attr(self, name: str, relation: str) -> object:
        return self.world.entities[name].attrs[relation]

    def ok(self, name: object) -> bool:
        return name in self.allowed


def name_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def fact_context(view: SplitView, fact: Fact) -> dict[str, str]:
    """Slots a fact template may use: subject, value and a few helpers."""
    extra = {"s": fact.subject, "v": fact.value}
    kind = RELATIONS[fact.relation].kind
    if kind in ("animal", "item"):
        extra["ss"] = plural(fact.subject)
    if kind == "person":
        extra["s_he"], extra["s_him"], extra["s_his"] = pronouns(fact.subject)
    if fact.relation == "sound":
        extra["v_verb"] = lx.ANIMAL_SOUNDS[fact.value]
    if fact.relation == "ruler":
        extra["v_title"] = view.attr(fact.value, "job")
        extra["capital"] = str(view.attr(fact.subject, "capital"))
    return extra


def person_context(view: SplitView, name: str, prefix: str = "") -> dict[str, str]:
    """Context slots about one person, plus their home, country and pet when the split allows."""
    he, him, his = pronouns(name)
    if prefix:
        ctx = {
            prefix: name,
            f"{prefix}_he": he,
            f"{prefix}_him": him,
            f"{prefix}_his": his,
            f"{prefix}_job": str(view.attr(name, "job")),
            f"{prefix}_hobby": str(view.attr(name, "hobby")),
        }
        if view.ok(view.attr(name, "home")):
            ctx[f"{prefix}_home"] = str(view.attr(name, "home"))
        return ctx
    ctx = {
        "hero": name,
        "he": he,
        "him": him,
        "his": his,
        "job": str(view.attr(name, "job")),
        "age": str(view.attr(name, "age")),
        "fav": str(view.attr(name, "favourite_colour")),
        "hobby": str(view.attr(name, "hobby")),
    }
    home = str(view.attr(name, "home"))
    if view.ok(home):
        country = str(view.attr(home, "country"))
        climate = str(view.attr(country, "climate"))
        ctx.update(
            home=home,
            country=country,
            climate=climate,
            dish=str(view.attr(home, "food")),
            landmark=str(view.attr(home, "landmark")),
            export=str(view.attr(country, "export")),
            weather=random.Random(name).choice(lx.WEATHER_BY_CLIMATE[climate]),
        )
        if view.ok(view.attr(home, "river")):
            ctx["river"] = str(view.attr(home, "river"))
    pet = str(view.attr(name, "pet"))
    if view.ok(pet):
        ctx.update(
            pet=pet,
            pets=plural(pet),
            petcolour=str(view.attr(pet, "colour")),
            petsound=str(view.attr(pet, "sound")),
            petsounds=lx.ANIMAL_SOUNDS[str(view.attr(pet, "sound"))],
            petdiet=str(view.attr(pet, "diet")),
            pethabitat=str(view.attr(pet, "habitat")),
            petlegs=str(view.attr(pet, "legs")),
        )
    return ctx


def item_context(view: SplitView, item: str) -> dict[str, str]:
    ctx = {
        "thing": item,
        "things": plural(item),
        "price": str(view.attr(item, "price")),
        "material": str(view.attr(item, "material")),
        "kind": str(view.attr(item, "item_type")),
    }
    maker = str(view.attr(item, "maker"))
    if view.ok(maker):
        ctx.update(maker=maker, maker_he=pronouns(maker)[0])
    return ctx


def story_context(view: SplitView, rng: random.Random) -> dict[str, str]:
    hero = view.pick(rng, "person")
    ctx = person_context(view, hero)
    if "weather" not in ctx:  # home city held out: weather without stating any climate fact
        ctx["weather"] = rng.choice(lx.WEATHER_BY_CLIMATE[rng.choice(lx.CLIMATES)])
    friend = str(view.attr(hero, "friend"))
    if view.ok(friend):
        ctx.update(person_context(view, friend, "pal"), pal_is_friend="")
    else:
        others = [p for p in view.kinds["person"] if p != hero]
        ctx.update(person_context(view, rng.choice(others), "pal"))
    ctx.update(item_context(view, view.pick(rng, "item")))
    dest = view.pick(rng, "city")
    if dest != ctx.get("home"):
        ctx.update(
            dest=dest,
            dest_country=str(view.attr(dest, "country")),
            dest_dish=str(view.attr(dest, "food")),
            dest_landmark=str(view.attr(dest, "landmark")),
        )
        if view.ok(view.attr(dest, "river")):
            ctx["dest_river"] = str(view.attr(dest, "river"))
    price = int(ctx["price"])
    coins = rng.randint(1, price - 1)
    ctx.update(coins=str(coins), short=str(price - coins), lost=rng.choice(lx.OBJECTS))
    return ctx


def _new_writer(rng: random.Random, ctx: dict[str, str]) -> Writer:
    return Writer(rng, ctx)


def write_story(view: SplitView, rng: random.Random):
    w = _new_writer(rng, story_context(view, rng))
    plots = [
        p
        for p in STORY_PLOTS
        if all(w.can_say(f"story.{p}.{r}") for r in ("goal", "problem", "solution"))
    ]
    plot = rng.choice(plots)
    w.say("story.open")
    for _ in range(rng.randint(1, 2)):
        w.say("story.setting")
    for _ in range(rng.randint(1, 3)):
        w.say("story.detail")
    w.say(f"story.{plot}.goal", sep="\n\n")
    for _ in range(rng.randint(1, 2)):
        w.say("story.middle")
    if rng.random() < 0.6:
        w.say("story.talk")
    w.say(f"story.{plot}.problem")
    for _ in range(rng.randint(0, 2)):
        w.say("story.middle")
    w.say("story.feeling")
    if rng.random() < 0.5:
        w.say("story.talk")
    w.say(f"story.{plot}.solution", sep="\n\n")
    if rng.random() < 0.5:
        w.say("story.feeling")
    for _ in range(rng.randint(1, 2)):
        w.say("story.ending")
    return w, _context_names(w.context)


def _say_fact(w, view: SplitView, fact: Fact, sep: str = " ") -> None:
    w.say(f"fact.{fact.relation}", sep=sep, **fact_context(view, fact))


def _reverse_facts(
    view: SplitView, name: str, kind: str, rng: random.Random
) -> list[tuple[str, dict]]:
    """Sentences that state relations from the other side ("the cities of X include ...")."""
    entities = view.world.entities.values()
    out: list[tuple[str, dict]] = []

    def some(names, k=4):
        names = [n for n in names if view.ok(n)]
        return name_list(rng.sample(names, min(k, len(names)))) if names else None

    if kind == "country":
        detail = some([e.name for e in entities if e.kind == "city" and e.attrs["country"] == name])
        out.append(("ency.rel.country", {"detail": detail}))
    elif kind == "city":
        capital_of = [
            e.name for e in entities if e.kind == "country" and e.attrs["capital"] == name
        ]
        if capital_of:
            out.append(("ency.rel.capital", {"v": capital_of[0]}))
        detail = some(
            [e.name for e in entities if e.kind == "person" and e.attrs["home"] == name], 3
        )
        out.append(("ency.rel.city", {"detail": detail}))
    elif kind == "river":
        detail = some([e.name for e in entities if e.kind == "city" and e.attrs["river"] == name])
        out.append(("ency.rel.river", {"detail": detail}))
    elif kind == "person":
        made = [
            plural(e.name)
            for e in entities
            if e.kind == "item" and e.attrs["maker"] == name and view.ok(e.name)
        ]
        out.append(("ency.rel.maker", {"detail": name_list(made) if made else None}))
    elif kind == "animal":
        owners = [
            e.name
            for e in entities
            if e.kind == "person" and e.attrs["pet"] == name and view.ok(e.name)
        ]
        if len(owners) >= 2:  # the templates speak of owners in the plural
            out.append(("ency.rel.animal", {"detail": some(owners, 3)}))
    return [(pool, extra) for pool, extra in out if all(v is not None for v in extra.values())]


def _subject_context(view: SplitView, name: str, kind: str) -> dict[str, str]:
    ctx = {"s": name, "kindword": KIND_WORDS[kind]}
    if kind in ("animal", "item"):
        ctx["ss"] = plural(name)
    if kind == "person":
        ctx["s_he"], ctx["s_him"], ctx["s_his"] = pronouns(name)
    return ctx


def write_encyclopedia(view: SplitView, rng: random.Random):
    kind = rng.choice(tuple(KIND_WORDS))
    name = view.pick(rng, kind)
    w = _new_writer(rng, _subject_context(view, name, kind))
    w.say("ency.title")
    w.say(f"ency.intro.{kind}", sep="\n")
    facts = list(view.facts[name])
    rng.shuffle(facts)
    extras = [("ency.more." + kind, {}) for _ in range(rng.randint(1, 2))]
    extras += _reverse_facts(view, name, kind, rng)
    for i, fact in enumerate(facts):
        _say_fact(w, view, fact, sep="\n\n" if i == len(facts) // 2 else " ")
        if extras and rng.random() < 0.4:
            pool, extra = extras.pop(rng.randrange(len(extras)))
            w.say(pool, **extra)
    for pool, extra in extras:
        w.say(pool, **extra)
    return w, _context_names(w.context) | _names_in_extras(view, w)


def _random_fact(view: SplitView, rng: random.Random, near: list[str]) -> Fact:
    """A fact about one of the `near` names (usually), or about any entity of the split."""
    if rng.random() < 0.5:
        candidates = [n for n in near if view.facts.get(n)]
        if candidates:
            return rng.choice(view.facts[rng.choice(candidates)])
    kind = rng.choice(tuple(KIND_WORDS))
    return rng.choice(view.facts[view.pick(rng, kind)])


def write_dialogue(view: SplitView, rng: random.Random):
    ctx = story_context(view, rng)
    w = _new_writer(rng, ctx)
    w.say("dia.scene")
    w.say("dia.greet", sep="\n")
    w.say("dia.reply", sep="\n")
    mentioned = set()
    near = [ctx["hero"], ctx["pal"], ctx.get("home", ""), ctx.get("pet", ""), ctx["thing"]]
    for turn in range(rng.randint(2, 4)):
        fact = _random_fact(view, rng, near)
        question = question_answer(fact)[0]
        mentioned.update((fact.subject, fact.value))
        w.say("dia.ask", sep="\n", question=question, qlow=question[0].lower() + question[1:])
        w.say("dia.lead", sep="\n")
        _say_fact(w, view, fact)
        if rng.random() < 0.5:
            w.say("dia.thanks", sep="\n")
        if turn == 0 or rng.random() < 0.4:
            w.say("dia.chat", sep="\n")
    w.say("dia.bye", sep="\n")
    return w, _context_names(ctx) | mentioned


def write_qa(view: SplitView, rng: random.Random):
    kind = rng.choice(tuple(KIND_WORDS))
    name = view.pick(rng, kind)
    w = _new_writer(rng, _subject_context(view, name, kind))
    q_style, a_style = rng.randrange(QA_STYLES), rng.randrange(QA_STYLES)
    w.say("qa.title")
    facts = list(view.facts[name])
    rng.shuffle(facts)
    mentioned = {name}
    for i, fact in enumerate(facts[: rng.randint(3, 7)], start=1):
        question, answer = question_answer(fact)
        mentioned.add(fact.value)
        w.say(f"qa.q.{q_style}", sep="\n\n" if i == 1 else "\n", question=question, n=str(i))
        fact_text = w.fill(f"fact.{fact.relation}", **fact_context(view, fact))
        fact_text = fact_text[0].upper() + fact_text[1:]
        w.say(f"qa.a.{a_style}", sep="\n", answer=answer, fact=fact_text)
    return w, mentioned


def write_word_problem(view: SplitView, rng: random.Random):
    ctx = story_context(view, rng)
    kinds = ["buy", "change", "two", "age", "future", "share", "river"] + (
        ["legs"] if "pet" in ctx else []
    )
    kind = rng.choice(kinds)
    w = _new_writer(rng, ctx)
    w.say("math.title", n2=str(rng.randint(1, 99)))
    price, n = int(ctx["price"]), rng.randint(2, 9)
    first = "\n"
    if kind in ("buy", "change"):
        total = n * price
        coins = total + rng.randint(0, 60)
        ctx.update(n=str(n), total=str(total), coins=str(coins), left=str(coins - total))
        if kind == "buy":
            steps, answer = (
                ("math.buy.setup", "math.buy.price", "math.buy.question", "math.buy.work"),
                total,
            )
        else:
            steps = (
                "math.change.setup",
                "math.change.buy",
                "math.change.question",
                "math.change.work",
            )
            answer = coins - total
    elif kind == "two":
        other = rng.choice([i for i in view.kinds["item"] if i != ctx["thing"]])
        price2 = int(view.attr(other, "price"))
        ctx.update(thing2=other, price2=str(price2), total=str(price + price2))
        steps, answer = (
            ("math.two.setup", "math.two.prices", "math.buy.question", "math.two.work"),
            price + price2,
        )
    elif kind == "age":
        other = rng.choice(
            [
                p
                for p in view.kinds["person"]
                if view.attr(p, "age") != view.attr(ctx["hero"], "age")
            ]
        )
        mine, theirs = int(ctx["age"]), int(view.attr(other, "age"))
        older, younger = (ctx["hero"], other) if mine > theirs else (other, ctx["hero"])
        ctx.update(
            name2=other,
            other_age=str(theirs),
            older=older,
            younger=younger,
            m=str(max(mine, theirs)),
            n=str(min(mine, theirs)),
            diff=str(abs(mine - theirs)),
        )
        steps, answer = ("math.age.setup", "math.age.question", "math.age.work"), abs(mine - theirs)
    elif kind == "future":
        years = rng.randint(1, 20)
        ctx.update(years=str(years), later=str(int(ctx["age"]) + years))
        steps, answer = (
            ("math.future.setup", "math.future.question", "math.future.work"),
            int(ctx["age"]) + years,
        )
    elif kind == "legs":
        legs = int(ctx["petlegs"])
        ctx.update(n=str(n), legs=str(legs), total=str(n * legs))
        steps, answer = (
            ("math.legs.setup", "math.legs.fact", "math.legs.question", "math.legs.work"),
            n * legs,
        )
    elif kind == "share":
        group, each = rng.randint(2, 8), rng.randint(2, 12)
        ctx.update(group=str(group), each=str(each), total=str(group * each))
        steps, answer = ("math.share.setup", "math.share.question", "math.share.work"), each
    else:
        a, b = rng.sample(view.kinds["river"], 2)
        la, lb = int(view.attr(a, "length")), int(view.attr(b, "length"))
        ctx.update(s=a, name2=b, n=str(la), m=str(lb), total=str(la + lb))
        steps, answer = ("math.river.setup", "math.river.question", "math.river.work"), la + lb
    for i, pool in enumerate(steps):
        w.say(pool, sep=first if i == 0 else " ")
    w.say("math.answer", answer=str(answer))
    return w, _context_names(ctx)


def write_recipe(view: SplitView, rng: random.Random):
    ctx = story_context(view, rng)
    if "dish" not in ctx:
        ctx["dish"] = rng.choice(lx.FOODS)  # no city named, so the dish states no fact
    w = _new_writer(rng, ctx)
    w.say("recipe.title")
    w.say("recipe.intro", sep="\n\n")
    w.say("recipe.ingredients", sep="\n\n")
    style = rng.randrange(RECIPE_STYLES)
    for ingredient in rng.sample(lx.INGREDIENTS, rng.randint(3, 6)):
        w.say(f"recipe.item.{style}", sep="\n", n=str(rng.randint(2, 6)), ingredient=ingredient)
    w.say("recipe.steps", sep="\n\n")
    for step in range(1, rng.randint(3, 6) + 1):
        w.say("recipe.step", sep="\n", step=str(step), minutes=str(5 * rng.randint(1, 12)))
    w.say("recipe.tip", sep="\n\n")
    return w, _context_names(ctx)


def write_list(view: SplitView, rng: random.Random):
    ctx = story_context(view, rng)
    w = _new_writer(rng, ctx)
    rows: list[tuple[str, str]] = []
    topics = ["market", "countries", "animals", "packing"]
    residents = [p for p in view.kinds["person"] if view.attr(p, "home") == ctx.get("home")]
    if len(residents) >= 2:
        topics.append("people")
    topic = rng.choice(topics)
    if topic == "market" and "home" in ctx:
        for item in rng.sample(view.kinds["item"], rng.randint(3, 7)):
            rows.append((item, f"{view.attr(item, 'price')} coins"))
    elif topic == "people":
        rows = [
            (p, str(view.attr(p, "job"))) for p in rng.sample(residents, min(6, len(residents)))
        ]
    elif topic == "countries":
        rows = [
            (c, str(view.attr(c, "capital")))
            for c in rng.sample(view.kinds["country"], rng.randint(3, 7))
        ]
    elif topic == "animals":
        rows = [
            (a, f"eats {view.attr(a, 'diet')}")
            for a in rng.sample(view.kinds["animal"], rng.randint(3, 7))
        ]
    else:
        topic = "packing"
    if topic == "packing" and "dest" not in ctx:
        ctx["dest"] = ctx.get("home") or rng.choice(view.kinds["city"])
    w.say(f"list.title.{topic}")
    style = rng.randrange(LIST_STYLES)
    if topic == "packing":
        for i in range(1, rng.randint(3, 7) + 1):
            w.say(f"list.packing.{style}", sep="\n", n=str(i))
    for i, (item, detail) in enumerate(rows, start=1):
        w.say(f"list.line.{style}", sep="\n", item=item, detail=detail, n=str(i))
    w.say("list.end", sep="\n\n")
    return w, _context_names(ctx) | {name for name, _ in rows}


ENTITY_SLOTS = (
    "hero",
    "pal",
    "home",
    "country",
    "river",
    "pet",
    "thing",
    "thing2",
    "maker",
    "dest",
    "dest_country",
    "dest_river",
    "pal_home",
    "name2",
    "s",
    "v",
    "capital",
)


def _context_names(ctx: dict[str, str]) -> set[str]:
    return {ctx[k] for k in ENTITY_SLOTS if k in ctx}


def _names_in_extras(view: SplitView, w) -> set[str]:
    return {name for name in view.allowed if name in w.text()}


GENRE_WRITERS = {
    "story": write_story,
    "encyclopedia": write_encyclopedia,
    "dialogue": write_dialogue,
    "qa": write_qa,
    "word_problem": write_word_problem,
    "recipe": write_recipe,
    "list": write_list,
}
