"""The company directory (the same in every world) and name/email resolution."""

from __future__ import annotations

from toolgym import ToolError

from .state import Person


def _person(name: str, role: str, team: str) -> Person:
    first, last = name.lower().split()
    return Person(name=name, email=f"{first}.{last}@example.com", role=role, team=team)


PEOPLE: tuple[Person, ...] = (
    _person("Alice Chen", "Engineering Manager", "Platform"),
    _person("Ben Carter", "Backend Engineer", "Platform"),
    _person("Dan Okafor", "Backend Engineer", "Platform"),
    _person("Elena Rossi", "QA Lead", "Platform"),
    _person("Grace Liu", "Recruiter", "People"),
    _person("Marcus Webb", "Frontend Engineer", "Platform"),
    _person("Omar Haddad", "Sales Lead", "Sales"),
    _person("Priya Raman", "Data Scientist", "Platform"),
    _person("Sarah Kim", "Product Designer", "Design"),
    _person("Sarah Patel", "Product Manager", "Product"),
    _person("Tom Becker", "Director of Engineering", "Engineering"),
    _person("Yuki Tanaka", "DevOps Engineer", "Platform"),
)
"""Everyone in the directory, sorted by name."""

OWNER: Person = PEOPLE[0]
"""The person the agent assists; events they create always include them."""

BY_EMAIL: dict[str, Person] = {p.email: p for p in PEOPLE}
BY_NAME: dict[str, Person] = {p.name.lower(): p for p in PEOPLE}


def person(key: str) -> Person:
    """Resolve an email or full name (case-insensitive) to a person, else raise a helpful ToolError.

    >>> person("Dan Okafor").email
    'dan.okafor@example.com'
    """
    text = " ".join(key.lower().split())
    found = BY_EMAIL.get(text) or BY_NAME.get(text)
    if found is not None:
        return found
    guesses = matches(text)
    if len(guesses) == 1:
        hint = f"did you mean {describe(guesses[0])}?"
    elif guesses:
        hint = f"{len(guesses)} people match: " + ", ".join(describe(p) for p in guesses)
        hint += "; pass the email of the one you mean"
    else:
        hint = "use find_people to look people up"
    raise ToolError(f"{key!r} is not the email or full name of anyone in the directory; {hint}")


def emails(keys: list[str]) -> list[str]:
    """Resolve several people to their emails, de-duplicated and sorted."""
    return sorted({person(k).email for k in keys})


def matches(query: str) -> list[Person]:
    """People whose name, email, role or team contains every word of ``query``, sorted by name."""
    words = query.lower().split()
    return [
        p
        for p in PEOPLE
        if all(w in f"{p.name} {p.email} {p.role} {p.team}".lower() for w in words)
    ]


def describe(p: Person) -> str:
    """``Dan Okafor <dan.okafor@example.com>``."""
    return f"{p.name} <{p.email}>"


def name_of(email: str) -> str:
    """The full name behind a directory email."""
    return BY_EMAIL[email].name
