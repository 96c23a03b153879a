"""The store on real databases: a SQLite file and a PostgreSQL database, same tests."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError

from bot.core.article import KnownFields, read_article
from bot.core.documents import CutReason, Document
from bot.core.overlaps import Link, Prepared, Relation
from bot.core.quotes import Attribution, Quote
from bot.store import (
    ClusterRow,
    MemberRow,
    StaleArchive,
    StaleWindow,
    StorageError,
    Store,
    StoryRow,
    meta,
)
from tests.archive_fixtures import (
    BACKENDS,
    T0,
    PostgresDatabases,
    open_empty_store,
    postgres_databases,
    sqlite_url,
)

WAIT = 30.0  # seconds a thread gets to reach a state; it takes milliseconds


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresDatabases]:
    with postgres_databases() as databases:
        yield databases


@pytest.fixture(scope="module")
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


def article(
    body: str,
    *,
    name: str,
    published: datetime | None = None,
    outlet: str | None = None,
    url: str | None = None,
) -> Document:
    known = KnownFields(outlet=outlet, published=published, url=url)
    return read_article(body, source=f"/corpus/{name}", known=known)


def quote_in(
    document: Document, words: str, speaker: str | None, *, partial: bool = False
) -> Quote:
    start = document.text.index(words)
    return Quote(
        doc_id=document.id,
        start=start,
        end=start + len(words),
        text=words,
        speaker=speaker,
        speaker_role="Kremlin spokesman" if speaker else None,
        cue="said",
        partial=partial,
        attribution=Attribution.AFTER if speaker else Attribution.NONE,
    )


REUTERS = """Kremlin says trust takes time

By Andrew Osborn

MOSCOW (Reuters) – The Kremlin urged patience on Thursday.

“An atmosphere of mutual trust takes years to achieve,” Peskov said.

“We are 100% sure of it, and snake_case is not a word,” he said.

Comments

reader_1 says:
November 10, 2016 at 9:14 am

“Great article!” wrote a reader.
"""

TASS = """Песков: доверие требует времени

МОСКВА – «Атмосфера доверия требует лет», — сказал Песков.

