"""Static reference data of the travel world: cities, airports, airlines, hotel areas, names.

Everything here is fixed; the seeded parts of the world (schedules, fares, hotels) are built from
it in :mod:`world`. Times are local; each city has a fixed UTC offset (no daylight saving).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    """A named neighbourhood of a city and the landmarks near it."""

    name: str
    near: tuple[str, ...]


@dataclass(frozen=True, eq=False)  # one object per city: identity equality, fast hashing
class City:
    """A city served by one or more airports."""

    name: str
    code: str  # metropolitan code, used in hotel ids ('H-CHI-2')
    utc_offset: int  # hours
    lat: float
    lon: float
    airports: tuple[tuple[str, str], ...]  # (IATA code, airport name)
    areas: tuple[Area, ...]
    hotel_price_factor: float  # 1.0 = average city


@dataclass(frozen=True)
class Airline:
    """An airline: two-letter code, name, cabins sold and a fare factor."""

    code: str
    name: str
    cabins: tuple[str, ...]
    fare_factor: float


CABINS: tuple[str, ...] = ("basic_economy", "economy", "business")
ROOM_TYPES: tuple[str, ...] = ("standard", "deluxe", "suite")

CITIES: tuple[City, ...] = (
    City(
        "Atlanta",
        "ATL",
        -5,
        33.64,
        -84.43,
        (("ATL", "Hartsfield-Jackson Atlanta International"),),
        (
            Area("Downtown", ("the convention center", "Centennial Olympic Park")),
            Area("Midtown", ("Piedmont Park", "the Fox Theatre")),
            Area("Buckhead", ("Lenox Square",)),
            Area("Airport", ("ATL airport",)),
        ),
        0.9,
    ),
    City(
        "Austin",
        "AUS",
        -6,
        30.19,
        -97.67,
        (("AUS", "Austin-Bergstrom International"),),
        (
            Area("Downtown", ("the convention center", "6th Street")),
            Area("South Congress", ("the Continental Club",)),
            Area("The Domain", ("the Domain shopping center",)),
            Area("University", ("the UT campus",)),
        ),
        0.95,
    ),
    City(
        "Boston",
        "BOS",
        -5,
        42.36,
        -71.01,
        (("BOS", "Boston Logan International"),),
        (
            Area("Seaport", ("the convention center", "the waterfront")),
            Area("Back Bay", ("Copley Square", "Newbury Street")),
            Area("Downtown", ("Boston Common", "the Financial District")),
            Area("Cambridge", ("Harvard", "MIT")),
        ),
        1.2,
    ),
    City(
        "Chicago",
        "CHI",
        -6,
        41.88,
        -87.75,
        (("ORD", "Chicago O'Hare International"), ("MDW", "Chicago Midway International")),
        (
            Area("The Loop", ("Millennium Park", "the Art Institute")),
            Area("River North", ("the Magnificent Mile",)),
            Area("South Loop", ("the convention center", "Soldier Field")),
            Area("O'Hare", ("ORD airport",)),
        ),
        1.05,
    ),
    City(
        "Denver",
        "DEN",
        -7,
        39.86,
        -104.67,
        (("DEN", "Denver International"),),
        (
            Area("Downtown", ("the convention center", "Union Station")),
            Area("LoDo", ("Coors Field",)),
            Area("Cherry Creek", ("Cherry Creek Mall",)),
            Area("Airport", ("DEN airport",)),
        ),
        0.9,
    ),
    City(
        "Los Angeles",
        "LAX",
        -8,
        33.94,
        -118.41,
        (("LAX", "Los Angeles International"),),
        (
            Area("Downtown", ("the convention center", "the Music Center")),
            Area("Santa Monica", ("the beach", "Santa Monica Pier")),
            Area("Hollywood", ("the Walk of Fame",)),
            Area("Airport", ("LAX airport",)),
        ),
        1.1,
    ),
    City(
        "Miami",
        "MIA",
        -5,
        25.79,
        -80.29,
        (("MIA", "Miami International"),),
        (
            Area("South Beach", ("the beach", "the convention center")),
            Area("Brickell", ("the Financial District",)),
            Area("Wynwood", ("the Wynwood Walls",)),
            Area("Airport", ("MIA airport",)),
        ),
        1.0,
    ),
    City(
        "New York",
        "NYC",
        -5,
        40.71,
        -73.87,
        (("JFK", "John F. Kennedy International"), ("LGA", "LaGuardia")),
        (
            Area("Midtown", ("Times Square", "Rockefeller Center")),
            Area("Hudson Yards", ("the convention center", "the High Line")),
            Area("Lower Manhattan", ("Wall Street", "the World Trade Center")),
            Area("Brooklyn", ("the Brooklyn Bridge",)),
        ),
        1.35,
    ),
    City(
        "Portland",
        "PDX",
        -8,
        45.59,
        -122.60,
        (("PDX", "Portland International"),),
        (
            Area("Downtown", ("Pioneer Square",)),
            Area("Pearl District", ("Powell's Books",)),
            Area("Lloyd District", ("the convention center",)),
            Area("Airport", ("PDX airport",)),
        ),
        0.85,
    ),
    City(
        "San Francisco",
        "SFO",
        -8,
        37.62,
        -122.38,
        (("SFO", "San Francisco International"), ("OAK", "Oakland International")),
        (
            Area("SoMa", ("the convention center", "Oracle Park")),
            Area("Union Square", ("the theatre district",)),
            Area("Fisherman's Wharf", ("the waterfront", "Pier 39")),
            Area("Mission", ("Dolores Park",)),
        ),
        1.3,
    ),
    City(
        "Seattle",
        "SEA",
        -8,
        47.45,
        -122.31,
        (("SEA", "Seattle-Tacoma International"),),
        (
            Area("Downtown", ("the convention center", "Pike Place Market")),
            Area("Capitol Hill", ("Cal Anderson Park",)),
            Area("South Lake Union", ("Lake Union",)),
            Area("Airport", ("SEA airport",)),
        ),
        1.05,
    ),
    City(
        "Washington",
        "WAS",
        -5,
        38.85,
        -77.04,
        (("DCA", "Ronald Reagan Washington National"),),
        (
            Area("Downtown", ("the convention center", "the White House")),
            Area("Capitol Hill", ("the US Capitol",)),
            Area("Georgetown", ("the Georgetown waterfront",)),
            Area("Dupont Circle", ("Embassy Row",)),
        ),
        1.15,
    ),
)

AIRLINES: tuple[Airline, ...] = (
    Airline("AU", "Aurora Airlines", CABINS, 1.05),
    Airline("BB", "Bluebird Air", ("basic_economy", "economy"), 0.82),
    Airline("CW", "Cascade Airways", CABINS, 1.0),
    Airline("MR", "Meridian Airlines", CABINS, 1.1),
    Airline("SJ", "Sunjet", ("basic_economy", "economy"), 0.78),
)

HUBS: tuple[str, ...] = ("DEN", "ORD", "ATL")

HOTEL_BRANDS: tuple[str, ...] = (
    "Parkside Inn",
    "The Lantern",
    "Copperleaf Suites",
    "Northstar Hotel",
    "Harbor Lights Hotel",
    "Bluebell Lodge",
    "The Marlowe",
    "Juniper House",
    "Granite Hotel",
    "Willow & Wren",
)
AMENITIES: tuple[str, ...] = ("wifi", "breakfast", "gym", "pool", "parking", "airport shuttle")

FIRST_NAMES: tuple[str, ...] = (
    "Maya",
    "Daniel",
    "Priya",
    "Lucas",
    "Sofia",
    "Omar",
    "Hannah",
    "Kenji",
    "Elena",
    "Marcus",
    "Aisha",
    "Tom",
    "Grace",
    "Mateo",
    "Nora",
    "Samuel",
    "Leila",
    "Jonas",
    "Chloe",
    "Ravi",
)
LAST_NAMES: tuple[str, ...] = (
    "Patel",
    "Chen",
    "Okafor",
    "Garcia",
    "Novak",
    "Kim",
    "Haddad",
    "Larsen",
    "Rossi",
    "Nguyen",
    "Brooks",
    "Silva",
    "Moreau",
    "Tanaka",
    "Ibrahim",
    "Walsh",
    "Schmidt",
    "Costa",
    "Reyes",
    "Ali",
)

CITY_BY_NAME: dict[str, City] = {c.name: c for c in CITIES}
CITY_BY_CODE: dict[str, City] = {c.code: c for c in CITIES}
CITY_OF_AIRPORT: dict[str, City] = {code: c for c in CITIES for code, _ in c.airports}
AIRPORT_NAME: dict[str, str] = {code: name for c in CITIES for code, name in c.airports}
AIRLINE_BY_CODE: dict[str, Airline] = {a.code: a for a in AIRLINES}
