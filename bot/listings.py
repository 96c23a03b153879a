"""The paged reads behind the `quotes` and `overlaps` commands.

A command shows a page of ten, so only that page is read: the database filters, orders,
limits and counts. Reading every cluster or every quote of a busy speaker and cutting in
Python took seconds on a 100k-document archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Select,
    and_,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.engine import Connection

from bot import search_index
from bot.core.quotes import Quote
from bot.store import ClusterRow, Store, spoken_by
from bot.store.schema import cluster_members, clusters, documents, quotes

# The word index's tables (see search_index), as far as these queries use them.
_quote_words = table("quote_words", column("quote_id"), column("text"))
_document_words = table("document_words", column("doc_id"), column("title"))
# FTS5 reads `column MATCH` as a query over that column only, `table MATCH` as one over
# every column, where filters inside it pick the column of each part.
_QUOTE_WORDS: ColumnClause[Any] = literal_column("quote_words")


@dataclass(frozen=True)
class StatementFilter:
    speaker: str
    # Printed on or after this day (UTC): a quote whose document was seen then, and a
    # repeated statement any of whose printings was, however long ago it was first seen.
    since: date | None = None
    topic: str | None = None  # every word in the quote or its document's title

    @property
    def words(self) -> list[str]:
        return self.topic.casefold().split() if self.topic else []

    @property
    def since_moment(self) -> datetime | None:
        return datetime.combine(self.since, time(), UTC) if self.since else None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int  # however many match, shown or not


def top_clusters(store: Store, *, min_outlets: int, limit: int | None) -> Page[ClusterRow]:
    """Clusters printed by at least `min_outlets` outlets, the most printed first."""
    where = clusters.c.outlet_count >= min_outlets
    return _cluster_page(store, where, limit)


def repeated_statements(
    store: Store, wanted: StatementFilter, *, limit: int | None
) -> Page[ClusterRow]:
    """The speaker's statements printed by two or more outlets, with those the outlets
    attribute to them and to someone else (shown as disputed, never hidden)."""
    sqlite = store.engine.dialect.name == "sqlite"
    return _cluster_page(store, _repeated(wanted, sqlite=sqlite), limit)


def single_quotes(store: Store, wanted: StatementFilter, *, limit: int | None) -> Page[Quote]:
    """The speaker's quotes printed by one outlet only, earliest first. One index
    (speaker, repeated, seen, document, position) gives them in order and counts them:
    no sort, no table reads.

    A copy of a repeated statement is never among them, whatever the filters: one
    first seen before `since` is repeated all the same."""
    sqlite = store.engine.dialect.name == "sqlite"
    conditions: list[ColumnElement[bool]] = [
        quotes.c.speaker == wanted.speaker,
        quotes.c.repeated.is_(False),
    ]
    if wanted.since_moment is not None:
        conditions.append(quotes.c.seen >= wanted.since_moment)
    conditions += [_on_topic(word, wanted.speaker, sqlite=sqlite) for word in wanted.words]
    # The total comes with the page (a window count), so the filters run once.
    query = (
        select(quotes.c.id, func.count().over().label("total"))
        .where(*conditions)
        .order_by(quotes.c.seen, quotes.c.doc_id, quotes.c.start)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query if limit is None else query.limit(limit)).all()
    if not rows:
        return Page([], 0)
    ids = [row.id for row in rows]
    found = store.quotes_by_ids(ids)
    return Page([found[quote_id] for quote_id in ids], int(rows[0].total))


def _on_topic(word: str, speaker: str, *, sqlite: bool) -> ColumnElement[bool]:
    """A `quotes` row of this speaker's whose text, or whose document's title, holds a
    word starting with `word` (the word semantics of `search`), from the word index
    rather than a scan. The index is asked for the speaker's quotes with the word at
    once: a common word alone is in tens of thousands of quotes on a large archive."""
    if sqlite:
        phrase = search_index.match_expression(word)
        in_text = search_index.spoken_expression(speaker, word)
        if phrase is None or in_text is None:  # no letters or digits: nothing is on topic
            return false()
        spoken = select(_quote_words.c.quote_id).where(_QUOTE_WORDS.match(in_text))
        titled = select(_document_words.c.doc_id).where(_document_words.c.title.match(phrase))
        return and_(
            quotes.c.speaker == speaker,
            or_(quotes.c.id.in_(spoken), quotes.c.doc_id.in_(titled)),
        )
    wanted = search_index.postgres_expression(word)
    if wanted is None:
        return false()
    query = func.to_tsquery("simple", wanted)
    text_has = func.to_tsvector("simple", quotes.c.text).op("@@")(query)
    title_has = func.to_tsvector("simple", func.coalesce(documents.c.title, "")).op("@@")(query)
    return and_(
        quotes.c.speaker == speaker,
        or_(text_has, quotes.c.doc_id.in_(select(documents.c.id).where(title_has))),
    )


def _repeated(wanted: StatementFilter, *, sqlite: bool) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        spoken_by(wanted.speaker),  # theirs, or disputed between them and someone else
        clusters.c.outlet_count >= 2,
    ]
    if wanted.since_moment is not None:
        # Printed since then, by any outlet: first seen then, or printed again.
        conditions.append(clusters.c.last_seen >= wanted.since_moment)
    for word in wanted.words:
        # On topic when a printing attributed to the speaker, or its document's title,
        # is (a printing under another name holds the same words, give or take an edit).
        members_on_topic = (
            select(cluster_members.c.cluster_id)
            .join(quotes, quotes.c.id == cluster_members.c.quote_id)
            .where(_on_topic(word, wanted.speaker, sqlite=sqlite))
        )
        conditions.append(clusters.c.id.in_(members_on_topic))
    return and_(*conditions)


def _cluster_page(store: Store, where: ColumnElement[bool], limit: int | None) -> Page[ClusterRow]:
    # The order of Store.clusters: most outlets, then undated, then earliest, then id.
    query = (
        select(clusters.c.id)
        .where(where)
        .order_by(
            clusters.c.outlet_count.desc(),
            clusters.c.first_seen.asc().nulls_first(),
            clusters.c.id,
        )
    )
    with store.engine.connect() as conn:
        total = _count(conn, select(func.count()).select_from(clusters).where(where))
        ids = [row.id for row in conn.execute(query if limit is None else query.limit(limit))]
    return Page(store.clusters(ids=ids, min_outlets=0), total)


def _count(conn: Connection, query: Select[Any]) -> int:
    return int(conn.execute(query).scalar_one())
