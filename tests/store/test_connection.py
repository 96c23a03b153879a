"""Opening the database: its folder, one clear error when it cannot be opened, the shared
in-memory connection, and SQLite's WAL mode."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.store import StorageError, Store
from tests.archive_fixtures import T0
from tests.store.samples import REUTERS, WAIT, article, store_documents, store_documents_in


def test_the_sqlite_file_folder_is_made_on_first_start(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'var' / 'briefbot.db'}")
    assert (tmp_path / "var" / "briefbot.db").is_file()
    store.close()


def test_only_the_files_own_folder_is_made_never_a_chain_of_them(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"^the folder .*/missing does not exist\. Fix: "):
        Store.open(f"sqlite:///{tmp_path / 'missing' / 'var' / 'briefbot.db'}")
    assert not (tmp_path / "missing").exists()  # a typo in the path creates nothing


# -- storage errors: one line saying what to fix, never a traceback ------------------------------


@pytest.mark.parametrize(
    ("bad_url", "problem"),
    [
        ("notaurl", "'notaurl' is not a database URL"),
        ("nosuchdb://host/x", "cannot use nosuchdb://host/x: "),
        ("sqlite:////proc/briefbot/x.db", "cannot create the folder /proc/briefbot: "),
        (
            "postgresql+psycopg://someone:secret@127.0.0.1:1/test",
            "cannot open postgresql+psycopg://someone:***@127.0.0.1:1/test: ",
        ),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_clear_error(bad_url: str, problem: str) -> None:
    with pytest.raises(StorageError) as refused:
        Store.open(bad_url)
    message = str(refused.value)
    assert message.startswith(problem)
    assert ". Fix: " in message and "\n" not in message
    assert "secret" not in message  # the password is never shown


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database " * 100)
    with pytest.raises(StorageError, match=r"^cannot open sqlite:///.*notes.db: file is not a"):
        Store.open(f"sqlite:///{tmp_path / 'notes.db'}")


# -- in memory: one database for every thread ------------------------------------------------


@pytest.mark.parametrize("memory_url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_store_is_one_database_shared_by_threads(memory_url: str) -> None:
    store = Store.open(memory_url)
    document = article(REUTERS, name="reuters.txt")
    writer = threading.Thread(target=lambda: store_documents(store, [document]))
    writer.start()
    writer.join()
    assert store.known_document_ids([document.id]) == {document.id}
    store.close()


def test_an_in_memory_stores_connection_serves_one_thread_at_a_time() -> None:
    store = Store.open("sqlite://")
    document = article(REUTERS, name="reuters.txt")
    entered, release = threading.Event(), threading.Event()
    seen: list[set[str]] = []

    def ingest() -> None:
        with store.write(T0) as write:
            store_documents_in(store, write.conn, [document])
            entered.set()
            assert release.wait(WAIT)

    writer = threading.Thread(target=ingest)
    writer.start()
    assert entered.wait(WAIT)
    reader = threading.Thread(target=lambda: seen.append(store.known_document_ids([document.id])))
    reader.start()
    reader.join(0.3)  # had it shared the open transaction, it would have ended it
    release.set()
    writer.join(WAIT)
    reader.join(WAIT)
    assert seen == [{document.id}]  # it read after the commit
    assert store.known_document_ids([document.id]) == {document.id}
    store.close()


# -- SQLite: WAL, so that commands read while an ingest writes -----------------------------


def test_sqlite_runs_in_wal_mode(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_reader_is_not_blocked_by_an_open_write_transaction(
    sqlite_store: Store, tmp_path: Path
) -> None:
    old = article("Old\n\nAlready there.\n", name="old.txt")
    new = article("New\n\nBeing written.\n", name="new.txt")
    with sqlite_store.transaction() as conn:
        sqlite_store.add_documents(conn, [(old, [], [])], now=T0)
    with sqlite_store.engine.connect() as writer:
        writer.begin()
        sqlite_store.add_documents(writer, [(new, [], [])], now=T0)
        # A second, independent connection that gives up at once if it has to wait.
        reader = sqlite3.connect(tmp_path / "briefbot.db", timeout=0)
        try:
            ids = [row[0] for row in reader.execute("SELECT id FROM documents")]
        finally:
            reader.close()
        assert ids == [old.id]  # the uncommitted write is not seen, and nothing waited
        assert sqlite_store.known_document_ids([old.id, new.id]) == {old.id}
        writer.commit()
    assert sqlite_store.known_document_ids([old.id, new.id]) == {old.id, new.id}


def test_a_writer_commits_while_a_reader_holds_its_snapshot(
    sqlite_store: Store, tmp_path: Path
) -> None:
    old = article("Old\n\nAlready there.\n", name="old.txt")
    new = article("New\n\nBeing written.\n", name="new.txt")
    with sqlite_store.transaction() as conn:
        sqlite_store.add_documents(conn, [(old, [], [])], now=T0)
    reader = sqlite3.connect(tmp_path / "briefbot.db", timeout=0, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert [row[0] for row in reader.execute("SELECT id FROM documents")] == [old.id]
        with sqlite_store.engine.connect() as writer:
            writer.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once rather than wait
            writer.commit()
            with writer.begin():
                sqlite_store.add_documents(writer, [(new, [], [])], now=T0)
        # The reader still sees its snapshot; a new read sees the commit.
        assert [row[0] for row in reader.execute("SELECT id FROM documents")] == [old.id]
        reader.execute("COMMIT")
        ids = {row[0] for row in reader.execute("SELECT id FROM documents")}
        assert ids == {old.id, new.id}
    finally:
        reader.close()
