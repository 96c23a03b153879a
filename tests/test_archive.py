"""The archive on real databases: incremental ingest and the read side, SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from bench.generate import ARTICLES as GENERATED_ARTICLES
from bench.generate import CorpusConfig, generate_corpus
from bot.archive import Archive, Overlaps
from bot.core.documents import Document
from bot.core.overlaps import OverlapEngine, Relation
from bot.parallel import ProcessPoolAnalyser
from bot.store import DocumentMeta, Store
from bot.store.schema import clusters, documents, quote_index, quote_links
from tests.archive_fixtures import (
    ARTICLES,
    BACKENDS,
    BOOK,
    SANCTIONS,
    SEEDS,
    T0,
    PostgresDatabases,
    load_documents,
    new_archive,
    postgres_databases,
    remembered_analysis,
    seed_archive,
    sqlite_url,
    write_article,
    write_disputed_pair,
)

PHENOMENAL = "It is phenomenal how close"
ATMOSPHERE = "An atmosphere of mutual trust takes years to achieve"
NOT_POSSIBLE = "It’s not possible to just declare"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresDatabases]:
    with postgres_databases() as databases:
        yield databases


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def seeded(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Archive]:
    """The seeds ingested in one batch at T0; read-only for the tests that use it."""
    if backend == "sqlite":
        url = sqlite_url(tmp_path_factory.mktemp("seeded"))
    else:
        url = request.getfixturevalue("postgres").create()
    archive = seed_archive(url)
    yield archive
    archive.store.close()


@pytest.fixture
def empty(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Archive]:
    """An archive on an empty store, for tests that ingest."""
    if backend == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        url = request.getfixturevalue("scratch_postgres_url")
    archive = new_archive(url)
    yield archive
    archive.store.close()


@pytest.fixture(scope="module")
def scratch_postgres_url(postgres: PostgresDatabases) -> str:
    return postgres.create()


@pytest.fixture(scope="module")
def seeds() -> list[Document]:
    return load_documents(SEEDS)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything ingest derives: clusters with members and relations, stories, links."""
    return {
        "clusters": sorted(
            (
                c.id,
                c.canonical_quote_id,
                c.canonical_text,
                c.speaker,
                c.earliest_doc_id,
                c.first_seen,
                c.outlets,
                sorted((m.quote_id, m.relation, round(m.score, 3), m.near) for m in c.members),
            )
            for c in store.clusters(min_outlets=1)
        ),
        "stories": sorted((s.id, s.headline, s.first_seen, s.doc_ids) for s in store.stories()),
        "story_of": sorted((d.id, d.story_id) for d in store.document_meta().values()),
        "quotes": sorted(q.id for q in store.all_quotes()),
    }


def updated_at(store: Store) -> dict[str, datetime]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(clusters.c.id, clusters.c.updated_at))
        return {row.id: row.updated_at for row in rows}


def file_name(meta: DocumentMeta) -> str:
    return Path(meta.source).name


def cluster_starting(store: Store, words: str) -> str:
    (found,) = [c.id for c in store.clusters(min_outlets=1) if c.canonical_text.startswith(words)]
    return found


# -- incremental ingest ------------------------------------------------------------------------


def test_ingesting_the_same_seeds_again_adds_nothing(empty: Archive, seeds: list[Document]) -> None:
    first = empty.ingest([*seeds, seeds[0]], now=T0)  # given twice, stored once
    assert first.added == tuple(d.id for d in seeds) and first.skipped == ()
    assert first.clusters_touched == 3
    before = snapshot(empty.store)
    clock = updated_at(empty.store)

    again = empty.ingest(seeds, now=T0 + timedelta(hours=1))
    assert again.added == ()
    assert set(again.skipped) == {d.id for d in seeds}
    assert (again.quotes, again.clusters_touched) == (0, 0)
    assert snapshot(empty.store) == before
    assert updated_at(empty.store) == clock
    assert len(empty.documents()) == 5

    # The same text under another name is the same document.
    renamed = [replace(seeds[0], source="/elsewhere/copy.txt")]
    assert empty.ingest(renamed, now=T0 + timedelta(hours=2)).added == ()


