"""Single-fact templates: one question about one entity (a search, maybe an open).

Each template takes a ``random.Random`` and a corpus and returns a
:class:`~toolgym.generation.Draft`, or None when the sampled entity gives no unambiguous gold
(see :class:`~.helpers.Planner`). The
``*_of`` helpers list the article sentences that state a fact, for the planner.

What the answer must state: a population is a number fact (any spelling of it, "412,300",
"412 300", "about 412,000"); a name or a year keeps the substring form, because the SearchLookup
curriculum is made of these lookups and ``tests/test_bundled.py`` reads its required outputs as
strings. Every such answer must not give up (a ``not_found`` claim is forbidden).
"""

from __future__ import annotations

import random
from typing import TypeVar

from toolgym.answers.model import RequiredOutput
from toolgym.generation import Draft

from ..corpus import Corpus
from ..world import City, Company, Country, Person, Work
from .helpers import (
    Planner,
    Statement,
    Steps,
    categories_of,
    content_key,
    count_fact,
    not_found_claim,
)

T = TypeVar("T")

# work kind -> (verb for "who ...", role noun, verb for the year)
WORK_WORDS = {
    "novel": ("wrote", "author", "published"),
    "poetry collection": ("wrote", "author", "published"),
    "treatise": ("wrote", "author", "published"),
    "symphony": ("composed", "composer", "composed"),
    "opera": ("composed", "composer", "composed"),
    "painting": ("painted", "painter", "painted"),
    "sculpture": ("made", "sculptor", "made"),
    "building": ("designed", "architect", "completed"),
}


def founded_of(c: Company) -> list[Statement]:
    """Sentences stating when company ``c`` was founded."""
    return [(c.name, "founded")]


def founder_of(c: Company) -> list[Statement]:
    """Sentences stating who founded ``c``: its own article, or the founder's."""
    return [(c.name, "founder"), (c.founder, "companies")]


def birth_year_of(p: Person) -> list[Statement]:
    """Sentences stating when ``p`` was born."""
    return [(p.name, "birth_year")]


def birthplace_of(p: Person) -> list[Statement]:
    """Sentences stating where ``p`` was born."""
    return [(p.name, "birthplace")]


def creator_of(w: Work) -> list[Statement]:
    """Sentences stating who made ``w``: its own article, or the creator's."""
    return [(w.title, "creator"), (w.creator, "works")]


def country_of(c: City) -> list[Statement]:
    """Sentences stating the country of city ``c``: its article or the country's."""
    return [(c.name, "country"), (c.country, "capital" if c.is_capital else "cities")]


def capital_of(k: Country) -> list[Statement]:
    """Sentences stating the capital of ``k``: its article or the capital's."""
    return [(k.name, "capital"), (k.capital, "country")]


def population_of(c: City) -> list[Statement]:
    """Sentences stating the population of ``c``."""
    return [(c.name, "population")]


def population(city: City) -> list[str]:
    """Accepted spellings of a city's population: '412,300' or '412300'."""
    return [f"{city.population:,}", str(city.population)]


def place_question(w: Work, what: str = "city") -> str:
    """'In which city was <w> first published?' (premiere, exhibition, unveiling, site)."""
    if w.where_verb.startswith("was "):
        return f"In which {what} was {w.title} {w.where_verb[4:-3]}?"
    if w.where_verb == "stands in":
        return f"In which {what} does {w.title} stand?"
    return f"In which {what} did {w.title} premiere?"


def pick(rng: random.Random, items: dict[str, T]) -> T:
    """A uniformly chosen value of ``items``."""
    return items[rng.choice(list(items))]


def draft(
    template: str, key: str, text: str, steps: Steps | None, answer: RequiredOutput, gold: str
) -> Draft | None:
    """A Draft with categories from the shape of ``steps``, or None when there is no plan.

    ``answer`` is the required output: a name or a year (a substring), or a number fact.
    """
    if steps is None:
        return None
    return Draft(
        text,
        steps,
        [answer],
        gold,
        categories_of(steps),
        forbidden=[not_found_claim()],
        split_key=content_key(template, (key,)),
    )


def company_founded(rng: random.Random, corpus: Corpus) -> Draft | None:
    """When was company C founded? (the snippet says)."""
    c = pick(rng, corpus.world.companies)
    text = rng.choice(("When was {c} founded?", "In what year was {c} founded?"))
    steps = Planner(corpus).learn(str(c.founded), founded_of(c))
    gold = f"{c.name} was founded in {c.founded}."
    return draft("company_founded", c.name, text.format(c=c.name), steps, str(c.founded), gold)


