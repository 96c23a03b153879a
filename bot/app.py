"""The composition root: settings in, a running bot out.

`briefbot run` ingests the corpus, starts every adapter whose tokens are set, runs one
catch-up digest per schedule that owes one, then serves commands and scheduled digests
until Ctrl-C. With no tokens it runs the console and file targets only.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bot.adapters.console import ConsoleSender, repl
from bot.archive import Archive, IngestResult
from bot.commands import Dispatcher
from bot.config import Settings, SourceRules, load_sources, load_speakers
from bot.core.documents import Document
from bot.delivery import Progress, Seen, Sender
from bot.digests import digest_reply, gather_digest
from bot.handlers import BotContext, dispatcher
from bot.outbox import Backoff, Outbox, Target, stamp
from bot.parallel import ProcessPoolAnalyser
from bot.render.markdown import render
from bot.reply import Reply
from bot.scheduler import DigestScheduler, Schedule, latest_slot, slot_key
from bot.sources.files import Problem, article_files, load_path
from bot.store import Delivery, StaleWindow, Store

log = logging.getLogger(__name__)

OUTBOX_TICK_SECONDS = 30.0
ADAPTER_START_TIMEOUT = 60.0
CONNECT_RETRY = Backoff(first_seconds=5.0, factor=2.0, cap_seconds=300.0)  # after start
INGEST_BATCH = 512  # documents stored at once in a large ingest
POOL_MIN_BATCH = 64  # new documents in one ingest before analysis spreads over processes
DEFAULT_SCHEDULE = Schedule("console", "0 8 * * *", "UTC", "console")


def utc_now() -> datetime:
    return datetime.now(UTC)


class BriefingFileSender:
    """The "file" target: its digest is the briefing copy, written before the digest is
    stored (see `App.stage_digest`), so there is nothing left to send."""

    platform = "file"

    async def send(self, channel: str, reply: Reply, progress: Progress) -> None:
        return None

    async def delivered(self, channel: str, ref: str) -> Seen:
        return Seen(parts=1, total=1)


class StartupError(Exception):
    """The bot cannot start as configured; the message says what to fix."""


@dataclass(frozen=True)
class IngestReport:
    result: IngestResult
    problems: tuple[Problem, ...]  # files skipped, with the reason
    warnings: tuple[Problem, ...] = ()  # files read, but not all of them faithfully


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        out: TextIO | None = None,
        connect_retry: Backoff = CONNECT_RETRY,
    ):
        self.settings = settings
        self.connect_retry = connect_retry  # for a platform unreachable at start
        self.env = dict(os.environ if env is None else env)
        self.clock = clock
        self.out = out or sys.stdout
        self.book = load_speakers(settings.config_dir / "speakers.yaml")
        self.rules: SourceRules = load_sources(settings.config_dir / "sources.yaml")
        self.store = Store.open(settings.storage_url)
        # Large ingests (a folder of hundreds of articles) analyse on every core; a
        # handful of new articles stays in this process (a pool costs more to start).
        self._analyser = ProcessPoolAnalyser(min_batch=POOL_MIN_BATCH)
        self.archive = Archive(self.store, self.book, analyser=self._analyser)
        self.senders: dict[str, Sender] = {
            "console": ConsoleSender(self.out),
            "file": BriefingFileSender(),
        }
        self.outbox = Outbox(self.store, self.senders, clock=clock)
        self._scheduler: DigestScheduler | None = None
        self._reported: set[tuple[str, Problem]] = set()
        self.failure: str | None = None  # why a running bot had to stop

    def close(self) -> None:
        self._analyser.close()
        self.store.close()

    # -- ingest ------------------------------------------------------------------------

    def ingest(self, paths: tuple[Path, ...] | None = None) -> IngestReport:
        files: list[Path] = []
        problems: list[Problem] = []
        warnings: list[Problem] = []
        for path in paths or self.settings.corpus_paths:
            found, skipped = article_files(path)
            files.extend(found)
            problems.extend(skipped)
        loader = partial(
            load_path,
            known_for=self.rules.known_for,
            max_bytes=int(self.settings.max_file_mb * 1024 * 1024),
        )

        # A large folder is read and analysed on the pool a batch ahead of storing. What
        # the reading found wrong comes back in the reports, to be logged here: a worker
        # process's own log records never reach the bot's log.
        def batches() -> Iterator[list[Document]]:
            for reports in self._analyser.load_batches(files, batch=INGEST_BATCH, loader=loader):
                problems.extend(p for report in reports for p in report.problems)
                warnings.extend(w for report in reports for w in report.warnings)
                yield [d for report in reports for d in report.documents]

        results = list(self.archive.ingest_batches(batches(), now=self.clock()))
        result = IngestResult(
            added=tuple(doc_id for r in results for doc_id in r.added),
            skipped=tuple(sorted({doc_id for r in results for doc_id in r.skipped})),
            quotes=sum(r.quotes for r in results),
            clusters_touched=sum(r.clusters_touched for r in results),
        )
        self._log_once("skipped a file", problems)
        self._log_once("read a damaged file", warnings)
        return IngestReport(result, tuple(problems), tuple(warnings))

    def _log_once(self, message: str, problems: list[Problem]) -> None:
        """Each file's problem once per process, not again at every rescan."""
        for problem in problems:
            if (message, problem) not in self._reported:
                log.warning(message, extra={"path": problem.path, "reason": problem.reason})
                self._reported.add((message, problem))

    # -- commands ----------------------------------------------------------------------

    def context(self) -> BotContext:
        return BotContext(self.archive, self.clock(), self.tracked_speakers(()))

    def dispatcher(self) -> Dispatcher[BotContext]:
        return dispatcher(self.context)

    def tracked_speakers(self, chosen: tuple[str, ...]) -> frozenset[str] | None:
        names = chosen or self.settings.tracked_speakers
        if names:
            book = self.archive.speaker_book()
            return frozenset((book.resolve(n)[0] or _named(n)).name for n in names)
        return frozenset(s.name for s in self.book.speakers) or None

    # -- digests -----------------------------------------------------------------------

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        return self.settings.schedules or (DEFAULT_SCHEDULE,)

    def stage_digest(self, schedule: Schedule, slot: str) -> Delivery:
        """Render and store one digest for the schedule's target, and write its Markdown
        copy to briefings/<target>/<slot>.md, before anything is sent. A slot that
        already has a digest keeps it, unchanged."""
        existing = self.store.delivery(schedule.target, slot)
        if existing is not None:
            return existing
        # Taken under the archive's write lock: every document stamped up to it is
        # committed, and any committed later is stamped after it (the next window's).
        now = self.store.moment(self.clock())
        start = self.store.last_window_end(schedule.target, slot_prefix=schedule.slot_prefix)
        view = gather_digest(
            self.archive,
            window_start=start,
            window_end=now,
            speakers=self.tracked_speakers(schedule.speakers),
            topics=schedule.topics,
        )
        reply = stamp(digest_reply(view), target=schedule.target, slot=slot)
        markdown = render(reply)
        # The copy first: then every stored digest has one, even after a crash right
        # here, and the "file" target's delivery (which is that copy) is already done.
        self._write_briefing(schedule.target, slot, markdown)
        try:
            # Older digests of this schedule that have not begun going out (their platform
            # is down or not configured) are superseded: this one covers their windows.
            return self.outbox.stage(
                target=schedule.target,
                slot=slot,
                window_start=start,
                window_end=now,
                reply=reply,
                markdown=markdown,
                supersede_prefix=schedule.slot_prefix,
            )
        except StaleWindow:
            # One of them began going out meanwhile (another process sent it): gather
            # again, from where it ends.
            return self.stage_digest(schedule, slot)

    def _write_briefing(self, target: str, slot: str, markdown: str) -> Path:
        folder = self.settings.briefings_dir / Target.parse(target).folder
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{slot.replace(':', '')}.md"
        temporary = path.with_suffix(".md.tmp")
        temporary.write_text(markdown, encoding="utf-8")
        temporary.replace(path)  # never a half-written briefing
        return path

    async def run_schedule(self, schedule: Schedule, slot: datetime) -> None:
        self.stage_digest(schedule, schedule.slot(slot))
        await self.outbox.deliver_due()

    def has_digest(self, schedule: Schedule, slot: datetime) -> bool:
        return self.store.delivery(schedule.target, schedule.slot(slot)) is not None

    async def digest_once(self) -> list[Delivery]:
        """One digest now for every schedule's target that can be reached, then deliver."""
        moment = "once-" + self.clock().strftime("%Y-%m-%dT%H%M%S.%fZ")
        staged = []
        for schedule in self.schedules:
            if Target.parse(schedule.target).platform in self.senders:
                staged.append(self.stage_digest(schedule, schedule.slot_prefix + moment))
            else:
                log.warning("no connection for this target", extra={"target": schedule.target})
        await self.outbox.deliver_due()
        return staged

    # -- running -----------------------------------------------------------------------

    async def run(self, *, once: bool = False, console: bool = True) -> None:
        adapters = self.platform_adapters()  # a token problem is reported before a long ingest
        report = self.ingest()
        self._say(
            f"Ingested {len(report.result.added)} new document(s) "
            f"({len(report.result.skipped)} already known, {len(report.problems)} skipped)."
        )
        scheduler = DigestScheduler(
            self.schedules, self.run_schedule, clock=self.clock, has_digest=self.has_digest
        )
        self._scheduler = scheduler
        stop = asyncio.Event()
        watchers: list[asyncio.Task[None]] = []
        connecting: list[asyncio.Task[None]] = []
        try:
            # Connected first, even for --once: a platform's digest is posted through its
            # adapter, and settling an unconfirmed send asks the platform. A platform that
            # cannot be reached now does not stop the rest: its digests wait in the
            # outbox, and (unless --once) it is retried in the background.
            for name, adapter in adapters:
                if await self._connect_now(name, adapter):
                    watchers.append(asyncio.create_task(self._watch(name, adapter, stop)))
                    self.outbox.wake(name.lower())  # what waited for it is due now
                elif not once:
                    retry = self._keep_connecting(name, adapter, stop, watchers)
                    connecting.append(asyncio.create_task(retry))
            await self.outbox.recover()
            if once:
                await self.digest_once()
                return
            _on_signals(stop)
            ran = await scheduler.catch_up()
            if not ran:
                self._say(self._up_to_date())
            scheduler.every(OUTBOX_TICK_SECONDS, self._tick, job_id="outbox")
            if self.settings.rescan_minutes > 0:
                scheduler.every(self.settings.rescan_minutes * 60, self._rescan, job_id="corpus")
            scheduler.start()
            for schedule in self.schedules:
                self._say(f"Next digest to {schedule.target}: {scheduler.next_run(schedule)}.")
            if console and sys.stdin is not None and sys.stdin.isatty():
                await self._serve_console(stop)
            else:
                self._say("Running until Ctrl-C.")
                await stop.wait()
            if self.failure:
                raise StartupError(self.failure)
        finally:
            _off_signals()
            for task in connecting:
                task.cancel()
            await asyncio.gather(*connecting, return_exceptions=True)
            for watcher in watchers:
                watcher.cancel()
            scheduler.shutdown()
            for _name, adapter in adapters:
                with contextlib.suppress(Exception):
                    await adapter.close()

    async def _serve_console(self, stop: asyncio.Event) -> None:
        """The terminal REPL until /quit, end of input, or Ctrl-C."""
        terminal = TerminalInput(sys.stdin.fileno())
        console_task = asyncio.create_task(
            repl(self.dispatcher(), read_line=terminal.read_line, out=self.out)
        )
        stop_task = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({console_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            terminal.stop()
            for task in (console_task, stop_task):
                task.cancel()
            await asyncio.gather(console_task, stop_task, return_exceptions=True)

    async def _tick(self) -> None:
        # A digest whose job never fired (the machine slept past the misfire grace) is
        # caught up here; the (target, slot) key keeps it single if the job fires too.
        if self._scheduler is not None:
            await self._scheduler.catch_up()
        await self.outbox.deliver_due()

    async def _rescan(self) -> None:
        report = await asyncio.to_thread(self.ingest)
        if report.result.added:
            log.info("new documents", extra={"added": len(report.result.added)})

    async def _connect_now(self, name: str, adapter: Any) -> bool:
        """Start the adapter; False (said, and logged) if its platform is unreachable."""
        try:
            await _connect(name, adapter)
        except PlatformUnreachable as error:
            log.warning(
                "platform unreachable at start", extra={"platform": name, "error": str(error)}
            )
            self._say(f"{error} Its digests wait in the outbox; the rest runs on.")
            return False
        self._say(f"{name} connected.")
        return True

    async def _keep_connecting(
        self, name: str, adapter: Any, stop: asyncio.Event, watchers: list[asyncio.Task[None]]
    ) -> None:
        """Retry a platform that was unreachable at start, with backoff, until it answers;
        then deliver what waited for it. A refused token stops the bot, as at start."""
        attempt = 0
        while True:
            attempt += 1
            await asyncio.sleep(self.connect_retry.delay(attempt).total_seconds())
            try:
                await _connect(name, adapter)
            except PlatformUnreachable as error:
                log.warning(
                    "platform still unreachable",
                    extra={"platform": name, "attempt": attempt, "error": str(error)},
                )
                continue
            except StartupError as error:
                log.error("platform refused the bot", extra={"platform": name})
                self.failure = str(error)
                stop.set()
                return
            break
        self._say(f"{name} connected.")
        watchers.append(asyncio.create_task(self._watch(name, adapter, stop)))
        self.outbox.wake(name.lower())  # its digests are due now, whatever their backoff
        try:
            await self.outbox.deliver_due()
        except Exception:
            log.exception("delivering after connecting failed", extra={"platform": name})

    async def _watch(self, name: str, adapter: Any, stop: asyncio.Event) -> None:
        """Stop the bot, loudly, if a platform connection ends for good (a revoked
        token): running on silently without it would lose its commands unnoticed."""
        wait_closed = getattr(adapter, "wait_closed", None)
        if wait_closed is None:
            return
        try:
            await wait_closed()
            reason = "the connection closed"
        except asyncio.CancelledError:
            raise
        except Exception as error:
            reason = str(error) or type(error).__name__
        log.error("platform connection ended", extra={"platform": name, "error": reason})
        self.failure = (
            f"{name} disconnected for good ({reason}). Restart briefbot once it is fixed."
        )
        stop.set()

    def platform_adapters(self) -> list[tuple[str, Any]]:
        """(name, adapter) for each platform whose secrets are set: built, not started,
        their senders added to the outbox. What `run` starts."""
        adapters: list[tuple[str, Any]] = []
        discord_settings, slack_settings = self._platform_settings()
        if discord_settings is not None:
            from bot.adapters.discord import DiscordAdapter

            discord_adapter = DiscordAdapter(discord_settings, self.dispatcher())
            self._add_sender(discord_adapter)
            adapters.append(("Discord", discord_adapter))
        if slack_settings is not None:
            from bot.adapters.slack import SlackAdapter

            slack_adapter = SlackAdapter(slack_settings, self.dispatcher())
            self._add_sender(slack_adapter.sender)
            adapters.append(("Slack", slack_adapter))
        if not adapters:
            self._say("No DISCORD_TOKEN or SLACK_BOT_TOKEN set: console and file digests only.")
        return adapters

    def _add_sender(self, sender: Sender) -> None:
        self.senders[sender.platform] = sender
        self.outbox.add_sender(sender)

    def _platform_settings(self) -> tuple[Any, Any]:
        from bot.adapters.discord import DiscordSettings
        from bot.adapters.slack import SlackSettings

        try:
            discord_settings = DiscordSettings.from_env(self.env)
        except ValueError as error:
            raise StartupError(f"Discord: {error}") from None
        if discord_settings is not None and discord_settings.guild_id is None:
            discord_settings = replace(discord_settings, guild_id=self.settings.discord_guild_id)
        has_slack_token = bool(self.env.get("SLACK_BOT_TOKEN", "").strip())
        slack_settings = SlackSettings.from_env(self.env)
        if has_slack_token and slack_settings is None:
            raise StartupError(
                "Slack: SLACK_BOT_TOKEN is set, but neither SLACK_APP_TOKEN (Socket Mode) nor "
                "SLACK_SIGNING_SECRET (HTTP mode) is. Set one of them, or unset SLACK_BOT_TOKEN."
            )
        if not has_slack_token and self.env.get("SLACK_APP_TOKEN", "").strip():
            raise StartupError(
                "Slack: SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not. Set both."
            )
        if slack_settings is not None:
            slack_settings = replace(
                slack_settings,
                command=self.settings.slack_command,
                host=self.settings.slack_host,
                port=self.settings.slack_port,
                path=self.settings.slack_path,
                reply_in_channel=self.settings.slack_reply_in_channel,
            )
        return discord_settings, slack_settings

    def _up_to_date(self) -> str:
        lines = []
        for schedule in self.schedules:
            slot = latest_slot(schedule, self.clock())
            when = slot_key(slot) if slot else "never"
            lines.append(f"{schedule.target}: the digest for {when} is already out or queued.")
        return " ".join(lines) + " Ask /digest for what is new now."

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


class PlatformUnreachable(Exception):
    """A platform could not be reached at start (network trouble, or the platform is
    down): waiting may cure it, unlike a refused token."""


async def _connect(name: str, adapter: Any) -> None:
    """Start one adapter. A refused token is a StartupError, which the CLI shows as one
    line (the traceback goes to the log); an unreachable platform is PlatformUnreachable."""
    try:
        await asyncio.wait_for(adapter.start(), ADAPTER_START_TIMEOUT)
    except TimeoutError:
        raise PlatformUnreachable(
            f"{name}: no connection after {ADAPTER_START_TIMEOUT:.0f} s; retrying."
        ) from None
    except Exception as error:
        log.debug("adapter start failed", exc_info=True, extra={"platform": name})
        if _unreachable(error):
            raise PlatformUnreachable(
                f"{name}: cannot connect yet ({type(error).__name__}: {error}); retrying."
            ) from None
        raise StartupError(
            f"{name}: could not connect ({type(error).__name__}: {error}). "
            "Check its token, or unset it to run without it."
        ) from None


def _unreachable(error: BaseException) -> bool:
    """Whether a failed start is network trouble or the platform being down, which
    waiting may cure, rather than a refused token, which stays refused."""
    if isinstance(error, OSError | TimeoutError | aiohttp.ClientError):
        return True
    status = getattr(error, "status", None)  # discord.HTTPException
    response = getattr(error, "response", None)  # slack_sdk's SlackApiError
    if status is None and response is not None:
        status = getattr(response, "status_code", None)
    return isinstance(status, int) and (status >= 500 or status == 429)


def _named(name: str) -> Any:
    from bot.core.speakers import Speaker

    return Speaker(name)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in _STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)


def _off_signals() -> None:
    loop = asyncio.get_running_loop()
    for signum in _STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signum)