“An atmosphere of mutual trust takes years to achieve,” Peskov told TASS.
"""


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


# -- schema ------------------------------------------------------------------------------


def test_schema_is_created_on_first_start_and_kept_on_the_next(url: str) -> None:
    first = open_empty_store(url)
    tables = set(inspect(first.engine).get_table_names())
    assert {"meta", "documents", "quotes", "clusters", "cluster_members"} <= tables
    assert {"stories", "deliveries"} <= tables
    first.close()
    again = Store.open(url)  # a restart: nothing is recreated, the version stays
    with again.engine.connect() as conn:
        versions = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
        assert [row.value for row in versions] == ["4"]
    again.close()


def test_a_schema_1_archive_gets_the_quotes_seen_column_on_next_start(
    url: str, store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    _, _, quotes = stored
    with store.transaction() as conn:  # back to what schema 1 had
        conn.execute(text("DROP INDEX ix_quotes_speaker_seen"))
        conn.execute(text("DROP INDEX ix_clusters_speaker_rank"))
        conn.execute(text("ALTER TABLE quotes DROP COLUMN seen"))
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="1"))
    store.close()
    reopened = Store.open(url)
    try:
        with reopened.engine.connect() as conn:
            version = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
            assert version.scalar_one() == "4"
            seen: dict[str, object] = dict(conn.execute(text("SELECT id, seen FROM quotes")).all())
        assert all(seen[q.id] is not None for q in quotes)
        assert "ix_quotes_speaker_seen" in {
            i["name"] for i in inspect(reopened.engine).get_indexes("quotes")
        }
    finally:
        reopened.close()


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
    store.close()
    reopened = Store.open(url)
    try:
        kept = reopened.delivery("discord:1", "s")
        assert kept is not None and kept.id == staged.id
        assert (kept.parts_sent, kept.owner, kept.lease_until) == (0, None, None)
        with reopened.engine.connect() as conn:
            version = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
            assert version.scalar_one() == "4"
    finally:
        reopened.close()


def test_a_newer_schema_is_refused_with_a_clear_message(url: str) -> None:
    store = open_empty_store(url)
    with store.transaction() as conn:
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="99"))
    store.close()
    with pytest.raises(StorageError) as refused:
        Store.open(url)
    assert str(refused.value) == (
        "the database has schema version 99, newer than this briefbot reads (4). "
        "Fix: upgrade briefbot, or point the URL at another database"
    )


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
    writer = threading.Thread(target=lambda: _store_documents(store, [document]))
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
            _store_documents_in(store, write.conn, [document])
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


def _store_documents(store: Store, documents: list[Document]) -> None:
    with store.transaction() as conn:
        store.add_documents(conn, [(d, [], []) for d in documents], now=T0)


# -- the write lock and moments -----------------------------------------------------------


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
        _store_documents_in(store, write.conn, [article(REUTERS, name="late.txt")])
    assert store.generation() == read_at + 1
    assert store.document_meta() == {}


def _store_documents_in(store: Store, conn: Connection, documents: list[Document]) -> None:
    store.add_documents(conn, [(d, [], []) for d in documents], now=T0)


# -- the overlap engine's state ---------------------------------------------------------------


def test_the_overlap_engines_state_comes_back_as_it_went_in(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    _, _, quotes = stored
    shingles = (0, 1, 2**63 - 1, 123456789012345678)
    prepared = [Prepared(quotes[0].id, "an atmosphere of mutual trust", 3, shingles)]
    links = [
        Link(quotes[0].id, quotes[3].id, Relation.VERBATIM, 100.0),
        Link(quotes[2].id, quotes[0].id, Relation.FRAGMENT, 71.5, near=True, span=(3, 17)),
    ]
    with store.transaction() as conn:
        store.add_overlap_state(conn, prepared, links)
    found, found_links = store.overlap_state()
    assert sorted(found, key=lambda pair: pair[0].id) == sorted(
        [(q, prepared[0] if q.id == quotes[0].id else None) for q in quotes],
        key=lambda pair: pair[0].id,
    )
    assert sorted(found_links, key=lambda k: k.a) == sorted(links, key=lambda k: k.a)


# -- documents and quotes ---------------------------------------------------------------------


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


def test_quotes_come_back_as_they_went_in(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, second, quotes = stored
    assert store.quotes_by_documents([first.id, second.id]) == sorted(
        quotes, key=lambda q: (q.doc_id, q.start)
    )
    assert store.quotes_by_ids([quotes[0].id, "missing:1"]) == {quotes[0].id: quotes[0]}
    assert sorted(store.all_quotes(), key=lambda q: q.id) == sorted(quotes, key=lambda q: q.id)
    assert store.quotes_by_speaker("Dmitry Peskov") == [
        q for q in store.all_quotes() if q.speaker == "Dmitry Peskov"
    ]
    assert store.speaker_counts() == {"Dmitry Peskov": 3}  # the unattributed one is not counted


def test_search_ignores_case_in_any_script(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, second, quotes = stored
    # Both documents were stored at the same moment: either may come first.
    assert {q.id for q in store.search_quotes("MUTUAL TRUST", limit=10)} == {
        quotes[3].id,
        quotes[0].id,
    }
    assert [q.id for q in store.search_quotes("атмосфера ДОВЕРИЯ", limit=10)] == [quotes[2].id]
    assert store.search_documents("ПЕСКОВ", limit=10) == [second.id]
    assert store.search_documents("osborn", limit=10) == [first.id]
    assert len(store.search_quotes("trust", limit=1)) == 1


def test_search_matches_words_in_order_the_last_as_a_prefix(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    _, _, quotes = stored
    assert {q.id for q in store.search_quotes("mutual tru", limit=10)} == {
        quotes[3].id,
        quotes[0].id,
    }
    assert store.search_quotes("trust mutual", limit=10) == []  # the words' order counts
    assert store.search_quotes("utual", limit=10) == []  # a word's middle is no match
    assert {q.id for q in store.search_quotes("years, to achieve!", limit=10)} == {
        quotes[3].id,
        quotes[0].id,
    }


def test_search_treats_symbols_as_separators_never_as_syntax(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, _, quotes = stored
    assert store.search_quotes("100%", limit=10) == [quotes[1]]
    assert store.search_quotes("1%0", limit=10) == []  # % is no wildcard
    assert store.search_quotes("snake_case", limit=10) == [quotes[1]]
    assert store.search_quotes('snake" OR "trust', limit=10) == []  # no FTS5 syntax
    assert store.search_quotes("NEAR(trust mutual)", limit=10) == []
    assert store.search_quotes("*", limit=10) == []
    assert store.search_documents("\\", limit=10) == []
    assert store.search_documents("snake_", limit=10) == [first.id]


def test_search_puts_newer_documents_first(store: Store) -> None:
    older = article("Older\n\n“Budget talks went well,” Peskov said.\n", name="older.txt")
    newer = article("Newer\n\n“Budget talks went badly,” Peskov said.\n", name="newer.txt")
    for at, document, words in ((T0, older, "well"), (T0 + timedelta(hours=1), newer, "badly")):
        quote = quote_in(document, f"Budget talks went {words}", "Dmitry Peskov")
        with store.transaction() as conn:
            store.add_documents(conn, [(document, [quote], [])], now=at)
    assert [q.doc_id for q in store.search_quotes("budget talks", limit=5)] == [
        newer.id,
        older.id,
    ]
    assert store.search_documents("budget talks", limit=5) == [newer.id, older.id]
    assert store.search_documents("budget talks", limit=1) == [newer.id]


def test_search_results_follow_the_text_order(store: Store) -> None:
    lines = [f"“Statement number {n} is about the budget,” Peskov said." for n in range(12)]
    document = article("Budget\n\n" + "\n\n".join(lines) + "\n", name="budget.txt")
    quotes = [
        quote_in(document, f"Statement number {n} is about the budget", "Dmitry Peskov")
        for n in range(12)
    ]
    with store.transaction() as conn:
        store.add_documents(conn, [(document, quotes, [])], now=T0)
    found = store.search_quotes("about the budget", limit=20)
    assert [q.start for q in found] == sorted(q.start for q in quotes)


def test_an_archive_made_before_the_word_index_gets_it_on_next_start(
    url: str, stored: tuple[Document, Document, list[Quote]], store: Store
) -> None:
    if not store.has_word_index:
        pytest.skip("PostgreSQL searches without a separate index")
    with store.transaction() as conn:
        conn.execute(text("DROP TABLE quote_words"))
        conn.execute(text("DROP TABLE document_words"))
    store.close()
    reopened = Store.open(url)
    try:
        assert len(reopened.search_quotes("mutual trust", limit=10)) == 2
        assert reopened.search_documents("osborn", limit=10) == [stored[0].id]
    finally:
        reopened.close()


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


def test_lookups_of_many_ids_work_on_every_backend(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    """PostgreSQL takes at most 65535 parameters in one statement; SQLite has its limit too."""
    first, _, quotes = stored
    beyond_postgres = [f"unknown{n}" for n in range(66_000)]
    several_chunks = beyond_postgres[:1_200]
    cluster = ClusterRow(
        id="c1",
        canonical_quote_id=quotes[0].id,
        canonical_text=quotes[0].text,
        speaker="Dmitry Peskov",
        earliest_doc_id=first.id,
        first_seen=first.published,
        outlets=("Reuters",),
        members=(
            MemberRow(quotes[0].id, first.id, quotes[0].text, "verbatim", 100.0, False, None),
        ),
    )
    with store.transaction() as conn:
        store.replace_clusters(conn, [*several_chunks, quotes[0].id], [cluster], now=T0)
        store.save_stories(conn, [StoryRow("s1", "Trust", first.published, (first.id,))], now=T0)
    assert [c.id for c in store.clusters(ids=[*beyond_postgres, "c1"], min_outlets=1)] == ["c1"]
    assert [s.id for s in store.stories(ids=[*beyond_postgres, "s1"])] == ["s1"]
    assert store.known_document_ids([*several_chunks, first.id]) == {first.id}
    assert set(store.documents_by_ids([*several_chunks, first.id])) == {first.id}
    assert set(store.document_meta([*several_chunks, first.id])) == {first.id}
    assert set(store.quotes_by_ids([*several_chunks, quotes[0].id])) == {quotes[0].id}
    assert store.quotes_by_documents(several_chunks) == []
    assert store.cluster_ids_of_quotes([*several_chunks, quotes[0].id]) == {quotes[0].id: {"c1"}}


# -- clusters and stories ------------------------------------------------------------------------


def _cluster(
    cluster_id: str, quotes: list[Quote], *, outlets: tuple[str, ...], first_seen: datetime | None
) -> ClusterRow:
    head = quotes[0]
    members = tuple(
        MemberRow(
            quote_id=q.id,
            doc_id=q.doc_id,
            text=q.text,
            relation="verbatim" if n < 2 else "fragment",
            score=100.0 if n < 2 else 91.5,
            near=False,
            diff=None if n < 2 else "- word",
            speaker=q.speaker,  # read back from the quote
        )
        for n, q in enumerate(quotes)
    )
    return ClusterRow(
        id=cluster_id,
        canonical_quote_id=head.id,
        canonical_text=head.text,
        speaker=head.speaker,
        earliest_doc_id=head.doc_id,
        first_seen=first_seen,
        outlets=outlets,
        members=members,
    )


def test_clusters_are_stored_filtered_and_replaced(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, _, quotes = stored
    trust = _cluster(
        "trust",
        [quotes[3], quotes[0], quotes[2]],  # canonical first whatever the input order
        outlets=("Reuters", "TASS"),
        first_seen=first.published,
    )
    alone = _cluster("alone", [quotes[1]], outlets=("Reuters",), first_seen=None)
    with store.transaction() as conn:
        store.replace_clusters(conn, [q.id for q in quotes], [trust, alone], now=T0)

    assert [c.id for c in store.clusters()] == ["trust"]  # two outlets by default
    assert [c.id for c in store.clusters(min_outlets=1)] == ["trust", "alone"]
    got = store.clusters(ids=["trust"])[0]
    assert got == trust
    assert got.members[0].quote_id == trust.canonical_quote_id
    assert store.clusters(speaker="Dmitry Peskov", min_outlets=1) == [alone]
    assert store.clusters(updated_since=T0) == []
    assert store.cluster_ids_of_quotes([quotes[0].id, quotes[1].id]) == {
        quotes[0].id: {"trust"},
        quotes[1].id: {"alone"},
    }

    # Recomputing a component replaces every cluster holding one of its quotes.
    grown = _cluster(
        "trust2", [quotes[0], quotes[3]], outlets=("Reuters", "TASS"), first_seen=first.published
    )
    later = T0 + timedelta(hours=2)
    with store.transaction() as conn:
        store.replace_clusters(conn, [quotes[0].id, quotes[3].id], [grown], now=later)
    assert [c.id for c in store.clusters(min_outlets=1)] == ["trust2", "alone"]
    assert [c.id for c in store.clusters(min_outlets=1, updated_since=T0)] == ["trust2"]
    assert store.cluster_ids_of_quotes([quotes[2].id]) == {}


PESKOV, LAVROV = "Dmitry Peskov", "Sergei Lavrov"


def disputed_cluster(store: Store) -> ClusterRow:
    """The same words stored as Peskov's by one document and as Lavrov's by another."""
    words = "An atmosphere of mutual trust takes years to achieve"
    body = REUTERS.replace("Thursday", "Friday")  # not the documents of `stored`
    first = article(body, name="reuters.txt", published=datetime(2016, 11, 11, tzinfo=UTC))
    second = article(body.replace("Peskov", "Lavrov"), name="other.txt", outlet="RT")
    peskov, lavrov = quote_in(first, words, PESKOV), quote_in(second, words, LAVROV)
    with store.transaction() as conn:
        store.add_documents(conn, [(first, [peskov], []), (second, [lavrov], [])], now=T0)
    cluster = ClusterRow(
        id="disputed",
        canonical_quote_id=peskov.id,
        canonical_text=words,
        speaker=None,
        earliest_doc_id=first.id,
        first_seen=first.published,
        outlets=("Reuters", "RT"),
        members=tuple(
            MemberRow(q.id, q.doc_id, words, "verbatim", 100.0, False, None, q.speaker)
            for q in (peskov, lavrov)
        ),
        disputed_speakers=(PESKOV, LAVROV),
    )
    with store.transaction() as conn:
        store.replace_clusters(conn, [peskov.id, lavrov.id], [cluster], now=T0)
    return cluster


def test_a_disputed_cluster_keeps_its_speakers_and_is_found_under_each(store: Store) -> None:
    cluster = disputed_cluster(store)
    assert store.clusters() == [cluster]
    assert [m.speaker for m in store.clusters()[0].members] == [PESKOV, LAVROV]
    assert store.clusters(speaker=PESKOV) == store.clusters(speaker=LAVROV) == [cluster]
    assert store.clusters(speaker="Vladimir Putin") == []
    with store.engine.connect() as conn:  # SQL NULL when the documents agree, not JSON null
        agreed = conn.execute(text("SELECT count(*) FROM clusters WHERE disputed_speakers IS NULL"))
        assert agreed.scalar_one() == 0


def test_a_schema_3_archive_gets_the_disputed_speakers_of_its_clusters_on_next_start(
    url: str, store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    _, _, quotes = stored
    # Unattributed by one document, Peskov's by the other: one name is no dispute.
    agreed = _cluster("trust", [quotes[3], quotes[0]], outlets=("Reuters", "TASS"), first_seen=None)
    assert agreed.speaker is None
    with store.transaction() as conn:
        store.replace_clusters(conn, [quotes[0].id, quotes[3].id], [agreed], now=T0)
    disputed = disputed_cluster(store)
    with store.transaction() as conn:  # back to what schema 3 had
        conn.execute(text("ALTER TABLE clusters DROP COLUMN disputed_speakers"))
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="3"))
    store.close()
    reopened = Store.open(url)
    try:
        # Worked out again from the stored printings, as the overlap engine names them.
        assert reopened.clusters(ids=["disputed"]) == [disputed]
        assert reopened.clusters(ids=["trust"]) == [agreed]
        with reopened.engine.connect() as conn:
            version = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
            assert version.scalar_one() == "4"
    finally:
        reopened.close()


def test_stories_are_saved_pointed_at_and_dropped(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, second, _ = stored
    with store.transaction() as conn:
        store.save_stories(
            conn,
            [
                StoryRow("story-b", "Later story", second.published, (second.id,)),
                StoryRow("story-a", "Trust", first.published, (first.id,)),
            ],
            now=T0,
        )
    assert [(s.id, s.doc_ids) for s in store.stories()] == [
        ("story-a", (first.id,)),
        ("story-b", (second.id,)),
    ]
    assert store.document_meta([second.id])[second.id].story_id == "story-b"

    # A merge: one story takes both documents, the other is dropped.
    with store.transaction() as conn:
        store.drop_stories(conn, ["story-b"])
        store.save_stories(
            conn, [StoryRow("story-a", "Trust", first.published, (first.id, second.id))], now=T0
        )
    assert [(s.id, s.headline, s.doc_ids) for s in store.stories()] == [
        ("story-a", "Trust", (first.id, second.id))
    ]
    assert store.stories(ids=["story-b"]) == []


# -- deliveries ------------------------------------------------------------------------------------


def test_one_delivery_per_target_and_slot(store: Store) -> None:
    reply = {"title": "Digest", "sections": [{"heading": "Новое", "items": []}]}
    first = store.add_delivery(
        target="discord:1",
        slot="2024-01-01T08:00",
        window_start=None,
        window_end=T0,
        reply=reply,
        markdown="# Digest\n",
        now=T0,
    )
    again = store.add_delivery(
        target="discord:1",
        slot="2024-01-01T08:00",
        window_start=None,
        window_end=T0 + timedelta(hours=1),
        reply={"title": "other"},
        markdown="other",
        now=T0 + timedelta(hours=1),
    )
    assert again == first
    assert first.reply == reply
    assert first.status == "pending"
    assert first.window_end == T0
    assert store.deliveries(target="discord:1") == [first]
    assert store.due_deliveries(T0) == [first]
    assert store.due_deliveries(T0 - timedelta(seconds=1)) == []


def add(store: Store, slot: str, hours: int, *, start: int | None = None, **options: str) -> int:
    return store.add_delivery(
        target="slack:C1",
        slot=slot,
        window_start=None if start is None else T0 + timedelta(hours=start),
        window_end=T0 + timedelta(hours=hours),
        reply={"title": "x"},
        markdown="x",
        now=T0,
        **options,
    ).id


def test_last_window_ends_per_target(store: Store) -> None:
    """The next digest starts where the newest one that began going out ends; one still
    waiting with nothing posted does not count (the next one supersedes it)."""
    assert store.last_window_end("slack:C1") is None
    sent, sending, posted_part, waiting = (add(store, f"slot{h}", h) for h in (1, 2, 3, 4))
    store.update_delivery(sent, status="sent", sent_at=T0)
    assert store.last_window_end("slack:C1") == T0 + timedelta(hours=1)
    store.update_delivery(sending, status="sending", owner="host/1/a")
    assert store.last_window_end("slack:C1") == T0 + timedelta(hours=2)
    store.update_delivery(posted_part, parts_sent=1)
    assert store.last_window_end("slack:C1") == T0 + timedelta(hours=3)
    assert store.last_window_end("slack:C1", slot_prefix="slot1") == T0 + timedelta(hours=1)
    assert store.last_sent_window_end("slack:C1") == T0 + timedelta(hours=1)
    assert store.last_sent_window_end("discord:1") is None
    assert [d.status for d in store.deliveries(status="sent")] == ["sent"]
    assert [d.id for d in store.due_deliveries(T0)] == [sending, posted_part, waiting]


def test_a_delivery_is_changed_only_while_it_holds_what_was_expected(store: Store) -> None:
    delivery = add(store, "slot", 1)
    assert store.update_delivery(delivery, expect={"owner": None}, owner="a", status="sending")
    assert not store.update_delivery(delivery, expect={"owner": None}, owner="b")
    assert not store.update_delivery(delivery, expect={"owner": "a", "attempts": 1}, owner="b")
    assert store.update_delivery(delivery, expect={"owner": "a", "attempts": 0}, parts_sent=2)
    [row] = store.deliveries()
    assert (row.owner, row.status, row.parts_sent) == ("a", "sending", 2)


def test_a_new_digest_supersedes_the_schedules_digests_that_never_began(store: Store) -> None:
    first = add(store, "m@1", 1, supersede_prefix="m@")
    other_schedule = add(store, "e@1", 1, supersede_prefix="e@")
    latest = add(store, "m@2", 2, supersede_prefix="m@")
    rows = {d.id: d for d in store.deliveries()}
    assert rows[first].status == "superseded" and rows[first].last_error == "superseded by m@2"
    assert rows[other_schedule].status == rows[latest].status == "pending"
    assert [d.id for d in store.due_deliveries(T0)] == [other_schedule, latest]

    store.update_delivery(latest, parts_sent=1)  # part 1 is out: it stays
    with pytest.raises(StaleWindow):
        add(store, "m@3", 3, supersede_prefix="m@")  # gathered as if m@2 had not begun
    assert store.delivery("slack:C1", "m@3") is None
    kept = add(store, "m@3", 3, start=2, supersede_prefix="m@")
    assert [d.status for d in store.deliveries() if d.id in (latest, kept)] == ["pending"] * 2


# -- SQLite: WAL, so that commands read while an ingest writes -----------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(sqlite_url(tmp_path))
    yield opened
    opened.close()


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
