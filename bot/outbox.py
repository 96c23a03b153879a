"""Exactly-once digests: render and store first, then send, then mark sent.

Each digest is stored under a unique (target, slot) key before anything is sent, so a
slot can never produce two digests. A failed send is retried with backoff and never
dropped. A crash before the send leaves the digest pending, and it goes out once on
restart; a crash after the platform accepted it but before we recorded that leaves it
"sending", and on restart the sender is asked whether the message is already there
(its footnote carries the digest's reference) before anything is resent.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.delivery import DeliveryError, Sender
from bot.reply import Reply, reply_from_dict, reply_to_dict
from bot.store import Delivery, Store

log = logging.getLogger(__name__)


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # handed to the sender; not yet confirmed
    SENT = "sent"


@dataclass(frozen=True)
class Target:
    """Where a digest goes: "discord:<channel id>", "slack:<channel id>", "console", "file"."""

    platform: str
    channel: str = ""

    @classmethod
    def parse(cls, text: str) -> Target:
        platform, _, channel = text.strip().partition(":")
        return cls(platform.lower(), channel.strip())

    def __str__(self) -> str:
        return f"{self.platform}:{self.channel}" if self.channel else self.platform

    @property
    def folder(self) -> str:
        """A file-system-safe name for briefings/<target>/."""
        return str(self).replace(":", "-")


@dataclass(frozen=True)
class Backoff:
    first_seconds: float = 30.0
    factor: float = 2.0
    cap_seconds: float = 3600.0

    def delay(self, attempts: int, hint: float | None = None) -> timedelta:
        computed = min(self.cap_seconds, self.first_seconds * self.factor ** max(0, attempts - 1))
        return timedelta(seconds=max(computed, hint or 0.0))


def marker(target: str, slot: str) -> str:
    """A short reference for one digest, printed in its footnote."""
    return "ref " + hashlib.sha256(f"{target}|{slot}".encode()).hexdigest()[:10]


def stamp(reply: Reply, *, target: str, slot: str) -> Reply:
    """The reply with the digest's reference in its footnote; stamping twice adds nothing."""
    ref = marker(target, slot)
    if ref in reply.footnote:
        return reply
    return replace(reply, footnote=f"{reply.footnote} · {ref}" if reply.footnote else ref)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    target: str
    slot: str
    status: Status
    error: str | None = None


class Outbox:
    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        *,
        clock: Callable[[], datetime],
        backoff: Backoff = Backoff(),
    ):
        self.store = store
        self.senders = dict(senders)
        self.clock = clock
        self.backoff = backoff
        # One delivery run at a time: a digest job and the retry tick may overlap, and a
        # send must not be started twice. So any "sending" row seen at the start of a run
        # was left by a crash, never by a run still in progress.
        self._lock = asyncio.Lock()

    def add_sender(self, sender: Sender) -> None:
        """Connect a platform that started after the outbox was built."""
        self.senders[sender.platform] = sender

    def stage(
        self,
        *,
        target: str,
        slot: str,
        window_start: datetime | None,
        window_end: datetime,
        reply: Reply,
        markdown: str,
    ) -> Delivery:
        """Store the rendered digest under its (target, slot) key; idempotent."""
        stamped = stamp(reply, target=target, slot=slot)
        return self.store.add_delivery(
            target=target,
            slot=slot,
            window_start=window_start,
            window_end=window_end,
            reply=reply_to_dict(stamped),
            markdown=markdown,
            now=self.clock(),
        )

    async def recover(self) -> None:
        """Settle sends that a crash left unconfirmed (at start, and before each run)."""
        async with self._lock:
            await self._settle_unconfirmed()

    async def _settle_unconfirmed(self) -> None:
        for delivery in self.store.deliveries(status=Status.SENDING):
            target = Target.parse(delivery.target)
            sender = self.senders.get(target.platform)
            if sender is None:
                continue
            try:
                seen = await sender.already_delivered(
                    target.channel, marker(delivery.target, delivery.slot)
                )
            except DeliveryError as error:
                log.warning(
                    "could not check an unconfirmed digest",
                    extra={"target": delivery.target, "error": str(error)},
                )
                continue
            if seen:
                self._mark_sent(delivery)
            else:
                self.store.update_delivery(delivery.id, status=Status.PENDING)

    async def deliver_due(self) -> list[Outcome]:
        """Send every digest whose time has come; never raises for a failed send."""
        async with self._lock:
            await self._settle_unconfirmed()
            outcomes = []
            for delivery in self.store.due_deliveries(self.clock()):
                if delivery.status == Status.SENDING:
                    continue  # still unconfirmed: the sender could not check yet
                outcomes.append(await self._deliver(delivery))
            return outcomes

    async def _deliver(self, delivery: Delivery) -> Outcome:
        target = Target.parse(delivery.target)
        sender = self.senders.get(target.platform)
        if sender is None:
            error = f"no {target.platform} connection is running; the digest waits for one"
            self._retry_later(delivery, error, None)
            return Outcome(delivery.id, delivery.target, delivery.slot, Status.PENDING, error)
        attempts = delivery.attempts + 1
        self.store.update_delivery(delivery.id, status=Status.SENDING, attempts=attempts)
        try:
            await sender.send(target.channel, reply_from_dict(delivery.reply))
        except DeliveryError as error:
            self._retry_later(replace(delivery, attempts=attempts), str(error), error.retry_after)
            level = logging.WARNING if error.retryable else logging.ERROR
            log.log(
                level,
                "digest not delivered yet",
                extra={
                    "target": delivery.target,
                    "slot": delivery.slot,
                    "attempts": attempts,
                    "error": str(error),
                },
            )
            return Outcome(delivery.id, delivery.target, delivery.slot, Status.PENDING, str(error))
        except Exception as error:
            # Not a failure the sender understood: the post may or may not have gone
            # out. Left unconfirmed, so the next run asks the platform before resending,
            # after a backoff, and the other digests of this run still go out.
            log.exception(
                "digest send failed unexpectedly",
                extra={"target": delivery.target, "slot": delivery.slot, "attempts": attempts},
            )
            self.store.update_delivery(
                delivery.id,
                next_attempt_at=self.clock() + self.backoff.delay(attempts),
                last_error=repr(error)[:500],
            )
            return Outcome(delivery.id, delivery.target, delivery.slot, Status.SENDING, repr(error))
        self._mark_sent(delivery)
        log.info("digest delivered", extra={"target": delivery.target, "slot": delivery.slot})
        return Outcome(delivery.id, delivery.target, delivery.slot, Status.SENT)

    def _retry_later(self, delivery: Delivery, error: str, hint: float | None) -> None:
        wait = self.backoff.delay(max(1, delivery.attempts), hint)
        self.store.update_delivery(
            delivery.id,
            status=Status.PENDING,
            next_attempt_at=self.clock() + wait,
            last_error=error[:500],
        )

    def _mark_sent(self, delivery: Delivery) -> None:
        self.store.update_delivery(
            delivery.id, status=Status.SENT, sent_at=self.clock(), last_error=None
        )
