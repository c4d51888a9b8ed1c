"""The kinds of small project a seeded workspace can hold, and the data that varies between them."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """One kind of project: its package, its CSV data and the words its files use."""

    package: str
    title: str
    blurb: str
    noun: str
    csv_path: str
    header: tuple[str, ...]
    metric: str
    metric_column: str
    loader: str
    summary: str
    partner: str
    groups: tuple[str, ...]

    def row(self, rng: random.Random, day: str) -> tuple[str, ...]:
        """One CSV row for ``day``: the date, a group and two numbers."""
        group = rng.choice(self.groups)
        a, b = _NUMBERS[self.package](rng)
        return (day, group, a, b)


def _weather(rng: random.Random) -> tuple[str, str]:
    return f"{rng.uniform(-4, 24):.1f}", f"{rng.choice([0, 0, 0.4, 1.2, 3.5, 7.8, 12.1])}"


def _orders(rng: random.Random) -> tuple[str, str]:
    return f"A{rng.randint(1000, 9999)}", f"{rng.randint(8, 240)}.{rng.choice(['00', '50', '90'])}"


def _loans(rng: random.Random) -> tuple[str, str]:
    return rng.choice(BOOK_TITLES), str(rng.choice([7, 14, 14, 21, 28]))


def _runs(rng: random.Random) -> tuple[str, str]:
    km = rng.choice([5.0, 6.5, 8.0, 10.0, 12.5, 21.1])
    return f"{km}", str(int(km * rng.uniform(4.6, 6.4)))


BOOK_TITLES = ("Dune", "Emma", "Ulysses", "Beloved", "Matilda", "Rebecca", "Persuasion")

_NUMBERS = {"weatherlog": _weather, "shopkeeper": _orders, "bookshelf": _loans, "stridelog": _runs}

THEMES: tuple[Theme, ...] = (
    Theme(
        package="weatherlog",
        title="Weather Log",
        blurb="Load and summarise daily readings from our weather stations.",
        noun="reading",
        csv_path="data/readings.csv",
        header=("date", "station", "temp_c", "rain_mm"),
        metric="rainfall",
        metric_column="rain_mm",
        loader="load_readings",
        summary="weekly_rainfall",
        partner="the Graz station",
        groups=("Graz", "Linz", "Salzburg", "Innsbruck"),
    ),
    Theme(
        package="shopkeeper",
        title="Shopkeeper",
        blurb="Track and summarise customer orders for the online shop.",
        noun="order",
        csv_path="data/orders.csv",
        header=("date", "customer", "order_id", "total_eur"),
        metric="revenue",
        metric_column="total_eur",
        loader="load_orders",
        summary="weekly_revenue",
        partner="the payment provider",
        groups=("Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva"),
    ),
    Theme(
        package="bookshelf",
        title="Bookshelf",
        blurb="Keep track of loans at the community library.",
        noun="loan",
        csv_path="data/loans.csv",
        header=("date", "member", "title", "days"),
        metric="loan days",
        metric_column="days",
        loader="load_loans",
        summary="weekly_loan_days",
        partner="the branch library",
        groups=("Ada", "Bruno", "Chiara", "Dev", "Elif"),
    ),
    Theme(
        package="stridelog",
        title="Stride Log",
        blurb="Log and summarise the running club's training runs.",
        noun="run",
        csv_path="data/runs.csv",
        header=("date", "runner", "km", "minutes"),
        metric="distance",
        metric_column="km",
        loader="load_runs",
        summary="weekly_distance",
        partner="the watch app",
        groups=("Mara", "Jonas", "Priya", "Tomasz"),
    ),
)

DATE_FUNCTIONS = ("parse_day", "parse_date", "read_date", "to_date", "date_from_text")
"""Names the date-parsing function may have; none is a substring of another identifier."""

TIMEZONES = ("Europe/Berlin", "Europe/Vienna", "Europe/Lisbon", "America/Chicago", "Asia/Tokyo")

PEOPLE = ("Dana", "Luis", "Mei", "Oskar", "Amara", "Felix", "Noor", "Ivan")

TODO_ITEMS = (
    "Add a chart to the weekly report",
    "Write tests for the CSV loader",
    "Move settings into environment variables",
    "Check the timezone handling around midnight",
    "Document the release steps",
    "Speed up loading of large CSV files",
    "Rename the report output folder",
    "Add a --since option to the command line",
)

MEETING_POINTS = (
    "The weekly report should go out on Mondays.",
    "CSV files older than a year move to cold storage.",
    "We agreed to keep the package dependency-free.",
    "The loader must reject rows without a date.",
    "Release 1.0 is planned for the end of the quarter.",
    "Tests must pass before anything is merged.",
)

IDEAS = (
    "Export the summary as JSON as well as text.",
    "Send a reminder when data is missing for a day.",
    "Show the totals as a small bar chart.",
    "Let users pick the first day of the week.",
)
