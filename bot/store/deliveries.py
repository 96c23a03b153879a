"""The deliveries: the outbox's table of rendered digests, one per (target, slot), with
each one's progress and its sender's claim. Stored before sending, changed only by
compare-and-set, and superseded by a newer digest of the same schedule while nothing of
them has gone out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from bot.store.rows import Delivery, delivery_from_row
from bot.store.schema import UTCDateTime, deliveries


class StaleWindow(Exception):
    """A digest of the same schedule began going out while this one was being gathered,
    so this one's window overlaps it: gather again from the new window start."""


class DeliveryQueries:
    """The store's deliveries (part of `Store`)."""

    engine: Engine

    def add_delivery(
        self,
        *,
        target: str,
        slot: str,
        window_start: datetime | None,
        window_end: datetime,
        reply: dict[str, Any],
        markdown: str,
        now: datetime,
        supersede_prefix: str | None = None,
    ) -> Delivery:
        """Store a rendered digest once per (target, slot); a second call returns the first.

        With `supersede_prefix` (a schedule's slot prefix), the schedule's older digests
        for the target that have not begun going out and whose windows this one covers
        are marked superseded in the same transaction: a target that could not be
        reached for days gets one catch-up digest, not one per missed slot. Raises
        StaleWindow if one of them began going out after the window was chosen.
        """
        existing = self.delivery(target, slot)
        if existing is not None:
            return existing
        try:
            with self.engine.begin() as conn:
                if supersede_prefix is not None:
                    _supersede(conn, target, supersede_prefix, window_start, slot)
                conn.execute(
                    insert(deliveries).values(
                        target=target,
                        slot=slot,
                        status="pending",
                        window_start=window_start,
                        window_end=window_end,
                        reply=reply,
                        markdown=markdown,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                        parts_sent=0,
                    )
                )
        except StaleWindow:
            raise
        except Exception:
            # Another writer stored this slot first: the unique key keeps it single.
            raced = self.delivery(target, slot)
            if raced is None:
                raise
            return raced
        stored = self.delivery(target, slot)
        assert stored is not None
        return stored

    def delivery(self, target: str, slot: str) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deliveries).where(deliveries.c.target == target, deliveries.c.slot == slot)
            ).first()
        return delivery_from_row(row._mapping) if row else None

    def delivery_by_id(self, delivery_id: int) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        return delivery_from_row(row._mapping) if row else None

    def deliveries(self, *, target: str | None = None, status: str | None = None) -> list[Delivery]:
        query = select(deliveries).order_by(deliveries.c.created_at, deliveries.c.id)
        if target is not None:
            query = query.where(deliveries.c.target == target)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        with self.engine.connect() as conn:
            return [delivery_from_row(row._mapping) for row in conn.execute(query)]

    def due_deliveries(self, now: datetime) -> list[Delivery]:
        """Digests still to go out (or to confirm) whose next attempt is due."""
        query = (
            select(deliveries)
            .where(
                deliveries.c.status.in_(("pending", "sending")),
                deliveries.c.next_attempt_at <= now,
            )
            .order_by(deliveries.c.created_at, deliveries.c.id)
        )
        with self.engine.connect() as conn:
            return [delivery_from_row(row._mapping) for row in conn.execute(query)]

    def update_delivery(
        self, delivery_id: int, *, expect: Mapping[str, Any] | None = None, **values: Any
    ) -> bool:
        """Set `values` on the delivery, only if its columns still hold what `expect` says
        (None meaning NULL): a compare-and-set, so two outboxes never both take a row.
        Whether the row was changed."""
        condition = [deliveries.c.id == delivery_id]
        for name, value in (expect or {}).items():
            column = deliveries.c[name]
            condition.append(column.is_(None) if value is None else column == value)
        with self.engine.begin() as conn:
            result = conn.execute(update(deliveries).where(*condition).values(**values))
        return bool(result.rowcount)

    def wake_deliveries(self, target_prefix: str, now: datetime) -> int:
        """Make the waiting digests of targets starting with `target_prefix` due now (a
        platform just connected); how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.target.startswith(target_prefix, autoescape=True),
                    deliveries.c.status.in_(("pending", "sending")),
                    deliveries.c.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            )
        return int(result.rowcount)

    def last_sent_window_end(self, target: str) -> datetime | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(func.max(deliveries.c.window_end)).where(
                    deliveries.c.target == target, deliveries.c.status == "sent"
                )
            ).scalar_one_or_none()
        if value is None:
            return None
        return UTCDateTime().process_result_value(value, self.engine.dialect)

    def last_window_end(self, target: str, *, slot_prefix: str = "") -> datetime | None:
        """Where the target's next digest starts: the end of the newest digest stored for
        it (and, given a prefix, for the slots that start with it) that has begun going
        out, sent or not yet. A digest still waiting with nothing posted does not count:
        the next one covers its window too and supersedes it (see `add_delivery`)."""
        query = select(func.max(deliveries.c.window_end)).where(
            deliveries.c.target == target, _begun()
        )
        if slot_prefix:
            query = query.where(deliveries.c.slot.startswith(slot_prefix, autoescape=True))
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        if value is None:
            return None
        return UTCDateTime().process_result_value(value, self.engine.dialect)


def _begun() -> Any:
    """Deliveries that have begun going out: sent, being sent, or with a part posted."""
    return or_(
        deliveries.c.status.in_(("sent", "sending")),
        deliveries.c.parts_sent > 0,
        deliveries.c.owner.is_not(None),
    )


def _supersede(
    conn: Connection, target: str, prefix: str, window_start: datetime | None, slot: str
) -> None:
    """Mark superseded the schedule's digests a new one starting at `window_start`
    covers; StaleWindow if a digest that began going out overlaps the new window."""
    schedule = (
        deliveries.c.target == target,
        deliveries.c.slot.startswith(prefix, autoescape=True),
    )
    # Write first: that takes SQLite's write lock (or these rows' locks on PostgreSQL)
    # before anything is read, so no outbox claims one of them between read and update.
    conn.execute(update(deliveries).where(*schedule).values(status=deliveries.c.status))
    query = select(deliveries).where(*schedule, deliveries.c.status != "superseded")
    if window_start is not None:
        query = query.where(deliveries.c.window_end > window_start)
    covered: list[int] = []
    for row in conn.execute(query):
        begun = row.status != "pending" or row.parts_sent > 0 or row.owner is not None
        if begun:
            raise StaleWindow(f"{target} {row.slot} began going out; gather again")
        if window_start is None or (
            row.window_start is not None and row.window_start >= window_start
        ):
            covered.append(row.id)
    if not covered:
        return
    result = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.id.in_(covered),
            deliveries.c.status == "pending",
            deliveries.c.parts_sent == 0,
            deliveries.c.owner.is_(None),
        )
        .values(status="superseded", last_error=f"superseded by {slot}")
    )
    if result.rowcount != len(covered):
        raise StaleWindow(f"a digest for {target} began going out; gather again")