ORDERS = [(4, 3, 2, 1, 0), (2, 0, 4, 1, 3), (1, 3, 0, 2, 4)]


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "".join(map(str, o)))
def test_one_at_a_time_in_any_order_gives_what_one_batch_gives(
    empty: Archive, seeded: Archive, seeds: list[Document], order: Sequence[int]
) -> None:
    for step, index in enumerate(order):
        empty.ingest([seeds[index]], now=T0 + timedelta(minutes=step))
    assert snapshot(empty.store) == snapshot(seeded.store)


def test_a_restart_picks_up_where_the_archive_left_off(
    empty: Archive, seeded: Archive, seeds: list[Document]
) -> None:
    empty.ingest(seeds[:3], now=T0)
    restarted = Archive(empty.store, BOOK)  # indexes rebuilt from the store
    restarted.ingest(seeds[3:], now=T0 + timedelta(hours=1))
    assert snapshot(empty.store) == snapshot(seeded.store)


def test_batches_analysed_ahead_give_what_one_batch_gives(
    empty: Archive, seeded: Archive, seeds: list[Document]
) -> None:
    with ProcessPoolAnalyser(workers=2, min_batch=1) as pool:
        archive = Archive(empty.store, BOOK, analyser=pool)
        results = list(archive.ingest_batches([seeds[:3], seeds[2:4], seeds[4:]], now=T0))
    assert [len(r.added) for r in results] == [3, 1, 1]
    assert results[1].skipped == (seeds[2].id,)  # still in flight when the batch arrived
    assert snapshot(empty.store) == snapshot(seeded.store)


def test_a_restart_places_documents_an_interrupted_ingest_left_without_a_story(
    empty: Archive, seeded: Archive, seeds: list[Document]
) -> None:
    empty.ingest(seeds[:3], now=T0)
    with empty.store.transaction() as conn:  # as if stopped between storing and placing
        conn.execute(update(documents).where(documents.c.id == seeds[2].id).values(story_id=None))
    restarted = Archive(empty.store, BOOK)
    restarted.ingest(seeds[3:], now=T0 + timedelta(hours=1))
    assert snapshot(empty.store)["story_of"] == snapshot(seeded.store)["story_of"]


# -- one transaction per batch ---------------------------------------------------------------


FAULTY_TABLES = ("clusters", "cluster_members", "stories", "quote_links")


def add_fault(store: Store, table: str) -> None:
    """A real failure of the database, raised on any insert into `table`."""
    with store.transaction() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                f"CREATE TRIGGER fault BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            )
            return
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER fault BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION injected_fault()"
        )


def remove_fault(store: Store, table: str) -> None:
    with store.transaction() as conn:
        on = "" if store.engine.dialect.name == "sqlite" else f" ON {table}"
        conn.exec_driver_sql(f"DROP TRIGGER fault{on}")


def engine_state(store: Store) -> tuple[list[str], list[tuple[str, str]]]:
    stored, links = store.overlap_state()
    return sorted(q.id for q, _ in stored), sorted((link.a, link.b) for link in links)


@pytest.mark.parametrize("table", FAULTY_TABLES)
@pytest.mark.parametrize("then", ["ingest again", "restart"])
def test_a_batch_that_fails_to_store_leaves_nothing_and_the_next_ingest_completes_it(
    empty: Archive, seeded: Archive, seeds: list[Document], table: str, then: str
) -> None:
    # 001 repeats all three statements of 000 and 002: its quotes join their clusters.
    (repeating,) = [d for d in seeds if Path(d.source).name.startswith("001_")]
    others = [d for d in seeds if d is not repeating]
    empty.ingest(others, now=T0)
    before, state = snapshot(empty.store), engine_state(empty.store)
    add_fault(empty.store, table)
    with pytest.raises(DBAPIError, match="injected fault"):
        empty.ingest([repeating], now=T0 + timedelta(hours=1))
    # Nothing of the batch is stored: not the document, its quotes, links or clusters.
    assert empty.store.known_document_ids([repeating.id]) == set()
    assert snapshot(empty.store) == before
    assert engine_state(empty.store) == state

    remove_fault(empty.store, table)
    archive = empty if then == "ingest again" else Archive(empty.store, BOOK)
    result = archive.ingest([repeating], now=T0 + timedelta(hours=2))
    assert result.added == (repeating.id,) and result.clusters_touched == 3
    assert snapshot(empty.store) == snapshot(seeded.store)  # clustered, and in its story
    assert [len(c.outlets) for c in archive.overlaps().clusters] == [3, 3, 3]


