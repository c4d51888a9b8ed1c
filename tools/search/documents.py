"""One encyclopedia-style article per entity of a :class:`~.world.World`.

Each article is a few sentences. The first states what the entity is (with one key fact: a birth
year, a founding year, a country, a creator); the others hold the remaining facts and name other
entities. ``Article.facts`` records which sentence states which fact, so the task generator knows
whether a search snippet (one sentence) already shows an answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from .world import City, Company, Country, Person, Work, World

EntityKind = Literal["country", "city", "person", "company", "work"]


@dataclass(frozen=True)
class Article:
    """One document of the corpus."""

    doc_id: str
    title: str
    kind: EntityKind
    sentences: tuple[str, ...]
    facts: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        """The full article text."""
        return " ".join(self.sentences)


def _a(word: str) -> str:
    """The indefinite article for ``word``: 'an' before a vowel, else 'a'."""
    return "an" if word[0] in "aeiou" else "a"


def _and(items: list[str] | tuple[str, ...]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _country(c: Country) -> tuple[list[str], dict[str, int]]:
    sentences = [
        f"{c.name} is a country whose capital is {c.capital}.",
        f"Its other cities include {_and(list(c.cities[1:]))}.",
    ]
    return sentences, {"capital": 0, "cities": 1}


def _city(c: City) -> tuple[list[str], dict[str, int]]:
    lead = (
        f"{c.name} is the capital city of {c.country}."
        if c.is_capital
        else f"{c.name} is a city in {c.country}."
    )
    sentences = [
        lead,
        f"It has a population of {c.population:,}.",
        f"Its landmarks include the {c.landmarks[0]} and the {c.landmarks[1]}.",
    ]
    return sentences, {"country": 0, "population": 1, "landmarks": 2}


def _person(p: Person) -> tuple[list[str], dict[str, int]]:
    s = p.surname
    sentences = [
        f"{p.name} (born {p.birth_year}) is {_a(p.occupation)} {p.occupation}.",
        f"{s} was born in {p.birthplace}.",
        f"{s} later lived and worked in {p.later_city}.",
    ]
    facts = {"birth_year": 0, "occupation": 0, "birthplace": 1, "later_city": 2}
    for company in p.companies:
        facts["companies"] = len(sentences)
        sentences.append(f"{s} founded {company}.")
    if p.works:
        facts["works"] = len(sentences)
        sentences.append(f"{s} is best known for {_and(list(p.works))}.")
    return sentences, facts


def _company(c: Company) -> tuple[list[str], dict[str, int]]:
    products = [f"the {p}" for p in c.products]
    sentences = [
        f"{c.name} is {_a(c.industry)} {c.industry} company founded in {c.founded}.",
        f"It was founded by {c.founder}.",
        f"The company is headquartered in {c.hq}.",
        f"It also runs a factory in {c.plant_city}.",
        f"Its products include {_and(products)}.",
    ]
    facts = {"founded": 0, "industry": 0, "founder": 1, "hq": 2, "plant_city": 3, "products": 4}
    return sentences, facts


def _work(w: Work) -> tuple[list[str], dict[str, int]]:
    made = "designed" if w.kind == "building" else "made"
    verb = "composed" if w.kind in ("symphony", "opera") else made
    if w.kind in ("novel", "poetry collection", "treatise"):
        verb = "written"
    sentences = [
        f"{w.title} is {_a(w.kind)} {w.kind} {verb} by {w.creator} in {w.year}.",
        f"It {w.where_verb} {w.city}.",
    ]
    return sentences, {"creator": 0, "year": 0, "kind": 0, "city": 1}


def write_articles(world: World) -> list[Article]:
    """All articles of ``world`` with doc ids 'doc-001', ... assigned in a seeded shuffled order.

    The shuffle keeps ids from revealing an article's kind; ids are still deterministic.
    """
    drafts: list[tuple[str, EntityKind, tuple[list[str], dict[str, int]]]] = []
    drafts += [(c.name, "country", _country(c)) for c in world.countries.values()]
    drafts += [(c.name, "city", _city(c)) for c in world.cities.values()]
    drafts += [(p.name, "person", _person(p)) for p in world.people.values()]
    drafts += [(c.name, "company", _company(c)) for c in world.companies.values()]
    drafts += [(w.title, "work", _work(w)) for w in world.works.values()]
    random.Random(f"search-ids-{world.seed}").shuffle(drafts)
    return [
        Article(f"doc-{i:03d}", title, kind, tuple(sentences), facts)
        for i, (title, kind, (sentences, facts)) in enumerate(drafts, start=1)
    ]
