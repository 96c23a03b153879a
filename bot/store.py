"""The archive on disk: documents, quotes, overlap clusters, stories and deliveries.

SQLAlchemy Core over a SQLite file by default (WAL mode, so commands read while an ingest
writes) or a PostgreSQL URL for scale. The schema is created on first start; see the
README's "Schema changes" for how later versions migrate (Alembic).

Ingests and digest windows meet at one write lock (`Store.write`, `Store.moment`): each
document's stamp and each window's end are handed out under it, strictly increasing, so
every document falls in exactly one digest window, committed before that window closes.
"""

from __future__ import annotations

import json
import struct
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlalchemy.types import TypeDecorator

from bot import messages as m
from bot import search_index
from bot.core.documents import Cut, CutReason, Document, Paragraph, ParagraphKind
from bot.core.overlaps import Link, Prepared, Relation
from bot.core.quotes import Attribution, Quote
from bot.core.statement_rules import voices

SCHEMA_VERSION = 4


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
    # Added in schema 4: the people the documents name for the statement when they
    # disagree (`speaker` is then NULL), most often named first; NULL when they agree.
    Column("disputed_speakers", JSON(none_as_null=True)),
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

# The overlap engine's own state (added in schema 3; new tables, so no migration step):
# what it derives from each quote's text, and every link it verified. A restart puts the
# engine back from these instead of deriving and verifying everything again.
quote_index = Table(
    "quote_index",
    metadata,
    Column("quote_id", String(64), ForeignKey("quotes.id"), primary_key=True),
    Column("norm", Text, nullable=False),
    Column("content", Integer, nullable=False),
    Column("shingles", LargeBinary, nullable=False),  # little-endian uint64s
)

