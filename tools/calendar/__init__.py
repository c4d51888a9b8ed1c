"""Calendar suite: a shared company calendar with a people directory, conflicts and free slots.

The agent assists Alice Chen (an engineering manager) with a seeded calendar of about four weeks of
standups, 1:1s, lunches and one-off meetings among twelve colleagues. See ``world.py`` for the
world, ``queries.py``/``scheduling.py`` for the READ tools, ``edits.py`` for the WRITE tools and
``generate/`` for the templates of procedural tasks.
"""

from toolgym import ToolSuite
from toolgym.generation import LazyGenerator
from toolgym.state_compare import GeneratedIds, Records

from .catalog import TOOLS
from .state import CalendarState
from .world import make_state

INSTRUCTIONS = """\
You are a calendar assistant for Alice Chen (alice.chen@example.com) at a small company. The \
calendar is shared: it holds the events of everyone in the company directory, and Alice's \
calendar is the events she attends. Dates are YYYY-MM-DD and times HH:MM (24-hour); every event \
starts and ends on the same day. Weeks run Monday to Sunday; "next week" is the week after the \
current one. Tools take people as an email or a full name (results show full names); use \
find_people when you only have a first name or a role, and list_events or search_events to find \
event ids; never invent emails or ids. Events Alice creates always include her. Creating or moving \
an event that overlaps another event of any attendee fails; pass allow_overlap only when the user \
explicitly accepts the double-booking. When a request is missing something you need (which day, \
which person, what time), ask the user instead of guessing. Keep answers short and mention the \
event ids, dates and times you used."""

suite = ToolSuite(
    name="calendar",
    state_type=CalendarState,
    tools=TOOLS,
    make_state=make_state,
    instructions=INSTRUCTIONS,
    generate_tasks=LazyGenerator(f"{__name__}.generate"),
    # New events get ids from a counter ("ev-0089"): creating two in another order swaps them.
    generated_ids=GeneratedIds(records=(Records("events", "id"),), counters=("next_id",)),
)

__all__ = ["suite"]
