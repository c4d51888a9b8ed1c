"""The calendar's tools, in the order the agent sees them, and by name."""

from toolgym import Tool

from .edits import create_event, delete_event, update_event
from .queries import find_people, get_event, list_events, search_events
from .scheduling import check_availability, find_free_slots

TOOLS: tuple[Tool, ...] = (
    find_people,
    list_events,
    search_events,
    get_event,
    check_availability,
    find_free_slots,
    create_event,
    update_event,
    delete_event,
)
TOOLS_BY_NAME: dict[str, Tool] = {t.name: t for t in TOOLS}