def test_another_process_ingesting_meanwhile_is_read_before_this_one_writes(
    empty: Archive, seeded: Archive, seeds: list[Document]
) -> None:
    by_name = {Path(d.source).name[:3]: d for d in seeds}
    # Two archives on one database: two processes, e.g. the bot and `briefbot ingest`.
    other = Archive(empty.store, BOOK)
    empty.ingest([by_name["000"], by_name["003"]], now=T0)
    other.ingest([by_name["002"], by_name["004"]], now=T0 + timedelta(minutes=1))
    # 001 repeats what 000 and 002 said: its clusters need the quotes `other` stored.
    result = empty.ingest([by_name["001"]], now=T0 + timedelta(minutes=2))
    assert result.clusters_touched == 3
    assert snapshot(empty.store) == snapshot(seeded.store)
    # Both stored the same documents at once: one of them adds each, the other skips it.
    again = [by_name["001"], *load_documents(ARTICLES / "guillemets.md")]
    assert other.ingest(again, now=T0 + timedelta(minutes=3)).skipped == (by_name["001"].id,)


# -- a restart restores the overlap engine, verifying nothing again -------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Document]:
    """A corpus with re-quoting of every kind (verbatim, edited, fragments, merges)."""
    out = tmp_path_factory.mktemp("generated")
    generate_corpus(CorpusConfig(docs=120, seed=5), out)
    return sorted(load_documents(out / GENERATED_ARTICLES), key=lambda d: d.source)


def test_a_restored_engine_finds_what_one_engine_fed_everything_finds(
    generated: list[Document], tmp_path: Path
) -> None:
    first, second = generated[:80], generated[80:]
    archive = new_archive(sqlite_url(tmp_path))
    archive.ingest(first, now=T0)
    analysed = {a.document.id: a for a in remembered_analysis(generated, BOOK)}
    first_quotes = [q for d in first for q in analysed[d.id].quotes]
    second_quotes = [q for d in second for q in analysed[d.id].quotes]

    stored, links = archive.store.overlap_state()
    restored = OverlapEngine()
    restored.restore([(q, p) for q, p in stored if p is not None], links)
    fed = OverlapEngine()
    fed.add(first_quotes)
    assert len(restored) == len(fed) == len(first_quotes)
    assert restored.links() == fed.links()  # every link as verified, none lost or added

    assert restored.add(second_quotes) == fed.add(second_quotes)
    everything = OverlapEngine()
    everything.add(first_quotes + second_quotes)
    documents = {d.id: d for d in generated}
    found = restored.clusters(documents)
    assert found == everything.clusters(documents)
    relations = Counter(m.relation for c in found for m in c.members)
    assert len(found) > 20 and min(relations[r] for r in Relation) > 0  # every kind is there


def test_ingest_after_a_restart_gives_what_one_batch_gives_on_a_larger_corpus(
    generated: list[Document], tmp_path: Path
) -> None:
    (tmp_path / "whole").mkdir()
    (tmp_path / "split").mkdir()
    whole = new_archive(sqlite_url(tmp_path / "whole"))
    whole.ingest(generated, now=T0)
    split = new_archive(sqlite_url(tmp_path / "split"))
    split.ingest(generated[:80], now=T0)
    restarted = Archive(split.store, BOOK, analyser=remembered_analysis)
    restarted.ingest(generated[80:100], now=T0 + timedelta(hours=1))
    restarted.ingest(generated[100:], now=T0 + timedelta(hours=2))
    assert snapshot(split.store) == snapshot(whole.store)
    whole.store.close()
    split.store.close()


