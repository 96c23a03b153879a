"""The composition root in-process: digests staged with their briefing copy, the file
target, catch-up against the real store, --once through a started adapter, start-up
errors, and the terminal input that lets Ctrl-C through."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import POOL_MIN_BATCH, App, StartupError, TerminalInput
from bot.config import Settings, load_settings
from bot.outbox import Backoff, Status, marker
from bot.render.markdown import render, render_text
from bot.reply import Reply, reply_from_dict
from bot.scheduler import DigestScheduler, Schedule, slot_key
from tests.fakes.discord_api import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 3, 10, 10, 30, tzinfo=UTC)
CONSOLE = Schedule("morning", "0 8 * * *", "Europe/London", "console")
FILE = Schedule("archive", "0 8 * * *", "UTC", "file")
HOURLY = Schedule("hourly", "0 * * * *", "UTC", "console")
CHANNEL = 555000000000000001


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh clone's layout, and the working directory, as `make run` sees it."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def settings(project: Path) -> Settings:
    return load_settings(Path("config/bot.yaml"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Apps:
    """Runs of the bot on the project's database; every one is closed at the end."""

    def __init__(self, settings: Settings, clock: Clock):
        self.settings = settings
        self.clock = clock
        self.opened: list[tuple[App, io.StringIO]] = []

    def open(
        self, *, schedules: tuple[Schedule, ...] | None = None, env: dict[str, str] | None = None
    ) -> tuple[App, io.StringIO]:
        settings = self.settings
        if schedules is not None:
            settings = replace(settings, schedules=schedules)
        out = io.StringIO()
        app = App(settings, env=env or {}, clock=self.clock, out=out)
        self.opened.append((app, out))
        return app, out


@pytest.fixture
def apps(settings: Settings, clock: Clock) -> Iterator[Apps]:
    runs = Apps(settings, clock)
    yield runs
    for app, _ in runs.opened:
        app.close()


def briefings(folder: str) -> list[Path]:
    return sorted(Path("briefings", folder).glob("*.md"))


# --once


async def test_once_prints_a_digest_and_writes_the_same_text_to_briefings(
    apps: Apps,
) -> None:
    app, out = apps.open()
    await app.run(once=True)
    printed = out.getvalue()
    assert "Ingested 5 new document(s) (0 already known, 0 skipped)." in printed
    assert "No DISCORD_TOKEN or SLACK_BOT_TOKEN set" in printed
    [briefing] = briefings("console")
    text = briefing.read_text(encoding="utf-8")
    assert briefing.name == "morning@once-2025-03-10T103000.000000Z.md"
    assert "# briefbot digest" in text
    repeated = text.split("## Repeated by more outlets", 1)[1].split("\n## ", 1)[0]
    assert "Dmitry Peskov · now 3 sources" in repeated
    assert "phenomenal how close they are" in repeated
    assert "An atmosphere of mutual trust takes years to achieve" in repeated
    assert marker("console", "morning@once-2025-03-10T103000.000000Z") in text
    [delivery] = app.store.deliveries()
    assert delivery.status == Status.SENT and delivery.markdown == text
    # The terminal shows the same digest as text, without Markdown escapes.
    assert render_text(reply_from_dict(delivery.reply)) in printed


async def test_a_second_once_has_nothing_new(apps: Apps, clock: Clock) -> None:
    first, _ = apps.open()
    await first.run(once=True)
    clock.now += timedelta(hours=1)
    second, out = apps.open()
    await second.run(once=True)
    assert "Ingested 0 new document(s) (5 already known, 0 skipped)." in out.getvalue()
    assert "Nothing new since 2025-03-10 10:30 UTC." in out.getvalue()
    assert len(briefings("console")) == 2


async def test_the_file_target_writes_its_file_and_counts_as_delivered(apps: Apps) -> None:
    app, out = apps.open(schedules=(FILE,))
    await app.run(once=True)
    [briefing] = briefings("file")
    assert "Dmitry Peskov" in briefing.read_text(encoding="utf-8")
    assert "# briefbot digest" not in out.getvalue()  # nothing for the console
    [delivery] = app.store.deliveries()
    assert delivery.target == "file" and delivery.status == Status.SENT
    assert briefings("console") == []


