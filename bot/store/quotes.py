"""The quotes: read back by id, document or speaker, counted per speaker, and found by
their words. They are stored with their documents (`DocumentQueries.add_documents`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot import search_index
from bot.core.quotes import Quote
from bot.store.portable import chunks
from bot.store.rows import quote_from_row
from bot.store.schema import quotes


class QuoteQueries:
    """The store's quotes (part of `Store`)."""

    engine: Engine

    def all_quotes(self) -> list[Quote]:
        with self.engine.connect() as conn:
            return [quote_from_row(row._mapping) for row in conn.execute(select(quotes))]

    def quotes_by_ids(self, ids: Iterable[str]) -> dict[str, Quote]:
        found: dict[str, Quote] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(ids)):
                for row in conn.execute(select(quotes).where(quotes.c.id.in_(chunk))):
                    found[row.id] = quote_from_row(row._mapping)
        return found

    def quotes_by_documents(self, doc_ids: Iterable[str]) -> list[Quote]:
        found: list[Quote] = []
        with self.engine.connect() as conn:
            for chunk in chunks(list(doc_ids)):
                rows = conn.execute(
                    select(quotes)
                    .where(quotes.c.doc_id.in_(chunk))
                    .order_by(quotes.c.doc_id, quotes.c.start)
                )
                found.extend(quote_from_row(row._mapping) for row in rows)
        return found

    def quotes_by_speaker(self, speaker: str) -> list[Quote]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(quotes).where(quotes.c.speaker == speaker))
            return [quote_from_row(row._mapping) for row in rows]

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
