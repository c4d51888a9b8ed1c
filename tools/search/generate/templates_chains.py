"""Multi-hop templates (HotpotQA style): the answer to one lookup names the next entity.

One :class:`~.helpers.Planner` plans the whole chain, so a later hop reuses what earlier
results showed (e.g. the founder's article already listed among the company search's hits is
opened directly instead of searched again).
"""

from __future__ import annotations

import random

from toolgym.generation import Draft

from ..corpus import Corpus
from .helpers import Planner, chain, count_fact
from .templates_facts import (
    WORK_WORDS,
    birth_year_of,
    birthplace_of,
    country_of,
    creator_of,
    draft,
    founder_of,
    pick,
    place_question,
    population,
    population_of,
)


def founder_birthplace(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In which city was the founder of C born? (company -> founder -> birthplace)."""
    c = pick(rng, corpus.world.companies)
    f = corpus.world.people[c.founder]
    plan = Planner(corpus)
    steps = chain(plan.learn(f.name, founder_of(c)), plan.learn(f.birthplace, birthplace_of(f)))
    text = rng.choice(("In which city was the founder of {c} born?",
                       "Where was the person who founded {c} born?")).format(c=c.name)  # fmt: skip
    return draft("founder_birthplace", c.name, text, steps, f.birthplace,
                 f"{c.name} was founded by {f.name}, who was born in {f.birthplace}.")  # fmt: skip


def founder_birth_year(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In what year was the founder of C born?"""
    c = pick(rng, corpus.world.companies)
    f = corpus.world.people[c.founder]
    year = str(f.birth_year)
    plan = Planner(corpus)
    steps = chain(plan.learn(f.name, founder_of(c)), plan.learn(year, birth_year_of(f)))
    return draft("founder_birth_year", c.name, f"In what year was the founder of {c.name} born?",
                 steps, year, f"{c.name} was founded by {f.name}, who was born in {year}.")  # fmt: skip


def creator_birthplace(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In which city was the author / composer / ... of W born?"""
    w = pick(rng, corpus.world.works)
    p = corpus.world.people[w.creator]
    role = WORK_WORDS[w.kind][1]
    plan = Planner(corpus)
    steps = chain(plan.learn(p.name, creator_of(w)), plan.learn(p.birthplace, birthplace_of(p)))
    return draft("creator_birthplace", w.title, f"In which city was the {role} of {w.title} born?",
                 steps, p.birthplace,
                 f"The {role} of {w.title}, {p.name}, was born in {p.birthplace}.")  # fmt: skip


def creator_birth_year(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In what year was the author / composer / ... of W born?"""
    w = pick(rng, corpus.world.works)
    p = corpus.world.people[w.creator]
    role, year = WORK_WORDS[w.kind][1], str(p.birth_year)
    plan = Planner(corpus)
    steps = chain(plan.learn(p.name, creator_of(w)), plan.learn(year, birth_year_of(p)))
    return draft("creator_birth_year", w.title, f"In what year was the {role} of {w.title} born?",
                 steps, year, f"The {role} of {w.title}, {p.name}, was born in {year}.")  # fmt: skip


def hq_country(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In which country is C headquartered? (company -> HQ city -> country)."""
    c = pick(rng, corpus.world.companies)
    city = corpus.world.cities[c.hq]
    plan = Planner(corpus)
    steps = chain(plan.learn(c.hq, [(c.name, "hq")]), plan.learn(city.country, country_of(city)))
    return draft("hq_country", c.name, f"In which country is {c.name} headquartered?", steps,
                 city.country, f"{c.name} is headquartered in {c.hq}, in {city.country}.")  # fmt: skip


def birth_country(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In which country was P born? (person -> birthplace -> country)."""
    p = pick(rng, corpus.world.people)
    city = corpus.world.cities[p.birthplace]
    plan = Planner(corpus)
    steps = chain(plan.learn(p.birthplace, birthplace_of(p)),
                  plan.learn(city.country, country_of(city)))  # fmt: skip
    return draft("birth_country", p.name, f"In which country was {p.name} born?", steps,
                 city.country, f"{p.name} was born in {p.birthplace}, in {city.country}.")  # fmt: skip


def hq_population(rng: random.Random, corpus: Corpus) -> Draft | None:
    """What is the population of the city where C is headquartered?"""
    c = pick(rng, corpus.world.companies)
    city = corpus.world.cities[c.hq]
    pop = population(city)
    plan = Planner(corpus)
    steps = chain(plan.learn(c.hq, [(c.name, "hq")]), plan.learn(pop, population_of(city)))
    text = f"What is the population of the city where {c.name} is headquartered?"
    return draft("hq_population", c.name, text, steps, count_fact(city.population),
                 f"{c.name} is headquartered in {c.hq}, population {pop[0]}.")  # fmt: skip


def product_founder(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Who founded the company that makes product X? (product -> company -> founder)."""
    c = pick(rng, corpus.world.companies)
    product = rng.choice(c.products)
    plan = Planner(corpus)
    steps = chain(plan.learn(c.name, [(c.name, "products")], query=product),
                  plan.learn(c.founder, founder_of(c)))  # fmt: skip
    return draft("product_founder", product, f"Who founded the company that makes the {product}?",
                 steps, c.founder,
                 f"The {product} is made by {c.name}, which was founded by {c.founder}.")  # fmt: skip


def landmark_country(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In which country is landmark L? (landmark -> its city's article -> the country)."""
    c = pick(rng, corpus.world.cities)
    landmark = rng.choice(c.landmarks)
    plan = Planner(corpus)
    steps = chain(plan.learn(c.name, [(c.name, "landmarks")], query=landmark),
                  plan.learn(c.country, country_of(c)))  # fmt: skip
    return draft("landmark_country", landmark, f"In which country is the {landmark}?", steps,
                 c.country, f"The {landmark} is in {c.name}, {c.country}.")  # fmt: skip


def work_country(rng: random.Random, corpus: Corpus) -> Draft | None:
    """In which country was W first published / did W premiere? (work -> city -> country)."""
    w = pick(rng, corpus.world.works)
    city = corpus.world.cities[w.city]
    plan = Planner(corpus)
    steps = chain(plan.learn(w.city, [(w.title, "city")]),
                  plan.learn(city.country, country_of(city)))  # fmt: skip
    return draft("work_country", w.title, place_question(w, "country"), steps, city.country,
                 f"{w.title} {w.where_verb} {w.city}, in {city.country}.")  # fmt: skip


CHAIN_TEMPLATES = {
    "founder_birthplace": founder_birthplace, "founder_birth_year": founder_birth_year,
    "creator_birthplace": creator_birthplace, "creator_birth_year": creator_birth_year,
    "hq_country": hq_country, "birth_country": birth_country, "hq_population": hq_population,
    "product_founder": product_founder, "landmark_country": landmark_country,
    "work_country": work_country,
}  # fmt: skip
