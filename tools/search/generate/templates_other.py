"""Comparison (parallel), clarification, no-call and not-found (error) templates.

A comparison's answer must name the winner next to a word saying so ("X was founded first",
"X is larger"; naming the other candidate there fails: see :func:`~.helpers.winner_fact`). A
not-found answer must say so and must not assert what was asked ("was born in", "founded by")
nor claim success; a declined request must not claim it was done. Every other answer must not
give up (a ``not_found`` claim is forbidden).
"""

from __future__ import annotations

import random

from toolgym import HiddenFact
from toolgym.generation import Draft

from ..corpus import Corpus
from ..names import NameMaker
from .helpers import (
    LARGER,
    Planner,
    categories_of,
    content_key,
    count_fact,
    not_found_claim,
    search_call,
    side_by_side,
    success_claim,
    winner_fact,
)
from .templates_facts import (
    birth_year_of,
    birthplace_of,
    founded_of,
    population,
    population_of,
)

NOT_FOUND = [
    "not found",
    "couldn't find",
    "could not find",
    "no information",
    "no article",
    "no document",
    "unable to find",
    "no record",
    "no entry",
]
CANNOT = ["can't", "cannot", "unable", "not able", "don't have", "do not have"]
# Requests the tools cannot do, and what an answer claiming to have done one would say
# besides a success claim (both forbidden).
OUT_OF_SCOPE = (
    (
        "Please email the article about {c} to my colleague.",
        [
            "i've sent",
            "i have sent",
            "has been sent",
            "i've emailed",
            "i have emailed",
            "i emailed",
        ],
    ),
    ("Edit the encyclopedia article on {c} and add that it was sold last year.", []),
)


