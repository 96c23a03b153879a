"""The archive on disk: documents, quotes, overlap clusters, stories and deliveries.

SQLAlchemy Core over a SQLite file by default (WAL mode, so commands read while an ingest
writes) or a PostgreSQL URL for scale. The schema is created on first start; see the
README's "Schema changes" for how later versions migrate (Alembic).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from bot import search_index
from bot.core.documents import Cut, CutReason, Document, Paragraph, ParagraphKind
from bot.core.quotes import Attribution, Quote

SCHEMA_VERSION = 2


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", Text, nullable=False),
    Column("title", Text),
    Column("outlet", Text),
    Column("byline", Text),
    Column("published", UTCDateTime, index=True),
    Column("url", Text),
    Column("text", Text, nullable=False),
    Column("paragraphs", JSON, nullable=False),  # [[start, end, kind], ...]
    Column("cuts", JSON, nullable=False),  # [[start, end, reason], ...]
    Column("summary", JSON, nullable=False),  # [[start, end], ...] best first
    Column("story_id", String(32), index=True),
    Column("ingested_at", UTCDateTime, nullable=False, index=True),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("doc_id", String(32), ForeignKey("documents.id"), nullable=False, index=True),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("speaker", String(200), index=True),
    Column("speaker_role", Text),
    Column("cue", String(64)),
    Column("partial", Boolean, nullable=False),
    Column("attribution", String(64), nullable=False),
    # The document's first-seen moment (published, else ingested), copied here so that a
    # speaker's quotes are listed in date order from one index (added in schema 2).
    Column("seen", UTCDateTime),
    Index("ix_quotes_speaker_seen", "speaker", "seen", "doc_id", "start", "id"),
)

clusters = Table(
    "clusters",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("canonical_quote_id", String(64), nullable=False),
    Column("canonical_text", Text, nullable=False),
    Column("speaker", String(200), index=True),
    Column("earliest_doc_id", String(32), nullable=False),
    Column("first_seen", UTCDateTime),
    Column("outlets", JSON, nullable=False),
    Column("outlet_count", Integer, nullable=False, index=True),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
    # A speaker's repeated statements, most printed first, without reading the rows.
    Index("ix_clusters_speaker_rank", "speaker", "outlet_count", "first_seen", "id"),
)

cluster_members = Table(
    "cluster_members",
    metadata,
    Column(
        "cluster_id", String(64), ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("quote_id", String(64), ForeignKey("quotes.id"), primary_key=True, index=True),
    Column("relation", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("near", Boolean, nullable=False),
    Column("diff", Text),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("headline", Text, nullable=False),
    Column("first_seen", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(200), nullable=False),
    Column("slot", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("window_start", UTCDateTime),
    Column("window_end", UTCDateTime, nullable=False),
    Column("reply", JSON, nullable=False),
    Column("markdown", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    UniqueConstraint("target", "slot", name="one_digest_per_target_and_slot"),
)


@dataclass(frozen=True)
class ClusterRow:
    """A stored overlap cluster, as commands show it."""

    id: str
    canonical_quote_id: str
    canonical_text: str
    speaker: str | None
    earliest_doc_id: str
    first_seen: datetime | None
    outlets: tuple[str, ...]
    members: tuple[MemberRow, ...]


@dataclass(frozen=True)
class MemberRow:
    quote_id: str
    doc_id: str
    text: str
    relation: str
    score: float
    near: bool
    diff: str | None


@dataclass(frozen=True)
class StoryRow:
    id: str
    headline: str
    first_seen: datetime | None
    doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class DocumentMeta:
    """A document without its text: what listings and citations need."""

    id: str
    source: str
    title: str | None
    outlet: str | None
    url: str | None
    published: datetime | None
    ingested_at: datetime
    story_id: str | None

    @property
    def label(self) -> str:
        return self.outlet or self.title or Path(self.source).name

    @property
    def first_seen(self) -> datetime:
        return self.published or self.ingested_at


@dataclass(frozen=True)
class Delivery:
    id: int
    target: str
    slot: str
    status: str  # pending | sending | sent
    window_start: datetime | None
    window_end: datetime
    reply: dict[str, Any]
    markdown: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the ingest writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # 64 MB of page cache (the default is 2 MB): a large archive's indexes are updated at
    # random pages on every ingest, and re-reading them from the OS each time dominated.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
    # SQLite's own lower() folds ASCII only, and `ilike` compiles to lower(x) LIKE lower(y):
    # without this, searching "песков" misses "Песков" on SQLite but not on PostgreSQL.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect, creating the SQLite file's folder and the schema on first start."""
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        store.create_schema()
        return store

    @property
    def has_word_index(self) -> bool:
        """SQLite keeps an FTS5 word index for search; PostgreSQL uses its text search."""
        return self.engine.dialect.name == "sqlite"

    def create_schema(self) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if self.has_word_index:
                search_index.create(conn)
            version = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version"))
            found = version.scalar_one_or_none()
            if found is None:
                conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(found) == 1:
                _migrate_1_to_2(conn)
            elif int(found) > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database has schema version {found}, newer than this briefbot "
                    f"({SCHEMA_VERSION}); upgrade briefbot"
                )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- documents and quotes ----------------------------------------------------------

    def known_document_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted, 500):
                rows = conn.execute(select(documents.c.id).where(documents.c.id.in_(chunk)))
                found.update(row.id for row in rows)
        return found

    def add_documents(
        self,
        conn: Connection,
        items: Sequence[tuple[Document, Sequence[Quote], Sequence[tuple[int, int]]]],
        *,
        now: datetime,
    ) -> None:
        """Documents with their quotes and summary spans, in the caller's transaction."""
        if not items:
            return
        conn.execute(
            insert(documents),
            [
                {
                    "id": doc.id,
                    "source": doc.source,
                    "title": doc.title,
                    "outlet": doc.outlet,
                    "byline": doc.byline,
                    "published": doc.published,
                    "url": doc.url,
                    "text": doc.text,
                    "paragraphs": [[p.start, p.end, p.kind.value] for p in doc.paragraphs],
                    "cuts": [[c.start, c.end, c.reason.value] for c in doc.cuts],
                    "summary": [list(span) for span in summary],
                    "story_id": None,
                    "ingested_at": now,
                }
                for doc, _quotes, summary in items
            ],
        )
        rows = [
            {**_quote_row(q), "seen": doc.published or now}
            for doc, doc_quotes, _summary in items
            for q in doc_quotes
        ]
        if rows:
            conn.execute(insert(quotes), rows)
        if self.has_word_index:
            search_index.add(
                conn,
                [(doc.id, doc.title, doc.text) for doc, _quotes, _summary in items],
                [(row["id"], row["doc_id"], row["text"]) for row in rows],
            )

    def document(self, doc_id: str) -> Document | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
        return _document(row._mapping) if row else None

    def documents_by_ids(self, ids: Iterable[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids), 500):
                for row in conn.execute(select(documents).where(documents.c.id.in_(chunk))):
                    found[row.id] = _document(row._mapping)
        return found

    def document_meta(self, ids: Iterable[str] | None = None) -> dict[str, DocumentMeta]:
        """Metadata without text: of these documents, or of all of them."""
        columns = [getattr(documents.c, name) for name in _META_COLUMNS]
        query = select(*columns).order_by(documents.c.published.asc().nulls_first(), documents.c.id)
        rows = []
        with self.engine.connect() as conn:
            if ids is None:
                rows = list(conn.execute(query))
            else:
                for chunk in _chunks(list(ids), 500):
                    rows.extend(conn.execute(query.where(documents.c.id.in_(chunk))))
        return {
            row.id: DocumentMeta(**{name: getattr(row, name) for name in _META_COLUMNS})
            for row in rows
        }

    def summary_spans(self, doc_id: str) -> list[tuple[int, int]]:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(documents.c.summary).where(documents.c.id == doc_id)
            ).scalar_one_or_none()
        return [(int(a), int(b)) for a, b in (value or [])]

    def all_quotes(self) -> list[Quote]:
        with self.engine.connect() as conn:
            return [_quote(row._mapping) for row in conn.execute(select(quotes))]

    def quotes_by_ids(self, ids: Iterable[str]) -> dict[str, Quote]:
        found: dict[str, Quote] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids), 500):
                for row in conn.execute(select(quotes).where(quotes.c.id.in_(chunk))):
                    found[row.id] = _quote(row._mapping)
        return found

    def quotes_by_documents(self, doc_ids: Iterable[str]) -> list[Quote]:
        found: list[Quote] = []
        with self.engine.connect() as conn:
            for chunk in _chunks(list(doc_ids), 500):
                rows = conn.execute(
                    select(quotes)
                    .where(quotes.c.doc_id.in_(chunk))
                    .order_by(quotes.c.doc_id, quotes.c.start)
                )
                found.extend(_quote(row._mapping) for row in rows)
        return found

    def quotes_by_speaker(self, speaker: str) -> list[Quote]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(quotes).where(quotes.c.speaker == speaker))
            return [_quote(row._mapping) for row in rows]

    def last_ingested_at(self) -> datetime | None:
        """When the newest document arrived: tells a cache whether the archive changed."""
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(documents.c.ingested_at))).scalar_one_or_none()
        if value is None:
            return None
        return UTCDateTime().process_result_value(value, self.engine.dialect)

    def speaker_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(quotes.c.speaker, func.count())
                .where(quotes.c.speaker.is_not(None))
                .group_by(quotes.c.speaker)
            )
            return {row[0]: int(row[1]) for row in rows}

    def search_quotes(self, needle: str, *, limit: int) -> list[Quote]:
        """Quotes holding these words (see `search_index`): newest documents first, each
        document's quotes in text order."""
        with self.engine.connect() as conn:
            ids = search_index.quote_ids(conn, needle, limit=limit)
        found = self.quotes_by_ids(ids)
        newest = {doc_id: n for n, doc_id in enumerate(dict.fromkeys(found[i].doc_id for i in ids))}
        return sorted(found.values(), key=lambda q: (newest[q.doc_id], q.start))

    def search_documents(self, needle: str, *, limit: int) -> list[str]:
        """Ids of documents whose title or text holds these words, newest first."""
        with self.engine.connect() as conn:
            return search_index.document_ids(conn, needle, limit=limit)

    def ingested_since(self, since: datetime | None) -> list[str]:
        query = select(documents.c.id).order_by(documents.c.ingested_at, documents.c.id)
        if since is not None:
            query = query.where(documents.c.ingested_at > since)
        with self.engine.connect() as conn:
            return [row.id for row in conn.execute(query)]

    # -- clusters ----------------------------------------------------------------------

    def replace_clusters(
        self,
        conn: Connection,
        touched_quote_ids: Iterable[str],
        rows: Sequence[ClusterRow],
        *,
        now: datetime,
    ) -> None:
        """Drop every cluster holding a touched quote, then store the recomputed ones."""
        touched = list(touched_quote_ids)
        stale: set[str] = set()
        for chunk in _chunks(touched, 500):
            found = conn.execute(
                select(cluster_members.c.cluster_id).where(cluster_members.c.quote_id.in_(chunk))
            )
            stale.update(row.cluster_id for row in found)
        stale.update(row.id for row in rows)
        for chunk in _chunks(sorted(stale), 500):
            conn.execute(delete(cluster_members).where(cluster_members.c.cluster_id.in_(chunk)))
            conn.execute(delete(clusters).where(clusters.c.id.in_(chunk)))
        if not rows:
            return
        conn.execute(
            insert(clusters),
            [
                {
                    "id": row.id,
                    "canonical_quote_id": row.canonical_quote_id,
                    "canonical_text": row.canonical_text,
                    "speaker": row.speaker,
                    "earliest_doc_id": row.earliest_doc_id,
                    "first_seen": row.first_seen,
                    "outlets": list(row.outlets),
                    "outlet_count": len(row.outlets),
                    "updated_at": now,
                }
                for row in rows
            ],
        )
        conn.execute(
            insert(cluster_members),
            [
                {
                    "cluster_id": row.id,
                    "quote_id": m.quote_id,
                    "relation": m.relation,
                    "score": m.score,
                    "near": m.near,
                    "diff": m.diff,
                }
                for row in rows
                for m in row.members
            ],
        )

    def clusters(
        self,
        *,
        speaker: str | None = None,
        min_outlets: int = 2,
        ids: Iterable[str] | None = None,
        updated_since: datetime | None = None,
    ) -> list[ClusterRow]:
        query = select(clusters).where(clusters.c.outlet_count >= min_outlets)
        if speaker is not None:
            query = query.where(clusters.c.speaker == speaker)
        if updated_since is not None:
            query = query.where(clusters.c.updated_at > updated_since)
        with self.engine.connect() as conn:
            if ids is None:
                heads = [dict(row._mapping) for row in conn.execute(query)]
            else:
                # In chunks: PostgreSQL takes at most 65535 parameters per statement.
                heads = []
                for chunk in _chunks(sorted(set(ids)), 500):
                    rows = conn.execute(query.where(clusters.c.id.in_(chunk)))
                    heads.extend(dict(row._mapping) for row in rows)
            # Sorted here, not in SQL, so that both backends give the same order (NULL
            # dates first, ids by code point whatever the database's collation).
            heads.sort(key=lambda h: (-h["outlet_count"], *_nulls_first(h["first_seen"]), h["id"]))
            members = self._members(conn, [h["id"] for h in heads])
        return [
            ClusterRow(
                id=h["id"],
                canonical_quote_id=h["canonical_quote_id"],
                canonical_text=h["canonical_text"],
                speaker=h["speaker"],
                earliest_doc_id=h["earliest_doc_id"],
                first_seen=h["first_seen"],
                outlets=tuple(h["outlets"]),
                members=_canonical_first(members.get(h["id"], ()), h["canonical_quote_id"]),
            )
            for h in heads
        ]

    def cluster_ids_of_quotes(self, quote_ids: Iterable[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(quote_ids), 500):
                rows = conn.execute(
                    select(cluster_members.c.quote_id, cluster_members.c.cluster_id).where(
                        cluster_members.c.quote_id.in_(chunk)
                    )
                )
                for row in rows:
                    found.setdefault(row.quote_id, set()).add(row.cluster_id)
        return found

    def _members(
        self, conn: Connection, cluster_ids: list[str]
    ) -> dict[str, tuple[MemberRow, ...]]:
        grouped: dict[str, list[MemberRow]] = {}
        for chunk in _chunks(cluster_ids, 500):
            rows = conn.execute(
                select(cluster_members, quotes.c.doc_id, quotes.c.text)
                .join(quotes, quotes.c.id == cluster_members.c.quote_id)
                .where(cluster_members.c.cluster_id.in_(chunk))
            )
            for row in rows:
                grouped.setdefault(row.cluster_id, []).append(
                    MemberRow(
                        quote_id=row.quote_id,
                        doc_id=row.doc_id,
                        text=row.text,
                        relation=row.relation,
                        score=row.score,
                        near=row.near,
                        diff=row.diff,
                    )
                )
        return {key: tuple(value) for key, value in grouped.items()}

    # -- stories -----------------------------------------------------------------------

    def save_stories(self, conn: Connection, rows: Sequence[StoryRow], *, now: datetime) -> None:
        """Insert or replace these stories and point their documents at them."""
        for chunk in _chunks([r.id for r in rows], 500):
            conn.execute(delete(stories).where(stories.c.id.in_(chunk)))
        if rows:
            conn.execute(
                insert(stories),
                [
                    {
                        "id": r.id,
                        "headline": r.headline,
                        "first_seen": r.first_seen,
                        "updated_at": now,
                    }
                    for r in rows
                ],
            )
        for row in rows:
            for chunk in _chunks(list(row.doc_ids), 500):
                conn.execute(
                    update(documents).where(documents.c.id.in_(chunk)).values(story_id=row.id)
                )

    def drop_stories(self, conn: Connection, ids: Iterable[str]) -> None:
        for chunk in _chunks(list(ids), 500):
            conn.execute(delete(stories).where(stories.c.id.in_(chunk)))

    def stories(self, *, ids: Iterable[str] | None = None) -> list[StoryRow]:
        query = select(stories)
        with self.engine.connect() as conn:
            if ids is None:
                heads = [dict(row._mapping) for row in conn.execute(query)]
            else:
                heads = []
                for chunk in _chunks(sorted(set(ids)), 500):
                    rows = conn.execute(query.where(stories.c.id.in_(chunk)))
                    heads.extend(dict(row._mapping) for row in rows)
            heads.sort(key=lambda h: (*_nulls_first(h["first_seen"]), h["id"]))
            docs: dict[str, list[str]] = {}
            wanted = [h["id"] for h in heads]
            for chunk in _chunks(wanted, 500):
                rows = conn.execute(
                    select(documents.c.id, documents.c.story_id)
                    .where(documents.c.story_id.in_(chunk))
                    .order_by(documents.c.published.asc().nulls_first(), documents.c.id)
                )
                for row in rows:
                    docs.setdefault(row.story_id, []).append(row.id)
        return [
            StoryRow(h["id"], h["headline"], h["first_seen"], tuple(docs.get(h["id"], ())))
            for h in heads
        ]

    # -- deliveries (the outbox's table) -----------------------------------------------

    def add_delivery(
        self,
        *,
        target: str,
        slot: str,
        window_start: datetime | None,
        window_end: datetime,
        reply: dict[str, Any],
        markdown: str,
        now: datetime,
    ) -> Delivery:
        """Store a rendered digest once per (target, slot); a second call returns the first."""
        existing = self.delivery(target, slot)
        if existing is not None:
            return existing
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(deliveries).values(
                        target=target,
                        slot=slot,
                        status="pending",
                        window_start=window_start,
                        window_end=window_end,
                        reply=reply,
                        markdown=markdown,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except Exception:
            # Another writer stored this slot first: the unique key keeps it single.
            raced = self.delivery(target, slot)
            if raced is None:
                raise
            return raced
        stored = self.delivery(target, slot)
        assert stored is not None
        return stored

    def delivery(self, target: str, slot: str) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deliveries).where(deliveries.c.target == target, deliveries.c.slot == slot)
            ).first()
        return _delivery(row._mapping) if row else None

    def deliveries(self, *, target: str | None = None, status: str | None = None) -> list[Delivery]:
        query = select(deliveries).order_by(deliveries.c.created_at, deliveries.c.id)
        if target is not None:
            query = query.where(deliveries.c.target == target)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        with self.engine.connect() as conn:
            return [_delivery(row._mapping) for row in conn.execute(query)]

    def due_deliveries(self, now: datetime) -> list[Delivery]:
        query = (
            select(deliveries)
            .where(deliveries.c.status != "sent", deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.created_at, deliveries.c.id)
        )
        with self.engine.connect() as conn:
            return [_delivery(row._mapping) for row in conn.execute(query)]

    def update_delivery(self, delivery_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))

    def last_sent_window_end(self, target: str) -> datetime | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(func.max(deliveries.c.window_end)).where(
                    deliveries.c.target == target, deliveries.c.status == "sent"
                )
            ).scalar_one_or_none()
        if value is None:
            return None
        return UTCDateTime().process_result_value(value, self.engine.dialect)

    def last_window_end(self, target: str, *, slot_prefix: str = "") -> datetime | None:
        """The end of the newest digest stored for the target (and, given a prefix, for
        the slots that start with it), sent or not yet."""
        query = select(func.max(deliveries.c.window_end)).where(deliveries.c.target == target)
        if slot_prefix:
            query = query.where(deliveries.c.slot.startswith(slot_prefix, autoescape=True))
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        if value is None:
            return None
        return UTCDateTime().process_result_value(value, self.engine.dialect)