def person_birth_year(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In what year was person P born?"""
    p = pick(rng, corpus.world.people)
    text = rng.choice(("In what year was {p} born?", "When was {p} born?"))
    year = str(p.birth_year)
    steps = Planner(corpus).learn(year, birth_year_of(p))
    return draft("person_birth_year", p.name, text.format(p=p.name), steps, year,
                 f"{p.name} was born in {year}.")  # fmt: skip


def work_creator(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Who wrote / composed / painted work W?"""
    w = pick(rng, corpus.world.works)
    verb = WORK_WORDS[w.kind][0]
    text = rng.choice(("Who {v} {t}?", "Do you know who {v} {t}?")).format(v=verb, t=w.title)
    steps = Planner(corpus).learn(w.creator, creator_of(w))
    return draft(
        "work_creator", w.title, text, steps, w.creator, f"{w.title} was {verb} by {w.creator}."
    )


def work_year(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In what year was work W made?"""
    w = pick(rng, corpus.world.works)
    verb = WORK_WORDS[w.kind][2]
    steps = Planner(corpus).learn(str(w.year), [(w.title, "year")])
    return draft("work_year", w.title, f"In what year was {w.title} {verb}?", steps, str(w.year),
                 f"{w.title} was {verb} in {w.year}.")  # fmt: skip


def city_country(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Which country is city X in?"""
    c = pick(rng, corpus.world.cities)
    text = rng.choice(("In which country is {c}?", "Which country is the city of {c} in?"))
    steps = Planner(corpus).learn(c.country, country_of(c))
    return draft("city_country", c.name, text.format(c=c.name), steps, c.country,
                 f"{c.name} is in {c.country}.")  # fmt: skip


def country_capital(rng: random.Random, corpus: Corpus) -> Draft | None:
    """What is the capital of country K?"""
    k = pick(rng, corpus.world.countries)
    steps = Planner(corpus).learn(k.capital, capital_of(k))
    return draft("country_capital", k.name, f"What is the capital of {k.name}?", steps, k.capital,
                 f"The capital of {k.name} is {k.capital}.")  # fmt: skip


def landmark_city(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Which city is landmark L in? (search the landmark; its city's article lists it)."""
    c = pick(rng, corpus.world.cities)
    landmark = rng.choice(c.landmarks)
    text = rng.choice(("In which city is the {l}?", "Where is the {l}?")).format(l=landmark)
    steps = Planner(corpus).learn(c.name, [(c.name, "landmarks")], query=landmark)
    return draft("landmark_city", landmark, text, steps, c.name, f"The {landmark} is in {c.name}.")


def product_company(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Which company makes product X?"""
    c = pick(rng, corpus.world.companies)
    product = rng.choice(c.products)
    text = rng.choice(("Which company makes the {p}?", "Who makes the {p}?")).format(p=product)
    steps = Planner(corpus).learn(c.name, [(c.name, "products")], query=product)
    return draft("product_company", product, text, steps, c.name,
                 f"The {product} is made by {c.name}.")  # fmt: skip


def person_birthplace(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Where was person P born? (the article body says: search, then open)."""
    p = pick(rng, corpus.world.people)
    text = rng.choice(("Where was {p} born?", "In which city was {p} born?",
                       "What is the birthplace of {p}?"))  # fmt: skip
    steps = Planner(corpus).learn(p.birthplace, birthplace_of(p))
    return draft("person_birthplace", p.name, text.format(p=p.name), steps, p.birthplace,
                 f"{p.name} was born in {p.birthplace}.")  # fmt: skip


def company_founder(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Who founded company C? (often the founder's own article shows up in the hits)."""
    c = pick(rng, corpus.world.companies)
    text = rng.choice(("Who founded {c}?", "Who is the founder of {c}?"))
    steps = Planner(corpus).learn(c.founder, founder_of(c))
    return draft("company_founder", c.name, text.format(c=c.name), steps, c.founder,
                 f"{c.name} was founded by {c.founder}.")  # fmt: skip


def company_hq(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Where is company C headquartered?"""
    c = pick(rng, corpus.world.companies)
    text = rng.choice(("Where is {c} headquartered?", "In which city is {c} based?"))
    steps = Planner(corpus).learn(c.hq, [(c.name, "hq")])
    return draft("company_hq", c.name, text.format(c=c.name), steps, c.hq,
                 f"{c.name} is headquartered in {c.hq}.")  # fmt: skip


def city_population(rng: random.Random, corpus: Corpus) -> Draft | None:
    """What is the population of city X?"""
    c = pick(rng, corpus.world.cities)
    text = rng.choice(("What is the population of {c}?", "How many people live in {c}?"))
    pop = population(c)
    steps = Planner(corpus).learn(pop, population_of(c))
    return draft("city_population", c.name, text.format(c=c.name), steps,
                 count_fact(c.population), f"{c.name} has a population of {pop[0]}.")  # fmt: skip


def work_city(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In which city did work W premiere / was it first published / does it stand?"""
    w = pick(rng, corpus.world.works)
    steps = Planner(corpus).learn(w.city, [(w.title, "city")])
    return draft("work_city", w.title, place_question(w), steps, w.city,
                 f"{w.title} {w.where_verb} {w.city}.")  # fmt: skip


SINGLE_FACT_TEMPLATES = {
    "company_founded": company_founded, "person_birth_year": person_birth_year,
    "work_creator": work_creator, "work_year": work_year, "city_country": city_country,
    "country_capital": country_capital, "landmark_city": landmark_city,
    "product_company": product_company, "person_birthplace": person_birthplace,
    "company_founder": company_founder, "company_hq": company_hq,
    "city_population": city_population, "work_city": work_city,
}  # fmt: skip