async def test_every_target_of_once_gets_its_digest(apps: Apps) -> None:
    app, out = apps.open(schedules=(CONSOLE, FILE))
    await app.run(once=True)
    assert len(briefings("console")) == len(briefings("file")) == 1
    assert {d.status for d in app.store.deliveries()} == {Status.SENT}
    assert out.getvalue().count("# briefbot digest") == 1


async def test_once_skips_a_platform_that_is_not_connected(apps: Apps) -> None:
    app, _ = apps.open(schedules=(Schedule("chat", "0 8 * * *", "UTC", "slack:C0123ABCD"),))
    await app.run(once=True)
    assert app.store.deliveries() == [] and briefings("slack-C0123ABCD") == []


# Staging: the briefing copy comes first


async def test_a_staged_digest_has_its_briefing_before_it_is_sent(apps: Apps) -> None:
    app, out = apps.open()
    app.ingest()
    delivery = app.stage_digest(CONSOLE, "2025-03-10T08:00Z")
    [briefing] = briefings("console")
    assert briefing.name == "2025-03-10T0800Z.md"
    text = briefing.read_text(encoding="utf-8")
    assert text == delivery.markdown == render(reply_from_dict(delivery.reply))
    assert marker("console", "2025-03-10T08:00Z") in text
    assert out.getvalue() == ""  # stored, not sent
    assert delivery.status == Status.PENDING


async def test_staging_a_slot_again_keeps_the_first_digest_and_its_briefing(
    apps: Apps, clock: Clock
) -> None:
    app, _ = apps.open()
    app.ingest()
    first = app.stage_digest(CONSOLE, "2025-03-10T08:00Z")
    [briefing] = briefings("console")
    before = briefing.read_text(encoding="utf-8")
    clock.now += timedelta(hours=3)
    again = app.stage_digest(CONSOLE, "2025-03-10T08:00Z")
    assert again.id == first.id and again.window_end == first.window_end
    assert briefing.read_text(encoding="utf-8") == before
    assert len(app.store.deliveries()) == 1


async def test_a_console_digest_staged_before_a_crash_is_printed_once_on_restart(
    apps: Apps, clock: Clock
) -> None:
    crashed, crashed_out = apps.open()
    crashed.ingest()
    crashed.stage_digest(CONSOLE, "2025-03-10T08:00Z")  # ... and the process dies here
    crashed.close()
    assert crashed_out.getvalue() == ""

    app, out = apps.open()
    await app.outbox.recover()
    await app.outbox.deliver_due()
    await app.outbox.deliver_due()
    assert out.getvalue().count("# briefbot digest") == 1
    [delivery] = app.store.deliveries()
    assert delivery.markdown == briefings("console")[0].read_text(encoding="utf-8")
    assert out.getvalue().strip() == render_text(reply_from_dict(delivery.reply)).strip()


async def test_a_file_digest_left_unmarked_by_a_crash_is_delivered_on_restart(
    apps: Apps,
) -> None:
    """Stored but not marked delivered: it must not wait for a "file connection"."""
    crashed, _ = apps.open(schedules=(FILE,))
    crashed.outbox.stage(
        target="file",
        slot="2025-03-10T08:00Z",
        window_start=None,
        window_end=T0,
        reply=Reply("briefbot digest"),
        markdown="# briefbot digest\n",
    )
    crashed.close()

    app, _ = apps.open(schedules=(FILE,))
    await app.outbox.recover()
    [outcome] = await app.outbox.deliver_due()
    assert outcome.status == Status.SENT and outcome.error is None


# Catch-up against the real store


