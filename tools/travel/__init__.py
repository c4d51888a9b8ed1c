"""Travel suite: search, book and cancel flights and hotels for one traveller.

A seeded world of 12 US cities (15 airports), five airlines flying daily over four weeks from
"today" (2026-03-02 in world 0), and five hotels per city in named areas. See ``world.py``.
"""

from toolgym import ToolSuite
from toolgym.generation import LazyGenerator
from toolgym.state_compare import GeneratedIds, Records

from .account import get_traveller_profile, list_airports, list_bookings
from .flights import book_flight, cancel_flight_booking, get_flight, search_flights
from .hotels import book_hotel, cancel_hotel_booking, get_hotel, search_hotels
from .state import TravelState, make_state

INSTRUCTIONS = (
    "You are a travel assistant that searches, books and cancels flights and hotels for one "
    "traveller through the tools. Dates are YYYY-MM-DD; flight times are local 24-hour times; "
    "prices are US dollars per passenger or per room per night. Only use flight numbers, hotel "
    "ids and booking ids that tools returned; never invent them. Book for the traveller (the "
    "name in your context) unless told otherwise. Apply the profile's preferred cabin and hotel "
    "budget only when the user refers to them. If a request lacks something you need to act "
    "(a date, a cabin, a room type, which booking), ask the user instead of guessing. When the "
    "request is complete, act without asking for confirmation. Report ids, prices and times "
    "exactly as the tools gave them, and say plainly when something is impossible."
)

suite = ToolSuite(
    name="travel",
    state_type=TravelState,
    tools=(
        get_traveller_profile,
        list_airports,
        search_flights,
        get_flight,
        book_flight,
        cancel_flight_booking,
        search_hotels,
        get_hotel,
        book_hotel,
        cancel_hotel_booking,
        list_bookings,
    ),
    make_state=make_state,
    instructions=INSTRUCTIONS,
    generate_tasks=LazyGenerator(f"{__name__}.generate"),
    # Booking ids count bookings made ("BK0005"): booking in another order swaps them. A booking
    # made and cancelled within one episode counts as never made (its seats are released).
    generated_ids=GeneratedIds(
        records=(
            Records("flight_bookings", "booking_id", removed={"status": "cancelled"}),
            Records("hotel_bookings", "booking_id", removed={"status": "cancelled"}),
        )
    ),
)
