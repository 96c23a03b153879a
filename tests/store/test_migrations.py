"""The schema on first start, and an older archive brought up to date on the next."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import inspect, select, text, update

from bot.core.documents import Document
from bot.core.quotes import Quote
from bot.listings import StatementFilter, repeated_statements
from bot.store import StorageError, Store
from bot.store.schema import clusters, meta
from tests.archive_fixtures import T0, open_empty_store
from tests.store.samples import cluster_of, disputed_cluster


def test_schema_is_created_on_first_start_and_kept_on_the_next(url: str) -> None:
    first = open_empty_store(url)
    tables = set(inspect(first.engine).get_table_names())
    assert {"meta", "documents", "quotes", "clusters", "cluster_members"} <= tables
    assert {"stories", "deliveries"} <= tables
    first.close()
    again = Store.open(url)  # a restart: nothing is recreated, the version stays
    assert schema_version(again) == "5"
    again.close()


@contextmanager
def restarted(store: Store, url: str) -> Iterator[Store]:
    """The store closed and opened again, as the bot's next start opens it."""
    store.close()
    again = Store.open(url)
    try:
        yield again
    finally:
        again.close()


def schema_version(store: Store) -> str:
    """The one version the meta table records."""
    with store.engine.connect() as conn:
        versions = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
        (version,) = [row.value for row in versions]
        return str(version)


def test_a_schema_1_archive_gets_the_quotes_seen_column_on_next_start(
    url: str, store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    _, _, quotes = stored
    with store.transaction() as conn:  # back to what schema 1 had
        conn.execute(text("DROP INDEX ix_quotes_speaker_once"))
        conn.execute(text("DROP INDEX ix_clusters_speaker_rank"))
        conn.execute(text("ALTER TABLE quotes DROP COLUMN seen"))
        conn.execute(text("ALTER TABLE quotes DROP COLUMN repeated"))
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="1"))
    with restarted(store, url) as reopened:
        assert schema_version(reopened) == "5"
        with reopened.engine.connect() as conn:
            seen: dict[str, object] = dict(conn.execute(text("SELECT id, seen FROM quotes")).all())
        assert all(seen[q.id] is not None for q in quotes)
        indexes = {i["name"] for i in inspect(reopened.engine).get_indexes("quotes")}
        assert "ix_quotes_speaker_once" in indexes  # schema 5's, in place of schema 2's
        assert "ix_quotes_speaker_seen" not in indexes


def test_a_schema_2_archive_gets_the_delivery_progress_columns_on_next_start(
    url: str, store: Store
) -> None:
    staged = store.add_delivery(
        target="discord:1",
        slot="s",
        window_start=None,
        window_end=T0,
        reply={"title": "Digest"},
        markdown="x",
        now=T0,
    )
    with store.transaction() as conn:  # back to what schema 2 had
        for column in ("parts_sent", "owner", "lease_until"):
            conn.execute(text(f"ALTER TABLE deliveries DROP COLUMN {column}"))
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="2"))
    with restarted(store, url) as reopened:
        kept = reopened.delivery("discord:1", "s")
        assert kept is not None and kept.id == staged.id
        assert (kept.parts_sent, kept.owner, kept.lease_until) == (0, None, None)
        assert schema_version(reopened) == "5"


def test_a_schema_3_archive_gets_the_disputed_speakers_of_its_clusters_on_next_start(
    url: str, store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    _, _, quotes = stored
    # Unattributed by one document, Peskov's by the other: one name is no dispute.
    agreed = cluster_of(
        "trust", [quotes[3], quotes[0]], outlets=("Reuters", "TASS"), first_seen=None
    )
    assert agreed.speaker is None
    with store.transaction() as conn:
        store.replace_clusters(conn, [quotes[0].id, quotes[3].id], [agreed], now=T0)
    disputed = disputed_cluster(store)
    with store.transaction() as conn:  # back to what schema 3 had
        conn.execute(text("ALTER TABLE clusters DROP COLUMN disputed_speakers"))
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="3"))
    with restarted(store, url) as reopened:
        # Worked out again from the stored printings, as the overlap engine names them.
        assert reopened.clusters(ids=["disputed"]) == [disputed]
        assert reopened.clusters(ids=["trust"]) == [agreed]
        assert schema_version(reopened) == "5"


