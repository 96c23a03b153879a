"""The archive's one write lock, and the moments handed out under it.

Ingests and digest windows meet here (`Store.write`, `Store.moment`): each document's
stamp and each window's end are handed out under the lock, strictly increasing, so every
document falls in exactly one digest window, committed before that window closes. Both
are rows of the `meta` table, with the count of writes (the archive's generation).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from bot.store.schema import UTCDateTime, deliveries, documents, meta

_MOMENT = "last_moment"  # the latest ingest stamp or digest window end handed out
_GENERATION = "generation"  # how many writes have changed the archive


class StaleArchive(Exception):
    """Another writer (another process) changed the archive after the caller read the
    state it computed its write from: read again and recompute."""


@dataclass(frozen=True)
class Write:
    """An open write transaction holding the archive's write lock."""

    conn: Connection
    moment: datetime  # later than every moment handed out before: the ingest's stamp
    generation: int  # the archive's generation once this write commits


class WriteLock:
    """The store's write lock (part of `Store`)."""

    engine: Engine

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

    @contextmanager
    def writes_held(self) -> Iterator[None]:
        """The write lock held and nothing written: reads made meanwhile (on other
        connections) all see one state, as no ingest can commit until this ends."""
        with self.engine.connect() as conn, conn.begin() as transaction:
            _lock(conn)
            yield
            transaction.rollback()

    def generation(self) -> int:
        """How many writes have changed the archive: a reader's state is current while
        this has not moved."""
        with self.engine.connect() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == _GENERATION))
            return int(value.scalar_one_or_none() or 0)


def add_write_lock_rows(conn: Connection) -> None:
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
    _lock(conn)
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


def _lock(conn: Connection) -> None:
    """Take the archive's write lock until the transaction ends. Writing takes SQLite's
    database write lock (the transaction begins at this statement), or this row's lock
    on PostgreSQL; the row is written unchanged."""
    conn.execute(update(meta).where(meta.c.key == _MOMENT).values(value=meta.c.value))
