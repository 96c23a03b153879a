"""The stories: groups of documents about the same events, each document pointing at its
story."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from bot.store.portable import chunks, nulls_first
from bot.store.rows import StoryRow
from bot.store.schema import documents, stories


class StoryQueries:
    """The store's stories (part of `Store`)."""

    engine: Engine

    def save_stories(self, conn: Connection, rows: Sequence[StoryRow], *, now: datetime) -> None:
        """Insert or replace these stories and point their documents at them."""
        for chunk in chunks([r.id for r in rows]):
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
            for chunk in chunks(list(row.doc_ids)):
                conn.execute(
                    update(documents).where(documents.c.id.in_(chunk)).values(story_id=row.id)
                )

    def drop_stories(self, conn: Connection, ids: Iterable[str]) -> None:
        for chunk in chunks(list(ids)):
            conn.execute(delete(stories).where(stories.c.id.in_(chunk)))

    def stories(self, *, ids: Iterable[str] | None = None) -> list[StoryRow]:
        query = select(stories)
        with self.engine.connect() as conn:
            if ids is None:
                heads = [dict(row._mapping) for row in conn.execute(query)]
            else:
                heads = []
                for chunk in chunks(sorted(set(ids))):
                    rows = conn.execute(query.where(stories.c.id.in_(chunk)))
                    heads.extend(dict(row._mapping) for row in rows)
            heads.sort(key=lambda h: (*nulls_first(h["first_seen"]), h["id"]))
            docs: dict[str, list[str]] = {}
            wanted = [h["id"] for h in heads]
            for chunk in chunks(wanted):
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