def test_a_schema_4_archive_gets_its_printings_of_repeated_statements_marked_on_next_start(
    url: str, store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    reuters, tass, quotes = stored
    repeated = cluster_of(
        "trust", [quotes[0], quotes[3]], outlets=("Reuters", "TASS"), first_seen=None
    )
    once = cluster_of("sure", [quotes[1]], outlets=("Reuters",), first_seen=None)
    with store.transaction() as conn:
        store.replace_clusters(conn, [q.id for q in quotes], [repeated, once], now=T0)
        # back to what schema 4 had
        conn.execute(text("DROP INDEX ix_quotes_speaker_once"))
        conn.execute(text("ALTER TABLE quotes DROP COLUMN repeated"))
        conn.execute(text("ALTER TABLE clusters DROP COLUMN last_seen"))
        conn.execute(
            text("CREATE INDEX ix_quotes_speaker_seen ON quotes (speaker, seen, doc_id, start, id)")
        )
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="4"))
    with restarted(store, url) as reopened:
        with reopened.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, repeated FROM quotes")).all()
            marked: dict[str, bool] = {row.id: bool(row.repeated) for row in rows}
        assert schema_version(reopened) == "5"
        assert {q for q, mark in marked.items() if mark} == {quotes[0].id, quotes[3].id}
        # Each statement's latest printing: TASS's (published after Reuters'), or its one.
        with reopened.engine.connect() as conn:
            latest = conn.execute(select(clusters.c.id, clusters.c.last_seen)).all()
        assert dict(latest) == {"trust": tass.published, "sure": reuters.published}
        after_reuters = StatementFilter("Dmitry Peskov", since=date(2016, 11, 11))
        assert [c.id for c in repeated_statements(reopened, after_reuters, limit=None).items] == [
            "trust"
        ]
        indexes = {i["name"] for i in inspect(reopened.engine).get_indexes("quotes")}
        assert "ix_quotes_speaker_once" in indexes and "ix_quotes_speaker_seen" not in indexes


def test_a_word_index_without_speakers_is_rebuilt_with_them_on_next_start(
    url: str, stored: tuple[Document, Document, list[Quote]], store: Store
) -> None:
    if not store.has_word_index:
        pytest.skip("PostgreSQL searches without a separate index")
    with store.transaction() as conn:  # the quote index as it was before speakers
        conn.execute(text("DROP TABLE quote_words"))
        conn.execute(
            text(
                "CREATE VIRTUAL TABLE quote_words USING fts5("
                "quote_id UNINDEXED, doc_id UNINDEXED, text)"
            )
        )
        conn.execute(text("INSERT INTO quote_words SELECT id, doc_id, text FROM quotes"))
    with restarted(store, url) as reopened:
        with reopened.engine.connect() as conn:
            said = conn.execute(
                text("SELECT quote_id FROM quote_words WHERE quote_words MATCH :q"),
                {"q": 'speaker : "dmitry peskov"'},
            )
            assert sorted(row.quote_id for row in said) == sorted(
                q.id for q in stored[2] if q.speaker == "Dmitry Peskov"
            )
        assert len(reopened.search_quotes("mutual trust", limit=10)) == 2
        assert reopened.search_quotes("peskov", limit=10) == []  # text only, not speakers


def test_an_archive_made_before_the_word_index_gets_it_on_next_start(
    url: str, stored: tuple[Document, Document, list[Quote]], store: Store
) -> None:
    if not store.has_word_index:
        pytest.skip("PostgreSQL searches without a separate index")
    with store.transaction() as conn:
        conn.execute(text("DROP TABLE quote_words"))
        conn.execute(text("DROP TABLE document_words"))
    with restarted(store, url) as reopened:
        assert len(reopened.search_quotes("mutual trust", limit=10)) == 2
        assert reopened.search_documents("osborn", limit=10) == [stored[0].id]


def test_a_newer_schema_is_refused_with_a_clear_message(url: str) -> None:
    store = open_empty_store(url)
    with store.transaction() as conn:
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="99"))
    store.close()
    with pytest.raises(StorageError) as refused:
        Store.open(url)
    assert str(refused.value) == (
        "the database has schema version 99, newer than this briefbot reads (5). "
        "Fix: upgrade briefbot, or point the URL at another database"
    )
