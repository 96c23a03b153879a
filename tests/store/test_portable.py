"""Every backend answers alike: long id lists are sent in chunks."""

from __future__ import annotations

from bot.core.documents import Document
from bot.core.quotes import Quote
from bot.store import ClusterRow, MemberRow, Store, StoryRow
from tests.archive_fixtures import T0


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