quote_links = Table(
    "quote_links",
    metadata,
    Column("a", String(64), ForeignKey("quotes.id"), primary_key=True),
    Column("b", String(64), ForeignKey("quotes.id"), primary_key=True),
    Column("relation", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("near", Boolean, nullable=False),
    Column("span_start", Integer),
    Column("span_end", Integer),
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
    # Added in schema 3. How many of the digest's messages the platform has accepted, so
    # a retry resumes with the next; and which outbox holds the row while it sends, until
    # when (a live owner's send is never settled or taken over by another process).
    Column("parts_sent", Integer, nullable=False, server_default="0"),
    Column("owner", String(200)),
    Column("lease_until", UTCDateTime),
    UniqueConstraint("target", "slot", name="one_digest_per_target_and_slot"),
)


def spoken_by(speaker: str) -> ColumnElement[bool]:
    """The clusters that are this speaker's statement, or disputed with this speaker among
    the people the documents name (one of its printings names them)."""
    named = (
        select(cluster_members.c.cluster_id)
        .join(quotes, quotes.c.id == cluster_members.c.quote_id)
        .where(quotes.c.speaker == speaker)
    )
    return or_(
        clusters.c.speaker == speaker,
        and_(
            clusters.c.speaker.is_(None),
            clusters.c.disputed_speakers.is_not(None),
            clusters.c.id.in_(named),
        ),
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
    # Who the documents name when they disagree (`speaker` is then None), most often
    # named first; empty when they agree.
    disputed_speakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class MemberRow:
    quote_id: str
    doc_id: str
    text: str
    relation: str
    score: float
    near: bool
    diff: str | None
    speaker: str | None = None  # who this printing names (the quote's speaker)


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
    status: str  # pending | sending | sent | superseded
    window_start: datetime | None
    window_end: datetime
    reply: dict[str, Any]
    markdown: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    parts_sent: int = 0
    owner: str | None = None
    lease_until: datetime | None = None


class StaleWindow(Exception):
    """A digest of the same schedule began going out while this one was being gathered,
    so this one's window overlaps it: gather again from the new window start."""


class StorageError(Exception):
    """The database cannot be opened as configured; the message says what to fix."""

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem}. Fix: {fix}")


class StaleArchive(Exception):
    """Another writer (another process) changed the archive after the caller read the
    state it computed its write from: read again and recompute."""


@dataclass(frozen=True)
class Write:
    """An open write transaction holding the archive's write lock."""

    conn: Connection
    moment: datetime  # later than every moment handed out before: the ingest's stamp
    generation: int  # the archive's generation once this write commits


_MOMENT = "last_moment"  # the latest ingest stamp or digest window end handed out
_GENERATION = "generation"  # how many writes have changed the archive


class _OneConnectionPool(StaticPool):
    """In-memory SQLite: every connection would be a separate, empty database, so all
    share one; it is lent to one thread at a time, so that a thread's transaction is
    never committed or rolled back by another's statements."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lent = threading.RLock()

    def _do_get(self) -> ConnectionPoolEntry:
        self._lent.acquire()
        try:
            return super()._do_get()
        except BaseException:
            self._lent.release()
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        self._lent.release()


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
        """Connect, creating the SQLite file's folder and the schema on first start.
        StorageError, saying what to fix, when that cannot be done."""
        engine = _engine(url)
        store = cls(engine)
        try:
            store.create_schema()
        except DBAPIError as error:
            engine.dispose()
            shown = engine.url.render_as_string(hide_password=True)
            reason = _first_line(error.orig or error)
            problem = m.STORAGE_CANNOT_OPEN.format(url=shown, reason=reason)
            fix = m.STORAGE_FILE_FIX if engine.dialect.name == "sqlite" else m.STORAGE_SERVER_FIX
            raise StorageError(problem, fix) from None
        except StorageError:
            engine.dispose()
            raise
        return store

    @property
    def has_word_index(self) -> bool:
        """SQLite keeps an FTS5 word index for search; PostgreSQL uses its text search."""
        return self.engine.dialect.name == "sqlite"

    def create_schema(self) -> None:
        with self.engine.connect() as conn:  # refused before anything is created in it
            if inspect(conn).has_table("meta"):
                stored = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version"))
                _refuse_newer(stored.scalar_one_or_none())
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if self.has_word_index:
                search_index.create(conn)
            version = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version"))
            found = version.scalar_one_or_none()
            if found is None:
                conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(found) < SCHEMA_VERSION:
                if int(found) <= 1:
                    _migrate_1_to_2(conn)
                if int(found) <= 2:
                    _migrate_2_to_3(conn)
                _migrate_3_to_4(conn)
            else:
                _refuse_newer(found)
            _add_write_lock_rows(conn)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- the write lock ------------------------------------------------------------------

    @contextmanager
    def write(self, now: datetime, *, expect: int | None = None) -> Iterator[Write]:
        """A transaction that holds the archive's write lock until it ends, stamped with
        a moment after every moment handed out before (`now`, unless that is not later),
        and counting one more generation. `expect`: the generation the caller's state was
        read at; StaleArchive (nothing written) if another writer came in between."""
        with self.engine.begin() as conn:
            moment, generation = _take_moment(conn, now)
            if expect is not None and generation != expect:
                raise StaleArchive(f"the archive is at generation {generation}, not {expect}")
            conn.execute(
                update(meta).where(meta.c.key == _GENERATION).values(value=str(generation + 1))
            )
            yield Write(conn, moment, generation + 1)

    def moment(self, now: datetime) -> datetime:
        """`now`, or just after the last moment handed out (an ingest's stamp or a
        digest's window end) if that is not earlier, taken under the write lock. A digest
        whose window ends at this moment holds every document stamped up to it, all
        committed, and none that commits later: those are stamped after it."""
        with self.engine.begin() as conn:
            return _take_moment(conn, now)[0]

    def generation(self) -> int:
        """How many writes have changed the archive: a reader's state is current while
        this has not moved."""
        with self.engine.connect() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == _GENERATION))
            return int(value.scalar_one_or_none() or 0)

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

    # -- the overlap engine's state ----------------------------------------------------

    def add_overlap_state(
        self, conn: Connection, prepared: Sequence[Prepared], links: Sequence[Link]
    ) -> None:
        """New quotes' derived data and the links they made, in the caller's transaction."""
        if prepared:
            conn.execute(insert(quote_index), [_prepared_row(p) for p in prepared])
        if links:
            conn.execute(insert(quote_links), [_link_row(link) for link in links])

    def replace_overlap_state(
        self, conn: Connection, prepared: Sequence[Prepared], links: Sequence[Link]
    ) -> None:
        """The whole engine's state, replacing what was stored (a one-off rebuild)."""
        conn.execute(delete(quote_links))
        conn.execute(delete(quote_index))
        self.add_overlap_state(conn, prepared, links)

    def overlap_state(self) -> tuple[list[tuple[Quote, Prepared | None]], list[Link]]:
        """Every quote with its stored derived data (None where a briefbot before schema
        3 stored the quote), and every stored link."""
        query = select(*_QUOTE_COLUMNS, quote_index.c.norm, quote_index.c.content).add_columns(
            quote_index.c.shingles
        )
        query = query.outerjoin(quote_index, quote_index.c.quote_id == quotes.c.id)
        found: list[tuple[Quote, Prepared | None]] = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                quote = _quote_from_tuple(row)
                if row.norm is None:
                    found.append((quote, None))
                    continue
                blob = row.shingles
                shingles = struct.unpack(f"<{len(blob) // 8}Q", blob)
                found.append((quote, Prepared(quote.id, row.norm, row.content, shingles)))
            # Read after the quotes: every link's quotes were committed with it or before.
            links = [_link(*row) for row in conn.execute(select(*quote_links.c))]
        return found, links

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
                    "disputed_speakers": list(row.disputed_speakers) or None,
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
            query = query.where(spoken_by(speaker))
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
                disputed_speakers=tuple(h["disputed_speakers"] or ()),
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
                select(cluster_members, quotes.c.doc_id, quotes.c.text, quotes.c.speaker)
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
                        speaker=row.speaker,
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
        supersede_prefix: str | None = None,
    ) -> Delivery:
        """Store a rendered digest once per (target, slot); a second call returns the first.

        With `supersede_prefix` (a schedule's slot prefix), the schedule's older digests
        for the target that have not begun going out and whose windows this one covers
        are marked superseded in the same transaction: a target that could not be
        reached for days gets one catch-up digest, not one per missed slot. Raises
        StaleWindow if one of them began going out after the window was chosen.
        """
        existing = self.delivery(target, slot)
        if existing is not None:
            return existing
        try:
            with self.engine.begin() as conn:
                if supersede_prefix is not None:
                    _supersede(conn, target, supersede_prefix, window_start, slot)
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
                        parts_sent=0,
                    )
                )
        except StaleWindow:
            raise
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

    def delivery_by_id(self, delivery_id: int) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
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
        """Digests still to go out (or to confirm) whose next attempt is due."""
        query = (
            select(deliveries)
            .where(
                deliveries.c.status.in_(("pending", "sending")),
                deliveries.c.next_attempt_at <= now,
            )
            .order_by(deliveries.c.created_at, deliveries.c.id)
        )
        with self.engine.connect() as conn:
            return [_delivery(row._mapping) for row in conn.execute(query)]

    def update_delivery(
        self, delivery_id: int, *, expect: Mapping[str, Any] | None = None, **values: Any
    ) -> bool:
        """Set `values` on the delivery, only if its columns still hold what `expect` says
        (None meaning NULL): a compare-and-set, so two outboxes never both take a row.
        Whether the row was changed."""
        condition = [deliveries.c.id == delivery_id]
        for name, value in (expect or {}).items():
            column = deliveries.c[name]
            condition.append(column.is_(None) if value is None else column == value)
        with self.engine.begin() as conn:
            result = conn.execute(update(deliveries).where(*condition).values(**values))
        return bool(result.rowcount)

    def wake_deliveries(self, target_prefix: str, now: datetime) -> int:
        """Make the waiting digests of targets starting with `target_prefix` due now (a
        platform just connected); how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.target.startswith(target_prefix, autoescape=True),
                    deliveries.c.status.in_(("pending", "sending")),
                    deliveries.c.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            )
        return int(result.rowcount)

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
        """Where the target's next digest starts: the end of the newest digest stored for
        it (and, given a prefix, for the slots that start with it) that has begun going
        out, sent or not yet. A digest still waiting with nothing posted does not count:
        the next one covers its window too and supersedes it (see `add_delivery`)."""
        query = select(func.max(deliveries.c.window_end)).where(
            deliveries.c.target == target, _begun()
        )
        if slot_prefix:
            query = query.where(deliveries.c.slot.startswith(slot_prefix, autoescape=True))
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        if value is None:
            return None
        return UTCDateTime().process_result_value(value, self.engine.dialect)


def _begun() -> Any:
    """Deliveries that have begun going out: sent, being sent, or with a part posted."""
    return or_(
        deliveries.c.status.in_(("sent", "sending")),
        deliveries.c.parts_sent > 0,
        deliveries.c.owner.is_not(None),
    )


def _supersede(
    conn: Connection, target: str, prefix: str, window_start: datetime | None, slot: str
) -> None:
    """Mark superseded the schedule's digests a new one starting at `window_start`
    covers; StaleWindow if a digest that began going out overlaps the new window."""
    schedule = (
        deliveries.c.target == target,
        deliveries.c.slot.startswith(prefix, autoescape=True),
    )
    # Write first: that takes SQLite's write lock (or these rows' locks on PostgreSQL)
    # before anything is read, so no outbox claims one of them between read and update.
    conn.execute(update(deliveries).where(*schedule).values(status=deliveries.c.status))
    query = select(deliveries).where(*schedule, deliveries.c.status != "superseded")
    if window_start is not None:
        query = query.where(deliveries.c.window_end > window_start)
    covered: list[int] = []
    for row in conn.execute(query):
        begun = row.status != "pending" or row.parts_sent > 0 or row.owner is not None
        if begun:
            raise StaleWindow(f"{target} {row.slot} began going out; gather again")
        if window_start is None or (
            row.window_start is not None and row.window_start >= window_start
        ):
            covered.append(row.id)
    if not covered:
        return
    result = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.id.in_(covered),
            deliveries.c.status == "pending",
            deliveries.c.parts_sent == 0,
            deliveries.c.owner.is_(None),
        )
        .values(status="superseded", last_error=f"superseded by {slot}")
    )
    if result.rowcount != len(covered):
        raise StaleWindow(f"a digest for {target} began going out; gather again")


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


def _migrate_2_to_3(conn: Connection) -> None:
    """Schema 3 records each digest's progress and its sender's claim."""
    kind = "TIMESTAMP" if conn.dialect.name == "sqlite" else "TIMESTAMP WITH TIME ZONE"
    columns = {
        "parts_sent": "INTEGER NOT NULL DEFAULT 0",
        "owner": "VARCHAR(200)",
        "lease_until": kind,
    }
    present = {column["name"] for column in inspect(conn).get_columns("deliveries")}
    for name, definition in columns.items():
        if name not in present:
            conn.execute(text(f"ALTER TABLE deliveries ADD COLUMN {name} {definition}"))
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="3"))


def _migrate_3_to_4(conn: Connection) -> None:
    """Schema 4 keeps who the documents name for a statement when they disagree. Clusters
    stored before it have no speaker when disputed; their names are worked out from the
    stored printings, as the overlap engine names them."""
    present = {column["name"] for column in inspect(conn).get_columns("clusters")}
    if "disputed_speakers" not in present:
        conn.execute(text("ALTER TABLE clusters ADD COLUMN disputed_speakers JSON"))
    printed: dict[str, list[tuple[str | None, str | None]]] = {}
    rows = conn.execute(
        select(cluster_members.c.cluster_id, quotes.c.speaker, quotes.c.speaker_role)
        .join(quotes, quotes.c.id == cluster_members.c.quote_id)
        .join(clusters, clusters.c.id == cluster_members.c.cluster_id)
        .where(clusters.c.speaker.is_(None))
    )
    for cluster_id, speaker, role in rows:
        printed.setdefault(cluster_id, []).append((speaker, role))
    for cluster_id, named in sorted(printed.items()):
        disputed = voices([speaker for speaker, _ in named], named)
        if len(disputed) > 1:
            conn.execute(
                update(clusters)
                .where(clusters.c.id == cluster_id)
                .values(disputed_speakers=list(disputed))
            )
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="4"))


def _engine(url: str) -> Engine:
    """The SQLAlchemy engine for a storage URL; StorageError for a URL that cannot work."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(m.STORAGE_NOT_A_URL.format(url=url), m.STORAGE_URL_FIX) from None
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            shared = {"check_same_thread": False}  # one connection for every thread
            options = {"poolclass": _OneConnectionPool, "connect_args": shared}
        elif not parsed.query.get("uri"):
            _make_folder(Path(parsed.database).parent)
    try:
        engine = create_engine(parsed, **options)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        shown = parsed.render_as_string(hide_password=True)
        problem = m.STORAGE_NO_DRIVER.format(url=shown, reason=_first_line(error))
        raise StorageError(problem, m.STORAGE_URL_FIX) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _make_folder(folder: Path) -> None:
    """The database file's own folder, made if missing; never a chain of folders (a typo
    in the path must not create /nonexistent/dir)."""
    if folder.is_dir():
        return
    if not folder.parent.is_dir():
        raise StorageError(m.STORAGE_NO_FOLDER.format(folder=folder.parent), m.STORAGE_FOLDER_FIX)
    try:
        folder.mkdir()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise StorageError(
            m.STORAGE_FOLDER_FAILED.format(folder=folder, reason=reason), m.STORAGE_FOLDER_FIX
        ) from None


