"""A tiny template language that writes TinyWorld sentences, and the Writer that uses it.

A template is a sentence with holes:

    {slot}     a value from the document's context (the hero's name, a city, a price), or,
               when the name is a lexicon category such as {adj} or {obj}, a random word
    {a:slot}   the same value with "a" or "an" in front
    {?slot}    writes nothing, but the template is only used when the context has `slot`
    [x|y|z]    one of the alternatives, chosen at random; alternatives may hold slots and nest

Templates live in pools (`phrasebook.POOLS`). `Writer.say(pool)` picks a template of that pool
whose context slots are all known for this document, fills it in, and records the template id,
so the corpus can report how often each template is used.

    >>> import random
    >>> writer = Writer(random.Random(0), {"hero": "Velora"})
    >>> writer.say_text("demo", "[Once|One day], {hero} found {a:adj} {obj}.")
    >>> writer.text().startswith(("Once", "One day")), writer.template_ids
    (True, ['demo'])
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from minillm.data.tinyworld import lexicon as lx
from minillm.data.tinyworld.phrasebook import CONTEXT_SLOTS, POOLS

_MASS_NATURE = frozenset(
    "thunder lightning rain drizzle snow frost fog mist dew sand mud grass moss ivy lavender "
    "heather clover wind breeze sky sun moon".split()
)
_COUNTABLE_NATURE = tuple(n for n in lx.NATURE if n not in _MASS_NATURE)


def _forms(verbs, form) -> tuple[str, ...]:
    return tuple(form(v) for v in verbs)


# Lexicon categories a template can name directly; each use draws a fresh random word.
LEXICON_SLOTS: dict[str, tuple[str, ...]] = {
    "adj": lx.ADJECTIVES,
    "feeling": lx.FEELINGS,
    "trait": lx.TRAITS,
    "adv": lx.ADVERBS,
    "obj": lx.OBJECTS,
    "objs": tuple(lx.plural_of(o) for o in lx.OBJECTS),
    "place": lx.PLACES,
    "places": tuple(lx.plural_of(p) for p in lx.PLACES),
    "nature": lx.NATURE,
    "natures": tuple(lx.plural_of(n) for n in _COUNTABLE_NATURE),
    "animal": lx.REAL_ANIMALS,
    "animals": tuple(lx.plural_of(a) for a in lx.REAL_ANIMALS),
    "ingredient": lx.INGREDIENTS,
    "unit": lx.UNITS,
    "exclaim": lx.EXCLAMATIONS,
    "greeting": lx.GREETINGS,
    "farewell": lx.FAREWELLS,
    "time": lx.TIMES_OF_DAY,
    "season": lx.SEASONS,
    "weekday": lx.WEEKDAYS,
    "month": lx.MONTHS,
    "weather_noun": lx.WEATHER_NOUNS,
    "family": lx.FAMILY,
    "numword": lx.NUMBER_WORDS[2:10],
    "clothing": lx.CLOTHING,
    "container": lx.CONTAINERS,
    "moral": lx.MORALS,
    "anycolour": lx.COLOURS,
    "anydish": lx.FOODS,
    "anyjob": lx.JOBS + lx.EXTRA_JOBS,
    "anyjobs": tuple(lx.plural_of(j) for j in lx.JOBS + lx.EXTRA_JOBS),
    "gest_past": _forms(lx.GESTURE_VERBS, lx.past_of),
    "gest_ing": _forms(lx.GESTURE_VERBS, lx.ing_of),
    "work": lx.WORK_VERBS,
    "work_past": _forms(lx.WORK_VERBS, lx.past_of),
    "work_ing": _forms(lx.WORK_VERBS, lx.ing_of),
    "work_third": _forms(lx.WORK_VERBS, lx.third_person_of),
    "tool": lx.TOOLS,
    "tools": tuple(lx.plural_of(t) for t in lx.TOOLS),
    "instrument": lx.INSTRUMENTS,
    "tree": lx.TREES,
    "trees": tuple(lx.plural_of(t) for t in lx.TREES),
    "flower": lx.FLOWERS,
    "flowers": tuple(lx.plural_of(f) for f in lx.FLOWERS),
    "bird": lx.BIRDS,
    "birds": tuple(lx.plural_of(b) for b in lx.BIRDS),
    "idea": lx.IDEAS,
    "ideas": tuple(lx.plural_of(i) for i in lx.IDEAS),
    "shade": lx.SHADES,
    "body": lx.BODY_PARTS,
    "sweet": lx.SWEETS,
    "sweets": tuple(lx.plural_of(x) for x in lx.SWEETS),
    "house_part": lx.HOUSE_PARTS,
    "fabric": lx.FABRICS,
    "gem": lx.GEMS,
    "gems": tuple(lx.plural_of(g) for g in lx.GEMS),
    "bignum": lx.NUMBER_WORDS[10:],
    "speech": lx.SPEECH_VERBS,
    "gest": lx.GESTURE_VERBS,
    "sound": lx.SOUND_VERBS,
    "anyhobby": lx.HOBBIES,
    "anymaterial": lx.MATERIALS,
    "anylandmark": lx.LANDMARKS,
    "anyexport": lx.EXPORTS,
    "anyclimate": lx.CLIMATES,
    "opast": _forms(lx.OBJECT_VERBS, lx.past_of),
    "obase": lx.OBJECT_VERBS,
    "oing": _forms(lx.OBJECT_VERBS, lx.ing_of),
    "mpast": _forms(lx.MOTION_VERBS, lx.past_of),
    "mbase": lx.MOTION_VERBS,
    "ming": _forms(lx.MOTION_VERBS, lx.ing_of),
    "mthird": _forms(lx.MOTION_VERBS, lx.third_person_of),
    "said": _forms(lx.SPEECH_VERBS, lx.past_of),
    "sound_past": _forms(lx.SOUND_VERBS, lx.past_of),
    "sound_ing": _forms(lx.SOUND_VERBS, lx.ing_of),
    "sound_third": _forms(lx.SOUND_VERBS, lx.third_person_of),
    "cook": lx.COOKING_VERBS,
    "cook_cap": tuple(v.capitalize() for v in lx.COOKING_VERBS),
    "taste": lx.TASTES,
    "cook_past": _forms(lx.COOKING_VERBS, lx.past_of),
    "cook_third": _forms(lx.COOKING_VERBS, lx.third_person_of),
}

_SLOT, _CHOICE = 1, 2
_TOKEN = re.compile(r"\{(a:|\?)?([a-z_0-9]+)\}|\[|\]|\|")


@dataclass(frozen=True)
class Template:
    id: str
    parts: tuple  # str literals, (_SLOT, name, with_article), (_CHOICE, (parts, parts, ...))
    needs: tuple[str, ...]  # context slots that must be known to use this template


def compile_template(template_id: str, text: str) -> Template:
    """Parse template text once; raises ValueError naming the template on any mistake."""
    needs: set[str] = set()
    stack: list[list] = [[[]]]  # a stack of choice groups; each group is a list of branches
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            stack[-1][-1].append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token == "[":
            stack.append([[]])
        elif token == "|":
            if len(stack) == 1:
                raise ValueError(f"template {template_id}: '|' outside [...] in {text!r}")
            stack[-1].append([])
        elif token == "]":
            if len(stack) == 1:
                raise ValueError(f"template {template_id}: unbalanced ']' in {text!r}")
            branches = stack.pop()
            stack[-1][-1].append((_CHOICE, tuple(tuple(b) for b in branches)))
        else:
            name, flag = match.group(2), match.group(1)
            if flag == "?":
                if name not in CONTEXT_SLOTS:
                    raise ValueError(
                        f"template {template_id}: guard {{?{name}}} is not a context slot"
                    )
                needs.add(name)
                continue
            if name not in LEXICON_SLOTS:
                if name not in CONTEXT_SLOTS:
                    raise ValueError(
                        f"template {template_id}: unknown slot {{{name}}} in {text!r}; add it to "
                        "phrasebook.CONTEXT_SLOTS or writer.LEXICON_SLOTS"
                    )
                needs.add(name)
            stack[-1][-1].append((_SLOT, name, flag == "a:"))
    if len(stack) != 1:
        raise ValueError(f"template {template_id}: unclosed '[' in {text!r}")
    if pos < len(text):
        stack[0][0].append(text[pos:])
    return Template(template_id, tuple(stack[0][0]), tuple(sorted(needs)))


def article(word: str) -> str:
    return "an" if word[:1].lower() in ("a", "e", "i", "o", "u") else "a"


COMPILED: dict[str, tuple[Template, ...]] = {
    pool: tuple(compile_template(f"{pool}/{i}", text) for i, text in enumerate(texts))
    for pool, texts in POOLS.items()
}


def _capitalise(sentence: str) -> str:
    start = 1 if sentence[:1] == '"' else 0
    return sentence[:start] + sentence[start : start + 1].upper() + sentence[start + 1 :]


class Writer:
    """Writes one document: picks templates, fills them from `context`, records template ids."""

    def __init__(self, rng: random.Random, context: dict[str, str]):
        self.rng = rng
        self.context = context
        self.pieces: list[str] = []
        self.template_ids: list[str] = []
        self._used: set[str] = set()

    def can_say(self, pool: str, **extra: str) -> bool:
        return bool(self._eligible(pool, extra))

    def say(self, pool: str, sep: str = " ", **extra: str) -> bool:
        """Add one sentence from `pool`; returns False (and adds nothing) if no template fits."""
        options = self._eligible(pool, extra)
        if not options:
            return False
        # Prefer templates this document has not used yet: reads better, spreads usage evenly.
        fresh = [t for t in options if t.id not in self._used]
        options = fresh or options
        template = options[0] if len(options) == 1 else self.rng.choice(options)
        self._emit(template, sep, extra)
        return True

    def say_text(self, template_id: str, text: str, sep: str = " ", **extra: str) -> None:
        """Add a sentence from a one-off template (mainly for examples and tests)."""
        self._emit(compile_template(template_id, text), sep, extra)

    def fill(self, pool: str, **extra: str) -> str:
        """Render one template of `pool` without adding it (for phrases inside other slots)."""
        options = self._eligible(pool, extra)
        if not options:
            raise ValueError(f"no template of pool {pool!r} fits the context {sorted(extra)}")
        out: list[str] = []
        self._render(self.rng.choice(options).parts, {**self.context, **extra}, out)
        return "".join(out)

    def text(self) -> str:
        return "".join(self.pieces).strip()

    def _eligible(self, pool: str, extra: dict) -> list[Template]:
        if pool not in COMPILED:
            raise ValueError(f"unknown template pool {pool!r}")
        known, more = self.context, extra
        return [t for t in COMPILED[pool] if all(n in known or n in more for n in t.needs)]

    def _emit(self, template: Template, sep: str, extra: dict) -> None:
        out: list[str] = []
        self._render(template.parts, {**self.context, **extra} if extra else self.context, out)
        if self.pieces:
            self.pieces.append(sep)
        self.pieces.append(_capitalise("".join(out)))
        self.template_ids.append(template.id)
        self._used.add(template.id)

    def _render(self, parts: tuple, context: dict, out: list[str]) -> None:
        choice = self.rng.choice
        for part in parts:
            if part.__class__ is str:
                out.append(part)
            elif part[0] == _SLOT:
                value = context.get(part[1])
                if value is None:
                    value = choice(LEXICON_SLOTS[part[1]])
                if part[2]:
                    out.append(article(value) + " ")
                out.append(value)
            else:
                self._render(choice(part[1]), context, out)