def test_an_archive_stored_before_the_engine_state_was_kept_is_rebuilt_once(
    empty: Archive, seeded: Archive, seeds: list[Document]
) -> None:
    empty.ingest(seeds[:3], now=T0)
    with empty.store.transaction() as conn:  # as a briefbot before schema 3 left it
        conn.execute(delete(quote_links))
        conn.execute(delete(quote_index))
    Archive(empty.store, BOOK).ingest(seeds[3:], now=T0 + timedelta(hours=1))
    assert snapshot(empty.store) == snapshot(seeded.store)
    stored, links = empty.store.overlap_state()
    assert all(prepared is not None for _, prepared in stored)  # kept for the next restart
    rebuilt, clean = OverlapEngine(), OverlapEngine()
    rebuilt.restore([(q, p) for q, p in stored if p is not None], links)
    clean_stored, clean_links = seeded.store.overlap_state()
    clean.restore([(q, p) for q, p in clean_stored if p is not None], clean_links)
    docs = {d.id: d for d in seeds}
    assert rebuilt.clusters(docs) == clean.clusters(docs)


def test_new_documents_recompute_only_the_clusters_they_link_into(
    empty: Archive, seeds: list[Document], tmp_path: Path
) -> None:
    empty.ingest(seeds, now=T0)
    phenomenal = cluster_starting(empty.store, PHENOMENAL)
    atmosphere = cluster_starting(empty.store, ATMOSPHERE)
    not_possible = cluster_starting(empty.store, NOT_POSSIBLE)
    seed_story = empty.store.document_meta([seeds[0].id])[seeds[0].id].story_id
    before = snapshot(empty.store)
    clock = updated_at(empty.store)

    # Quotes that link to nothing: the stored clusters are not even rewritten.
    unrelated = load_documents(ARTICLES / "guillemets.md") + load_documents(
        ARTICLES / "no_quotes.txt"
    )
    result = empty.ingest(unrelated, now=T0 + timedelta(days=1))
    assert len(result.added) == 2 and result.quotes > 0
    assert result.clusters_touched == 0
    assert updated_at(empty.store) == clock
    after = snapshot(empty.store)
    assert after["clusters"] == before["clusters"]
    assert set(before["stories"]) < set(after["stories"])  # each is a story of its own

    # A quote repeated from a seed: only its component is recomputed.
    path = write_article(
        tmp_path,
        "courier.md",
        title="Kremlin cautions on a quick thaw",
        outlet="Baltic Courier",
        date="2016-11-12",
        url="https://example.org/courier/thaw",
        paragraphs=[
            "MOSCOW – The Kremlin played down hopes of a rapid improvement in ties.",
            f"“{ATMOSPHERE},” Kremlin spokesman Dmitry Peskov told reporters.",
        ],
    )
    later = T0 + timedelta(days=2)
    result = empty.ingest(load_documents(path), now=later)
    # The merged quote of seed 001 joins "atmosphere" and "not possible": one component.
    assert result.clusters_touched == 2
    clock = updated_at(empty.store)
    assert clock[phenomenal] == T0
    assert clock[atmosphere] == clock[not_possible] == later
    assert [c for c in snapshot(empty.store)["clusters"] if c[0] == phenomenal] == [
        c for c in before["clusters"] if c[0] == phenomenal
    ]

    grown = empty.store.clusters(ids=[atmosphere])[0]
    assert grown.outlets == (  # earliest first: the courier is dated 12 Nov, seed 001 18 Nov
        "Reuters",
        "002_ae0362d15ddcecd9.txt",
        "Baltic Courier",
        "Trump: Russia’s Chance for Friendship?",
    )
    new_doc = result.added[0]
    assert [m.relation for m in grown.members if m.doc_id == new_doc] == ["verbatim"]
    assert empty.store.document_meta([new_doc])[new_doc].story_id == seed_story


