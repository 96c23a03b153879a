"""Fixtures of the store's tests: each runs on a SQLite file and on a PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.core.documents import Document
from bot.core.quotes import Quote
from bot.store import Store
from tests.archive_fixtures import (
    BACKENDS,
    T0,
    PostgresDatabases,
    open_empty_store,
    postgres_databases,
    sqlite_url,
)
from tests.store.samples import REUTERS, TASS, article, quote_in


@pytest.fixture(scope="package")
def postgres() -> Iterator[PostgresDatabases]:
    """One PostgreSQL database for the package's tests; each test empties it first."""
    with postgres_databases() as databases:
        yield databases


@pytest.fixture(scope="package")
def postgres_url(postgres: PostgresDatabases) -> str:
    return postgres.create()


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    opened = open_empty_store(url)
    yield opened
    opened.close()


@pytest.fixture
def stored(store: Store) -> tuple[Document, Document, list[Quote]]:
    """Two documents and their quotes, stored at T0."""
    first = article(REUTERS, name="reuters.txt", published=datetime(2016, 11, 10, tzinfo=UTC))
    second = article(
        TASS,
        name="tass.txt",
        outlet="TASS",
        published=datetime(2016, 11, 11, 15, 30, tzinfo=timezone(timedelta(hours=3))),
        url="https://example.org/tass/1",
    )
    quotes = [
        quote_in(first, "An atmosphere of mutual trust takes years to achieve", "Dmitry Peskov"),
        quote_in(first, "We are 100% sure of it, and snake_case is not a word", "Dmitry Peskov"),
        quote_in(second, "Атмосфера доверия требует лет", "Dmitry Peskov"),
        quote_in(second, "An atmosphere of mutual trust takes years to achieve", None),
    ]
    with store.transaction() as conn:
        store.add_documents(
            conn,
            [
                (first, quotes[:2], [(0, 29), (88, 150)]),
                (second, quotes[2:], [(34, 80)]),
            ],
            now=T0,
        )
    return first, second, quotes


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(sqlite_url(tmp_path))
    yield opened
    opened.close()
