"""The outbox's exactly-once promise, with a real SQLite file and a recording Sender.

"Restart" is a new Store and Outbox on the same file. The Sender is the network edge:
`Channel` stands for what the platform has accepted, and outlives a sender, as the
platform's history outlives the bot. One test class kills a real process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery import DeliveryError, Progress, Seen, part_mark, seen_in, with_mark
from bot.outbox import LEASE, Backoff, Outbox, Status, Target, marker, stamp
from bot.reply import Item, Reply, Section, reply_from_dict
from bot.store import Delivery, StaleWindow, Store

T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
TARGET = "discord:123456789012"
SLOT = "2025-03-10T08:00Z"
BACKOFF = Backoff(first_seconds=30, factor=2, cap_seconds=3600)


class Crash(BaseException):
    """The process dies here: nothing after it runs, no `except Exception` catches it."""


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Channel:
    """What the platform accepted: every message, in order, as its text (each ends with
    its part mark, as the real renderers print it)."""

    posts: list[str] = field(default_factory=list)

    def with_marker(self, ref: str) -> list[str]:
        return [p for p in self.posts if ref in p]


def messages_of(reply: Reply, ref: str) -> list[str]:
    """One message per section (a digest with three sections takes three parts)."""
    bodies = [s.heading for s in reply.sections] or [reply.title]
    return [
        f"{reply.title}: {body} · {with_mark(reply.footnote, ref, n, len(bodies))}"
        for n, body in enumerate(bodies, start=1)
    ]


@dataclass
class RecordingSender:
    """A scripted platform edge, posting one message per section.

    `failures` are raised one per part about to be posted (None lets it through);
    `lost_answers`: these parts are posted, then the answer is lost (maybe_sent);
    `crash_after`: die once this part is posted, before reporting it;
    `crash_after_recorded`: die once this part is posted and reported;
    `can_look`: whether the platform lets the sender read its history."""

    channel: Channel
    platform: str = "discord"
    failures: list[BaseException | None] = field(default_factory=list)
    lost_answers: set[int] = field(default_factory=set)
    crash_after: int | None = None
    crash_after_recorded: int | None = None
    can_look: bool = True
    gate: asyncio.Event | None = None  # when set, each send waits for it
    attempts: int = 0
    looked_for: list[str] = field(default_factory=list)

    async def send(self, channel: str, reply: Reply, progress: Progress) -> None:
        self.attempts += 1
        if self.gate is not None:
            await self.gate.wait()
        messages = messages_of(reply, progress.ref)
        for index in range(progress.done, len(messages)):
            part = index + 1
            failure = self.failures.pop(0) if self.failures else None
            if failure is not None:
                raise failure
            self.channel.posts.append(messages[index])
            if part == self.crash_after:
                raise Crash(f"killed after the platform accepted part {part}")
            if part in self.lost_answers:
                self.lost_answers.discard(part)
                raise DeliveryError("connection dropped", retryable=True, maybe_sent=True)
            progress.accepted(part)
            if part == self.crash_after_recorded:
                raise Crash(f"killed after part {part} was recorded")

    async def delivered(self, channel: str, ref: str) -> Seen:
        self.looked_for.append(ref)
        return seen_in(self.channel.posts, ref) if self.can_look else Seen()


def digest(title: str = "briefbot digest", *, parts: int = 1) -> Reply:
    headings = ["New quotes", "New stories", "Repeated by more outlets", "More"][:parts]
    return Reply(
        title=title,
        sections=tuple(
            Section(heading=h, items=(Item("“We are ready”", quoted=True),)) for h in headings
        ),
        footnote="since 2025-03-09",
    )


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'outbox.db'}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def channel() -> Channel:
    return Channel()


class Bot:
    """One run of the bot: a store and an outbox on the database file."""

    def __init__(self, database: str, clock: Clock, *senders: RecordingSender):
        self.store = Store.open(database)
        self.outbox = Outbox(
            self.store, {s.platform: s for s in senders}, clock=clock, backoff=BACKOFF
        )

    def stage(
        self,
        *,
        target: str = TARGET,
        slot: str = SLOT,
        reply: Reply | None = None,
        window_start: datetime | None = None,
        window_end: datetime = T0,
        prefix: str | None = None,
    ) -> Delivery:
        reply = reply or digest()
        return self.outbox.stage(
            target=target,
            slot=slot,
            window_start=window_start,
            window_end=window_end,
            reply=reply,
            markdown=reply.title,
            supersede_prefix=prefix,
        )

    def only(self) -> Delivery:
        [delivery] = self.store.deliveries()
        return delivery

    def close(self) -> None:
        self.store.close()


class Bots:
    """Starts the bot on the database file, again and again; closes them all at the end."""

    def __init__(self, database: str, clock: Clock):
        self.database = database
        self.clock = clock
        self.started: list[Bot] = []

    def start(self, *senders: RecordingSender) -> Bot:
        bot = Bot(self.database, self.clock, *senders)
        self.started.append(bot)
        return bot


@pytest.fixture
def bots(database: str, clock: Clock) -> Iterator[Bots]:
    restarts = Bots(database, clock)
    yield restarts
    for bot in restarts.started:
        bot.close()


# Staging


def test_staging_a_slot_twice_stores_one_digest(bots: Bots, channel: Channel) -> None:
    bot = bots.start(RecordingSender(channel))
    first = bot.stage(reply=digest("first render"))
    second = bot.stage(reply=digest("second render"))
    again_after_restart = bots.start(RecordingSender(channel)).stage(reply=digest("third render"))
    assert first.id == second.id == again_after_restart.id
    assert [d.reply["title"] for d in bot.store.deliveries()] == ["first render"]
    assert first.status == Status.PENDING and first.attempts == 0


def test_a_staged_digest_carries_its_reference_once(bots: Bots, channel: Channel) -> None:
    ref = marker(TARGET, SLOT)
    stored = bots.start(RecordingSender(channel)).stage()
    assert stored.reply["footnote"] == f"since 2025-03-09 · {ref}"
    stamped = stamp(digest(), target=TARGET, slot=SLOT)
    assert stamp(stamped, target=TARGET, slot=SLOT) == stamped
    assert marker(TARGET, SLOT) != marker(TARGET, "2025-03-11T08:00Z") != marker("console", SLOT)


def test_other_slots_and_targets_are_other_digests(bots: Bots, channel: Channel) -> None:
    bot = bots.start(RecordingSender(channel))
    ids = {
        bot.stage().id,
        bot.stage(slot="2025-03-11T08:00Z").id,
        bot.stage(target="slack:C0123456").id,
    }
    assert len(ids) == 3


# Delivery and retries


async def test_a_delivered_digest_is_posted_once(bots: Bots, channel: Channel) -> None:
    bot = bots.start(RecordingSender(channel))
    bot.stage()
    [outcome] = await bot.outbox.deliver_due()
    assert outcome.status == Status.SENT and outcome.error is None
    assert await bot.outbox.deliver_due() == []
    assert len(channel.with_marker(marker(TARGET, SLOT))) == 1
    sent = bot.only()
    assert sent.status == Status.SENT and sent.sent_at == T0 and sent.attempts == 1


async def test_a_failed_send_waits_for_its_backoff_then_goes_out_once(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    sender = RecordingSender(channel, failures=[DeliveryError("503", retryable=True)])
    bot = bots.start(sender)
    bot.stage()

    [outcome] = await bot.outbox.deliver_due()
    waiting = bot.only()
    assert outcome.status == Status.PENDING and outcome.error == "503"
    assert waiting.status == Status.PENDING and waiting.attempts == 1
    assert waiting.next_attempt_at == T0 + timedelta(seconds=30)
    assert waiting.last_error == "503"

    clock.advance(seconds=29)
    assert await bot.outbox.deliver_due() == []  # not before its time
    assert sender.attempts == 1

    clock.advance(seconds=1)
    [outcome] = await bot.outbox.deliver_due()
    assert outcome.status == Status.SENT
    assert sender.attempts == 2 and len(channel.posts) == 1
    clock.advance(hours=5)
    assert await bot.outbox.deliver_due() == []
    assert len(channel.posts) == 1 and bot.only().last_error is None


async def test_backoff_grows_with_each_failure_and_stops_at_its_cap(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    failures: list[BaseException | None] = [DeliveryError("down", retryable=True) for _ in range(9)]
    bot = bots.start(RecordingSender(channel, failures=failures))
    bot.stage()
    waits = []
    for _ in range(9):
        await bot.outbox.deliver_due()
        delivery = bot.only()
        waits.append((delivery.next_attempt_at - clock.now).total_seconds())
        clock.now = delivery.next_attempt_at
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    await bot.outbox.deliver_due()
    assert len(channel.posts) == 1 and bot.only().attempts == 10


@pytest.mark.parametrize(("retry_after", "wait"), [(120.0, 120.0), (5.0, 30.0), (None, 30.0)])
async def test_the_platforms_retry_after_wins_when_it_is_longer(
    bots: Bots, channel: Channel, clock: Clock, retry_after: float | None, wait: float
) -> None:
    error = DeliveryError("rate limited", retryable=True, retry_after=retry_after)
    sender = RecordingSender(channel, failures=[error])
    bot = bots.start(sender)
    bot.stage()
    await bot.outbox.deliver_due()
    assert bot.only().next_attempt_at == T0 + timedelta(seconds=wait)
    clock.now = T0 + timedelta(seconds=wait) - timedelta(milliseconds=1)
    await bot.outbox.deliver_due()
    assert channel.posts == []
    clock.now = T0 + timedelta(seconds=wait)
    await bot.outbox.deliver_due()
    assert len(channel.posts) == 1 and sender.attempts == 2


async def test_a_permanent_failure_is_kept_and_retried_never_dropped(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    error = DeliveryError("missing access to the channel", retryable=False)
    bot = bots.start(RecordingSender(channel, failures=[error, error]))
    bot.stage()
    await bot.outbox.deliver_due()
    clock.advance(seconds=30)
    await bot.outbox.deliver_due()
    kept = bot.only()
    assert kept.status == Status.PENDING and kept.attempts == 2
    assert kept.last_error == "missing access to the channel"
    clock.advance(seconds=60)
    await bot.outbox.deliver_due()  # the operator fixed the permission
    assert len(channel.posts) == 1 and bot.only().status == Status.SENT


async def test_one_target_failing_does_not_hold_up_the_others(bots: Bots, clock: Clock) -> None:
    discord, slack = Channel(), Channel()
    failing = RecordingSender(discord, failures=[DeliveryError("503", retryable=True)])
    bot = bots.start(failing, RecordingSender(slack, platform="slack"))
    bot.stage()
    bot.stage(target="slack:C0123456")
    outcomes = await bot.outbox.deliver_due()
    assert [o.status for o in outcomes] == [Status.PENDING, Status.SENT]
    assert discord.posts == [] and len(slack.posts) == 1


async def test_an_unexpected_error_in_a_sender_is_unconfirmed_not_fatal(
    bots: Bots, clock: Clock
) -> None:
    """A sender bug (not a DeliveryError) may have hit after the post went out: the next
    try, after its backoff, asks the platform before resending, and the run it happened
    in goes on."""
    discord, slack = Channel(), Channel()
    buggy = RecordingSender(discord, failures=[RuntimeError("sender bug")])
    bot = bots.start(buggy, RecordingSender(slack, platform="slack"))
    bot.stage()
    bot.stage(target="slack:C0123456")

    outcomes = await bot.outbox.deliver_due()
    assert [o.status for o in outcomes] == [Status.SENDING, Status.SENT]
    assert len(slack.posts) == 1
    unconfirmed = bot.store.delivery(TARGET, SLOT)
    assert unconfirmed is not None and unconfirmed.status == Status.SENDING
    assert unconfirmed.next_attempt_at == T0 + timedelta(seconds=30)
    assert "sender bug" in (unconfirmed.last_error or "")

    assert await bot.outbox.deliver_due() == []  # waits for its backoff
    assert buggy.looked_for == []
    clock.advance(seconds=30)
    [outcome] = await bot.outbox.deliver_due()  # asked, not there, so sent
    assert outcome.status == Status.SENT
    assert buggy.looked_for == [marker(TARGET, SLOT)]
    assert len(discord.posts) == 1 and buggy.attempts == 2


# Crashes at each step, and restarts


async def test_a_crash_between_staging_and_sending_delivers_once_on_restart(
    bots: Bots, channel: Channel
) -> None:
    bots.start(RecordingSender(channel)).stage()  # ... and the process dies here

    restarted = bots.start(RecordingSender(channel))
    await restarted.outbox.recover()
    [outcome] = await restarted.outbox.deliver_due()
    assert outcome.status == Status.SENT

    again = bots.start(RecordingSender(channel))
    await again.outbox.recover()
    assert await again.outbox.deliver_due() == []
    assert len(channel.with_marker(marker(TARGET, SLOT))) == 1


async def test_a_crash_after_the_platform_accepted_is_not_posted_again(
    bots: Bots, channel: Channel
) -> None:
    dying = bots.start(RecordingSender(channel, crash_after=1))
    dying.stage()
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()
    assert dying.only().status == Status.SENDING
    assert len(channel.posts) == 1

    sender = RecordingSender(channel)
    restarted = bots.start(sender)
    await restarted.outbox.recover()
    assert sender.looked_for == [marker(TARGET, SLOT)]
    assert restarted.only().status == Status.SENT
    assert await restarted.outbox.deliver_due() == []
    assert sender.attempts == 0 and len(channel.posts) == 1


async def test_deliver_due_settles_an_unconfirmed_send_even_without_recover(
    bots: Bots, channel: Channel
) -> None:
    dying = bots.start(RecordingSender(channel, crash_after=1))
    dying.stage()
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()
    sender = RecordingSender(channel)
    assert await bots.start(sender).outbox.deliver_due() == []
    assert sender.looked_for == [marker(TARGET, SLOT)] and len(channel.posts) == 1


async def test_a_sender_that_cannot_look_resends_at_least_once(
    bots: Bots, channel: Channel
) -> None:
    """Documented: for a platform whose history the bot cannot read, a crash between
    the post and its record is resent (at-least-once) rather than risked lost."""
    dying = bots.start(RecordingSender(channel, crash_after=1))
    dying.stage()
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()

    blind = RecordingSender(channel, can_look=False)
    restarted = bots.start(blind)
    await restarted.outbox.recover()
    assert restarted.only().status == Status.PENDING
    [outcome] = await restarted.outbox.deliver_due()
    assert outcome.status == Status.SENT
    assert len(channel.posts) == 2 and blind.attempts == 1


async def test_a_crash_before_the_platform_accepted_is_sent_on_restart(
    bots: Bots, channel: Channel
) -> None:
    dying = bots.start(RecordingSender(channel, failures=[Crash("killed before the post")]))
    dying.stage()
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()
    assert dying.only().status == Status.SENDING and channel.posts == []

    restarted = bots.start(RecordingSender(channel))
    await restarted.outbox.recover()
    await restarted.outbox.deliver_due()
    assert len(channel.posts) == 1 and restarted.only().status == Status.SENT


async def test_a_platform_that_cannot_answer_keeps_the_send_unconfirmed(
    bots: Bots, channel: Channel
) -> None:
    dying = bots.start(RecordingSender(channel, crash_after=1))
    dying.stage()
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()

    class Unreachable(RecordingSender):
        async def delivered(self, channel: str, ref: str) -> Seen:
            raise DeliveryError("Discord unreachable", retryable=True)

    unreachable = Unreachable(channel)
    restarted = bots.start(unreachable)
    await restarted.outbox.recover()
    assert await restarted.outbox.deliver_due() == []
    assert restarted.only().status == Status.SENDING and unreachable.attempts == 0

    back = bots.start(RecordingSender(channel))
    await back.outbox.recover()
    assert back.only().status == Status.SENT and len(channel.posts) == 1


async def test_a_crash_after_marking_sent_resends_nothing(bots: Bots, channel: Channel) -> None:
    bot = bots.start(RecordingSender(channel))
    bot.stage()
    await bot.outbox.deliver_due()  # ... and the process dies right after

    sender = RecordingSender(channel)
    restarted = bots.start(sender)
    await restarted.outbox.recover()
    assert await restarted.outbox.deliver_due() == []
    assert sender.attempts == 0 and sender.looked_for == [] and len(channel.posts) == 1


async def test_a_digest_for_a_platform_not_running_waits_and_is_never_dropped(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    console_only = bots.start(RecordingSender(Channel(), platform="console"))
    console_only.stage()
    for _ in range(3):
        [outcome] = await console_only.outbox.deliver_due()
        assert outcome.status == Status.PENDING and "no discord connection" in (outcome.error or "")
        clock.advance(hours=2)
    waiting = console_only.only()
    assert waiting.status == Status.PENDING and waiting.attempts == 0

    with_discord = bots.start(RecordingSender(channel))
    await with_discord.outbox.recover()
    await with_discord.outbox.deliver_due()
    assert len(channel.posts) == 1 and with_discord.only().status == Status.SENT


async def test_an_unconfirmed_send_waits_for_its_platform_to_come_back(
    bots: Bots, channel: Channel
) -> None:
    dying = bots.start(RecordingSender(channel, crash_after=1))
    dying.stage()
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()

    without_discord = bots.start()
    await without_discord.outbox.recover()
    assert await without_discord.outbox.deliver_due() == []
    assert without_discord.only().status == Status.SENDING

    sender = RecordingSender(channel)
    back = bots.start(sender)
    await back.outbox.recover()
    assert back.only().status == Status.SENT and len(channel.posts) == 1


async def test_two_delivery_runs_at_once_send_once(bots: Bots, channel: Channel) -> None:
    gate = asyncio.Event()
    sender = RecordingSender(channel, gate=gate)
    bot = bots.start(sender)
    bot.stage()
    first = asyncio.create_task(bot.outbox.deliver_due())
    second = asyncio.create_task(bot.outbox.deliver_due())
    recovering = asyncio.create_task(bot.outbox.recover())
    while sender.attempts == 0:
        await asyncio.sleep(0)
    for _ in range(20):  # let the others reach the lock
        await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(first, second, recovering)
    sent = [o for outcomes in results[:2] for o in outcomes or [] if o.status == Status.SENT]
    assert len(sent) == 1
    assert sender.attempts == 1 and sender.looked_for == [] and len(channel.posts) == 1


# Digests of several parts


async def test_each_part_is_recorded_and_a_retry_resumes_with_the_failed_one(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    failing = RecordingSender(channel, failures=[None, DeliveryError("503", retryable=True)])
    bot = bots.start(failing)
    staged = bot.stage(reply=digest(parts=3))
    every_part = messages_of(reply_from_dict(staged.reply), marker(TARGET, SLOT))

    [outcome] = await bot.outbox.deliver_due()
    waiting = bot.only()
    assert outcome.status == Status.PENDING
    assert (waiting.status, waiting.parts_sent, waiting.owner) == (Status.PENDING, 1, None)
    assert channel.posts == every_part[:1]

    clock.advance(seconds=30)
    [outcome] = await bot.outbox.deliver_due()
    assert outcome.status == Status.SENT
    assert channel.posts == every_part  # each part once, in order
    assert failing.looked_for == []  # nothing was in doubt
    assert (bot.only().parts_sent, bot.only().attempts) == (3, 2)


async def test_a_part_whose_answer_was_lost_is_looked_for_before_it_is_posted_again(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    sender = RecordingSender(channel, lost_answers={2})
    bot = bots.start(sender)
    staged = bot.stage(reply=digest(parts=3))
    every_part = messages_of(reply_from_dict(staged.reply), marker(TARGET, SLOT))

    [outcome] = await bot.outbox.deliver_due()
    assert outcome.status == Status.SENDING  # unconfirmed: part 2 may be there
    assert (bot.only().parts_sent, bot.only().next_attempt_at) == (1, T0 + timedelta(seconds=30))
    assert await bot.outbox.deliver_due() == []  # not before its backoff

    clock.advance(seconds=30)
    [outcome] = await bot.outbox.deliver_due()
    assert outcome.status == Status.SENT
    assert sender.looked_for == [marker(TARGET, SLOT)]
    assert channel.posts == every_part


@pytest.mark.parametrize(
    ("dying", "recorded"),
    [
        (RecordingSender(Channel(), crash_after_recorded=1), 1),  # part 1 out and recorded
        (RecordingSender(Channel(), crash_after=2), 1),  # part 2 out, not recorded
    ],
    ids=["after-part-1-recorded", "after-part-2-posted"],
)
async def test_after_a_crash_part_way_only_the_remaining_parts_are_posted(
    bots: Bots, dying: RecordingSender, recorded: int
) -> None:
    channel = dying.channel
    staged = bots.start(dying).stage(reply=digest(parts=3))
    every_part = messages_of(reply_from_dict(staged.reply), marker(TARGET, SLOT))
    with pytest.raises(Crash):
        await bots.started[-1].outbox.deliver_due()
    assert bots.started[-1].only().parts_sent == recorded

    sender = RecordingSender(channel)
    restarted = bots.start(sender)
    await restarted.outbox.recover()
    await restarted.outbox.deliver_due()
    assert restarted.only().status == Status.SENT
    assert channel.posts == every_part
    assert sender.looked_for == [marker(TARGET, SLOT)]


async def test_a_crash_after_the_last_part_is_settled_without_posting(
    bots: Bots, channel: Channel
) -> None:
    dying = bots.start(RecordingSender(channel, crash_after=3))
    dying.stage(reply=digest(parts=3))
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()

    sender = RecordingSender(channel)
    restarted = bots.start(sender)
    await restarted.outbox.recover()
    assert restarted.only().status == Status.SENT and restarted.only().parts_sent == 3
    assert sender.attempts == 0 and len(channel.posts) == 3


async def test_without_history_only_the_unrecorded_part_is_posted_again(
    bots: Bots, channel: Channel
) -> None:
    """Documented: a part posted but not yet recorded when the bot died is posted again
    if the platform's history cannot be read; the parts recorded before it are not."""
    dying = bots.start(RecordingSender(channel, crash_after=2))
    staged = dying.stage(reply=digest(parts=3))
    every_part = messages_of(reply_from_dict(staged.reply), marker(TARGET, SLOT))
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()

    blind = bots.start(RecordingSender(channel, can_look=False))
    await blind.outbox.recover()
    await blind.outbox.deliver_due()
    assert channel.posts == [every_part[0], every_part[1], every_part[1], every_part[2]]


