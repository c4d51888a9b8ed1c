"""Gold-call planning for generated tasks: what a careful agent searches and opens.

A :class:`Planner` plays a careful agent that remembers every result it has seen. To learn one
fact it first checks what earlier results showed (a snippet that states the fact: no call; the
doc id of the article that states it: open that article); otherwise it searches the entity's
name (or another query, e.g. a product name), stops if a snippet states the fact, and else opens
the article. It refuses (``None``) when the article is not in the top ``TOP_K`` hits, or when
the answer shows up in a hit without a sentence that states it (a careful agent could stop or go
on: the gold would be ambiguous).
"""

from __future__ import annotations

from toolgym import ToolCall
from toolgym.answers.model import Claim, Fact
from toolgym.tasks import Category

from ..corpus import Corpus, tokenize
from ..documents import Article

TOP_K = 5
Steps = list[list[ToolCall]]
Answer = str | list[str]

EARLIER = ("first", "earlier", "earliest", "older", "oldest")
"""Subject spellings of "which came first": the answer names the winner next to one of them."""
LARGER = ("larger", "largest", "bigger", "biggest", "more populous", "most populous",
          "more people", "more inhabitants", "more residents")  # fmt: skip
"""Subject spellings of "which city is larger"."""


def content_key(template: str, key: tuple[object, ...]) -> str:
    """A draft's split key: its template and entity names, not its world or phrasing.

    So every phrasing of one question lands in one split, and so does a name that happens to
    exist in two worlds.
    """
    return repr((template, key))


def count_fact(value: int) -> Fact:
    """A number the answer must state ("412,300", "412 300", "about 412,000")."""
    return Fact(value=value, kind="number")


def winner_fact(winner: str, loser: str, subject: tuple[str, ...] = EARLIER) -> Fact:
    """The one of two candidates the answer must name next to a word of ``subject``.

    "X was founded first", "X is older than Y", "X is larger": the answer must attach the winner
    to one of those words, and attaching the loser there fails.
    """
    return Fact(value=winner, subject=list(subject), distractors=[loser])


def not_found_claim() -> Claim:
    """Forbidden in every answerable task: the answer must not give up ("couldn't find")."""
    return Claim(claim="not_found")


def success_claim() -> Claim:
    """Forbidden where nothing can be done (not found, out of scope): no "done", "added"."""
    return Claim(claim="success")


def search_call(query: str) -> ToolCall:
    """A gold ``search`` call with the default k."""
    return ToolCall(name="search", arguments={"query": query})


def open_call(doc_id: str) -> ToolCall:
    """A gold ``open`` call."""
    return ToolCall(name="open", arguments={"doc_id": doc_id})


def options(answer: Answer) -> list[str]:
    """The accepted spellings of an answer."""
    return [answer] if isinstance(answer, str) else answer


Statement = tuple[str, str]  # (article title, fact name): that article's sentence states it


class Planner:
    """Plans the calls of one agent that remembers what earlier results showed it.

    ``shown`` maps each doc id to the sentence indexes the agent has seen of it: the snippet
    sentence for a search hit, every sentence once the article is opened.
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.shown: dict[str, set[int]] = {}

    def learn(
        self, answer: Answer, statements: list[Statement], query: str | None = None
    ) -> Steps | None:
        """Gold steps to learn ``answer``, which any of ``statements`` states.

        The first statement's article is the one to open; ``query`` (default: its title) is
        what to search when its doc id is not known yet. Returns [] when an earlier result
        already showed the answer, None when the gold would be ambiguous (see module doc).
        """
        if self._stated(statements):
            return []
        target = self._article(statements[0][0])
        if target.doc_id in self.shown:
            return self._open(target.doc_id)
        query = target.title if query is None else query
        hits = self.corpus.search(query, TOP_K)
        if target.doc_id not in {h.article.doc_id for h in hits}:
            return None
        tokens = set(tokenize(query))
        for h in hits:
            self.shown.setdefault(h.article.doc_id, set()).add(
                self.corpus.snippet_index(h.article, tokens)
            )
        if self._stated(statements):
            return [[search_call(query)]]
        spellings = [o.lower() for o in options(answer)]
        if any(s in f"{h.article.title} {h.snippet}".lower() for h in hits for s in spellings):
            return None
        return [[search_call(query)], *self._open(target.doc_id)]

    def _article(self, title: str) -> Article:
        article = self.corpus.by_title(title)
        assert article is not None, title
        return article

    def _stated(self, statements: list[Statement]) -> bool:
        for title, fact in statements:
            article = self._article(title)
            if article.facts[fact] in self.shown.get(article.doc_id, ()):
                return True
        return False

    def _open(self, doc_id: str) -> Steps:
        article = self.corpus.get(doc_id)
        assert article is not None
        self.shown[doc_id] = set(range(len(article.sentences)))
        return [[open_call(doc_id)]]


def chain(*hops: Steps | None) -> Steps | None:
    """Steps of one planner's hops, in order (later hops use earlier answers); None if refused."""
    plans = [h for h in hops if h is not None]
    if len(plans) < len(hops):
        return None
    return [step for plan in plans for step in plan]


def side_by_side(*hops: Steps | None) -> Steps | None:
    """Independent plans (one planner each) run in parallel: step i holds every plan's step i."""
    plans = [h for h in hops if h is not None]
    if len(plans) < len(hops):
        return None
    depth = max(len(plan) for plan in plans)
    return [[c for plan in plans if i < len(plan) for c in plan[i]] for i in range(depth)]


def categories_of(steps: Steps, *extra: Category) -> list[Category]:
    """Categories implied by the shape of the gold calls, plus ``extra``."""
    cats: list[Category] = list(extra)
    calls = sum(len(s) for s in steps)
    if calls == 1:
        cats.append("single")
    if len(steps) > 1:
        cats.append("multi")
    if any(len(s) > 1 for s in steps):
        cats.append("parallel")
    if any(c.name == "open" for s in steps for c in s) or _reuses_answers(steps):
        cats.append("dependent")
    return list(dict.fromkeys(cats))


def _reuses_answers(steps: Steps) -> bool:
    """Whether a later search uses a name only an earlier result revealed (a second hop)."""
    searches = [c for s in steps for c in s if c.name == "search"]
    return len(steps) > 1 and len(searches) > len(steps[0])
