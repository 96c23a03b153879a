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
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.render.markdown import render_text
from bot.reply import reply_from_dict
from bot.store import Store

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


def shown_in_the_terminal(project: Path) -> str:
    """The first digest as the console printed it: the stored reply as terminal text."""
    store = Store.open(f"sqlite:///{project / 'var' / 'briefbot.db'}")
    try:
        first = min(store.deliveries(), key=lambda d: d.id)
        return render_text(reply_from_dict(first.reply))
    finally:
        store.close()


def assert_the_seed_digest(text: str) -> None:
    assert text.startswith("# briefbot digest: everything so far")
    repeated = text.split("## Repeated by more outlets", 1)[1].split("\n## ", 1)[0]
    assert "Dmitry Peskov · now 3 sources" in repeated
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
    # The terminal shows the digest as text; the briefing keeps escaped Markdown.
    assert digest_part(printed).strip() == shown_in_the_terminal(project).strip()
    assert "\\" in text and "\\" not in digest_part(printed)
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
    assert digest_part(done.stdout).strip() == shown_in_the_terminal(project).strip()
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
    assert briefing.read_text(encoding="utf-8").startswith("# briefbot digest")
    assert shown_in_the_terminal(project).strip() in printed  # as text, not escaped Markdown
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
    damaged = (project / "seeds" / "000_9400752ccb8fb0fa.txt").read_bytes() + b"\xff tail\n"
    (inbox / "damaged.txt").write_bytes(damaged)

    assert main(["ingest", "inbox"]) == 0
    captured = capsys.readouterr()
    summary, *files = captured.out.splitlines()
    assert summary.startswith("2 new document(s), 0 already in the archive, ")
    assert summary.endswith("quote(s), 3 file(s) skipped, 1 read with warnings.")
    assert "0 quote(s)" not in summary
    # Every file skipped or read with a warning, by name, with the reason.
    assert sorted(files) == [
        "skipped inbox/empty.txt: the file is empty",
        "skipped inbox/photo.png: .png files are not articles",
        "skipped inbox/scan.txt: binary data, not text",
        "warning inbox/damaged.txt: 1 stretch(es) of bytes are not valid UTF-8 and were "
        "replaced with \ufffd; the rest of the file is UTF-8",
    ]
    for name in ("empty.txt", "scan.txt", "photo.png"):
        assert f'msg="skipped a file" path=inbox/{name} reason=' in captured.err
    assert 'msg="read a damaged file" path=inbox/damaged.txt reason=' in captured.err
    assert "the file is empty" in captured.err
    assert captured.err.count("skipped a file") == 3  # each once
    assert captured.err.count("read a damaged file") == 1

    assert main(["ingest", "inbox/reuters.txt", "seeds/000_9400752ccb8fb0fa.txt"]) == 0
    again = capsys.readouterr().out
    assert again.startswith("1 new document(s), 1 already in the archive, ")
    assert again.rstrip().endswith("0 file(s) skipped.")


def test_ingest_of_a_missing_path_is_an_error_and_ingests_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "seeds", "no-such-folder", "/nope"]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "briefbot: no such file or folder: no-such-folder. Fix: check the path",
        "briefbot: no such file or folder: /nope. Fix: check the path",
    ]
    assert captured.out == ""
    assert not (project / "var").exists()  # stopped before opening the archive


# Storage that cannot be opened: one line naming storage.url (or --db) and the fix, exit 2


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("notaurl", "'notaurl' is not a database URL"),
        ("sqlite:////proc/briefbot/x.db", "cannot create the folder /proc/briefbot: "),
        ("sqlite:////nonexistent-briefbot/dir/x.db", "the folder /nonexistent-briefbot does not"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/test", "cannot open postgresql+psycopg://"),
    ],
)
@pytest.mark.parametrize("given", ["config", "--db"])
def test_storage_that_cannot_be_opened_is_one_line_naming_where_it_is_set(
    project: Path, capsys: pytest.CaptureFixture[str], url: str, problem: str, given: str
) -> None:
    if given == "config":
        settings = project / "config" / "bot.yaml"
        text = settings.read_text(encoding="utf-8")
        settings.write_text(f"{text}\nstorage:\n  url: {url}\n", encoding="utf-8")
        command = ["sources"]
        where = "config/bot.yaml: storage.url"
    else:
        command, where = ["--db", url, "sources"], "--db"
    assert main(command) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith(f"briefbot: {where}: {problem}")
    assert ". Fix: " in line and captured.out == ""
    assert not Path("/nonexistent-briefbot").exists()


