"""Invented names for the fictional world, built from syllables so no model can know the facts.

Every name part a :class:`NameMaker` hands out is new within its world (case-insensitively), so
each entity's name is a set of search tokens no other entity title shares. Parts that happen to
be real words or famous names are refused (``REAL_NAMES``).
"""

from __future__ import annotations

import random
from collections.abc import Callable

# fmt: off
_ONSETS = (
    "b", "br", "d", "dr", "f", "g", "gr", "h", "k", "kr", "l", "m", "n", "p", "r", "s", "st", "t",
    "th", "tr", "v", "w", "z", "sk", "sh", "qu", "y", "ov", "el", "is", "ar", "or"
)
_VOWELS = (
    "a", "a", "a", "e", "e", "e", "i", "i", "o", "o", "u", "ae", "ei", "y", "au"
)
_VOWEL_LETTERS = "aeiouy"
_MIDDLES = (
    "l", "r", "n", "v", "d", "th", "st", "nd", "rr", "ll", "m", "s", "sk", "k", "t", "rv", "lv",
    "nt", "sv", "z"
)
_WORD_ENDS = (
    "", "n", "r", "l", "s", "th", "x", "ck", "nd", "m", "sh", "ra", "na", "ia", "o", "en", "ar",
    "ys", "el", "ith", "orn", "ane", "ek", "is", "ow", "et", "ix", "ard"
)
_FIRST_ENDS = (
    "a", "o", "en", "is", "ric", "an", "el", "ia", "on", "ette", "win", "ard", "ine", "us", "ir",
    "ya", "ek", "ra", "em", "ith"
)
_SURNAME_ENDS = (
    "", "", "sen", "ley", "ov", "ard", "mont", "ick", "ell", "ow", "ez", "ani", "berg", "aine",
    "ski", "ridge", "ova", "elli"
)
_CITY_ENDS = (
    "vik", "holm", "mar", "dale", "port", "ford", "stead", "burg", "wick", "moor", "haven", "ton",
    "ora", "ene", "gard", "mouth", "field", "avo"
)
_COUNTRY_ENDS = (
    "ia", "land", "mark", "ora", "ovia", "eth", "ania", "istra"
)

# Real words and famous names the syllables could spell; refused wherever they would appear.
REAL_NAMES = frozenset(
    """
    adam alan alba andorra anna arden aria asia berlin boston boris brandon carlos chad china
    dallas dana darwin delia denver diana dover dublin eden edison elena elsa emma eric esther
    galileo hana hera iris italia ivan jordan kara kiev lana lara laura lima linda lisa london
    luna madrid mali malta maria mario marx mila milan mona morse nadia nara newton nina nora
    norway oman omar oslo paris peru petra rita roma rome russia sara sarah selena stella sudan
    syria talia tesla tina tokyo tyra vera verona vienna wales york zara zelda arena arise arith
    bethard bezel brack brick brock danda darren drane eline filly gonda hallo hazen iseven
    kadar kaski kenan latex lette level lyric madara mandel manova maret mason nathan patel
    puzis ronto shane shard shine shoket stock storn sumem theil thick track travel trend tyler
    valve venus woken zonen quick mustard stick trick paulus toric nette zeina yomar isine arora
    brandeis bravo pastel tenet thine waken oromo shana thoma badia matei sallam teste iside
    qualora thane senora
    landon karic groton kineton santal yelena
    """.split()
)


class NameMaker:
    """Hands out invented, pairwise distinct name parts for one world from one seeded RNG."""

    def __init__(self, rng: random.Random, forbidden: frozenset[str] = frozenset()) -> None:
        self.rng = rng
        self.used: set[str] = set(REAL_NAMES) | {w.lower() for w in forbidden}

    def _fresh(self, build: Callable[[], str]) -> str:
        for _ in range(1000):
            word = build()
            if 5 <= len(word) <= 11 and word.lower() not in self.used:
                self.used.add(word.lower())
                return word.capitalize()
        raise RuntimeError("name space exhausted; widen the syllable pools")

    def _stem(self, syllables: int = 2) -> str:
        pick = self.rng.choice
        stem = pick(_ONSETS) + pick(_VOWELS)
        for _ in range(syllables - 1):
            stem += pick(_MIDDLES) + pick(_VOWELS)
        return stem

    def _join(self, syllables: int, ends: tuple[str, ...]) -> str:
        """A stem plus an ending, never running three vowels together ('Arav' + 'aine')."""
        stem, end = self._stem(syllables), self.rng.choice(ends)
        if end and end[0] in _VOWEL_LETTERS:
            stem = stem.rstrip(_VOWEL_LETTERS) or stem
        return stem + end

    def word(self) -> str:
        """A free-standing invented word (brands, works, landmarks): 'Brelavix'."""
        return self._fresh(lambda: self._join(self.rng.choice((1, 2, 2)), _WORD_ENDS))

    def first_name(self) -> str:
        """A given name: 'Ilvaric'."""
        return self._fresh(lambda: self._join(self.rng.choice((1, 2)), _FIRST_ENDS))

    def surname(self) -> str:
        """A family name: 'Thorvandley'."""
        return self._fresh(lambda: self._join(2, _SURNAME_ENDS))

    def city(self) -> str:
        """A city name: 'Kravenholm'."""
        return self._fresh(lambda: self._join(self.rng.choice((1, 2)), _CITY_ENDS))

    def country(self) -> str:
        """A country name: 'Vessaria'."""
        return self._fresh(lambda: self._join(self.rng.choice((1, 2)), _COUNTRY_ENDS))
