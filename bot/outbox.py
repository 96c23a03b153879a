"""Exactly-once digests: render and store first, then send part by part, then mark sent.

Each digest is stored under a unique (target, slot) key before anything is sent, so a
slot can never produce two digests. A digest may need several messages ("parts"): each
part the platform accepts is recorded at once, so a retry resumes with the next part,
and every part carries the digest's reference and its number.

A failed send is retried with backoff and never dropped. When the platform may have
taken a part although the send failed (a lost answer, a dropped connection, a crash),
the digest is left "sending", unconfirmed: before anything more is posted, the sender is
asked which parts are already in the channel.

A send is claimed by one outbox at a time (an owner and a lease in the row, taken by
compare-and-set), so two processes on one database, such as a cron `briefbot run --once`
beside the running bot, never send a digest twice. Another outbox settles a claim only
when its owner is dead or its lease has run out.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from bot.delivery import DeliveryError, Progress, Sender
from bot.reply import Reply, reply_from_dict, reply_to_dict
from bot.store import Delivery, Store

log = logging.getLogger(__name__)

# How long a claim holds without news from its sender. Each accepted part renews it; a
# single part takes at most a few minutes (rate-limit waits are capped by the senders).
LEASE = timedelta(minutes=15)


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender, or unconfirmed after a failure or crash
    SENT = "sent"
    SUPERSEDED = "superseded"  # never sent: a later digest of its schedule covers it


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
    """A short reference for one digest, printed in its footnote and on each part."""
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


class LostClaim(Exception):
    """Another outbox took this digest over (our lease ran out): stop sending it."""


# Claims this process is working on right now, as (owner, delivery id). Within one
# process this is exact, so a claim left by an outbox of this process that is no longer
# sending (it crashed, in tests) is settled at once rather than after its lease.
_WORKING: set[tuple[str, int]] = set()
_HOST = socket.gethostname()


def _new_owner() -> str:
    return f"{_HOST}/{os.getpid()}/{uuid.uuid4().hex[:12]}"


def _owner_alive(owner: str, delivery_id: int) -> bool:
    """Whether the outbox named `owner` may still be working on the delivery. Only
    owners on this host can be checked; elsewhere the lease decides."""
    host, _, rest = owner.partition("/")
    pid_text = rest.partition("/")[0]
    if host != _HOST or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return (owner, delivery_id) in _WORKING
    return _process_alive(pid)


def _process_alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would end it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive
        return True
    return True


class Outbox:
    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        *,
        clock: Callable[[], datetime],
        backoff: Backoff = Backoff(),
        lease: timedelta = LEASE,
    ):
        self.store = store
        self.senders = dict(senders)
        self.clock = clock
        self.backoff = backoff
        self.lease = lease
        self.owner = _new_owner()
        # One delivery run at a time in this outbox: a digest job and the retry tick may
        # overlap. Other processes are kept off by the claims in the rows.
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
        supersede_prefix: str | None = None,
    ) -> Delivery:
        """Store the rendered digest under its (target, slot) key; idempotent. With
        `supersede_prefix`, the schedule's older digests that have not begun going out
        are superseded by this one (see `Store.add_delivery`)."""
        stamped = stamp(reply, target=target, slot=slot)
        return self.store.add_delivery(
            target=target,
            slot=slot,
            window_start=window_start,
            window_end=window_end,
            reply=reply_to_dict(stamped),
            markdown=markdown,
            now=self.clock(),
            supersede_prefix=supersede_prefix,
        )

    def wake(self, platform: str) -> None:
        """A platform has just connected: its waiting digests are due now."""
        self.store.wake_deliveries(f"{platform}:", self.clock())

    async def recover(self) -> None:
        """Settle sends left unconfirmed (at start, and before each run)."""
        async with self._lock:
            await self._settle_unconfirmed()

    async def deliver_due(self) -> list[Outcome]:
        """Send every digest whose time has come; never raises for a failed send."""
        async with self._lock:
            await self._settle_unconfirmed()
            outcomes = []
            for delivery in self.store.due_deliveries(self.clock()):
                if delivery.status != Status.PENDING:
                    continue  # claimed elsewhere, or unconfirmed: the sender could not check
                outcome = await self._deliver(delivery)
                if outcome is not None:
                    outcomes.append(outcome)
            return outcomes

    # Settling unconfirmed sends

    async def _settle_unconfirmed(self) -> None:
        now = self.clock()
        for delivery in self.store.deliveries(status=Status.SENDING):
            if delivery.next_attempt_at > now or not self._abandoned(delivery, now):
                continue
            target = Target.parse(delivery.target)
            sender = self.senders.get(target.platform)
            if sender is None:
                continue  # waits for its platform to come back
            claimed = self._claim(delivery)
            if claimed is not None:
                await self._settle(claimed, sender, target)

    def _abandoned(self, delivery: Delivery, now: datetime) -> bool:
        """Whether no live outbox is working on this "sending" row."""
        if delivery.owner is None:
            return True  # left unconfirmed by a failure: anyone may check it
        if delivery.lease_until is not None and delivery.lease_until <= now:
            return True
        return not _owner_alive(delivery.owner, delivery.id)

    async def _settle(self, delivery: Delivery, sender: Sender, target: Target) -> None:
        working = (self.owner, delivery.id)
        _WORKING.add(working)
        try:
            seen = await sender.delivered(target.channel, marker(delivery.target, delivery.slot))
        except Exception as error:
            if not isinstance(error, DeliveryError):
                log.exception("checking an unconfirmed digest failed unexpectedly")
            log.warning(
                "could not check an unconfirmed digest",
                extra={"target": delivery.target, "slot": delivery.slot, "error": str(error)},
            )
            self._release(delivery, status=Status.SENDING)
            return
        finally:
            _WORKING.discard(working)
        # Parts go out in order, so the highest part seen means all before it arrived.
        parts = max(delivery.parts_sent, seen.parts)
        if seen.complete:
            self._mark_sent(delivery, parts_sent=parts)
            log.info(
                "unconfirmed digest found delivered",
                extra={"target": delivery.target, "slot": delivery.slot},
            )
        else:
            self._release(delivery, status=Status.PENDING, parts_sent=parts)

    # Sending

    async def _deliver(self, delivery: Delivery) -> Outcome | None:
        target = Target.parse(delivery.target)
        sender = self.senders.get(target.platform)
        if sender is None:
            error = f"no {target.platform} connection is running; the digest waits for one"
            wait = self.backoff.delay(max(1, delivery.attempts))
            self.store.update_delivery(
                delivery.id,
                expect={"status": Status.PENDING, "owner": None, "attempts": delivery.attempts},
                next_attempt_at=self.clock() + wait,
                last_error=error,
            )
            return Outcome(delivery.id, delivery.target, delivery.slot, Status.PENDING, error)
        claimed = self._claim(delivery, attempts=delivery.attempts + 1)
        if claimed is None:
            return None  # another outbox took it first
        working = (self.owner, claimed.id)
        _WORKING.add(working)
        progress = Progress(
            ref=marker(claimed.target, claimed.slot),
            done=claimed.parts_sent,
            accepted=partial(self._accepted, claimed),
        )
        try:
            await sender.send(target.channel, reply_from_dict(claimed.reply), progress)
        except DeliveryError as error:
            return self._failed(claimed, error)
        except LostClaim:
            log.warning(
                "another outbox took over a digest being sent",
                extra={"target": claimed.target, "slot": claimed.slot},
            )
            return Outcome(claimed.id, claimed.target, claimed.slot, Status.SENDING, "taken over")
        except Exception as error:
            # Not a failure the sender understood: the post may or may not have gone
            # out. Left unconfirmed, so the next try asks the platform before resending,
            # after a backoff, and the other digests of this run still go out.
            log.exception(
                "digest send failed unexpectedly",
                extra={"target": claimed.target, "slot": claimed.slot},
            )
            self._release(claimed, status=Status.SENDING, error=repr(error))
            return Outcome(claimed.id, claimed.target, claimed.slot, Status.SENDING, repr(error))
        finally:
            _WORKING.discard(working)
        self._mark_sent(claimed)
        log.info("digest delivered", extra={"target": claimed.target, "slot": claimed.slot})
        return Outcome(claimed.id, claimed.target, claimed.slot, Status.SENT)

    def _failed(self, delivery: Delivery, error: DeliveryError) -> Outcome:
        status = Status.SENDING if error.maybe_sent else Status.PENDING
        self._release(delivery, status=status, error=str(error), hint=error.retry_after)
        level = logging.WARNING if error.retryable else logging.ERROR
        log.log(
            level,
            "digest not delivered yet",
            extra={
                "target": delivery.target,
                "slot": delivery.slot,
                "attempts": delivery.attempts,
                "error": str(error),
            },
        )
        return Outcome(delivery.id, delivery.target, delivery.slot, status, str(error))

    def _accepted(self, delivery: Delivery, parts: int) -> None:
        """Record a part the platform took, before the next is posted; renew the lease."""
        if not self.store.update_delivery(
            delivery.id,
            expect={"owner": self.owner},
            parts_sent=parts,
            lease_until=self.clock() + self.lease,
        ):
            raise LostClaim(f"{delivery.target} {delivery.slot}")

    # The row's claim

    def _claim(self, delivery: Delivery, *, attempts: int | None = None) -> Delivery | None:
        """Take the row as it was read, or None if anything changed it since: to send
        it (attempts given: it becomes "sending"), or to settle it."""
        values: dict[str, Any] = {
            "status": Status.SENDING,
            "owner": self.owner,
            "lease_until": self.clock() + self.lease,
        }
        if attempts is not None:
            values["attempts"] = attempts
        taken = self.store.update_delivery(
            delivery.id,
            expect={
                "status": delivery.status,
                "owner": delivery.owner,
                "attempts": delivery.attempts,
                "parts_sent": delivery.parts_sent,
            },
            **values,
        )
        return replace(delivery, **values) if taken else None

    def _release(
        self,
        delivery: Delivery,
        *,
        status: Status,
        error: str | None = None,
        hint: float | None = None,
        **values: Any,
    ) -> None:
        """Give the claim back: "pending" to be sent again, or "sending" to be checked
        first; after a failure, not before its backoff."""
        if error is not None:
            wait = self.backoff.delay(max(1, delivery.attempts), hint)
            values.update(next_attempt_at=self.clock() + wait, last_error=error[:500])
        self.store.update_delivery(
            delivery.id,
            expect={"owner": self.owner},
            status=status,
            owner=None,
            lease_until=None,
            **values,
        )

    def _mark_sent(self, delivery: Delivery, **values: Any) -> None:
        self.store.update_delivery(
            delivery.id,
            expect={"owner": self.owner},
            status=Status.SENT,
            sent_at=self.clock(),
            last_error=None,
            owner=None,
            lease_until=None,
            **values,
        )
