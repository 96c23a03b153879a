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

from bot.delivery import DeliveryError
from bot.outbox import Backoff, Outbox, Status, Target, marker, stamp
from bot.reply import Item, Reply, Section
from bot.store import Delivery, Store

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
    """What the platform accepted: every post, in order."""

    posts: list[Reply] = field(default_factory=list)

    def with_marker(self, ref: str) -> list[Reply]:
        return [p for p in self.posts if ref in p.footnote]


@dataclass
class RecordingSender:
    """A scripted platform edge. `failures` are raised, one per send, before posting;
    `crash_after_post` records the post and then dies; `can_look` is whether the
    platform lets the sender read its history."""

    channel: Channel
    platform: str = "discord"
    failures: list[BaseException] = field(default_factory=list)
    crash_after_post: bool = False
    can_look: bool = True
    gate: asyncio.Event | None = None  # when set, each send waits for it
    attempts: int = 0
    looked_for: list[str] = field(default_factory=list)

    async def send(self, channel: str, reply: Reply) -> None:
        self.attempts += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.channel.posts.append(reply)
        if self.crash_after_post:
            raise Crash("killed after the platform accepted the post")

    async def already_delivered(self, channel: str, marker: str) -> bool:
        self.looked_for.append(marker)
        return self.can_look and bool(self.channel.with_marker(marker))


def digest(title: str = "briefbot digest") -> Reply:
    return Reply(
        title=title,
        sections=(Section(heading="New quotes", items=(Item("“We are ready”", quoted=True),)),),
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
        self, *, target: str = TARGET, slot: str = SLOT, reply: Reply | None = None
    ) -> Delivery:
        reply = reply or digest()
        return self.outbox.stage(
            target=target,
            slot=slot,
            window_start=None,
            window_end=T0,
            reply=reply,
            markdown=reply.title,
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
    failures: list[BaseException] = [DeliveryError("down", retryable=True) for _ in range(9)]
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
    run asks the platform before resending, and the run it happened in goes on."""
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

    assert await bot.outbox.deliver_due() == []  # asked, not there, waits for its backoff
    assert buggy.looked_for == [marker(TARGET, SLOT)]
    clock.advance(seconds=30)
    await bot.outbox.deliver_due()
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
    dying = bots.start(RecordingSender(channel, crash_after_post=True))
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
    dying = bots.start(RecordingSender(channel, crash_after_post=True))
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
    dying = bots.start(RecordingSender(channel, crash_after_post=True))
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
    dying = bots.start(RecordingSender(channel, crash_after_post=True))
    dying.stage()
    with pytest.raises(Crash):
        await dying.outbox.deliver_due()

    class Unreachable(RecordingSender):
        async def already_delivered(self, channel: str, marker: str) -> bool:
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
    dying = bots.start(RecordingSender(channel, crash_after_post=True))
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
    from bot.outbox import Outbox
    from bot.reply import Reply
    from bot.store import Store

    database, sink, kill_at = sys.argv[1:4]
    now = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    class FileSink:
        platform = "discord"

        async def send(self, channel, reply):
            with open(sink, "a", encoding="utf-8") as out:
                out.write(f"{channel}\\t{reply.footnote}\\n")
                out.flush()
                os.fsync(out.fileno())
            if kill_at == "in-send":
                die()

        async def already_delivered(self, channel, marker):
            return False

    outbox = Outbox(Store.open(database), {"discord": FileSink()}, clock=lambda: now)
    outbox.stage(
        target="discord:123456789012", slot="2025-03-10T08:00Z", window_start=None,
        window_end=now, reply=Reply("briefbot digest"), markdown="# briefbot digest",
    )
    if kill_at == "after-stage":
        die()
    asyncio.run(outbox.deliver_due())
    if kill_at == "after-sent":
        die()
    print("not killed")
    """
)


@dataclass
class FileSink:
    """The platform, in the parent: it reads the sink the killed child appended to."""

    sink: Path
    platform: str = "discord"

    def lines(self) -> list[str]:
        if not self.sink.exists():
            return []
        return self.sink.read_text(encoding="utf-8").splitlines()

    async def send(self, channel: str, reply: Reply) -> None:
        with self.sink.open("a", encoding="utf-8") as out:
            out.write(f"{channel}\t{reply.footnote}\n")

    async def already_delivered(self, channel: str, marker: str) -> bool:
        return any(line == f"{channel}\t{marker}" for line in self.lines())


@pytest.mark.parametrize("kill_at", ["after-stage", "in-send", "after-sent"])
async def test_a_killed_process_delivers_exactly_once_after_restart(
    tmp_path: Path, database: str, clock: Clock, kill_at: str
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
    expected_before = {"after-stage": [], "in-send": ["sending"], "after-sent": ["sent"]}[kill_at]

    store = Store.open(database)
    try:
        assert [d.status for d in store.deliveries() if d.status != "pending"] == expected_before
        outbox = Outbox(store, {"discord": sink}, clock=clock)
        await outbox.recover()
        await outbox.deliver_due()
        await outbox.deliver_due()
        [delivery] = store.deliveries()
        assert delivery.status == Status.SENT
    finally:
        store.close()
    assert sink.lines() == [f"123456789012\t{marker(TARGET, SLOT)}"]
    assert json.dumps(delivery.reply)  # still a stored, JSON-ready digest
