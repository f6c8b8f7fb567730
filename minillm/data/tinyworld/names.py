"""Invented, pronounceable names for TinyWorld entities, built from syllables.

Every country, city, person, animal species and item in TinyWorld gets a made-up name such as
"Velora" or "Brenthak". Because no such word exists in real English, a language model can only
know a fact about "Velora" from the TinyWorld corpus itself, which is what makes fact learning
measurable.

A name is 2-3 syllables (onset + vowel, with an optional coda), capitalised, and it must pass
three checks so that a plain substring search for a name finds exactly that entity:

- it is not a word of the English lexicon and does not occur inside one, and it is not one
  of the real English words the generator could produce (listed in `real_words.txt`),
- it does not contain, and does not occur inside, any name generated before it,
- it does not end in "s", so "Velora's" and plural "Brenthaks" are unambiguous.

    >>> import random
    >>> generator = NameGenerator(random.Random(0))
    >>> name = generator.new()
    >>> name[0].isupper() and name.isalpha()
    True
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from minillm.data.tinyworld.lexicon import english_words

# Every onset is a consonant, so every name starts with one and always takes "a", never "an".
ONSETS = (
    "b",
    "bl",
    "br",
    "d",
    "dr",
    "f",
    "fl",
    "g",
    "gl",
    "gr",
    "h",
    "j",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "pl",
    "r",
    "s",
    "sk",
    "t",
    "th",
    "tr",
    "v",
    "z",
    "qu",
    "st",
)
# Inside a word, simple consonants read more naturally than clusters.
INNER_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "th")
VOWELS = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "a", "ai", "ei", "ou", "ia", "y")
INNER_CODAS = ("", "", "", "", "", "", "l", "n", "r", "m")
FINAL_CODAS = ("", "", "", "n", "r", "l", "th", "nd", "m", "k", "x", "sh")

REAL_WORDS_FILE = Path(__file__).with_name("real_words.txt")
MIN_LENGTH = 5
MAX_LENGTH = 8


@lru_cache(maxsize=1)
def real_words() -> frozenset[str]:
    """Real English words the syllable generator can spell (found by sampling it offline)."""
    lines = REAL_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


class NameGenerator:
    """Draws unique invented names from a seeded random stream."""

    def __init__(self, rng: random.Random, max_tries: int = 100_000):
        self.rng = rng
        self.max_tries = max_tries
        self.issued: list[str] = []
        self._issued_lower: set[str] = set()
        self._english = english_words() | real_words()
        # One string with separators makes "does the name occur inside any English word" fast.
        self._english_blob = "\n".join(sorted(english_words()))

    def candidate(self) -> str:
        """One random pronounceable word (not yet checked for clashes)."""
        n_syllables = self.rng.choice((2, 2, 2, 2, 3))
        parts = [self.rng.choice(ONSETS), self.rng.choice(VOWELS)]
        for _ in range(n_syllables - 1):
            parts.append(self.rng.choice(INNER_CODAS))
            parts.append(self.rng.choice(INNER_ONSETS))
            parts.append(self.rng.choice(VOWELS))
        parts.append(self.rng.choice(FINAL_CODAS))
        return "".join(parts).capitalize()

    def acceptable(self, name: str) -> bool:
        lower = name.lower()
        if not MIN_LENGTH <= len(lower) <= MAX_LENGTH or lower.endswith("s"):
            return False
        if any(lower[i] == lower[i + 1] == lower[i + 2] for i in range(len(lower) - 2)):
            return False
        if any(awkward in lower for awkward in ("quu", "yy", "ii", "uu", "qy")):
            return False
        if (
            lower in self._english or lower in self._english_blob
        ):  # a word, or inside a lexicon word
            return False
        if lower in self._issued_lower:
            return False
        return not any(lower in other or other in lower for other in self._issued_lower)

    def new(self) -> str:
        """A fresh name that passes every check; raises if the syllable space is exhausted."""
        for _ in range(self.max_tries):
            name = self.candidate()
            if self.acceptable(name):
                self.issued.append(name)
                self._issued_lower.add(name.lower())
                return name
        raise RuntimeError(
            f"could not invent a new unique name after {self.max_tries} tries "
            f"({len(self.issued)} issued); ask for fewer entities"
        )


def pronouns(name: str) -> tuple[str, str, str]:
    """(subject, object, possessive) pronouns for a TinyWorld person.

    TinyWorld has one simple rule, like many real languages: names ending in a, e, i or y are
    feminine, all others masculine. It is a rule of the world, not a stored fact.
    """
    if name[-1].lower() in "aeiy":
        return ("she", "her", "her")
    return ("he", "him", "his")


def plural(name: str) -> str:
    """Plural of an invented species or item name, by the English spelling rule:
    "Brenthak" -> "Brenthaks", "Hommyx" -> "Hommyxes". The name stays a prefix of its plural."""
    return name + ("es" if name.endswith(("x", "z", "sh", "ch")) else "s")