# -- reading, on both backends ---------------------------------------------------------------------


def test_statements_put_repeated_clusters_first(seeded: Archive) -> None:
    found = seeded.statements("Dmitry Peskov")
    assert [c.canonical_text[:26] for c in found.repeated] == [
        PHENOMENAL,
        ATMOSPHERE[:26],
        NOT_POSSIBLE[:26],
    ]
    assert all(c.first_seen and c.first_seen.date() == date(2016, 11, 10) for c in found.repeated)
    clustered = {m.quote_id for c in found.repeated for m in c.members}
    assert found.once and not clustered & {q.id for q in found.once}
    assert all(q.speaker == "Dmitry Peskov" for q in found.once)
    dates = [found.docs[q.doc_id].first_seen for q in found.once]
    assert dates == sorted(dates)
    assert (found.repeated_total, found.once_total) == (3, len(found.once))


def test_statements_are_limited_in_the_database_and_counted_in_full(seeded: Archive) -> None:
    every = seeded.statements("Dmitry Peskov")
    first = seeded.statements("Dmitry Peskov", limit=2)
    assert first.repeated == every.repeated[:2]
    assert first.once == every.once[:2]
    assert (first.repeated_total, first.once_total) == (3, len(every.once))
    assert set(first.docs) == {m.doc_id for c in first.repeated for m in c.members} | {
        q.doc_id for q in first.once
    }


def test_statements_filter_by_date_and_topic(seeded: Archive) -> None:
    recent = seeded.statements("Dmitry Peskov", since=date(2017, 1, 1))
    assert recent.repeated == ()
    assert recent.once_total == len(recent.once) > 0
    assert {file_name(recent.docs[q.doc_id]) for q in recent.once} == {"003_2a4461ba13edc195.txt"}
    trust = seeded.statements("Dmitry Peskov", topic="MUTUAL trust")
    assert [c.canonical_text[:20] for c in trust.repeated] == [ATMOSPHERE[:20], NOT_POSSIBLE[:20]]
    assert trust.once == ()
    assert seeded.statements("Nobody Atall").repeated == ()


def test_topic_words_match_word_starts_in_quotes_or_titles(seeded: Archive) -> None:
    trust = seeded.statements("Dmitry Peskov", topic="MUTUAL trust")
    assert seeded.statements("Dmitry Peskov", topic="mutu TRUS") == trust  # word starts
    assert seeded.statements("Dmitry Peskov", topic="utual").repeated == ()  # not middles
    assert seeded.statements("Dmitry Peskov", topic="!!! ???").once_total == 0
    # A title word puts every quote of that document on the topic.
    titled = seeded.statements("Dmitry Peskov", topic="hails")
    titles = {titled.docs[q.doc_id].title for q in titled.once}
    assert titles and all("Hails" in (t or "") for t in titles)


def test_overlaps_by_number_of_outlets(seeded: Archive) -> None:
    found = seeded.overlaps(min_outlets=2)
    assert len(found.clusters) == found.total == 3
    assert all(c.outlets[0] == "Reuters" and len(c.outlets) == 3 for c in found.clusters)
    assert {m.doc_id for c in found.clusters for m in c.members} <= set(found.docs)
    assert seeded.overlaps(min_outlets=4) == Overlaps((), {}, 0)
    top = seeded.overlaps(min_outlets=2, limit=1)
    assert (top.clusters, top.total) == (found.clusters[:1], 3)
    assert set(top.docs) == {m.doc_id for m in top.clusters[0].members}


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("000", "000_9400752ccb8fb0fa.txt"),
        ("001_824f32114a763518.txt", "001_824f32114a763518.txt"),
        ("Reuters", "000_9400752ccb8fb0fa.txt"),
        ("Putin’s Perspectives", "004_91b2cf10b7b235b0.txt"),
        ("kremlin hails", "003_2a4461ba13edc195.txt"),
        ("Trump Friendship", "001_824f32114a763518.txt"),
    ],
)
def test_find_document_by_name_title_or_outlet(
    seeded: Archive, reference: str, expected: str
) -> None:
    found, offered = seeded.find_document(reference)
    assert found is not None and file_name(found) == expected
    assert offered == [found]