# Claims: one outbox at a time


async def test_a_send_in_progress_in_another_outbox_is_left_alone(
    bots: Bots, channel: Channel
) -> None:
    gate = asyncio.Event()
    gated = RecordingSender(channel, gate=gate)
    first = bots.start(gated)
    first.stage(reply=digest(parts=2))
    sending = asyncio.create_task(first.outbox.deliver_due())
    while gated.attempts == 0:
        await asyncio.sleep(0)

    other = RecordingSender(channel)
    second = bots.start(other)
    await second.outbox.recover()
    assert await second.outbox.deliver_due() == []
    assert (other.attempts, other.looked_for) == (0, [])
    assert second.only().owner == first.outbox.owner

    gate.set()
    [outcome] = await sending
    assert outcome.status == Status.SENT and len(channel.posts) == 2


async def test_a_claim_from_another_host_is_settled_only_once_its_lease_runs_out(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    sender = RecordingSender(channel)
    bot = bots.start(sender)
    staged = bot.stage()
    elsewhere = "another-host/4242/0123456789ab"
    assert bot.store.update_delivery(
        staged.id, status=Status.SENDING, owner=elsewhere, lease_until=T0 + LEASE
    )

    clock.now = T0 + LEASE - timedelta(seconds=1)
    assert await bot.outbox.deliver_due() == []
    assert (sender.attempts, sender.looked_for) == (0, [])

    clock.now = T0 + LEASE
    [outcome] = await bot.outbox.deliver_due()
    assert outcome.status == Status.SENT
    assert sender.looked_for == [marker(TARGET, SLOT)] and len(channel.posts) == 1


async def test_an_outbox_that_lost_its_claim_stops_sending(bots: Bots, channel: Channel) -> None:
    class Overtaken(RecordingSender):
        """While part 1 is on its way, another outbox takes the row over."""

        async def send(self, channel: str, reply: Reply, progress: Progress) -> None:
            row = bot.only()
            bot.store.update_delivery(row.id, owner="another-host/1/overtaker")
            await super().send(channel, reply, progress)

    sender = Overtaken(channel)
    bot = bots.start(sender)
    bot.stage(reply=digest(parts=3))
    [outcome] = await bot.outbox.deliver_due()
    assert outcome.status == Status.SENDING and outcome.error == "taken over"
    assert len(channel.posts) == 1  # the part on its way, and nothing after it
    taken = bot.only()
    assert (taken.owner, taken.parts_sent, taken.status) == (
        "another-host/1/overtaker",
        0,
        Status.SENDING,
    )


# Superseding digests that never began going out


async def test_a_new_digest_supersedes_older_ones_that_never_began_going_out(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    """A target whose platform is down for three days: one catch-up digest, not three."""
    down = bots.start(RecordingSender(Channel(), platform="console"))
    day = timedelta(days=1)
    for n in range(3):
        clock.now = T0 + n * day
        start = down.store.last_window_end(TARGET, slot_prefix="m@")
        assert start is None  # nothing began going out: each covers everything
        down.stage(slot=f"m@day{n}", window_start=start, window_end=clock.now, prefix="m@")
        await down.outbox.deliver_due()
    statuses = [(d.slot, d.status) for d in down.store.deliveries()]
    assert statuses == [
        ("m@day0", Status.SUPERSEDED),
        ("m@day1", Status.SUPERSEDED),
        ("m@day2", Status.PENDING),
    ]
    assert down.store.deliveries()[0].last_error == "superseded by m@day1"

    up = bots.start(RecordingSender(channel))
    up.outbox.wake("discord")  # connected: what waited for it is due now
    [outcome] = await up.outbox.deliver_due()
    assert outcome.slot == "m@day2" and outcome.status == Status.SENT
    assert channel.with_marker(marker(TARGET, "m@day0")) == []
    assert len(channel.with_marker(marker(TARGET, "m@day2"))) == 1


async def test_a_digest_that_began_going_out_is_kept_and_the_next_starts_where_it_ends(
    bots: Bots, channel: Channel, clock: Clock
) -> None:
    error = DeliveryError("rate limited", retryable=True, retry_after=7200)
    bot = bots.start(RecordingSender(channel, failures=[None, error]))
    bot.stage(slot="m@day0", reply=digest(parts=2), prefix="m@")
    await bot.outbox.deliver_due()  # part 1 out, part 2 waits two hours
    assert bot.store.last_window_end(TARGET, slot_prefix="m@") == T0

    clock.advance(hours=1)
    bot.stage(slot="m@day1", window_start=T0, window_end=clock.now, prefix="m@")
    assert [d.status for d in bot.store.deliveries()] == [Status.PENDING, Status.PENDING]
    clock.advance(hours=1)
    await bot.outbox.deliver_due()
    assert [d.status for d in bot.store.deliveries()] == [Status.SENT, Status.SENT]
    assert len(channel.posts) == 3


async def test_staging_over_a_window_that_went_stale_is_refused(
    bots: Bots, channel: Channel
) -> None:
    bot = bots.start(RecordingSender(channel))
    bot.stage(slot="m@day0", prefix="m@")
    await bot.outbox.deliver_due()
    with pytest.raises(StaleWindow):  # gathered from before m@day0, which went out since
        bot.stage(slot="m@day1", window_start=None, prefix="m@")
    assert [d.slot for d in bot.store.deliveries()] == ["m@day0"]


def test_targets_parse_into_platform_and_channel() -> None:
    assert Target.parse("discord:123") == Target("discord", "123")
    assert Target.parse(" Slack:C0123 ") == Target("slack", "C0123")
    assert Target.parse("console") == Target("console", "")
    assert str(Target.parse("slack:C0123")) == "slack:C0123"
    assert Target.parse("slack:C0123").folder == "slack-C0123"
    assert Target.parse("file").folder == "file"


# A real process, killed


CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from datetime import UTC, datetime
    from bot.delivery import Seen, part_mark
    from bot.outbox import Outbox
    from bot.reply import Reply, Section
    from bot.store import Store

    database, sink, kill_at = sys.argv[1:4]
    now = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    class FileSink:
        platform = "discord"

        async def send(self, channel, reply, progress):
            total = len(reply.sections)
            for part in range(progress.done + 1, total + 1):
                with open(sink, "a", encoding="utf-8") as out:
                    out.write(f"{channel}\\t{part_mark(progress.ref, part, total)}\\n")
                    out.flush()
                    os.fsync(out.fileno())
                if kill_at == f"in-part-{part}":
                    die()  # the platform has it; the outbox does not know
                progress.accepted(part)
                if kill_at == f"after-part-{part}":
                    die()

        async def delivered(self, channel, ref):
            return Seen()

    outbox = Outbox(Store.open(database), {"discord": FileSink()}, clock=lambda: now)
    outbox.stage(
        target="discord:123456789012", slot="2025-03-10T08:00Z", window_start=None,
        window_end=now, markdown="# briefbot digest",
        reply=Reply("briefbot digest", sections=tuple(Section(heading=h) for h in "abc")),
    )
    if kill_at == "after-stage":
        die()
    asyncio.run(outbox.deliver_due())
    if kill_at == "after-sent":
        die()
    print("not killed")
    """
)
PARTS = 3


@dataclass
class FileSink:
    """The platform, in the parent: it reads the sink the child appended to."""

    sink: Path
    platform: str = "discord"
    sent: int = 0
    looked: int = 0

    def lines(self) -> list[str]:
        if not self.sink.exists():
            return []
        return self.sink.read_text(encoding="utf-8").splitlines()

    async def send(self, channel: str, reply: Reply, progress: Progress) -> None:
        self.sent += 1
        total = len(reply.sections)
        for part in range(progress.done + 1, total + 1):
            with self.sink.open("a", encoding="utf-8") as out:
                out.write(f"{channel}\t{part_mark(progress.ref, part, total)}\n")
            progress.accepted(part)

    async def delivered(self, channel: str, ref: str) -> Seen:
        self.looked += 1
        return seen_in([line for line in self.lines() if line.startswith(channel)], ref)


def every_part_once(channel: str = "123456789012") -> list[str]:
    ref = marker(TARGET, SLOT)
    return [f"{channel}\t{part_mark(ref, n, PARTS)}" for n in range(1, PARTS + 1)]


@pytest.mark.parametrize(
    ("kill_at", "before", "recorded"),
    [
        ("after-stage", "pending", 0),
        ("in-part-1", "sending", 0),
        ("after-part-1", "sending", 1),
        ("in-part-2", "sending", 1),
        ("after-part-2", "sending", 2),
        ("in-part-3", "sending", 2),
        ("after-sent", "sent", 3),
    ],
)
async def test_a_killed_process_delivers_every_part_exactly_once_after_restart(
    tmp_path: Path, database: str, clock: Clock, kill_at: str, before: str, recorded: int
) -> None:
    sink = FileSink(tmp_path / "posted.tsv")
    child = subprocess.run(
        [sys.executable, "-c", CHILD, database, str(sink.sink), kill_at],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "not killed" not in child.stdout

    store = Store.open(database)
    try:
        [killed] = store.deliveries()
        assert (killed.status, killed.parts_sent) == (before, recorded)
        outbox = Outbox(store, {"discord": sink}, clock=clock)
        await outbox.recover()  # the child is dead: its claim is settled at once
        await outbox.deliver_due()
        await outbox.deliver_due()
        [delivery] = store.deliveries()
        assert delivery.status == Status.SENT and delivery.parts_sent == PARTS
    finally:
        store.close()
    assert sink.lines() == every_part_once()
    assert json.dumps(delivery.reply)  # still a stored, JSON-ready digest


# Two processes on one database


SLOW_CHILD = textwrap.dedent(
    """
    import asyncio, os, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from bot.delivery import Seen, part_mark
    from bot.outbox import Outbox
    from bot.reply import Reply, Section
    from bot.store import Store

    database, sink, started, go = sys.argv[1:5]
    now = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)

    class SlowSink:
        # Posts part 1, then waits for the parent before the rest: a slow platform.
        platform = "discord"

        async def send(self, channel, reply, progress):
            total = len(reply.sections)
            for part in range(progress.done + 1, total + 1):
                with open(sink, "a", encoding="utf-8") as out:
                    out.write(f"{channel}\\t{part_mark(progress.ref, part, total)}\\n")
                progress.accepted(part)
                if part == 1:
                    Path(started).touch()
                    deadline = time.monotonic() + 60
                    while not Path(go).exists() and time.monotonic() < deadline:
                        await asyncio.sleep(0.01)

        async def delivered(self, channel, ref):
            return Seen()

    outbox = Outbox(Store.open(database), {"discord": SlowSink()}, clock=lambda: now)
    outbox.stage(
        target="discord:123456789012", slot="2025-03-10T08:00Z", window_start=None,
        window_end=now, markdown="# briefbot digest",
        reply=Reply("briefbot digest", sections=tuple(Section(heading=h) for h in "abc")),
    )
    print([o.status.value for o in asyncio.run(outbox.deliver_due())])
    """
)


async def until_exists(path: Path) -> None:
    async with asyncio.timeout(60):
        while not path.exists():
            await asyncio.sleep(0.01)


async def test_a_second_process_leaves_a_live_send_alone(
    tmp_path: Path, database: str, clock: Clock
) -> None:
    """A cron `briefbot run --once` next to the running bot: while one process is in the
    middle of a digest, the other neither settles nor resends it."""
    sink = FileSink(tmp_path / "posted.tsv")
    started, go = tmp_path / "started", tmp_path / "go"
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_CHILD, database, str(sink.sink), str(started), str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    store = Store.open(database)
    try:
        await until_exists(started)  # the child is sending: part 1 is out
        second = Outbox(store, {"discord": sink}, clock=clock)
        reply = Reply("briefbot digest", sections=tuple(Section(heading=h) for h in "abc"))
        again = second.stage(
            target=TARGET, slot=SLOT, window_start=None, window_end=T0, reply=reply, markdown=""
        )
        await second.recover()
        assert await second.deliver_due() == []
        assert (sink.sent, sink.looked) == (0, 0)
        live = store.delivery(TARGET, SLOT)
        assert live is not None and live.id == again.id
        assert (live.status, live.parts_sent) == (Status.SENDING, 1)
        assert live.owner is not None and live.owner != second.owner

        go.touch()
        stdout, stderr = child.communicate(timeout=60)
        assert child.returncode == 0, stderr
        assert stdout.strip() == "['sent']"
        assert await second.deliver_due() == []
        [delivery] = store.deliveries()
        assert delivery.status == Status.SENT and delivery.owner is None
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        store.close()
    assert sink.lines() == every_part_once()
    assert (sink.sent, sink.looked) == (0, 0)
