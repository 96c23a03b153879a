"""Opening the database: a storage URL made into a SQLAlchemy engine, and StorageError
for one that cannot work, saying what to fix.

SQLite gets its pragmas on every connection (WAL, so commands read while an ingest
writes); in memory, every thread shares the one connection. PostgreSQL needs nothing
more than its URL (and the `postgres` extra's driver).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from bot import messages as m


class StorageError(Exception):
    """The database cannot be opened as configured; the message says what to fix."""

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem}. Fix: {fix}")


def open_engine(url: str) -> Engine:
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


def cannot_open(engine: Engine, error: DBAPIError) -> StorageError:
    """The StorageError for a database the driver could not open or set up (the
    password never shown)."""
    shown = engine.url.render_as_string(hide_password=True)
    reason = _first_line(error.orig or error)
    problem = m.STORAGE_CANNOT_OPEN.format(url=shown, reason=reason)
    fix = m.STORAGE_FILE_FIX if engine.dialect.name == "sqlite" else m.STORAGE_SERVER_FIX
    return StorageError(problem, fix)


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
