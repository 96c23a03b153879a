"""`Store`, the archive on disk: opened from a storage URL, its schema made or brought up
to date, and its queries, one concept per module:

- `write_lock`: the write lock and the moments (ingest stamps, digest window ends);
- `documents` and `quotes`: what was ingested, and search;
- `overlap_state`: the overlap engine's derived data and verified links;
- `clusters` and `stories`: what the analysis made of them;
- `deliveries`: the outbox's digests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from bot import search_index
from bot.store.clusters import ClusterQueries
from bot.store.connection import StorageError, cannot_open, open_engine
from bot.store.deliveries import DeliveryQueries
from bot.store.documents import DocumentQueries
from bot.store.migrations import bring_up_to_date, refuse_newer
from bot.store.overlap_state import OverlapStateQueries
from bot.store.quotes import QuoteQueries
from bot.store.schema import metadata
from bot.store.stories import StoryQueries
from bot.store.write_lock import WriteLock, add_write_lock_rows


class Store(
    WriteLock,
    DocumentQueries,
    QuoteQueries,
    OverlapStateQueries,
    ClusterQueries,
    StoryQueries,
    DeliveryQueries,
):
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect, creating the SQLite file's folder and the schema on first start.
        StorageError, saying what to fix, when that cannot be done."""
        engine = open_engine(url)
        store = cls(engine)
        try:
            store.create_schema()
        except DBAPIError as error:
            engine.dispose()
            raise cannot_open(engine, error) from None
        except StorageError:
            engine.dispose()
            raise
        return store

    def create_schema(self) -> None:
        with self.engine.connect() as conn:  # refused before anything is created in it
            refuse_newer(conn)
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if self.has_word_index:
                search_index.create(conn)
            bring_up_to_date(conn)
            add_write_lock_rows(conn)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn
