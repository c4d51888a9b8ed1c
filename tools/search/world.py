"""The fictional world behind a corpus: countries, cities, people, companies and works.

``build_world(seed)`` is deterministic: the same seed gives the same entities, names and facts in
any process. Entities refer to each other by name (a company's founder is a person's name).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from .names import NameMaker

N_COUNTRIES = 6
CITIES_PER_COUNTRY = 8
N_FOUNDERS = 50
N_CREATORS = 60
NEWEST_YEAR = 2024

INDUSTRIES = (
    ("robotics", "Robotics"),
    ("shipbuilding", "Shipyards"),
    ("pharmaceutical", "Pharmaceuticals"),
    ("textile", "Textiles"),
    ("aircraft", "Aeronautics"),
    ("optics", "Optics"),
    ("software", "Software"),
    ("chemical", "Chemicals"),
    ("railway", "Railworks"),
    ("telecommunications", "Telecom"),
    ("automotive", "Motors"),
    ("food", "Foods"),
    ("energy", "Energy"),
    ("publishing", "Press"),
    ("instrument", "Instruments"),
)
FOUNDER_OCCUPATIONS = ("engineer", "industrialist", "chemist", "inventor", "entrepreneur")
PRODUCT_MODELS = ("Mini", "Pro", "One", "7", "300", "Max", "Lite", "X2", "Classic", "Duo")
LANDMARK_KINDS = (
    "Bridge",
    "Cathedral",
    "Gardens",
    "Tower",
    "Market",
    "Lighthouse",
    "Museum",
    "Observatory",
    "Opera House",
    "Citadel",
    "Fountain",
    "Arch",
)

# occupation -> the kinds of work it produces: (kind, title pattern, where-verb)
_NOUNS = (
    "Lantern",
    "Orchard",
    "Harbor",
    "Mirror",
    "Archive",
    "Garden",
    "Crossing",
    "Ferry",
    "Staircase",
    "Compass",
    "Orchid",
    "Weaver",
    "Cartographer",
    "Winter",
    "Tide",
)
_SCENES = ("Morning", "Evening", "Harvest", "Rain", "Snow", "Dusk", "Fog", "Noon")
_FIGURES = ("Dancer", "Rider", "Sleeper", "Watcher", "Archer", "Mourner")
_BUILDINGS = ("Library", "Concert Hall", "Station", "Pavilion", "Bathhouse", "Exchange")
CREATIVE_WORKS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "novelist": (("novel", "The {w} {noun}", "was first published in"),),
    "poet": (
        ("poetry collection", "Songs of {w}", "was first published in"),
        ("poetry collection", "Letters from {w}", "was first published in"),
    ),
    "composer": (
        ("symphony", "{w} Symphony", "premiered in"),
        ("opera", "The Fall of {w}", "premiered in"),
    ),
    "painter": (("painting", "{scene} at {w}", "was first exhibited in"),),
    "sculptor": (("sculpture", "The {w} {figure}", "was unveiled in"),),
    "architect": (("building", "{w} {building}", "stands in"),),
    "physicist": (("treatise", "The {w} Principle", "was first published in"),),
    "mathematician": (("treatise", "The {w} Theorem", "was first published in"),),
}


@dataclass(frozen=True)
class Country:
    """A country with its capital and cities (capital first)."""

    name: str
    capital: str
    cities: tuple[str, ...]


@dataclass(frozen=True)
class City:
    """A city: its country, population and two landmarks."""

    name: str
    country: str
    population: int
    landmarks: tuple[str, ...]
    is_capital: bool


@dataclass(frozen=True)
class Person:
    """A person: birth year, birthplace, a later home city, and what they founded or made."""

    name: str
    occupation: str
    birth_year: int
    birthplace: str
    later_city: str
    companies: tuple[str, ...]
    works: tuple[str, ...]

    @property
    def surname(self) -> str:
        """The family name, used in the person's article after the first sentence."""
        return self.name.split()[-1]


@dataclass(frozen=True)
class Company:
    """A company: industry, founding year, founder, headquarters, a plant and products."""

    name: str
    industry: str
    founded: int
    founder: str
    hq: str
    plant_city: str
    products: tuple[str, ...]