async def test_a_night_of_downtime_gives_one_catch_up_digest(apps: Apps, clock: Clock) -> None:
    yesterday = datetime(2025, 3, 9, 8, 0, tzinfo=UTC)
    clock.now = yesterday
    before, _ = apps.open(schedules=(HOURLY,))
    before.ingest()
    await before.run_schedule(HOURLY, yesterday)
    before.close()

    clock.now = T0  # today 10:30
    app, out = apps.open(schedules=(HOURLY,))
    scheduler = DigestScheduler(
        app.schedules, app.run_schedule, clock=clock, has_digest=app.has_digest
    )
    ran = await scheduler.catch_up()
    assert [(s.name, slot_key(slot)) for s, slot in ran] == [("hourly", "2025-03-10T10:00Z")]
    assert out.getvalue().count("# briefbot digest") == 1
    assert "Nothing new since 2025-03-09 08:00 UTC." in out.getvalue()

    restarted = DigestScheduler(
        app.schedules, app.run_schedule, clock=clock, has_digest=app.has_digest
    )
    assert await restarted.catch_up() == []
    assert [d.slot for d in app.store.deliveries()] == [
        "hourly@2025-03-09T08:00Z",
        "hourly@2025-03-10T10:00Z",
    ]
    assert [p.name for p in briefings("console")] == [
        "hourly@2025-03-09T0800Z.md",
        "hourly@2025-03-10T1000Z.md",
    ]


async def test_two_schedules_to_one_channel_keep_their_own_digests_and_windows(
    apps: Apps, clock: Clock
) -> None:
    peskov = Schedule("peskov", "0 * * * *", "UTC", "console", speakers=("Dmitry Peskov",))
    clock.now = T0
    app, out = apps.open(schedules=(HOURLY, peskov))
    app.ingest()
    slot = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
    await app.run_schedule(HOURLY, slot)
    await app.run_schedule(peskov, slot)
    assert [d.slot for d in app.store.deliveries()] == [
        "hourly@2025-03-10T10:00Z",
        "peskov@2025-03-10T10:00Z",
    ]
    # Both cover everything so far: one schedule's digest does not close the other's window.
    assert [d.window_start for d in app.store.deliveries()] == [None, None]
    assert out.getvalue().count("# briefbot digest: everything so far") == 2


# Platforms


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


def discord_env(api: str, gateway: str, token: str = FakeDiscord.token) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": token,
        "DISCORD_GUILD_ID": "300",
        "DISCORD_API_BASE": api,
        "DISCORD_GATEWAY_URL": gateway,
    }


NEWSROOM = Schedule("newsroom", "0 8 * * *", "UTC", f"discord:{CHANNEL}")