def _migrate_1_to_2(conn: Connection) -> None:
    """Schema 2 adds quotes.seen and the listing indexes (until migrations move to
    Alembic)."""
    kind = "TIMESTAMP" if conn.dialect.name == "sqlite" else "TIMESTAMP WITH TIME ZONE"
    conn.execute(text(f"ALTER TABLE quotes ADD COLUMN seen {kind}"))
    first_seen = (
        select(func.coalesce(documents.c.published, documents.c.ingested_at))
        .where(documents.c.id == quotes.c.doc_id)
        .scalar_subquery()
    )
    conn.execute(update(quotes).values(seen=first_seen))
    for index in (*quotes.indexes, *clusters.indexes):
        index.create(conn, checkfirst=True)
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="2"))


def _nulls_first(moment: datetime | None) -> tuple[bool, datetime]:
    return (moment is not None, moment or datetime.min.replace(tzinfo=UTC))


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _quote_row(quote: Quote) -> dict[str, Any]:
    return {
        "id": quote.id,
        "doc_id": quote.doc_id,
        "start": quote.start,
        "end": quote.end,
        "text": quote.text,
        "speaker": quote.speaker,
        "speaker_role": quote.speaker_role,
        "cue": quote.cue,
        "partial": quote.partial,
        "attribution": quote.attribution.name,
    }


