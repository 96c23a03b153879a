"""Schedules: which slot is due, one catch-up digest after downtime, and the real
APScheduler jobs (stable ids, coalescing, misfire grace), without waiting for cron."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.scheduler import (
    MISFIRE_GRACE_SECONDS,
    DigestScheduler,
    Schedule,
    latest_slot,
    slot_key,
)

LONDON = "Europe/London"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def schedule(cron: str, timezone: str = "UTC", name: str = "morning") -> Schedule:
    return Schedule(name, cron, timezone, "console")


# latest_slot

CASES = [
    # daily at 08:00 London: 07:00 UTC in summer time, 08:00 UTC after the clocks go back
    ("0 8 * * *", LONDON, utc(2025, 10, 25, 7, 30), utc(2025, 10, 25, 7, 0)),
    ("0 8 * * *", LONDON, utc(2025, 10, 26, 7, 30), utc(2025, 10, 25, 7, 0)),
    ("0 8 * * *", LONDON, utc(2025, 10, 26, 8, 0), utc(2025, 10, 26, 8, 0)),
    ("0 8 * * *", LONDON, utc(2025, 10, 27, 7, 59), utc(2025, 10, 26, 8, 0)),
    # hourly through the hour that happens twice (01:00-02:00 London, 26 October 2025)
    ("0 * * * *", LONDON, utc(2025, 10, 26, 0, 59, 59), utc(2025, 10, 26, 0, 0)),
    ("0 * * * *", LONDON, utc(2025, 10, 26, 1, 10), utc(2025, 10, 26, 1, 0)),
    ("0 * * * *", LONDON, utc(2025, 10, 26, 2, 0), utc(2025, 10, 26, 2, 0)),
    # a time inside the repeated hour: first 01:30 (BST), then the second (GMT)
    ("30 1 * * *", LONDON, utc(2025, 10, 26, 0, 45), utc(2025, 10, 26, 0, 30)),
    ("30 1 * * *", LONDON, utc(2025, 10, 26, 1, 45), utc(2025, 10, 26, 1, 30)),
    ("30 1 * * *", LONDON, utc(2025, 10, 27, 0, 0), utc(2025, 10, 26, 1, 30)),
    # the clocks go forward: 01:30 does not exist on 30 March, the day is not skipped
    ("30 1 * * *", LONDON, utc(2025, 3, 30, 3, 0), utc(2025, 3, 30, 1, 30)),
    ("0 7 * * *", "America/New_York", utc(2025, 11, 2, 13, 0), utc(2025, 11, 2, 12, 0)),
    ("0 9 * * *", "Asia/Kolkata", utc(2025, 6, 1, 4, 0), utc(2025, 6, 1, 3, 30)),
    # minute-level
    ("* * * * *", "UTC", utc(2025, 6, 1, 10, 44, 59), utc(2025, 6, 1, 10, 44)),
    ("*/15 * * * *", "UTC", utc(2025, 6, 1, 10, 44, 59), utc(2025, 6, 1, 10, 30)),
    ("*/15 * * * *", "UTC", utc(2025, 6, 1, 10, 45), utc(2025, 6, 1, 10, 45)),
    # weekly, with crontab's weekday numbers (1 = Monday, 0 and 7 = Sunday) and names
    ("0 9 * * 1", LONDON, utc(2025, 10, 26, 12, 0), utc(2025, 10, 20, 8, 0)),
    ("0 9 * * 1", LONDON, utc(2025, 10, 27, 9, 0), utc(2025, 10, 27, 9, 0)),
    ("0 9 * * mon", LONDON, utc(2025, 10, 27, 9, 0), utc(2025, 10, 27, 9, 0)),
    ("0 10 * * 0", "UTC", utc(2025, 10, 29, 0, 0), utc(2025, 10, 26, 10, 0)),
    ("0 10 * * 7", "UTC", utc(2025, 10, 29, 0, 0), utc(2025, 10, 26, 10, 0)),
    ("0 8 * * 1-5", "UTC", utc(2025, 10, 26, 12, 0), utc(2025, 10, 24, 8, 0)),
    ("0 8 * * 1-5", "UTC", utc(2025, 10, 27, 8, 0), utc(2025, 10, 27, 8, 0)),
    ("0 8 * * 6,0", "UTC", utc(2025, 10, 24, 12, 0), utc(2025, 10, 19, 8, 0)),
    # monthly and yearly
    ("0 6 1 * *", "UTC", utc(2025, 3, 15, 0, 0), utc(2025, 3, 1, 6, 0)),
    ("0 0 1 1 *", "UTC", utc(2025, 10, 1, 0, 0), utc(2025, 1, 1, 0, 0)),
]


@pytest.mark.parametrize(("cron", "timezone", "now", "expected"), CASES)
def test_latest_slot(cron: str, timezone: str, now: datetime, expected: datetime) -> None:
    slot = latest_slot(schedule(cron, timezone), now)
    assert slot == expected
    assert slot is not None and slot.utcoffset() == timedelta(0)


def test_latest_slot_reads_a_local_now_as_the_instant_it_is() -> None:
    london = ZoneInfo(LONDON)
    second_half_past_one = datetime(2025, 10, 26, 1, 45, fold=1, tzinfo=london)  # 01:45 UTC
    assert latest_slot(schedule("30 1 * * *", LONDON), second_half_past_one) == utc(
        2025, 10, 26, 1, 30
    )
    summer = datetime(2025, 10, 25, 8, 30, tzinfo=london)
    assert latest_slot(schedule("0 8 * * *", LONDON), summer) == utc(2025, 10, 25, 7, 0)


def test_the_slot_is_the_fire_time_itself() -> None:
    daily = schedule("0 8 * * *", LONDON)
    trigger = daily.trigger()
    start = utc(2025, 10, 20, 0, 0)
    fire = trigger.get_next_fire_time(None, start)
    for _ in range(14):  # two weeks across the change of clocks
        assert latest_slot(daily, fire) == fire
        assert latest_slot(daily, fire - timedelta(seconds=1)) != fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))


def test_weekday_numbers_mean_what_they_mean_in_crontab() -> None:
    monday = utc(2025, 10, 27, 0, 0)
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    for number, name in [(0, "Sun"), (1, "Mon"), (2, "Tue"), (5, "Fri"), (6, "Sat"), (7, "Sun")]:
        fire = schedule(f"0 8 * * {number}").trigger().get_next_fire_time(None, monday)
        assert names[fire.weekday()] == name


@pytest.mark.parametrize("cron", ["0 8 * * 8", "0 8 * * 5-2", "0 8 * * */0", "0 8 * * *-3"])
def test_impossible_weekdays_are_refused(cron: str) -> None:
    with pytest.raises(ValueError):
        schedule(cron).trigger()


def test_slot_keys_are_utc_minutes() -> None:
    local = datetime(2025, 10, 25, 8, 0, tzinfo=ZoneInfo(LONDON))
    assert slot_key(local) == "2025-10-25T07:00Z"
    assert slot_key(utc(2025, 10, 26, 8, 0, 59)) == "2025-10-26T08:00Z"


# catch_up


@dataclass
class Outbox:
    """What the scheduler asks about: which (schedule, slot) already has a digest."""

    digests: set[tuple[str, datetime]] = field(default_factory=set)
    runs: list[tuple[str, datetime]] = field(default_factory=list)
    asked: list[tuple[str, datetime]] = field(default_factory=list)
    asked_event: asyncio.Event = field(default_factory=asyncio.Event)
    ran_event: asyncio.Event = field(default_factory=asyncio.Event)

    async def run_digest(self, schedule: Schedule, slot: datetime) -> None:
        self.runs.append((schedule.name, slot))
        self.digests.add((schedule.name, slot))
        self.ran_event.set()

    def has_digest(self, schedule: Schedule, slot: datetime) -> bool:
        self.asked.append((schedule.name, slot))
        self.asked_event.set()
        return (schedule.name, slot) in self.digests


def scheduler(outbox: Outbox, now: datetime, *schedules: Schedule) -> DigestScheduler:
    return DigestScheduler(
        schedules, outbox.run_digest, clock=lambda: now, has_digest=outbox.has_digest
    )


async def test_a_night_of_downtime_gives_one_catch_up_digest_then_none() -> None:
    hourly = schedule("0 * * * *", LONDON, name="hourly")
    outbox = Outbox(digests={("hourly", utc(2025, 3, 9, 8, 0))})  # last: yesterday 08:00
    now = utc(2025, 3, 10, 10, 30)

    ran = await scheduler(outbox, now, hourly).catch_up()
    assert ran == [(hourly, utc(2025, 3, 10, 10, 0))]
    assert outbox.runs == [("hourly", utc(2025, 3, 10, 10, 0))]

    assert await scheduler(outbox, now, hourly).catch_up() == []  # started again at once
    assert len(outbox.runs) == 1


async def test_catch_up_runs_one_digest_per_schedule_that_owes_one() -> None:
    morning = schedule("0 8 * * *", LONDON, name="morning")
    weekly = schedule("0 9 * * 1", LONDON, name="weekly")
    evening = schedule("0 18 * * *", "UTC", name="evening")
    now = utc(2025, 3, 12, 12, 0)  # a Wednesday
    outbox = Outbox(digests={("evening", utc(2025, 3, 11, 18, 0))})
    ran = await scheduler(outbox, now, morning, weekly, evening).catch_up()
    assert [(s.name, slot) for s, slot in ran] == [
        ("morning", utc(2025, 3, 12, 8, 0)),
        ("weekly", utc(2025, 3, 10, 9, 0)),
    ]


async def test_a_first_start_owes_the_latest_slot_only() -> None:
    outbox = Outbox()
    now = utc(2025, 3, 10, 10, 30)
    await scheduler(outbox, now, schedule("*/5 * * * *", name="often")).catch_up()
    assert outbox.runs == [("often", utc(2025, 3, 10, 10, 30))]


# The real APScheduler jobs


@pytest.fixture
async def running() -> AsyncIterator[list[DigestScheduler]]:
    started: list[DigestScheduler] = []
    yield started
    for each in started:
        each.shutdown()


async def test_jobs_have_stable_ids_coalesce_and_a_misfire_grace(
    running: list[DigestScheduler],
) -> None:
    morning = schedule("0 8 * * *", LONDON, name="morning")
    weekly = schedule("0 9 * * 1", "UTC", name="weekly")
    digests = scheduler(Outbox(), utc(2025, 3, 10, 10, 30), morning, weekly)
    running.append(digests)

    async def tick() -> None:
        return None

    digests.every(30, tick, job_id="outbox")
    digests.start()
    digests.start()  # a second start replaces, never doubles
    jobs = {job.id: job for job in digests.jobs()}
    assert sorted(jobs) == ["digest:morning", "digest:weekly", "outbox"]
    for name in ("morning", "weekly"):
        job = jobs[f"digest:{name}"]
        assert job.coalesce is True
        assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS >= 3600
        assert job.max_instances == 1
        assert isinstance(job.trigger, CronTrigger)
    assert str(jobs["digest:morning"].trigger.timezone) == LONDON
    assert isinstance(jobs["outbox"].trigger, IntervalTrigger)
    assert jobs["outbox"].coalesce is True

    next_morning = digests.next_run(morning)
    assert next_morning is not None and next_morning.astimezone(ZoneInfo(LONDON)).hour == 8
    next_weekly = digests.next_run(weekly)
    assert next_weekly is not None and next_weekly.weekday() == 0  # Monday


async def test_a_job_firing_for_a_slot_that_has_a_digest_does_nothing(
    running: list[DigestScheduler],
) -> None:
    morning = schedule("0 8 * * *", LONDON, name="morning")
    now = utc(2025, 3, 10, 10, 30)
    outbox = Outbox(digests={("morning", utc(2025, 3, 10, 8, 0))})
    digests = scheduler(outbox, now, morning)
    running.append(digests)
    digests.start()

    [job] = digests.jobs()
    job.modify(next_run_time=datetime.now(UTC))  # fire now, not at 08:00
    await asyncio.wait_for(outbox.asked_event.wait(), 10)
    assert outbox.asked == [("morning", utc(2025, 3, 10, 8, 0))]
    assert outbox.runs == []

    outbox.digests.clear()  # the same job, for a slot that has no digest yet
    [job] = digests.jobs()
    job.modify(next_run_time=datetime.now(UTC))
    await asyncio.wait_for(outbox.ran_event.wait(), 10)
    assert outbox.runs == [("morning", utc(2025, 3, 10, 8, 0))]
    assert digests.next_run(morning) is not None  # still scheduled after a run


async def test_a_failing_digest_job_is_logged_and_the_job_stays(
    running: list[DigestScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    failed = asyncio.Event()

    async def failing(schedule: Schedule, slot: datetime) -> None:
        failed.set()
        raise RuntimeError("the archive is locked")

    morning = schedule("0 8 * * *", name="morning")
    digests = DigestScheduler(
        [morning], failing, clock=lambda: utc(2025, 3, 10, 10, 30), has_digest=lambda s, d: False
    )
    running.append(digests)
    digests.start()
    [job] = digests.jobs()
    job.modify(next_run_time=datetime.now(UTC))
    await asyncio.wait_for(failed.wait(), 10)
    await asyncio.sleep(0)
    assert "scheduled digest failed" in caplog.text
    assert [j.id for j in digests.jobs()] == ["digest:morning"]


async def test_shutdown_is_safe_before_start_and_twice() -> None:
    digests = scheduler(Outbox(), utc(2025, 3, 10, 10, 30), schedule("0 8 * * *"))
    digests.shutdown()
    digests.start()
    digests.shutdown()
    digests.shutdown()


async def test_a_housekeeping_job_shorter_than_a_second_is_accepted_and_runs(
    running: list[DigestScheduler],
) -> None:
    """`corpus.rescan_minutes: 0.005` is a valid setting: a 0.3 s interval."""
    ticked = asyncio.Event()

    async def tick() -> None:
        ticked.set()

    digests = scheduler(Outbox(), utc(2025, 3, 10, 10, 30), schedule("0 8 * * *"))
    running.append(digests)
    digests.every(0.3, tick, job_id="corpus")
    digests.start()
    await asyncio.wait_for(ticked.wait(), 10)
    [job] = [j for j in digests.jobs() if j.id == "corpus"]
    assert job.misfire_grace_time == 1