async def test_a_target_without_its_platform_gets_one_catch_up_digest_not_one_a_day(
    apps: Apps, clock: Clock, fake_discord: FakeDiscord
) -> None:
    """Three days with no DISCORD_TOKEN, then the token: one digest of everything since
    the last one delivered (none), not three or four."""
    for day in (10, 11, 12):
        clock.now = datetime(2025, 3, day, 8, 0, tzinfo=UTC)
        app, _ = apps.open(schedules=(NEWSROOM,))
        app.ingest()
        await app.run_schedule(NEWSROOM, clock.now)
    waiting = app.store.deliveries()
    assert [d.status for d in waiting] == [Status.SUPERSEDED, Status.SUPERSEDED, Status.PENDING]
    assert [d.window_start for d in waiting] == [None, None, None]

    clock.now = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
    env = discord_env(fake_discord.api_base, fake_discord.gateway_url)
    app, _ = apps.open(schedules=(NEWSROOM,), env=env)
    await app.run(once=True)

    statuses = [(d.slot.startswith("newsroom@once-"), d.status) for d in app.store.deliveries()]
    assert statuses == [
        (False, Status.SUPERSEDED),
        (False, Status.SUPERSEDED),
        (False, Status.SUPERSEDED),
        (True, Status.SENT),
    ]
    titles = [
        message["embeds"][0].get("title")
        for message in fake_discord.channel_messages[CHANNEL]
        if message["embeds"][0].get("title")
    ]
    assert titles == ["briefbot digest: everything so far"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_once_with_discord_unreachable_still_gives_the_console_its_digest(
    apps: Apps,
) -> None:
    port = free_port()  # nothing listens there
    env = discord_env(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    app, out = apps.open(schedules=(CONSOLE, NEWSROOM), env=env)
    await app.run(once=True)

    shown = out.getvalue()
    assert "Discord: cannot connect yet (ClientConnectorError" in shown
    assert "# briefbot digest" in shown
    console, discord = app.store.deliveries()
    assert (console.target, console.status) == ("console", Status.SENT)
    assert (discord.status, discord.last_error) == (Status.PENDING, "Discord is not logged in.")


async def test_a_platform_unreachable_at_start_is_retried_while_the_rest_runs_on(
    apps: Apps, settings: Settings, clock: Clock
) -> None:
    port = free_port()
    fake = FakeDiscord(port=port)
    out = io.StringIO()
    app = App(
        replace(settings, schedules=(CONSOLE, NEWSROOM)),
        env=discord_env(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway"),
        clock=clock,
        out=out,
        connect_retry=Backoff(first_seconds=0.05, factor=2.0, cap_seconds=0.2),
    )
    apps.opened.append((app, out))
    running = asyncio.create_task(app.run(console=False))
    try:
        async with asyncio.timeout(30):  # up without Discord: the console digest is out
            while "Running until Ctrl-C." not in out.getvalue():
                await asyncio.sleep(0.01)
        assert "Discord: cannot connect yet" in out.getvalue()
        assert "# briefbot digest" in out.getvalue()
        waiting = app.store.delivery(
            NEWSROOM.target, NEWSROOM.slot(datetime(2025, 3, 10, 8, 0, tzinfo=UTC))
        )
        assert waiting is not None and waiting.status == Status.PENDING

        async with fake:  # Discord is back
            async with asyncio.timeout(30):
                while (sent := app.store.delivery(waiting.target, waiting.slot)) is None or (
                    sent.status != Status.SENT
                ):
                    await asyncio.sleep(0.01)
            assert "Discord connected." in out.getvalue()
            posted = json.dumps(fake.channel_messages[CHANNEL])
            assert marker(waiting.target, waiting.slot) in posted
            assert not running.done()
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 10)


async def test_once_posts_through_a_started_discord_adapter(
    apps: Apps, fake_discord: FakeDiscord
) -> None:
    env = {
        "DISCORD_TOKEN": fake_discord.token,
        "DISCORD_GUILD_ID": "300",
        "DISCORD_API_BASE": fake_discord.api_base,
        "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
    }
    newsroom = Schedule("newsroom", "0 8 * * *", "UTC", f"discord:{CHANNEL}")
    app, out = apps.open(schedules=(newsroom,), env=env)
    await app.run(once=True)
    assert "Discord connected." in out.getvalue()
    [delivery] = app.store.deliveries()
    assert delivery.status == Status.SENT, delivery.last_error
    posted = json.dumps(fake_discord.channel_messages[CHANNEL])
    assert "Dmitry Peskov" in posted
    assert marker(newsroom.target, delivery.slot) in posted
    assert not fake_discord.connected  # closed again


async def test_a_refused_discord_token_is_a_clear_startup_error(
    apps: Apps, fake_discord: FakeDiscord
) -> None:
    wrong = "MTIz.not-the-right-token.abcdef"
    env = {
        "DISCORD_TOKEN": wrong,
        "DISCORD_API_BASE": fake_discord.api_base,
        "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
    }
    app, _ = apps.open(env=env)
    with pytest.raises(StartupError) as caught:
        await app.run(once=True)
    message = str(caught.value)
    assert message.startswith("Discord: could not connect (LoginFailure")
    assert "Check its token" in message and wrong not in message
    assert app.store.deliveries() == []


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-fake-bot-token"}, ["SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"]),
        ({"SLACK_APP_TOKEN": "xapp-fake-app-token"}, ["SLACK_BOT_TOKEN"]),
        ({"DISCORD_TOKEN": "fake-token", "DISCORD_GUILD_ID": "my server"}, ["DISCORD_GUILD_ID"]),
    ],
)
async def test_incomplete_tokens_stop_the_start_with_a_clear_error(
    apps: Apps, env: dict[str, str], words: list[str]
) -> None:
    app, _ = apps.open(env=env)
    with pytest.raises(StartupError) as caught:
        await app.run(once=True)
    for word in words:
        assert word in str(caught.value)
    for value in env.values():
        if "fake" in value:
            assert value not in str(caught.value)
    assert app.store.deliveries() == []


