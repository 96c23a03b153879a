"""Overlap clusters stored, filtered, replaced and disputed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text

from bot.core.documents import Document
from bot.core.quotes import Quote
from bot.store import Store
from bot.store.schema import clusters
from tests.archive_fixtures import T0
from tests.store.samples import LAVROV, PESKOV, cluster_of, disputed_cluster


def test_clusters_are_stored_filtered_and_replaced(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, _, quotes = stored
    trust = cluster_of(
        "trust",
        [quotes[3], quotes[0], quotes[2]],  # canonical first whatever the input order
        outlets=("Reuters", "TASS"),
        first_seen=first.published,
    )
    alone = cluster_of("alone", [quotes[1]], outlets=("Reuters",), first_seen=None)
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
    grown = cluster_of(
        "trust2", [quotes[0], quotes[3]], outlets=("Reuters", "TASS"), first_seen=first.published
    )
    later = T0 + timedelta(hours=2)
    with store.transaction() as conn:
        store.replace_clusters(conn, [quotes[0].id, quotes[3].id], [grown], now=later)
    assert [c.id for c in store.clusters(min_outlets=1)] == ["trust2", "alone"]
    assert [c.id for c in store.clusters(min_outlets=1, updated_since=T0)] == ["trust2"]
    assert store.cluster_ids_of_quotes([quotes[2].id]) == {}


def test_a_disputed_cluster_keeps_its_speakers_and_is_found_under_each(store: Store) -> None:
    cluster = disputed_cluster(store)
    assert store.clusters() == [cluster]
    assert [m.speaker for m in store.clusters()[0].members] == [PESKOV, LAVROV]
    assert store.clusters(speaker=PESKOV) == store.clusters(speaker=LAVROV) == [cluster]
    assert store.clusters(speaker="Vladimir Putin") == []
    with store.engine.connect() as conn:  # SQL NULL when the documents agree, not JSON null
        agreed = conn.execute(text("SELECT count(*) FROM clusters WHERE disputed_speakers IS NULL"))
        assert agreed.scalar_one() == 0


def test_printings_of_repeated_statements_are_marked_and_their_latest_kept(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    reuters, tass, quotes = stored

    def marked() -> set[str]:
        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT id FROM quotes WHERE repeated"))
            return {row.id for row in rows}

    def latest_printing() -> datetime | None:
        with store.engine.connect() as conn:
            query = select(clusters.c.last_seen).where(clusters.c.id == "trust")
            latest: datetime | None = conn.execute(query).scalar_one()
            return latest

    assert marked() == set()  # new quotes are printed once until a cluster says otherwise
    two_outlets = cluster_of(
        "trust", [quotes[0], quotes[3]], outlets=("Reuters", "TASS"), first_seen=None
    )
    with store.transaction() as conn:
        store.replace_clusters(conn, [quotes[0].id, quotes[3].id], [two_outlets], now=T0)
    assert marked() == {quotes[0].id, quotes[3].id}
    assert latest_printing() == tass.published
    # Recomputed: the TASS printing left the statement, now printed by one outlet.
    one_outlet = cluster_of("trust", [quotes[0]], outlets=("Reuters",), first_seen=None)
    with store.transaction() as conn:
        store.replace_clusters(conn, [quotes[0].id, quotes[3].id], [one_outlet], now=T0)
    assert marked() == set()
    assert latest_printing() == reuters.published
