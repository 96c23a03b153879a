"""The overlap engine's stored state."""

from __future__ import annotations

from bot.core.documents import Document
from bot.core.overlaps import Link, Prepared, Relation
from bot.core.quotes import Quote
from bot.store import Store


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
