"""A tiny "notes" suite with generated ids, references between records and hand-written tasks.

Notes get ids from a counter (``n-003``, ``n-004``, ...), so two correct trajectories that create
notes in another order name them differently; a note may refer to its parent note.
"""

from __future__ import annotations

from pydantic import BaseModel

from toolgym import ToolError, ToolKind, ToolSuite, tool
from toolgym.env import ToolEnv
from toolgym.state_compare import GeneratedIds, Records
from toolgym.tasks import Task


class Note(BaseModel):
    id: str
    title: str
    body: str
    parent: str | None = None


class Notes(BaseModel):
    notes: dict[str, Note]
    next_id: int


@tool
def find_note(db: Notes, title: str) -> list[Note]:
    """Notes whose title contains ``title`` (case-insensitive).

    Args:
        title: Part of a title.
    """
    return [n for n in db.notes.values() if title.lower() in n.title.lower()]


@tool
def list_notes(db: Notes) -> list[Note]:
    """Every note."""
    return list(db.notes.values())


@tool(kind=ToolKind.WRITE)
def create_note(db: Notes, title: str, body: str, parent: str | None = None) -> Note:
    """Create a note.

    Args:
        title: Title.
        body: Text.
        parent: Id of the note this one belongs under.
    """
    if parent is not None and parent not in db.notes:
        raise ToolError(f"no note {parent!r}")
    note = Note(id=f"n-{db.next_id:03d}", title=title, body=body, parent=parent)
    db.next_id += 1
    db.notes[note.id] = note
    return note


@tool(kind=ToolKind.WRITE)
def update_note(db: Notes, note_id: str, body: str) -> Note:
    """Replace a note's text.

    Args:
        note_id: The note's id.
        body: New text.
    """
    if note_id not in db.notes:
        raise ToolError(f"no note {note_id!r}")
    db.notes[note_id].body = body
    return db.notes[note_id]


@tool(kind=ToolKind.WRITE)
def delete_note(db: Notes, note_id: str) -> str:
    """Delete a note.

    Args:
        note_id: The note's id.
    """
    if note_id not in db.notes:
        raise ToolError(f"no note {note_id!r}")
    del db.notes[note_id]
    return f"deleted {note_id}"


def make_state(seed: int) -> Notes:
    notes = {
        "n-001": Note(id="n-001", title="groceries", body="milk"),
        "n-002": Note(id="n-002", title="todo", body="call mom"),
    }
    return Notes(notes=notes, next_id=3)


SUITE = ToolSuite(
    name="notes",
    state_type=Notes,
    tools=(find_note, list_notes, create_note, update_note, delete_note),
    make_state=make_state,
    generated_ids=GeneratedIds(records=(Records("notes", "id"),), counters=("next_id",)),
)


def create(title, body, parent=None):
    args = {"title": title, "body": body} | ({"parent": parent} if parent else {})
    return {"name": "create_note", "arguments": args}


TASKS = [
    {  # two independent writes, each id bound to its note
        "id": "two-notes",
        "suite": "notes",
        "instruction": "Create a note 'alpha' saying 'one' and a note 'beta' saying 'two'.",
        "gold_calls": [
            {"calls": [create("alpha", "one")], "after": []},
            {"calls": [create("beta", "two")], "after": []},
        ],
        "required_outputs": [
            {"value": "n-003", "kind": "id", "subject": "alpha"},
            {"value": "n-004", "kind": "id", "subject": "beta"},
        ],
        "gold_answer": "Created alpha as n-003 and beta as n-004.",
    },
    {  # a dependent chain: find the note, then update it
        "id": "update-todo",
        "suite": "notes",
        "instruction": "Change my todo note to say 'call dad'.",
        "gold_calls": [
            [{"name": "find_note", "arguments": {"title": "todo"}}],
            [{"name": "update_note", "arguments": {"note_id": "n-002", "body": "call dad"}}],
        ],
        "required_outputs": [{"value": "n-002", "kind": "id"}],
        "gold_answer": "Updated n-002: it now says 'call dad'.",
    },
    {  # a reference to a record created in the same episode
        "id": "child-note",
        "suite": "notes",
        "instruction": "Create 'trip' saying 'plan', then 'packing' under it saying 'socks'.",
        "gold_calls": [[create("trip", "plan")], [create("packing", "socks", "n-003")]],
    },
    {  # clarify: the body is a hidden fact
        "id": "reminder",
        "suite": "notes",
        "instruction": "Add a reminder note.",
        "user": {
            "hidden": [
                {
                    "keywords": ["say", "text"],
                    "question": "What should it say?",
                    "answer": "Buy stamps.",
                }
            ]
        },
        "gold_calls": [[create("reminder", "buy stamps")]],
        "categories": ["clarify"],
    },
    {  # an error task: the note does not exist
        "id": "delete-missing",
        "suite": "notes",
        "instruction": "Delete note n-009.",
        "gold_calls": [[{"name": "delete_note", "arguments": {"note_id": "n-009"}}]],
        "required_outputs": [
            {"value": "no note", "alternatives": ["doesn't exist", "does not exist"]}
        ],
        "forbidden": [{"claim": "success"}],
        "gold_answer": "I couldn't delete it: there is no note n-009.",
        "categories": ["error"],
    },
]


def make_notes_env() -> ToolEnv:
    """A fresh ToolEnv over the notes suite (scripted user, completion + logged components)."""
    return ToolEnv(SUITE, [Task.model_validate(t) for t in TASKS])