def _refuse_newer(found: str | None) -> None:
    if found is not None and int(found) > SCHEMA_VERSION:
        raise StorageError(
            m.STORAGE_NEWER.format(found=found, supported=SCHEMA_VERSION), m.STORAGE_NEWER_FIX
        )


def _add_write_lock_rows(conn: Connection) -> None:
    """The rows `Store.write` and `Store.moment` lock and update, made once."""
    found = set(conn.execute(select(meta.c.key).where(meta.c.key.in_((_MOMENT, _GENERATION)))))
    if (_GENERATION,) not in found:
        conn.execute(insert(meta).values(key=_GENERATION, value="0"))
    if (_MOMENT,) not in found:
        # A database from before these rows: start after everything already stamped.
        last = conn.execute(select(func.max(documents.c.ingested_at))).scalar_one_or_none()
        ends = conn.execute(select(func.max(deliveries.c.window_end))).scalar_one_or_none()
        moments = [
            UTCDateTime().process_result_value(value, conn.dialect)
            for value in (last, ends)
            if value is not None
        ]
        value = max(x for x in moments if x is not None).isoformat() if moments else ""
        conn.execute(insert(meta).values(key=_MOMENT, value=value))


def _take_moment(conn: Connection, now: datetime) -> tuple[datetime, int]:
    """Take the write lock, then the next moment; returns it and the generation."""
    # Writing first takes SQLite's database write lock (the transaction begins at this
    # statement), or this row's lock on PostgreSQL, held until the transaction ends.
    conn.execute(update(meta).where(meta.c.key == _MOMENT).values(value=meta.c.value))
    rows = conn.execute(
        select(meta.c.key, meta.c.value).where(meta.c.key.in_((_MOMENT, _GENERATION)))
    )
    values = {row.key: row.value for row in rows}
    if now.tzinfo is None:
        raise ValueError("naive datetime given to the store; pass an aware one")
    moment = now.astimezone(UTC)
    if values.get(_MOMENT):
        moment = max(moment, datetime.fromisoformat(values[_MOMENT]) + timedelta(microseconds=1))
    conn.execute(update(meta).where(meta.c.key == _MOMENT).values(value=moment.isoformat()))
    return moment, int(values.get(_GENERATION) or 0)


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


