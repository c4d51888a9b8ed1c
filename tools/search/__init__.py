"""search: question answering over a generated encyclopedia of a fictional world (Search-R1 style).

The agent has two READ tools, ``search`` (BM25 over ~300 articles) and ``open`` (one article).
Every name and fact is invented from a seed, so answers must come from the corpus, not from a
model's memory. The state holds only the corpus seed; corpora and indexes are cached per seed.
"""

from toolgym import ToolSuite
from toolgym.generation import LazyGenerator

from .state import SearchState, make_state
from .tools import open_document, search

INSTRUCTIONS = (
    "You answer questions using a private encyclopedia about a fictional world of people, "
    "companies, cities, countries and works. Its facts exist nowhere else: never answer from "
    "memory; look them up. Use `search` with the name of the entity you need (hits show the doc "
    "id, title and the best-matching sentence); when that sentence does not answer the question, "
    "`open` the article by its doc id. For questions that chain facts (e.g. where a company's "
    "founder was born), look up each entity in turn. If the question does not say which entity "
    "it is about, ask the user. If nothing relevant is found, say that you could not find it. "
    "Never invent doc ids or facts. Answer briefly, giving the requested name or number."
)

suite = ToolSuite(
    name="search",
    state_type=SearchState,
    tools=(search, open_document),
    make_state=make_state,
    instructions=INSTRUCTIONS,
    generate_tasks=LazyGenerator(f"{__name__}.generate"),
)

__all__ = ["suite"]
