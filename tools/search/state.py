"""The suite state (only the corpus seed) and the result models the tools return."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .corpus import Corpus, get_corpus


class SearchState(BaseModel):
    """Which corpus the agent searches. The corpus itself is immutable and cached by seed."""

    model_config = ConfigDict(extra="forbid")

    corpus_seed: int = Field(default=0, ge=0, description="Seed of the generated corpus.")

    @property
    def corpus(self) -> Corpus:
        """The (cached) corpus of this state's seed."""
        return get_corpus(self.corpus_seed)


class SearchHit(BaseModel):
    """One ranked search result."""

    doc_id: str = Field(description="Document id, e.g. 'doc-042'; pass it to open.")
    title: str = Field(description="Title of the document (the entity it is about).")
    snippet: str = Field(description="The sentence of the document that best matches the query.")
    score: float = Field(description="BM25 relevance score, rounded to 3 decimals.")


class Document(BaseModel):
    """A full encyclopedia article."""

    doc_id: str = Field(description="Document id.")
    title: str = Field(description="Title of the document.")
    text: str = Field(description="Full text of the article.")


def make_state(seed: int = 0) -> SearchState:
    """The state for corpus ``seed`` (seed 0 is the default corpus); builds the corpus once."""
    get_corpus(seed)
    return SearchState(corpus_seed=seed)