class TerminalInput:
    """Lines typed in the terminal, read on a daemon thread, so that stopping the bot
    never waits for Enter.

    The REPL reads in asyncio's default executor, whose threads `asyncio.run` joins on
    the way out: a thread blocked in `input()` held Ctrl-C until the user pressed Enter.
    Here the executor's thread only waits for a line, and gives up once stopped. The
    daemon thread reads the file descriptor itself: blocked in `sys.stdin` it would hold
    that object's lock, and Python aborts when it finds the lock taken at exit.
    """

    def __init__(self, fd: int = 0) -> None:
        self._fd = fd
        self._wanted = threading.Semaphore(0)
        self._lines: queue.SimpleQueue[str | EOFError] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._reader: threading.Thread | None = None

    def read_line(self) -> str:
        if self._reader is None:
            self._reader = threading.Thread(target=self._read, name="console-input", daemon=True)
            self._reader.start()
        self._wanted.release()  # one line at a time: nothing is read that is not asked for
        while not self._stopped.is_set():
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(line, EOFError):
                raise line
            return line
        raise EOFError

    def stop(self) -> None:
        self._stopped.set()

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        while True:
            self._wanted.acquire()
            while "\n" not in pending:
                try:
                    chunk = os.read(self._fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    if pending:
                        self._lines.put(pending)
                    self._lines.put(EOFError())
                    return
                pending += decoder.decode(chunk)
            line, pending = pending.split("\n", 1)
            self._lines.put(line.removesuffix("\r"))
