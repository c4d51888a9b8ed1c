"""The searchable corpus of one world: articles plus a ``bm25s`` BM25 index, cached per seed.

The corpus is immutable and lives outside the suite state (which holds only the seed):
``get_corpus(seed)`` builds it once per process and seed, then returns the cached object.

Ranking: BM25 (bm25s, Lucene variant) over lower-cased word tokens with English stop words
removed; the title is indexed twice so an article about an entity outranks articles that only
mention it. Hits are sorted by score (best first), ties by doc id; documents sharing no word with
the query are never returned. A hit's snippet is the article sentence sharing the most distinct
words with the query (the earliest on ties).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import bm25s
import numpy as np

from .documents import Article, write_articles
from .world import World, build_world

SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Hit:
    """One ranked search result."""

    article: Article
    score: float
    snippet: str


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text``: bm25s's default splitter, lower-cased, English stop words out."""
    return bm25s.tokenize(text, stopwords="en", return_ids=False, show_progress=False)[0]


class Corpus:
    """Articles of one world and their BM25 index."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.articles = write_articles(world)
        self._by_id = {a.doc_id: a for a in self.articles}
        self._by_title = {a.title.lower(): a for a in self.articles}
        indexed = [f"{a.title}. {a.title}. {a.text}" for a in self.articles]
        tokens = bm25s.tokenize(indexed, stopwords="en", show_progress=False)
        self._retriever = bm25s.BM25()
        self._retriever.index(tokens, show_progress=False)
        self._sentence_tokens = {
            a.doc_id: [set(tokenize(s)) for s in a.sentences] for a in self.articles
        }

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every search token of the corpus."""
        return frozenset(t for t in self._retriever.vocab_dict if t)

    def get(self, doc_id: str) -> Article | None:
        """The article with id ``doc_id`` (e.g. 'doc-042'), or None."""
        return self._by_id.get(doc_id)

    def by_title(self, title: str) -> Article | None:
        """The article whose title is ``title`` (case-insensitive), or None."""
        return self._by_title.get(title.lower())

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` best articles for ``query`` (fewer if fewer share a word with it)."""
        known = [t for t in tokenize(query) if t in self._retriever.vocab_dict]
        if not known:
            return []
        scores = self._retriever.get_scores(known)
        order = np.lexsort((np.arange(len(scores)), -scores))
        hits = []
        for index in order[:k]:
            if scores[index] <= 0:
                break
            article = self.articles[int(index)]
            hits.append(Hit(article, float(scores[index]), self.snippet(article, set(known))))
        return hits

    def snippet_index(self, article: Article, query_tokens: set[str]) -> int:
        """Index of the sentence sharing the most distinct tokens with the query (earliest wins)."""
        overlaps = [len(query_tokens & s) for s in self._sentence_tokens[article.doc_id]]
        return overlaps.index(max(overlaps))

    def snippet(self, article: Article, query_tokens: set[str]) -> str:
        """The snippet shown for ``article`` in a search for ``query_tokens``."""
        sentence = article.sentences[self.snippet_index(article, query_tokens)]
        return sentence if len(sentence) <= SNIPPET_CHARS else sentence[: SNIPPET_CHARS - 3] + "..."


@lru_cache(maxsize=16)
def get_corpus(seed: int) -> Corpus:
    """The corpus of world ``seed``, built on first use and cached for the process."""
    return Corpus(build_world(seed))
