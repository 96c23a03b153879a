"""The `briefbot` command, in-process and as a real process on a fresh project copy with
no tokens: one digest with --once, a bot that runs until Ctrl-C, ingest reports, config
and token errors (exit 2), and --json."""

from __future__ import annotations

import json
import logging
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
TOKEN_VARIABLES = ("DISCORD_", "SLACK_")
WAIT = 30.0  # seconds a subprocess gets to reach a state; it takes one or two


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """`main` configures the root logger; put pytest's handlers back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh clone: config/ and seeds/, no database, no briefings, no tokens."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(TOKEN_VARIABLES):
            monkeypatch.delenv(name)
    return tmp_path


def no_tokens() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(TOKEN_VARIABLES)}
    return {**env, "PYTHONUNBUFFERED": "1"}


def briefbot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


def digest_part(printed: str) -> str:
    return printed[printed.index("# briefbot digest") :]


def assert_the_seed_digest(text: str) -> None:
    assert text.startswith("# briefbot digest: everything so far")
    repeated = text.split("## Repeated by more outlets", 1)[1].split("\n## ", 1)[0]
    assert "Dmitry Peskov · now 3 outlets" in repeated
    assert "phenomenal how close they are" in repeated
    assert "An atmosphere of mutual trust takes years to achieve" in repeated


# run --once


def test_run_once_prints_a_digest_and_writes_it_to_briefings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--once"]) == 0
    printed = capsys.readouterr().out
    [briefing] = (project / "briefings" / "console").glob("*.md")
    text = briefing.read_text(encoding="utf-8")
    assert_the_seed_digest(text)
    assert digest_part(printed).strip() == text.strip()
    assert (project / "var" / "briefbot.db").exists()

    assert main(["run", "--once"]) == 0
    again = capsys.readouterr().out
    assert "Ingested 0 new document(s) (5 already known, 0 skipped)." in again
    assert "Nothing new since" in again
    assert len(list((project / "briefings" / "console").glob("*.md"))) == 2


def test_run_once_as_a_process_with_no_tokens(project: Path) -> None:
    done = subprocess.run(
        briefbot("run", "--once"),
        cwd=project,
        env=no_tokens(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "No DISCORD_TOKEN or SLACK_BOT_TOKEN set" in done.stdout
    [briefing] = (project / "briefings" / "console").glob("*.md")
    text = briefing.read_text(encoding="utf-8")
    assert_the_seed_digest(text)
    assert digest_part(done.stdout).strip() == text.strip()
    assert "level=info" in done.stderr and "Traceback" not in done.stderr


def test_run_with_a_database_and_config_elsewhere(
    tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.move(project / "config", elsewhere)
    database = tmp_path / "data" / "bot.db"
    args = ["--config", str(elsewhere / "bot.yaml"), "--db", f"sqlite:///{database}"]
    assert main([*args, "run", "--once"]) == 0
    assert "# briefbot digest" in capsys.readouterr().out
    assert database.exists() and not (project / "var").exists()


# run, until Ctrl-C


class Output:
    """A child's stdout, read as it comes, so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str]):
        assert process.stdout is not None
        self._stream = process.stdout
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._stream:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: text in self.text, WAIT), self.text

    @property
    def text(self) -> str:
        return "".join(self._lines)

    def close(self) -> str:
        self._reader.join(WAIT)
        self._stream.close()
        return self.text


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_run_posts_the_catch_up_digest_and_keeps_running_until_stopped(
    project: Path, processes: list[subprocess.Popen[str]], stop: signal.Signals
) -> None:
    with (project / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(
            briefbot("run"),
            cwd=project,
            env=no_tokens(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    processes.append(process)
    output = Output(process)
    output.wait_for("Running until Ctrl-C.")
    assert process.poll() is None
    process.send_signal(stop)
    assert process.wait(timeout=WAIT) == 0
    printed = output.close()
    assert_the_seed_digest(digest_part(printed))
    assert "Next digest to console:" in printed
    [briefing] = (project / "briefings" / "console").glob("*.md")
    assert briefing.read_text(encoding="utf-8").strip() in printed
    log = (project / "stderr.log").read_text()
    assert "catch-up digest" in log and "Traceback" not in log


def read_until(fd: int, wanted: str, seen: bytearray) -> None:
    deadline = time.monotonic() + WAIT
    while wanted.encode() not in seen:
        assert time.monotonic() < deadline, seen.decode(errors="replace")[-500:]
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen.extend(os.read(fd, 65536))
            except OSError:  # the child closed the terminal
                return


@pytest.mark.parametrize("stdout_to_file", [False, True])
def test_ctrl_c_stops_the_terminal_console_at_once(
    project: Path, processes: list[subprocess.Popen[str]], stdout_to_file: bool
) -> None:
    """In a terminal, `briefbot run` reads commands; Ctrl-C must not wait for Enter."""
    main_fd, terminal = pty.openpty()
    out_path = project / "stdout.log"
    with out_path.open("w") as out_file:
        process = subprocess.Popen(
            briefbot("run"),
            cwd=project,
            env=no_tokens(),
            stdin=terminal,
            stdout=out_file if stdout_to_file else terminal,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    processes.append(process)
    os.close(terminal)
    seen = bytearray()
    try:
        if stdout_to_file:
            deadline = time.monotonic() + WAIT
            while "briefbot> " not in out_path.read_text():
                assert time.monotonic() < deadline
                time.sleep(0.1)
        else:
            read_until(main_fd, "briefbot> ", seen)
        os.write(main_fd, b"/speakers\n")
        if stdout_to_file:
            deadline = time.monotonic() + WAIT
            while "speakers quoted" not in out_path.read_text():
                assert time.monotonic() < deadline
                time.sleep(0.1)
        else:
            read_until(main_fd, "speakers quoted", seen)
        process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + WAIT
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 0.1)
            if ready:  # keep the terminal drained
                try:
                    os.read(main_fd, 65536)
                except OSError:
                    break
        assert process.wait(timeout=5) == 0
    finally:
        os.close(main_fd)


# ingest


def test_ingest_reports_new_known_and_bad_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = project / "inbox"
    inbox.mkdir()
    shutil.copy(project / "seeds" / "002_ae0362d15ddcecd9.txt", inbox / "reuters.txt")
    (inbox / "empty.txt").write_text("")
    (inbox / "scan.txt").write_bytes(bytes(range(256)) * 8)
    (inbox / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))

    assert main(["ingest", "inbox"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("1 new document(s), 0 already in the archive, ")
    assert captured.out.rstrip().endswith("quote(s), 3 file(s) skipped.")
    assert "0 quote(s)" not in captured.out
    for name in ("empty.txt", "scan.txt", "photo.png"):
        assert f'msg="skipped a file" path=inbox/{name} reason=' in captured.err
    assert "the file is empty" in captured.err
    assert captured.err.count("skipped a file") == 3  # each once

    assert main(["ingest", "inbox", "seeds/000_9400752ccb8fb0fa.txt"]) == 0
    again = capsys.readouterr().out
    assert again.startswith("1 new document(s), 1 already in the archive, ")


def test_ingest_of_a_missing_path_says_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "no-such-folder"]) == 1
    captured = capsys.readouterr()
    assert "0 new document(s)" in captured.out and "1 file(s) skipped" in captured.out
    assert 'path=no-such-folder reason="no such file or folder"' in captured.err


# Errors: exit 2, naming the file, the key and the fix


SCHEDULE = """schedules:
  - name: morning
    cron: "0 8 * * *"
    timezone: Europe/London
    target: console
"""


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("storage:\n  url: [unclosed\n", "line 3, column 1"),
        ("logging:\n  level: debug\n", "logging"),
        (SCHEDULE.replace('"0 8 * * *"', '"8am daily"'), "schedules[0].cron"),
        (SCHEDULE.replace("Europe/London", "Mars/Olympus"), "schedules[0].timezone"),
        (SCHEDULE.replace("console", "telegram:123"), "schedules[0].target"),
        (SCHEDULE.replace("console", "discord:#general"), "schedules[0].target"),
    ],
)
@pytest.mark.parametrize("command", [["run", "--once"], ["quotes", "Peskov"]])
def test_config_errors_exit_2_naming_file_key_and_fix(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    key: str,
    command: list[str],
) -> None:
    (project / "config" / "bot.yaml").write_text(text, encoding="utf-8")
    assert main(command) == 2
    captured = capsys.readouterr()
    message = captured.err.strip()
    assert message.startswith(f"briefbot: config/bot.yaml: {key}: ")
    assert ". Fix: " in message
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (project / "var").exists()  # stopped before touching anything