# Terminal input


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):
            os.close(fd)


async def test_terminal_input_reads_one_line_at_a_time(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    terminal = TerminalInput(read_end)
    os.write(write_end, "/quotes Песков\r\n/help\n/spe".encode())
    assert await asyncio.to_thread(terminal.read_line) == "/quotes Песков"
    assert await asyncio.to_thread(terminal.read_line) == "/help"
    os.write(write_end, b"akers\n")
    assert await asyncio.to_thread(terminal.read_line) == "/speakers"
    os.close(write_end)
    with pytest.raises(EOFError):
        await asyncio.to_thread(terminal.read_line)


async def test_stopping_releases_a_reader_waiting_for_a_line(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    terminal = TerminalInput(read_end)
    waiting = asyncio.create_task(asyncio.to_thread(terminal.read_line))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    terminal.stop()
    with pytest.raises(EOFError):
        await asyncio.wait_for(waiting, 5)
    reader = [t for t in threading.enumerate() if t.name == "console-input"]
    assert reader and all(t.daemon for t in reader)  # never holds up the exit
    os.close(write_end)  # the daemon reader sees the end and finishes
    for thread in reader:
        thread.join(5)


def test_a_large_folder_is_read_and_analysed_on_the_pool(
    apps: Apps, project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # More files than POOL_MIN_BATCH: reading and analysis go through worker processes,
    # with the config's per-file overrides (a pickled loader) applied there too.
    inbox = project / "inbox"
    inbox.mkdir()
    count = POOL_MIN_BATCH + 6
    for n in range(count):
        (inbox / f"{n:03}.txt").write_text(
            f"Report {n}\n\nMOSCOW (Reuters) - “Talks number {n} went well,” Peskov said.\n",
            "utf-8",
        )
    # Read on a worker: UTF-8 with a few bad bytes, replaced, and a warning to show for it.
    (inbox / "050.txt").write_bytes((inbox / "050.txt").read_bytes() + b"\xff\xfe bad \x80\n")
    (inbox / "notes.pdf").write_bytes(b"%PDF")
    app, _ = apps.open()
    with caplog.at_level(logging.WARNING, logger="bot"):
        report = app.ingest((inbox,))
    assert len(report.result.added) == count
    assert report.result.quotes == count
    assert [p.reason for p in report.problems] == [".pdf files are not articles"]
    (warning,) = report.warnings
    assert Path(warning.path).name == "050.txt"
    assert warning.reason.startswith("3 stretch(es) of bytes are not valid UTF-8")
    found = app.archive.search("talks number 7 went", limit=5)[0]
    assert [(q.speaker, q.text) for q in found] == [("Dmitry Peskov", "Talks number 7 went well")]
    assert app._analyser._pool is not None  # the pool really ran
    # Both reach the bot's log, from this process, each once.
    logged = [
        (r.getMessage(), Path(getattr(r, "path", "")).name, r.process)
        for r in caplog.records
        if r.getMessage() in ("skipped a file", "read a damaged file")
    ]
    assert logged == [
        ("skipped a file", "notes.pdf", os.getpid()),
        ("read a damaged file", "050.txt", os.getpid()),
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot"):
        again = app.ingest((inbox,))  # a rescan: reported again, logged no more
    assert again.warnings == report.warnings and again.problems == report.problems
    assert not [r for r in caplog.records if r.getMessage() == "read a damaged file"]
