"""The outbox's deliveries: one per target and slot, compare-and-set, superseding."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.store import StaleWindow, Store
from tests.archive_fixtures import T0


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
