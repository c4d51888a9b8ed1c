"""The agent's tools: ``search`` the encyclopedia, ``open`` one article. Both only read."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from toolgym import ToolError, tool

from .corpus import tokenize
from .state import Document, SearchHit, SearchState

MAX_K = 10


@tool
def search(
    db: SearchState, query: str, k: Annotated[int, Field(ge=1, le=MAX_K)] = 5
) -> list[SearchHit]:
    """Search the encyclopedia; returns the best-matching articles, best first.

    Each hit has the doc id, the title, the one sentence of the article that best matches the
    query, and a BM25 score (ties are ordered by doc id). Only articles sharing a word with the
    query are returned, so there may be fewer than k hits.

    Args:
        db: The encyclopedia state (supplied by the environment, not by the agent).
        query: Keywords, e.g. an entity name such as 'Velmora Dynamics'.
        k: How many hits to return (1 to 10).
    """
    if not tokenize(query):
        raise ToolError(f"query {query!r} has no searchable words; use names or keywords")
    hits = db.corpus.search(query, k)
    if not hits:
        raise ToolError(
            f"no document matches {query!r}; the encyclopedia has no article mentioning these "
            "words (check the spelling or try other keywords)"
        )
    return [
        SearchHit(
            doc_id=h.article.doc_id,
            title=h.article.title,
            snippet=h.snippet,
            score=round(h.score, 3),
        )
        for h in hits
    ]


@tool(name="open")
def open_document(db: SearchState, doc_id: str) -> Document:
    """Open one article by its doc id and return its full text.

    Args:
        db: The encyclopedia state (supplied by the environment, not by the agent).
        doc_id: A doc id from a search result, e.g. 'doc-042'.
    """
    article = db.corpus.get(doc_id.strip().lower())
    if article is None:
        raise ToolError(
            f"no document {doc_id!r}; doc ids (like 'doc-042') come from search results: "
            "use search to find the article you need"
        )
    return Document(doc_id=article.doc_id, title=article.title, text=article.text)
