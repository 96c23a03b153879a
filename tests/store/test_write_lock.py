"""The write lock and the moments handed out under it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from bot.store import StaleArchive, Store
from tests.archive_fixtures import T0
from tests.store.samples import REUTERS, WAIT, article, store_documents_in


def test_moments_only_ever_move_forward(store: Store) -> None:
    assert store.moment(T0) == T0
    assert store.moment(T0 - timedelta(hours=1)) == T0 + timedelta(microseconds=1)
    with store.write(T0) as write:  # a clock that went back, or an ingest that began earlier
        assert write.moment == T0 + timedelta(microseconds=2)
    later = T0 + timedelta(hours=1)
    assert store.moment(later.astimezone(timezone(timedelta(hours=3)))) == later


def test_a_moment_waits_for_the_write_in_progress_and_comes_after_it(store: Store) -> None:
    entered, release = threading.Event(), threading.Event()
    seen: dict[str, datetime] = {}

    def ingest() -> None:
        with store.write(T0) as write:
            seen["write"] = write.moment
            entered.set()
            assert release.wait(WAIT)

    def digest() -> None:
        seen["digest"] = store.moment(T0 - timedelta(minutes=5))

    writer = threading.Thread(target=ingest)
    writer.start()
    assert entered.wait(WAIT)
    reader = threading.Thread(target=digest)
    reader.start()
    reader.join(0.3)  # give it every chance to slip in before the write commits
    release.set()
    writer.join(WAIT)
    reader.join(WAIT)
    # Had it not waited, it would have read the moment before the write's (T0 - 5 min).
    assert seen["digest"] > seen["write"] == T0


def test_a_write_from_a_stale_reading_is_refused_and_changes_nothing(store: Store) -> None:
    read_at = store.generation()
    with store.write(T0, expect=read_at) as write:  # another process writes first
        assert write.generation == read_at + 1
    with pytest.raises(StaleArchive), store.write(T0, expect=read_at) as write:
        store_documents_in(store, write.conn, [article(REUTERS, name="late.txt")])
    assert store.generation() == read_at + 1
    assert store.document_meta() == {}


def test_writes_held_keeps_writers_out_and_changes_nothing(store: Store) -> None:
    generation, moment = store.generation(), store.moment(T0)
    written = threading.Event()
    stamps: list[datetime] = []

    def ingest() -> None:
        with store.write(T0) as write:
            stamps.append(write.moment)
            store_documents_in(store, write.conn, [article(REUTERS, name="late.txt")])
        written.set()

    writer = threading.Thread(target=ingest)
    with store.writes_held():
        writer.start()
        assert not written.wait(0.3)  # the writer waits for the lock
        assert store.document_meta() == {}  # and readers see the state before it
    writer.join(WAIT)
    assert written.is_set()
    # Holding the lock wrote nothing: the ingest is the one write, stamped after the moment.
    assert store.generation() == generation + 1
    assert len(store.document_meta()) == 1
    assert stamps == [moment + timedelta(microseconds=1)]