def test_slack_bot_token_alone_exits_2_with_a_clear_error(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "xoxb-1111-fake-slack-bot-token"
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    assert main(["run", "--once"]) == 2
    err = capsys.readouterr().err
    assert "briefbot: Slack: SLACK_BOT_TOKEN is set, but neither SLACK_APP_TOKEN" in err
    assert "SLACK_SIGNING_SECRET" in err and token not in err
    assert list(project.glob("briefings/**/*.md")) == []


def test_slack_bot_token_alone_exits_2_as_a_process(project: Path) -> None:
    done = subprocess.run(
        briefbot("run"),
        cwd=project,
        env={**no_tokens(), "SLACK_BOT_TOKEN": "xoxb-2222-fake-slack-bot-token"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SLACK_APP_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert "xoxb-2222-fake-slack-bot-token" not in done.stderr + done.stdout


# Query commands and --json


def test_json_output_parses(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quotes", "Peskov", "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["title"].startswith("Dmitry Peskov") and reply["is_error"] is False
    texts = [i["text"] for s in reply["sections"] for i in s["items"]]
    assert any("phenomenal how close" in t for t in texts)

    assert main(["overlaps", "--json", "--min-outlets", "3"]) == 0
    overlaps = json.loads(capsys.readouterr().out)
    assert overlaps["sections"] and overlaps["is_error"] is False

    assert main(["speakers", "--corpus", "seeds", "--json"]) == 0
    speakers = json.loads(capsys.readouterr().out)
    assert "Dmitry Peskov" in json.dumps(speakers, ensure_ascii=False)


def test_a_user_error_exits_1_and_is_still_json(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quotes", "Nobody Atall", "--json", "--corpus", "seeds"]) == 1
    reply = json.loads(capsys.readouterr().out)
    assert reply["is_error"] is True and "Nobody Atall" in reply["title"]


def test_a_closed_pipe_is_not_a_traceback(project: Path) -> None:
    process = subprocess.Popen(
        briefbot("--db", "sqlite://", "quotes", "Peskov", "--json"),
        cwd=project,
        env=no_tokens(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # as `| head -0` would
    err = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err
