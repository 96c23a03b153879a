"""config/bot.yaml: the shipped file, defaults, and errors that name the file, the key
and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.scheduler import Schedule

CONFIG = Path(__file__).resolve().parent.parent / "config"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_settings_load() -> None:
    settings = load_settings(CONFIG / "bot.yaml")
    assert settings.storage_url == "sqlite:///var/briefbot.db"
    assert settings.corpus_paths == (Path("seeds"),)
    assert settings.rescan_minutes == 10 and settings.max_file_mb == 5
    assert settings.briefings_dir == Path("briefings")
    assert settings.schedules == (Schedule("morning", "0 8 * * *", "Europe/London", "console"),)
    assert settings.slack_command == "/brief" and settings.slack_port == 3000
    assert settings.slack_reply_in_channel is False and settings.discord_guild_id is None
    assert settings.config_dir == CONFIG


def test_a_missing_or_empty_file_means_the_defaults(tmp_path: Path) -> None:
    missing = load_settings(tmp_path / "nowhere.yaml")
    empty = load_settings(write(tmp_path, "# nothing set\n"))
    assert missing == Settings(config_dir=tmp_path) == empty


def test_every_setting_is_read(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            """
storage:
  url: postgresql+psycopg://briefbot@localhost/briefbot
corpus:
  paths: [news, wires/today]
  rescan_minutes: 0
  max_file_mb: 0.5
briefings:
  dir: out/briefings
digests:
  tracked_speakers: [Dmitry Peskov, Sergei Lavrov]
schedules:
  - name: morning
    cron: "0 8 * * 1-5"
    timezone: Europe/London
    target: discord:123456789012345678
    speakers: [Peskov]
    topics: [sanctions, Ukraine]
  - name: evening
    cron: "30 18 * * *"
    target: slack:C0123ABCD
  - name: archive
    cron: "0 * * * *"
    target: file
discord:
  guild_id: 300000000000000000
slack:
  command: /news
  port: 8080
  reply_in_channel: true
""",
        )
    )
    assert settings.storage_url == "postgresql+psycopg://briefbot@localhost/briefbot"
    assert settings.corpus_paths == (Path("news"), Path("wires/today"))
    assert settings.rescan_minutes == 0 and settings.max_file_mb == 0.5
    assert settings.briefings_dir == Path("out/briefings")
    assert settings.tracked_speakers == ("Dmitry Peskov", "Sergei Lavrov")
    morning, evening, archive = settings.schedules
    assert morning == Schedule(
        "morning",
        "0 8 * * 1-5",
        "Europe/London",
        "discord:123456789012345678",
        ("Peskov",),
        ("sanctions", "Ukraine"),
    )
    assert evening.timezone == "UTC" and evening.target == "slack:C0123ABCD"
    assert archive.target == "file"
    assert settings.discord_guild_id == 300000000000000000
    assert (settings.slack_command, settings.slack_port, settings.slack_reply_in_channel) == (
        "/news",
        8080,
        True,
    )


def test_overrides_win(tmp_path: Path) -> None:
    settings = load_settings(CONFIG / "bot.yaml", overrides={"storage_url": "sqlite://"})
    assert settings.storage_url == "sqlite://"
    assert settings.schedules[0].name == "morning"


SCHEDULE = """schedules:
  - name: morning
    cron: "0 8 * * *"
    timezone: Europe/London
    target: console
"""

ERRORS = [
    # (file text, key named, words of the fix)
    ("storage: [\n  url: x\n", "line", "indentation"),
    ("- storage\n", "(top)", "bot.yaml"),
    ("storge:\n  url: sqlite://\n", "storge", "use one of briefings, corpus"),
    ("logging:\n  level: debug\n", "logging", "use one of"),
    ("corpus:\n  path: [news]\n", "corpus.path", "use max_file_mb, paths, rescan_minutes"),
    ("storage:\n  uri: sqlite://\n", "storage.uri", "use url"),
    ("storage: sqlite:///x.db\n", "storage", "indent the keys under `storage:`"),
    ("corpus:\n  rescan_minutes: often\n", "corpus.rescan_minutes", "plain number"),
    ("corpus:\n  max_file_mb: 0\n", "corpus.max_file_mb", "at least"),
    ("corpus:\n  paths: {a: b}\n", "corpus.paths", "[Name One, Name Two]"),
    ("slack:\n  port: 70000\n", "slack.port", "between 1 and 65535"),
    ("slack:\n  command: brief\n", "slack.command", "/brief"),
    ("slack:\n  reply_in_channel: sometimes\n", "slack.reply_in_channel", "true or false"),
    ("discord:\n  guild_id: my-server\n", "discord.guild_id", "Developer Mode"),
    ("schedules:\n  name: morning\n", "schedules", "`- name:`"),
    ("schedules:\n  - morning\n", "schedules[0]", "name, cron, timezone and target"),
    (SCHEDULE.replace('cron: "0 8 * * *"', 'cron: "every morning"'), "schedules[0].cron", "five"),
    (SCHEDULE.replace('cron: "0 8 * * *"', 'cron: "0 25 * * *"'), "schedules[0].cron", "five"),
    (SCHEDULE.replace('cron: "0 8 * * *"', 'cron: "0 8 * * 8"'), "schedules[0].cron", "five"),
    (SCHEDULE.replace('cron: "0 8 * * *"', 'cron: "0 8 * *"'), "schedules[0].cron", "five"),
    (SCHEDULE.replace("Europe/London", "Europe/Londn"), "schedules[0].timezone", "IANA"),
    (SCHEDULE.replace("Europe/London", "GMT+1 summer"), "schedules[0].timezone", "IANA"),
    (SCHEDULE.replace("target: console", "target: email"), "schedules[0].target", "console, file"),
    (SCHEDULE.replace("console", "discord:general"), "schedules[0].target", "discord:<channel id>"),
    (SCHEDULE.replace("console", "slack:#general"), "schedules[0].target", "slack:<channel id>"),
    (SCHEDULE.replace("    target: console\n", ""), "schedules[0].target", "add `target:`"),
    (SCHEDULE.replace("name: morning", "name: ' '"), "schedules[0].name", "add `name:`"),
    (
        SCHEDULE.replace("target: console", "target: console\n    when: 8am"),
        "schedules[0].when",
        "cron",
    ),
    (SCHEDULE + "    speakers: Peskov\n", "schedules[0].speakers", "[Name One, Name Two]"),
    (SCHEDULE + SCHEDULE.removeprefix("schedules:\n"), "schedules[1].name", "its own name"),
    (
        SCHEDULE + SCHEDULE.removeprefix("schedules:\n").replace("morning", "morning "),
        "schedules[1].name",
        "its own name",
    ),
]


@pytest.mark.parametrize(("text", "key", "fix"), ERRORS)
def test_errors_name_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, key: str, fix: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}")
    assert "Fix: " in message and fix in message.split("Fix: ", 1)[1]
    assert caught.value.path == str(path) and caught.value.key.startswith(key)


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_bytes("storage:\n  url: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(path)


def test_an_empty_schedule_list_is_allowed(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "schedules: []\n")).schedules == ()
    assert load_settings(write(tmp_path, "schedules:\n")).schedules == ()