def test_a_newer_database_is_one_line_too(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = project / "newer.db"
    assert main(["--db", f"sqlite:///{database}", "ingest", "seeds"]) == 0
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    capsys.readouterr()
    assert main(["--db", f"sqlite:///{database}", "sources"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("briefbot: --db: the database has schema version 99, newer than")


def test_the_console_on_an_in_memory_database(project: Path) -> None:
    done = subprocess.run(
        briefbot("--db", "sqlite://", "console"),
        input="/sources\n/quotes Peskov\n/quit\n",
        capture_output=True,
        text=True,
        env=no_tokens(),
        timeout=WAIT * 4,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "Reuters" in done.stdout and "An atmosphere of mutual trust" in done.stdout


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


def run_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> dict[str, Any]:
    assert main([*args, "--json"]) == code
    found = json.loads(capsys.readouterr().out)
    assert isinstance(found, dict)
    return found


def test_json_quotes_are_clusters_and_single_quotes_as_data(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quotes = run_json(capsys, "quotes", "Peskov")
    assert (quotes["command"], quotes["is_error"], quotes["speaker"]) == (
        "quotes",
        False,
        "Dmitry Peskov",
    )
    assert (quotes["total"], quotes["repeated"]["total"], quotes["once"]["total"]) == (10, 3, 7)
    phenomenal = quotes["repeated"]["items"][0]
    assert phenomenal["canonical_text"].startswith("It is phenomenal how close")
    assert phenomenal["speaker"] == "Dmitry Peskov"
    assert phenomenal["first_seen"] == "2016-11-10T00:00:00+00:00"
    assert phenomenal["earliest_document"]["outlet"] == "Reuters"
    relations = [(x["document"]["file"][:3], x["relation"]) for x in phenomenal["members"]]
    assert relations == [
        ("000", "verbatim"),
        ("002", "verbatim"),
        ("001", "fragment"),
        ("001", "fragment"),
        ("000", "fragment"),
    ]
    near = phenomenal["members"][-1]
    assert (near["text"], near["near"]) == ("phenomenally close", True)
    assert near["diff"] == "[-phenomenal how-]{+phenomenally+} close"
    first_once = quotes["once"]["items"][0]
    assert first_once["text"].startswith("They (Putin and Trump) set out")
    assert (first_once["speaker"], first_once["role"], first_once["cue"]) == (
        "Dmitry Peskov",
        None,
        "said",
    )
    assert first_once["partial"] is False
    assert first_once["document"]["outlet"] == "Reuters"
    assert first_once["document"]["date"] == "2016-11-10T00:00:00+00:00"

    overlaps = run_json(capsys, "overlaps", "--min-outlets", "3")
    assert (overlaps["min_outlets"], overlaps["total"], len(overlaps["items"])) == (3, 3, 3)
    merged = [x for c in overlaps["items"] for x in c["members"] if x["relation"] == "merged"]
    assert [len(x["merged_with"]) for x in merged] == [1, 1]


def test_json_of_every_other_command(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = run_json(capsys, "summary", "000")
    assert summary["document"]["byline"] == "Andrew Osborn"
    assert summary["document"]["outlet"] == "Reuters"
    assert [r["reason"] for r in summary["removed"]] == [
        "editing credit",
        "image caption",
        "reader comments",
    ]
    assert all(isinstance(r["start"], int) and r["end"] > r["start"] for r in summary["removed"])
    assert 2 <= len(summary["summary"]) <= 4 and summary["quotes"]

    sources = run_json(capsys, "sources", "--limit", "2")
    assert (sources["total"], sources["shown"], len(sources["documents"])) == (5, 2, 2)
    assert sources["outlets"] == [{"name": "Reuters", "documents": 1}]
    assert sources["unnamed_documents"] == 4

    speakers = run_json(capsys, "speakers", "--corpus", "seeds")
    assert speakers["speakers"][0] == {
        "name": "Dmitry Peskov",
        "quotes": 16,
        "role": "Kremlin spokesman",
    }

    search = run_json(capsys, "search", "mutual trust")
    assert search["query"] == "mutual trust"
    assert {q["speaker"] for q in search["quotes"]} == {"Dmitry Peskov"}
    assert search["documents"] and all("id" in d for d in search["documents"])

    digest = run_json(capsys, "digest")
    assert digest["window_end"] and digest["stories"] and digest["repeated"]
    assert {"outlets_before", "outlets_now", "members"} <= set(digest["repeated"][0])


def test_a_user_error_exits_1_and_is_still_json(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = run_json(capsys, "quotes", "Nobody Atall", "--corpus", "seeds", code=1)
    assert reply["is_error"] is True and "Nobody Atall" in reply["error"]
    assert reply["suggestions"] and all(s["quotes"] > 0 for s in reply["suggestions"])
    bad = run_json(capsys, "quotes", "Peskov", "--since", "yesterday", code=1)
    assert bad["error"] == "`since` must be a date like 2016-11-10, not 'yesterday'."


@pytest.mark.parametrize(
    ("args", "title"),
    [
        (["quotes", "Песков"], "# Dmitry Peskov: 10 statements"),
        (["quotes", "the Kremlin spokesman"], "# Dmitry Peskov: 10 statements"),
        (
            ["summary", "Putin’s Perspectives"],
            "# Putin’s Perspectives on Working with the Next Administration",
        ),
        (["search", "It’s not possible"], "# Search for 'It’s not possible'"),
        (["quotes", 'Zz"zz --since'], "# ⚠ I know no speaker called 'Zz\"zz --since'."),
    ],
)
def test_any_argument_reaches_the_command_as_typed(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], title: str
) -> None:
    main([*args, "--corpus", "seeds"])
    shown = capsys.readouterr().out
    assert shown.startswith(title + "\n")
    assert "\\u" not in shown


def test_the_terminal_gets_text_not_escaped_markdown(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quotes", "Peskov", "--corpus", "seeds", "--limit", "3"]) == 0
    shown = capsys.readouterr().out
    assert "\\" not in shown and "**" not in shown
    assert "Showing 3 of 10. Narrow it with since: or topic:, or raise limit:." in shown
    assert "> - Trump: Russia’s Chance for Friendship? — merged into one quote with" in shown


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