def founded_first(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Which of two companies was founded first? (two searches in parallel)."""
    a, b = (corpus.world.companies[n] for n in rng.sample(list(corpus.world.companies), 2))
    if a.founded == b.founded:
        return None
    first = min(a, b, key=lambda c: c.founded)
    other = b if first is a else a
    steps = side_by_side(
        Planner(corpus).learn(str(a.founded), founded_of(a)),
        Planner(corpus).learn(str(b.founded), founded_of(b)),
    )
    if steps is None:
        return None
    text = rng.choice(
        ("Which was founded first, {a} or {b}?", "Which company is older, {a} or {b}?")
    ).format(a=a.name, b=b.name)
    gold = (
        f"{first.name} was founded first, in {first.founded}; "
        f"{other.name} was founded in {other.founded}."
    )
    required = [winner_fact(first.name, other.name)]
    return Draft(
        text,
        steps,
        required,
        gold,
        categories_of(steps),
        forbidden=[not_found_claim()],
        split_key=content_key("founded_first", (a.name, b.name)),
    )


def born_first(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Which of two people was born earlier?"""
    a, b = (corpus.world.people[n] for n in rng.sample(list(corpus.world.people), 2))
    if a.birth_year == b.birth_year:
        return None
    first = min(a, b, key=lambda p: p.birth_year)
    other = b if first is a else a
    steps = side_by_side(
        Planner(corpus).learn(str(a.birth_year), birth_year_of(a)),
        Planner(corpus).learn(str(b.birth_year), birth_year_of(b)),
    )
    if steps is None:
        return None
    text = rng.choice(
        ("Who was born earlier, {a} or {b}?", "Which of {a} and {b} was born first?")
    ).format(a=a.name, b=b.name)
    gold = (
        f"{first.name} was born earlier, in {first.birth_year}; "
        f"{other.name} was born in {other.birth_year}."
    )
    required = [winner_fact(first.name, other.name)]
    return Draft(
        text,
        steps,
        required,
        gold,
        categories_of(steps),
        forbidden=[not_found_claim()],
        split_key=content_key("born_first", (a.name, b.name)),
    )


def larger_city(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Which of two cities has the larger population? (search both, then open both)."""
    a, b = (corpus.world.cities[n] for n in rng.sample(list(corpus.world.cities), 2))
    big = max(a, b, key=lambda c: c.population)
    small = b if big is a else a
    steps = side_by_side(
        Planner(corpus).learn(population(a), population_of(a)),
        Planner(corpus).learn(population(b), population_of(b)),
    )
    if steps is None:
        return None
    text = rng.choice(
        (
            "Which city has the larger population, {a} or {b}?",
            "Which is bigger by population: {a} or {b}?",
        )
    ).format(a=a.name, b=b.name)
    gold = (
        f"{big.name} is larger, with a population of {big.population:,} against "
        f"{small.population:,} for {small.name}."
    )
    required = [winner_fact(big.name, small.name, LARGER)]
    return Draft(
        text,
        steps,
        required,
        gold,
        categories_of(steps),
        forbidden=[not_found_claim()],
        split_key=content_key("larger_city", (a.name, b.name)),
    )


def clarify_company_year(rng: random.Random, corpus: Corpus) -> Draft | None:
    """'When was the company founded?' without saying which: the user names it when asked."""
    c = corpus.world.companies[rng.choice(list(corpus.world.companies))]
    steps = Planner(corpus).learn(str(c.founded), founded_of(c))
    if steps is None:
        return None
    text = rng.choice(
        (
            "I'm writing a report about a company. Can you tell me when it was founded?",
            "When was the company founded? I need the year for my notes.",
        )
    )
    hidden = HiddenFact(
        keywords=["company", "which", "name"],
        question="Which company do you mean?",
        answer=f"I mean {c.name}.",
    )
    return Draft(
        text,
        steps,
        [str(c.founded)],
        f"{c.name} was founded in {c.founded}.",
        categories_of(steps, "clarify"),
        [hidden],
        forbidden=[not_found_claim()],
        split_key=content_key("clarify_company_year", (c.name,)),
    )


def clarify_hometown(rng: random.Random, corpus: Corpus) -> Draft | None:
    """'What is the population of my hometown?': the user names the city when asked."""
    c = corpus.world.cities[rng.choice(list(corpus.world.cities))]
    pop = population(c)
    steps = Planner(corpus).learn(pop, population_of(c))
    if steps is None:
        return None
    text = rng.choice(
        ("What's the population of my hometown?", "How many people live in the city I grew up in?")
    )
    hidden = HiddenFact(
        keywords=["hometown", "city", "which", "where", "name"],
        question="Which city is your hometown?",
        answer=f"It's {c.name}.",
    )
    return Draft(
        text,
        steps,
        [count_fact(c.population)],
        f"{c.name} has a population of {pop[0]}.",
        categories_of(steps, "clarify"),
        [hidden],
        forbidden=[not_found_claim()],
        split_key=content_key("clarify_hometown", (c.name,)),
    )


def clarify_person_birthplace(rng: random.Random, corpus: Corpus) -> Draft | None:
    """'Where was this <occupation> born?' without a name: the user names the person."""
    p = corpus.world.people[rng.choice(list(corpus.world.people))]
    steps = Planner(corpus).learn(p.birthplace, birthplace_of(p))
    if steps is None:
        return None
    text = f"I'm reading about {_a(p.occupation)} {p.occupation}. Where was this person born?"
    hidden = HiddenFact(
        keywords=["who", "name", "which", "person"],
        question="Which person do you mean? What is their name?",
        answer=f"{p.name}.",
    )
    return Draft(
        text,
        steps,
        [p.birthplace],
        f"{p.name} was born in {p.birthplace}.",
        categories_of(steps, "clarify"),
        [hidden],
        forbidden=[not_found_claim()],
        split_key=content_key("clarify_person_birthplace", (p.name,)),
    )


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def years_between(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Arithmetic on years the user gives: no tool needed."""
    start = rng.randint(1700, 1990)
    end = start + rng.randint(1, 120)
    text = rng.choice(
        (
            "How many years are there between {a} and {b}?",
            "If something happened in {a} and something else in {b}, how many years "
            "apart are they?",
        )
    ).format(a=start, b=end)
    gap = end - start
    return Draft(
        text,
        [],
        [count_fact(gap)],
        f"They are {gap} years apart.",
        ["no_call"],
        forbidden=[not_found_claim()],
        split_key=content_key("years_between", (str(start), str(end))),
    )


def from_excerpt(rng: random.Random, corpus: Corpus) -> Draft | None:
    """The user pastes an article and asks about it: answer from the message, no search."""
    c = corpus.world.companies[rng.choice(list(corpus.world.companies))]
    article = corpus.by_title(c.name)
    assert article is not None
    ask, answer = rng.choice(
        (
            ("who founded it", c.founder),
            ("where it is headquartered", c.hq),
            ("when it was founded", str(c.founded)),
        )
    )
    text = f'Here is a paragraph from my notes: "{article.text}" Based on it, tell me {ask}.'
    return Draft(
        text,
        [],
        [answer],
        f"According to your notes, the answer is {answer}.",
        ["no_call"],
        forbidden=[not_found_claim()],
        split_key=content_key("from_excerpt", (c.name, ask)),
    )


CHITCHAT = (
    (
        "Thanks, that's all I needed!",
        ["welcome", "glad", "pleasure", "happy to help"],
        "You're welcome, glad I could help!",
    ),
    (
        "Hi! What kind of questions can you help me with?",
        ["search"],
        "I can search the encyclopedia and open its articles to answer questions about its people, "
        "companies, cities, countries and works.",
    ),
)


def chitchat(rng: random.Random, corpus: Corpus) -> Draft | None:
    """Small talk: answer without tools."""
    text, required, gold = rng.choice(CHITCHAT)
    return Draft(
        text,
        [],
        [required],
        gold,
        ["no_call"],
        forbidden=[],
        split_key=content_key("chitchat", (text,)),
    )


def out_of_scope(rng: random.Random, corpus: Corpus) -> Draft | None:
    """A request the read-only encyclopedia tools cannot do: decline without calling tools."""
    c = rng.choice(list(corpus.world.companies))
    request, claimed = rng.choice(OUT_OF_SCOPE)
    text = request.format(c=c)
    gold = "Sorry, I can't do that: I can only search and read the encyclopedia."
    forbidden = [success_claim(), *claimed]
    return Draft(
        text,
        [],
        [CANNOT],
        gold,
        ["no_call"],
        forbidden=forbidden,
        split_key=content_key("out_of_scope", (text,)),
    )


# Questions about an absent entity and the phrases an answer to them would assert.
ABSENT_PERSON = (
    ("Where was {n} born?", ["was born in"]),
    ("In what year was {n} born?", ["was born in"]),
)
ABSENT_COMPANY = (
    ("When was {n} founded?", ["was founded in"]),
    ("Who founded {n}?", ["founded by", "founder is", "founder was"]),
)


def absent_entity(rng: random.Random, corpus: Corpus) -> Draft | None:
    """A question about an entity the corpus does not have: the search fails, say not found."""
    names = NameMaker(rng, forbidden=corpus.vocabulary)
    if rng.random() < 0.5:
        name = f"{names.first_name()} {names.surname()}"
        question, asserted = rng.choice(ABSENT_PERSON)
    else:
        name = f"{names.word()} {rng.choice(('Corporation', 'Holdings', 'Group', 'Ventures'))}"
        question, asserted = rng.choice(ABSENT_COMPANY)
    text = question.format(n=name)
    if corpus.search(name, 5):
        return None
    gold = f"I couldn't find {name} in the encyclopedia: no article matches that name."
    return Draft(
        text,
        [[search_call(name)]],
        [NOT_FOUND],
        gold,
        ["error", "single"],
        forbidden=[*asserted, success_claim()],
        split_key=content_key("absent_entity", (name,)),
    )


OTHER_TEMPLATES = {
    "founded_first": founded_first,
    "born_first": born_first,
    "larger_city": larger_city,
    "clarify_company_year": clarify_company_year,
    "clarify_hometown": clarify_hometown,
    "clarify_person_birthplace": clarify_person_birthplace,
    "years_between": years_between,
    "from_excerpt": from_excerpt,
    "chitchat": chitchat,
    "out_of_scope": out_of_scope,
    "absent_entity": absent_entity,
}
