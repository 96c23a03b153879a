"""Documents stored and read back, listed and found by their words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import StatementError

from bot.core.documents import CutReason, Document
from bot.core.quotes import Quote
from bot.store import Store
from tests.archive_fixtures import T0
from tests.store.samples import article


def test_documents_come_back_as_they_went_in(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, second, _ = stored
    assert store.document(first.id) == first
    assert store.documents_by_ids([first.id, second.id, "missing"]) == {
        first.id: first,
        second.id: second,
    }
    assert store.document("missing") is None
    assert [c.reason for c in first.cuts] == [CutReason.COMMENTS]  # kept, not deleted
    assert store.known_document_ids([first.id, "missing"]) == {first.id}
    assert store.summary_spans(first.id) == [(0, 29), (88, 150)]
    assert store.summary_spans("missing") == []


def test_datetimes_come_back_aware_and_in_utc(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    _, second, _ = stored
    found = store.document_meta([second.id])[second.id]
    assert found.published == datetime(2016, 11, 11, 12, 30, tzinfo=UTC)
    assert found.published.utcoffset() == timedelta(0)
    assert found.ingested_at == T0
    assert found.label == "TASS"
    assert found.url == "https://example.org/tass/1"


def test_a_naive_datetime_is_refused(store: Store) -> None:
    document = article("Title\n\nBody text here.\n", name="naive.txt")
    with (
        pytest.raises((ValueError, StatementError), match="naive datetime"),
        store.transaction() as conn,
    ):
        store.add_documents(conn, [(document, [], [])], now=datetime(2024, 1, 1))
    assert store.known_document_ids([document.id]) == set()


def test_documents_are_listed_by_date_undated_first_on_every_backend(store: Store) -> None:
    dated = [
        article(
            f"Title {n}\n\nBody {n}.\n",
            name=f"{n}.txt",
            published=datetime(2016, 11, n, tzinfo=UTC),
        )
        for n in (12, 3, 7)
    ]
    undated = article("Undated\n\nNo date here.\n", name="undated.txt")
    with store.transaction() as conn:
        store.add_documents(conn, [(d, [], []) for d in [*dated, undated]], now=T0)
    listed = list(store.document_meta().values())
    assert [d.published.day if d.published else None for d in listed] == [None, 3, 7, 12]
    assert set(store.search_documents("body", limit=10)) == {d.id for d in dated}


def test_ingested_since_is_strictly_after_the_given_moment(store: Store) -> None:
    earlier = article("One\n\nFirst body.\n", name="one.txt")
    later = article("Two\n\nSecond body.\n", name="two.txt")
    with store.transaction() as conn:
        store.add_documents(conn, [(earlier, [], [])], now=T0)
        store.add_documents(conn, [(later, [], [])], now=T0 + timedelta(hours=1))
    assert store.ingested_since(None) == [earlier.id, later.id]
    assert store.ingested_since(T0 - timedelta(seconds=1)) == [earlier.id, later.id]
    assert store.ingested_since(T0) == [later.id]
    assert store.ingested_since(T0 + timedelta(hours=1)) == []