_QUOTE_COLUMNS = (
    quotes.c.doc_id,
    quotes.c.start,
    quotes.c.end,
    quotes.c.text,
    quotes.c.speaker,
    quotes.c.speaker_role,
    quotes.c.cue,
    quotes.c.partial,
    quotes.c.attribution,
)


def _quote_from_tuple(row: Any) -> Quote:
    """A Quote from a row of _QUOTE_COLUMNS first (by position: a restart reads them all)."""
    doc_id, start, end, quote_text, speaker, role, cue, partial, attribution = row[:9]
    attributed = _ATTRIBUTIONS[attribution]
    return Quote(doc_id, start, end, quote_text, speaker, role, cue, bool(partial), attributed)


def _prepared_row(prepared: Prepared) -> dict[str, Any]:
    return {
        "quote_id": prepared.quote_id,
        "norm": prepared.norm,
        "content": prepared.content,
        "shingles": struct.pack(f"<{len(prepared.shingles)}Q", *prepared.shingles),
    }


def _link_row(link: Link) -> dict[str, Any]:
    start, end = link.span if link.span is not None else (None, None)
    return {
        "a": link.a,
        "b": link.b,
        "relation": link.relation.value,
        "score": link.score,
        "near": link.near,
        "span_start": start,
        "span_end": end,
    }


def _link(
    a: str, b: str, relation: str, score: float, near: bool, start: int | None, end: int | None
) -> Link:
    span = None if start is None or end is None else (start, end)
    return Link(a, b, _RELATIONS[relation], score, bool(near), span)


# By name, looked up once: a restart reads every quote and link.
_RELATIONS = {relation.value: relation for relation in Relation}
_ATTRIBUTIONS = {attribution.name: attribution for attribution in Attribution}


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
        parts_sent=row["parts_sent"],
        owner=row["owner"],
        lease_until=row["lease_until"],
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