def _quote(row: Any) -> Quote:
    return Quote(
        doc_id=row["doc_id"],
        start=row["start"],
        end=row["end"],
        text=row["text"],
        speaker=row["speaker"],
        speaker_role=row["speaker_role"],
        cue=row["cue"],
        partial=bool(row["partial"]),
        attribution=Attribution[row["attribution"]],
    )


def _document(row: Any) -> Document:
    return Document(
        id=row["id"],
        source=row["source"],
        text=row["text"],
        paragraphs=tuple(Paragraph(a, b, ParagraphKind(k)) for a, b, k in row["paragraphs"]),
        cuts=tuple(Cut(a, b, CutReason(r)) for a, b, r in row["cuts"]),
        title=row["title"],
        outlet=row["outlet"],
        byline=row["byline"],
        published=row["published"],
        url=row["url"],
    )


def _delivery(row: Any) -> Delivery:
    reply = row["reply"]
    return Delivery(
        id=row["id"],
        target=row["target"],
        slot=row["slot"],
        status=row["status"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        reply=json.loads(reply) if isinstance(reply, str) else reply,
        markdown=row["markdown"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )


_META_COLUMNS = ("id", "source", "title", "outlet", "url", "published", "ingested_at", "story_id")
_RELATION_ORDER = {"verbatim": 0, "edited": 1, "merged": 2, "fragment": 3}


def _canonical_first(members: Sequence[MemberRow], canonical: str) -> tuple[MemberRow, ...]:
    return tuple(
        sorted(
            members,
            key=lambda m: (
                m.quote_id != canonical,
                _RELATION_ORDER.get(m.relation, 9),
                m.near,
                m.quote_id,
            ),
        )
    )
