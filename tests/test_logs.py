"""Structured logs never show a token, in either format, wherever it hides."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import logs
from bot.cli import main

DISCORD_TOKEN = "MTIzNDU2Nzg5.fake-discord.token-abcdef"
SLACK_BOT_TOKEN = "xoxb-0000-fake-slack-bot-token"
SLACK_APP_TOKEN = "xapp-1-fake-slack-app-token"
SLACK_SIGNING_SECRET = "fake0signing0secret0123456789"
SECRETS = {
    "DISCORD_TOKEN": DISCORD_TOKEN,
    "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
    "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
    "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
}


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """`logs.configure` replaces the root handlers; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def configured(*, json_lines: bool, secrets: list[str] | None = None) -> io.StringIO:
    stream = io.StringIO()
    logs.configure(
        secrets=list(SECRETS.values()) if secrets is None else secrets,
        json_lines=json_lines,
        stream=stream,
    )
    return stream


def emit_everywhere(log: logging.Logger, secret: str) -> None:
    log.info("connecting with %s", secret)
    log.info(f"token={secret}")
    log.warning("send failed", extra={"target": "discord:1", "error": f"401 for {secret}"})
    log.warning("send failed", extra={"error": RuntimeError(f"bad token {secret}")})
    log.warning("headers", extra={"headers": {"Authorization": f"Bot {secret}"}})
    try:
        raise ValueError(f"login refused for {secret}")
    except ValueError:
        log.exception("Discord login failed")
    log.warning("where", stack_info=True, extra={"note": secret})


@pytest.mark.parametrize("json_lines", [False, True])
@pytest.mark.parametrize("variable", sorted(SECRETS))
def test_no_token_reaches_the_log(json_lines: bool, variable: str) -> None:
    stream = configured(json_lines=json_lines)
    emit_everywhere(logging.getLogger("bot.test"), SECRETS[variable])
    text = stream.getvalue()
    assert SECRETS[variable] not in text
    assert text.count(logs.REDACTED) == 7
    assert "Bot [redacted]" in text and "login refused for [redacted]" in text


def test_json_lines_parse_and_keep_their_fields() -> None:
    stream = configured(json_lines=True)
    log = logging.getLogger("bot.outbox")
    log.warning(
        "digest not delivered yet",
        extra={
            "target": "slack:C0123ABCD",
            "attempts": 2,
            "error": f"invalid_auth {SLACK_BOT_TOKEN}",
        },
    )
    log.info("counts", extra={"added": [1, 2], "ok": True})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "warning" and first["logger"] == "bot.outbox"
    assert first["msg"] == "digest not delivered yet"
    assert first["target"] == "slack:C0123ABCD" and first["attempts"] == 2
    assert first["error"] == "invalid_auth [redacted]"
    assert second["added"] == [1, 2] and second["ok"] is True  # clean fields keep their type


def test_logfmt_lines_quote_what_needs_quoting() -> None:
    stream = configured(json_lines=False)
    logging.getLogger("bot.app").warning(
        "skipped a file", extra={"path": "seeds/a b.txt", "reason": 'said "no"'}
    )
    line = stream.getvalue().strip()
    assert "level=warning logger=bot.app" in line
    assert 'msg="skipped a file"' in line
    assert 'path="seeds/a b.txt"' in line and 'reason="said \\"no\\""' in line


def test_a_token_set_with_stray_whitespace_is_still_hidden() -> None:
    stream = configured(json_lines=False, secrets=[f"  {DISCORD_TOKEN}\n"])
    logging.getLogger("bot.test").warning("Authorization: Bot %s", DISCORD_TOKEN)
    assert DISCORD_TOKEN not in stream.getvalue()
    assert "Bot [redacted]" in stream.getvalue()


def test_short_values_are_not_treated_as_secrets() -> None:
    stream = configured(json_lines=False, secrets=["", "abc"])
    logging.getLogger("bot.test").warning("abc is not a token")
    assert "abc is not a token" in stream.getvalue()


def test_the_cli_registers_the_tokens_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, f"{value} ")
    monkeypatch.chdir(tmp_path)  # no config, no corpus: a quick query command
    code = main(["--config", "bot.yaml", "--db", "sqlite://", "--log-format", "json", "sources"])
    assert code == 0
    capsys.readouterr()
    log = logging.getLogger("bot.test")
    for value in SECRETS.values():
        log.warning("leak %s", value, extra={"again": value})
    err = capsys.readouterr().err
    assert err.count(logs.REDACTED) == 2 * len(SECRETS)
    for value in SECRETS.values():
        assert value not in err


def test_the_cli_writes_json_lines_when_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "empty.txt").write_text("")
    assert main(["--db", "sqlite://", "--log-format", "json", "ingest", "news"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    [skipped] = [r for r in records if r["msg"] == "skipped a file"]
    assert skipped["level"] == "warning" and skipped["reason"] == "the file is empty"
    assert skipped["path"].endswith("empty.txt")
