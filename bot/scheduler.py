"""Scheduled digests. This module owns APScheduler; the rest of the bot only says
"run this digest at these times".

Each schedule becomes one job with a stable id, coalescing and a generous misfire grace,
in a single in-process scheduler (the job store is never shared between processes).
Missed slots are not left to APScheduler's memory, which a restart wipes: on start the
bot looks at its own outbox and, for each schedule whose latest slot has no digest yet,
runs exactly one catch-up digest. A night of downtime gives one digest, not zero and not
ten, and the outbox's (target, slot) key makes a second one for the same slot impossible.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 6 * 3600  # a job late by less than this still runs, once
_LOOKBACK = (timedelta(hours=1), timedelta(days=1), timedelta(days=32), timedelta(days=400))


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    timezone: str
    target: str
    speakers: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    @property
    def job_id(self) -> str:
        return f"digest:{self.name}"

    def slot(self, fire_time: datetime) -> str:
        """The outbox key of this schedule's digest for one fire time. Named by schedule,
        so two schedules posting to one channel keep their own digests and windows."""
        return f"{self.name}@{slot_key(fire_time)}"

    @property
    def slot_prefix(self) -> str:
        return f"{self.name}@"

    def trigger(self) -> CronTrigger:
        fields = self.cron.split()
        if len(fields) == 5:
            fields[4] = _weekday_names(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=ZoneInfo(self.timezone))


# Crontab numbers weekdays from Sunday (0 or 7); APScheduler 3's from_crontab passes the
# numbers through to its own field, which counts from Monday, so "0 8 * * 1-5" would run
# Tuesday to Saturday. Names mean the same to both, so numbers are turned into names.
_CRONTAB_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NUMERIC_WEEKDAYS = re.compile(r"(?P<first>\*|\d+)(?:-(?P<last>\d+))?(?:/(?P<step>\d+))?")


def _weekday_names(field: str) -> str:
    if not any(c.isdigit() for c in field):
        return field
    parts = []
    for part in field.split(","):
        match = _NUMERIC_WEEKDAYS.fullmatch(part)
        if match is None:
            parts.append(part)  # a name; APScheduler validates it
            continue
        if match["first"] == "*":
            if match["last"] is not None:
                raise ValueError(f"invalid weekday range {part!r}")
            first, last = 0, 6
        else:
            first = int(match["first"])
            last = int(match["last"]) if match["last"] is not None else first
            if match["step"] is not None and match["last"] is None:
                last = 7  # "1/2": from Monday on, every other day
        step = int(match["step"] or 1)
        if not 0 <= first <= last <= 7 or step < 1:
            raise ValueError(f"invalid weekday {part!r}: use 0-7 (0 and 7 are Sunday)")
        parts.extend(_CRONTAB_WEEKDAYS[n] for n in range(first, last + 1, step))
    return ",".join(dict.fromkeys(parts))  # "0,7" is Sunday once


def latest_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The most recent time at or before `now` that the schedule fires, in UTC."""
    # All arithmetic and comparisons in UTC: adding to a local time is wall-clock
    # arithmetic, which drops `fold`, so on the night the clocks go back it steps back
    # an hour, from the second 01:30 to the first; and two local times in one zone
    # compare as if `fold` did not exist.
    now = now.astimezone(UTC)
    trigger = schedule.trigger()
    for lookback in _LOOKBACK:
        fire: datetime | None = trigger.get_next_fire_time(None, now - lookback)
        if fire is None or fire.astimezone(UTC) > now:
            continue
        latest = fire.astimezone(UTC)
        while True:
            following: datetime | None = trigger.get_next_fire_time(
                latest, latest + timedelta(microseconds=1)
            )
            if following is None:
                return latest
            following = following.astimezone(UTC)
            if following > now or following <= latest:
                return latest
            latest = following
    return None


def slot_key(slot: datetime) -> str:
    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


RunDigest = Callable[[Schedule, datetime], Awaitable[None]]


class DigestScheduler:
    def __init__(
        self,
        schedules: Sequence[Schedule],
        run_digest: RunDigest,
        *,
        clock: Callable[[], datetime],
        has_digest: Callable[[Schedule, datetime], bool],
    ):
        self.schedules = tuple(schedules)
        self._run_digest = run_digest
        self._clock = clock
        self._has_digest = has_digest
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    async def catch_up(self) -> list[tuple[Schedule, datetime]]:
        """Run the one digest each schedule owes for its latest slot, if it has none."""
        ran = []
        now = self._clock()
        for schedule in self.schedules:
            slot = latest_slot(schedule, now)
            if slot is not None and not self._has_digest(schedule, slot):
                log.info(
                    "catch-up digest", extra={"schedule": schedule.name, "slot": slot_key(slot)}
                )
                await self._run_digest(schedule, slot)
                ran.append((schedule, slot))
        return ran

    def start(self) -> None:
        """Add one job per schedule and start; a second call replaces the jobs, never
        doubles them."""
        for schedule in self.schedules:
            self._scheduler.add_job(
                self._fire,
                trigger=schedule.trigger(),
                args=[schedule],
                id=schedule.job_id,
                name=f"digest {schedule.name} to {schedule.target}",
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_SECONDS,
                max_instances=1,
            )
        if not self._scheduler.running:
            self._scheduler.start()

    def every(self, seconds: float, job: Callable[[], Awaitable[None]], *, job_id: str) -> None:
        """A housekeeping job: outbox retries, watching the corpus for new files."""
        self._scheduler.add_job(
            job,
            trigger=IntervalTrigger(seconds=seconds),
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, math.ceil(seconds)),  # APScheduler wants a positive int
        )

    def jobs(self) -> list[Job]:
        """The scheduler's jobs, to show or inspect."""
        return list(self._scheduler.get_jobs())

    def next_run(self, schedule: Schedule) -> datetime | None:
        job = self._scheduler.get_job(schedule.job_id)
        return job.next_run_time if job is not None else None

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def _fire(self, schedule: Schedule) -> None:
        # The job does not learn its scheduled time from APScheduler; the latest slot at
        # or before now is that time, even when the run is a coalesced late one.
        slot = latest_slot(schedule, self._clock())
        if slot is None or self._has_digest(schedule, slot):
            return
        try:
            await self._run_digest(schedule, slot)
        except Exception:
            log.exception("scheduled digest failed", extra={"schedule": schedule.name})