@dataclass(frozen=True)
class Work:
    """A creative work or building: kind, year, creator and the city where it appeared."""

    title: str
    kind: str
    year: int
    creator: str
    city: str
    where_verb: str


@dataclass(frozen=True)
class World:
    """All entities of one seed, each kind keyed by name in creation order."""

    seed: int
    countries: dict[str, Country]
    cities: dict[str, City]
    people: dict[str, Person]
    companies: dict[str, Company]
    works: dict[str, Work]


def build_world(seed: int) -> World:
    """Build the world of ``seed`` deterministically (one ``random.Random(seed)``)."""
    rng = random.Random(f"search-world-{seed}")
    names = NameMaker(rng)
    countries, cities = _places(rng, names)
    city_names = list(cities)
    people: dict[str, Person] = {}
    companies: dict[str, Company] = {}
    works: dict[str, Work] = {}
    for _ in range(N_FOUNDERS):
        person = _person(rng, names, rng.choice(FOUNDER_OCCUPATIONS), 1820, 1965, city_names)
        company = _company(rng, names, person, city_names)
        companies[company.name] = company
        people[person.name] = replace(person, companies=(company.name,))
    occupations = list(CREATIVE_WORKS)
    for i in range(N_CREATORS):
        person = _person(rng, names, occupations[i % len(occupations)], 1780, 1975, city_names)
        made = [_work(rng, names, person, city_names) for _ in range(rng.choice((1, 1, 2)))]
        made.sort(key=lambda w: w.year)
        works.update((w.title, w) for w in made)
        people[person.name] = replace(person, works=tuple(w.title for w in made))
    return World(seed, countries, cities, people, companies, works)


def _places(rng: random.Random, names: NameMaker) -> tuple[dict[str, Country], dict[str, City]]:
    countries: dict[str, Country] = {}
    cities: dict[str, City] = {}
    for _ in range(N_COUNTRIES):
        country = names.country()
        members = [names.city() for _ in range(CITIES_PER_COUNTRY)]
        for i, name in enumerate(members):
            population = rng.randrange(400, 9000 if i == 0 else 6000) * 100 + rng.randrange(100)
            landmarks = tuple(f"{names.word()} {kind}" for kind in rng.sample(LANDMARK_KINDS, 2))
            cities[name] = City(name, country, population, landmarks, is_capital=i == 0)
        countries[country] = Country(country, members[0], tuple(members))
    return countries, cities


def _person(
    rng: random.Random, names: NameMaker, occupation: str, first: int, last: int, cities: list[str]
) -> Person:
    birthplace, later_city = rng.sample(cities, 2)
    name = f"{names.first_name()} {names.surname()}"
    return Person(name, occupation, rng.randint(first, last), birthplace, later_city, (), ())


def _company(rng: random.Random, names: NameMaker, founder: Person, cities: list[str]) -> Company:
    industry, suffix = rng.choice(INDUSTRIES)
    stem = founder.surname if rng.random() < 0.25 else names.word()
    founded = min(founder.birth_year + rng.randint(24, 55), NEWEST_YEAR - 1)
    hq, plant = rng.sample(cities, 2)
    products = tuple(
        f"{names.word()} {model}" for model in rng.sample(PRODUCT_MODELS, rng.randint(2, 3))
    )
    return Company(f"{stem} {suffix}", industry, founded, founder.name, hq, plant, products)


def _work(rng: random.Random, names: NameMaker, creator: Person, cities: list[str]) -> Work:
    kind, pattern, verb = rng.choice(CREATIVE_WORKS[creator.occupation])
    title = pattern.format(
        w=names.word(),
        noun=rng.choice(_NOUNS),
        scene=rng.choice(_SCENES),
        figure=rng.choice(_FIGURES),
        building=rng.choice(_BUILDINGS),
    )
    year = min(creator.birth_year + rng.randint(22, 70), NEWEST_YEAR)
    return Work(title, kind, year, creator.name, rng.choice(cities), verb)