def test_find_document_by_id_prefix_and_unknown_reference(seeded: Archive) -> None:
    reuters = next(d for d in seeded.documents() if d.outlet == "Reuters")
    assert seeded.find_document(reuters.id[:6])[0] == reuters
    assert seeded.find_document(reuters.id.upper())[0] == reuters
    found, offered = seeded.find_document("Trump")  # in three titles: ask, don't guess
    assert found is None and len(offered) >= 2
    assert seeded.find_document("zzzz qqqq") == (None, [])


def test_search_finds_quotes_and_documents(seeded: Archive, seeds: list[Document]) -> None:
    found_quotes, found_docs = seeded.search("MUTUAL TRUST", limit=20)
    assert {q.id for q in found_quotes} == {
        q.id for q in seeded.store.all_quotes() if "mutual trust" in q.text.casefold()
    }
    assert len(found_quotes) == 5
    assert {d.id for d in found_docs} == {d.id for d in seeds if "mutual trust" in d.text.lower()}
    assert seeded.search("Augean stables", limit=1)[0][0].speaker == "Dmitry Peskov"
    assert seeded.search("no such words anywhere", limit=5) == ([], [])


def test_speakers_and_documents(seeded: Archive) -> None:
    counts = seeded.speaker_counts()
    assert counts == Counter(q.speaker for q in seeded.store.all_quotes() if q.speaker)
    assert counts["Dmitry Peskov"] == 16  # as many as the gold gives him
    assert "Richard Weitz" in counts  # named only in a document, still a speaker
    assert seeded.speaker_book().get("Richard Weitz") is not None
    assert [file_name(d) for d in seeded.documents()] == [
        "004_91b2cf10b7b235b0.txt",
        "000_9400752ccb8fb0fa.txt",
        "002_ae0362d15ddcecd9.txt",
        "001_824f32114a763518.txt",
        "003_2a4461ba13edc195.txt",
    ]


def test_an_empty_archive_answers_every_read(empty: Archive) -> None:
    assert empty.documents() == []
    assert empty.speaker_counts() == {}
    assert empty.overlaps() == Overlaps((), {}, 0)
    assert empty.find_document("000") == (None, [])
    assert empty.search("trust", limit=5) == ([], [])
    found = empty.statements("Dmitry Peskov")
    assert (found.repeated, found.once) == ((), ())


def test_words_outlets_give_to_different_people_are_kept_as_disputed(
    empty: Archive, tmp_path: Path
) -> None:
    peskov, lavrov = "Dmitry Peskov", "Sergei Lavrov"
    for path in write_disputed_pair(tmp_path):  # one at a time: the second recomputes
        empty.ingest(load_documents(path), now=T0)
    (cluster,) = empty.store.clusters()
    assert (cluster.canonical_text, cluster.speaker) == (SANCTIONS, None)
    assert cluster.disputed_speakers == (peskov, lavrov)  # each named once: by name
    outlets = {d.id: d.outlet for d in empty.documents()}
    assert sorted((outlets[x.doc_id], x.speaker) for x in cluster.members) == [
        ("Reuters", peskov),
        ("TASS", lavrov),
    ]
    # Listed for either speaker among the repeated statements, never hidden or counted once.
    for name in (peskov, lavrov):
        found = empty.statements(name)
        assert [c.id for c in found.repeated] == [cluster.id], name
        assert (found.repeated_total, found.once, found.once_total) == (1, (), 0)
        assert found.repeated[0] == cluster
        assert [c.id for c in empty.statements(name, topic="sanctions").repeated] == [cluster.id]
        assert empty.statements(name, topic="bananas").repeated == ()
        assert empty.statements(name, since=date(2024, 3, 3)).repeated == ()
    assert empty.statements("Vladimir Putin").repeated == ()
    # Kept in the store: a new archive on it (a restart) reads the same.
    assert Archive(empty.store, BOOK).statements(lavrov).repeated == (cluster,)
