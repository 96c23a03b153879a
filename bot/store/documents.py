"""The documents: stored with their quotes and summaries, read back whole or as metadata,
and found by their words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from bot import search_index
from bot.core.documents import Document
from bot.core.quotes import Quote
from bot.store.portable import chunks
from bot.store.rows import DocumentMeta, document_from_row, document_values, quote_values
from bot.store.schema import UTCDateTime, documents, quotes

_META_COLUMNS = ("id", "source", "title", "outlet", "url", "published", "ingested_at", "story_id")


class DocumentQueries:
    """The store's documents (part of `Store`)."""

    engine: Engine

    @property
    def has_word_index(self) -> bool:
        """SQLite keeps an FTS5 word index for search; PostgreSQL uses its text search."""
        return self.engine.dialect.name == "sqlite"

    def known_document_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
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
            [document_values(doc, summary, now=now) for doc, _quotes, summary in items],
        )
        rows = [
            {**quote_values(q), "seen": doc.published or now}
            for doc, doc_quotes, _summary in items
            for q in doc_quotes
        ]
        if rows:
            conn.execute(insert(quotes), rows)
        if self.has_word_index:
            search_index.add(
                conn,
                [(doc.id, doc.title, doc.text) for doc, _quotes, _summary in items],
                [(row["id"], row["doc_id"], row["speaker"], row["text"]) for row in rows],
            )

    def document(self, doc_id: str) -> Document | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
        return document_from_row(row._mapping) if row else None

    def documents_by_ids(self, ids: Iterable[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(ids)):
                for row in conn.execute(select(documents).where(documents.c.id.in_(chunk))):
                    found[row.id] = document_from_row(row._mapping)
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
                for chunk in chunks(list(ids)):
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

    def last_ingested_at(self) -> datetime | None:
        """When the newest document arrived: tells a cache whether the archive changed."""
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(documents.c.ingested_at))).scalar_one_or_none()
        if value is None:
            return None
        return UTCDateTime().process_result_value(value, self.engine.dialect)

    def ingested_since(self, since: datetime | None) -> list[str]:
        query = select(documents.c.id).order_by(documents.c.ingested_at, documents.c.id)
        if since is not None:
            query = query.where(documents.c.ingested_at > since)
        with self.engine.connect() as conn:
            return [row.id for row in conn.execute(query)]

    def search_documents(self, needle: str, *, limit: int) -> list[str]:
        """Ids of documents whose title or text holds these words, newest first."""
        with self.engine.connect() as conn:
            return search_index.document_ids(conn, needle, limit=limit)
