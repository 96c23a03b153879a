"""Stories saved, pointed at and dropped."""

from __future__ import annotations

from bot.core.documents import Document
from bot.core.quotes import Quote
from bot.store import Store, StoryRow
from tests.archive_fixtures import T0


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
