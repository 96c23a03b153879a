"""Settings: YAML files parsed once into typed, validated values.

Every error names the file, the key and the fix. Secrets never come from YAML: tokens
are read from the environment only (see bot/secrets handling in the adapters).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot import messages as m
from bot.core.article import KnownFields
from bot.core.speakers import Speaker, SpeakerBook, SpeakerKind
from bot.scheduler import Schedule
from bot.sources.files import UnreadableFile, known_fields, parse_yaml


class ConfigError(Exception):
    """A configuration problem, phrased for the person who has to fix it."""

    def __init__(self, path: Path | str, key: str, problem: str, fix: str):
        super().__init__(f"{path}: {key}: {problem}. Fix: {fix}")
        self.path = str(path)
        self.key = key


def read_yaml(path: Path) -> Any:
    """The parsed file, or None when it does not exist."""
    if not path.exists():
        return None
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ConfigError(
            path, where, "not valid YAML", "check the indentation and quoting there"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(path, "(file)", "not UTF-8 text", "save the file as UTF-8") from None


def _list_under(data: Any, path: Path, key: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, Mapping) or not isinstance(data.get(key) or [], list):
        raise ConfigError(
            path,
            key,
            f"expected a list under `{key}:`",
            f"see the comment at the top of {path.name}",
        )
    _refuse_unknown(data, {key}, path, "", f"the file holds only `{key}:`")
    return list(data.get(key) or [])


def _refuse_unknown(
    entry: Mapping[Any, Any], known: set[str], path: Path, key: str, fix: str
) -> None:
    """A misspelt key would otherwise be ignored without a word."""
    unknown = sorted(str(k) for k in set(entry) - known)
    if unknown:
        raise ConfigError(path, f"{key}{unknown[0]}", "unknown field", fix)


_SPEAKER_FIELDS = {"name", "kind", "aliases", "roles"}


def load_speakers(path: Path) -> SpeakerBook:
    speakers: list[Speaker] = []
    seen: set[str] = set()
    for index, entry in enumerate(_list_under(read_yaml(path), path, "speakers")):
        key = f"speakers[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(path, key, "every speaker needs a `name`", "add `name: Full Name`")
        if not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise ConfigError(
                path, f"{key}.name", "every speaker needs a `name`", "add `name: Full Name`"
            )
        _refuse_unknown(entry, _SPEAKER_FIELDS, path, f"{key}.", "use name, kind, aliases or roles")
        name = entry["name"].strip()
        if name.casefold() in seen:
            raise ConfigError(
                path, f"{key}.name", f"{name!r} is listed twice", "merge the two entries"
            )
        seen.add(name.casefold())
        kind_value = entry.get("kind", "person")
        try:
            kind = SpeakerKind(kind_value)
        except ValueError:
            raise ConfigError(
                path, f"{key}.kind", f"unknown kind {kind_value!r}", "use person or organisation"
            ) from None
        speakers.append(
            Speaker(
                name=name,
                aliases=_strings(entry.get("aliases"), path, f"{key}.aliases"),
                roles=_strings(entry.get("roles"), path, f"{key}.roles"),
                kind=kind,
            )
        )
    return SpeakerBook(tuple(speakers))


def _strings(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ConfigError(path, key, "expected a list of names", "write it as [Name One, Name Two]")
    return tuple(str(v).strip() for v in value if str(v).strip())


@dataclass(frozen=True)
class SourceRule:
    match: str
    fields: KnownFields

    def applies_to(self, file: Path, document_id: str) -> bool:
        return (
            self.match in (file.name, document_id, str(file))
            or fnmatch.fnmatch(str(file), self.match)
            or fnmatch.fnmatch(file.name, self.match)
        )


@dataclass(frozen=True)
class SourceRules:
    rules: tuple[SourceRule, ...] = ()

    def known_for(self, file: Path, document_id: str) -> KnownFields:
        """Merged fields of every matching rule; later rules win."""
        known = KnownFields()
        for rule in self.rules:
            if rule.applies_to(file, document_id):
                known = rule.fields.merged_over(known)
        return known


def load_sources(path: Path) -> SourceRules:
    rules: list[SourceRule] = []
    for index, entry in enumerate(_list_under(read_yaml(path), path, "sources")):
        key = f"sources[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("match"), str):
            raise ConfigError(
                path, key, "every entry needs a `match`", "add `match: file-name.txt`"
            )
        unknown = set(entry) - {
            "match",
            "title",
            "outlet",
            "byline",
            "author",
            "date",
            "published",
            "url",
        }
        if unknown:
            raise ConfigError(
                path,
                f"{key}.{sorted(unknown)[0]}",
                "unknown field",
                "use title, outlet, byline, date or url",
            )
        try:
            fields = known_fields({k: v for k, v in entry.items() if k != "match"})
        except UnreadableFile as error:
            date_key = "date" if entry.get("date") else "published"
            raise ConfigError(
                path, f"{key}.{date_key}", str(error), "write dates as YYYY-MM-DD"
            ) from None
        rules.append(SourceRule(entry["match"], fields))
    return SourceRules(tuple(rules))


@dataclass(frozen=True)
class Settings:
    storage_url: str = "sqlite:///var/briefbot.db"
    corpus_paths: tuple[Path, ...] = (Path("seeds"),)
    rescan_minutes: float = 10.0
    max_file_mb: float = 5.0
    briefings_dir: Path = Path("briefings")
    tracked_speakers: tuple[str, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    discord_guild_id: int | None = None
    slack_command: str = "/brief"
    slack_port: int = 3000
    slack_reply_in_channel: bool = False
    slack_host: str = "0.0.0.0"
    slack_path: str = "/slack/events"
    config_dir: Path = Path("config")


_SECTION_KEYS: dict[str, set[str]] = {
    "storage": {"url"},
    "corpus": {"paths", "rescan_minutes", "max_file_mb"},
    "briefings": {"dir"},
    "digests": {"tracked_speakers"},
    "discord": {"guild_id"},
    "slack": {"command", "host", "port", "path", "reply_in_channel"},
}
_LISTEN_HOST = re.compile(r"^[A-Za-z0-9.:-]+$")  # an IPv4 or IPv6 address, or a host name
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
_TARGET = re.compile(r"^(?:console|file|discord:\d{5,25}|slack:[A-Z0-9]{6,20})$")


def load_settings(path: Path, *, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read config/bot.yaml (a missing file means all defaults) and validate it."""
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            path,
            "(top)",
            "expected a mapping of sections",
            "start from the shipped config/bot.yaml",
        )
    known_sections = {*_SECTION_KEYS, "schedules"}
    for key in data:
        if key not in known_sections:
            raise ConfigError(
                path, str(key), "unknown section", f"use one of {', '.join(sorted(known_sections))}"
            )
        block = data[key]
        if key in _SECTION_KEYS and isinstance(block, Mapping):
            _refuse_secrets(block, path, str(key))
            # A misspelt setting would otherwise be ignored without a word.
            _refuse_unknown(
                block,
                _SECTION_KEYS[key],
                path,
                f"{key}.",
                f"use {', '.join(sorted(_SECTION_KEYS[key]))}",
            )
    section = _Sections(path, data)
    settings = Settings(
        storage_url=section.text("storage", "url", "sqlite:///var/briefbot.db"),
        corpus_paths=tuple(Path(p) for p in section.texts("corpus", "paths", ["seeds"])),
        rescan_minutes=section.number("corpus", "rescan_minutes", 10.0, minimum=0),
        max_file_mb=section.number("corpus", "max_file_mb", 5.0, minimum=0.001),
        briefings_dir=Path(section.text("briefings", "dir", "briefings")),
        tracked_speakers=tuple(section.texts("digests", "tracked_speakers", [])),
        schedules=_schedules(path, data.get("schedules")),
        discord_guild_id=section.optional_int("discord", "guild_id"),
        slack_command=section.text("slack", "command", "/brief"),
        slack_port=int(section.number("slack", "port", 3000, minimum=1, maximum=65535)),
        slack_reply_in_channel=section.flag("slack", "reply_in_channel", False),
        slack_host=section.text("slack", "host", "0.0.0.0"),
        slack_path=section.text("slack", "path", "/slack/events"),
        config_dir=path.parent,
    )
    if not settings.slack_command.startswith("/"):
        raise ConfigError(
            path, "slack.command", "a slash command starts with /", "write it like /brief"
        )
    if not _LISTEN_HOST.match(settings.slack_host):
        raise ConfigError(
            path,
            "slack.host",
            f"{settings.slack_host!r} is not an address to listen on",
            "use an IP address such as 0.0.0.0 (all interfaces) or 127.0.0.1, or a host name",
        )
    if not _URL_PATH.match(settings.slack_path):
        raise ConfigError(
            path,
            "slack.path",
            f"{settings.slack_path!r} is not a URL path",
            "write it like /slack/events",
        )
    _warn_unknown_speakers(path, settings)
    return replace(settings, **(overrides or {}))


log = logging.getLogger(__name__)

# Where each platform's secrets go instead of a file.
_SECRET_VARIABLES = {
    "discord": "DISCORD_TOKEN",
    "slack.app_token": "SLACK_APP_TOKEN",
    "slack.signing_secret": "SLACK_SIGNING_SECRET",
    "slack": "SLACK_BOT_TOKEN",
}


def _refuse_secrets(block: Mapping[Any, Any], path: Path, section: str) -> None:
    """A token in bot.yaml gets its own error: "unknown field" would suggest renaming it."""
    for key in block:
        name = str(key).casefold()
        if "token" not in name and "secret" not in name:
            continue
        variable = _SECRET_VARIABLES.get(f"{section}.{name}") or _SECRET_VARIABLES.get(section)
        if variable is None:
            continue
        raise ConfigError(
            path,
            f"{section}.{key}",
            m.TOKEN_IN_CONFIG,
            m.TOKEN_IN_CONFIG_FIX.format(variable=variable),
        )


def _warn_unknown_speakers(path: Path, settings: Settings) -> None:
    """A speaker filter naming no configured speaker is logged at start: it matches only
    quotes filed under exactly that name, most likely none, and a digest filtered by it
    would stay silent about quotes without a word of why."""
    filters: list[tuple[str, Iterable[str]]] = [
        ("digests.tracked_speakers", settings.tracked_speakers),
        *((f"schedules[{n}].speakers", s.speakers) for n, s in enumerate(settings.schedules)),
    ]
    if not any(names for _, names in filters):
        return
    speakers_path = path.parent / "speakers.yaml"
    book = load_speakers(speakers_path)
    for key, names in filters:
        for name in names:
            if book.get(name) or book.by_role(name) or book.resolve(name)[0]:
                continue
            log.warning(
                m.UNKNOWN_FILTER_SPEAKER.format(
                    path=path, key=key, name=name, speakers=speakers_path
                ),
                extra={"file": str(path), "key": key, "speaker": name},
            )


class _Sections:
    def __init__(self, path: Path, data: Mapping[str, Any]):
        self.path = path
        self.data = data

    def _value(self, section: str, key: str) -> Any:
        block = self.data.get(section) or {}
        if not isinstance(block, Mapping):
            raise ConfigError(
                self.path, section, "expected a mapping", f"indent the keys under `{section}:`"
            )
        return block.get(key)

    def text(self, section: str, key: str, default: str) -> str:
        value = self._value(section, key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                self.path, f"{section}.{key}", f"expected text, got {value!r}", "quote the value"
            )
        return value.strip()

    def texts(self, section: str, key: str, default: list[str]) -> list[str]:
        value = self._value(section, key)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        return list(_strings(value, self.path, f"{section}.{key}"))

    def number(
        self,
        section: str,
        key: str,
        default: float,
        *,
        minimum: float,
        maximum: float | None = None,
    ) -> float:
        value = self._value(section, key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                self.path,
                f"{section}.{key}",
                f"expected a number, got {value!r}",
                "write a plain number",
            )
        if value < minimum or (maximum is not None and value > maximum):
            bound = (
                f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            )
            raise ConfigError(
                self.path, f"{section}.{key}", f"{value} is out of range", f"use a number {bound}"
            )
        return float(value)

    def optional_int(self, section: str, key: str) -> int | None:
        value = self._value(section, key)
        if value is None:
            return None
        if isinstance(value, bool) or not str(value).isdigit():
            raise ConfigError(
                self.path,
                f"{section}.{key}",
                f"expected a numeric id, got {value!r}",
                "copy the id with Developer Mode on",
            )
        return int(value)

    def flag(self, section: str, key: str, default: bool) -> bool:
        value = self._value(section, key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(
                self.path,
                f"{section}.{key}",
                f"expected true or false, got {value!r}",
                "write true or false",
            )
        return value


def _schedules(path: Path, value: Any) -> tuple[Schedule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(
            path, "schedules", "expected a list", "start each schedule with `- name:`"
        )
    schedules: list[Schedule] = []
    for index, entry in enumerate(value):
        key = f"schedules[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(
                path, key, "expected a mapping", "give name, cron, timezone and target"
            )
        missing = [
            k
            for k in ("name", "cron", "target")
            if not isinstance(entry.get(k), str) or not entry[k].strip()
        ]
        if missing:
            raise ConfigError(
                path, f"{key}.{missing[0]}", "missing or not text", f"add `{missing[0]}:`"
            )
        unknown = set(entry) - {"name", "cron", "timezone", "target", "speakers", "topics"}
        if unknown:
            raise ConfigError(
                path,
                f"{key}.{sorted(unknown)[0]}",
                "unknown field",
                "use name, cron, timezone, target, speakers or topics",
            )
        timezone = str(entry.get("timezone") or "UTC")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                path,
                f"{key}.timezone",
                f"unknown timezone {timezone!r}",
                "use an IANA name such as Europe/London",
            ) from None
        if not _valid_cron(entry["cron"]):
            raise ConfigError(
                path,
                f"{key}.cron",
                f"{entry['cron']!r} is not a cron expression",
                'use five fields, e.g. "0 8 * * *" for 08:00 daily',
            )
        target = entry["target"].strip()
        if not _TARGET.match(target):
            raise ConfigError(
                path,
                f"{key}.target",
                f"unknown target {target!r}",
                "use console, file, discord:<channel id> or slack:<channel id>",
            )
        if any(s.name == entry["name"].strip() for s in schedules):
            raise ConfigError(
                path,
                f"{key}.name",
                f"{entry['name']!r} is used twice",
                "give each schedule its own name",
            )
        schedules.append(
            Schedule(
                name=entry["name"].strip(),
                cron=entry["cron"].strip(),
                timezone=timezone,
                target=target,
                speakers=_strings(entry.get("speakers"), path, f"{key}.speakers"),
                topics=_strings(entry.get("topics"), path, f"{key}.topics"),
            )
        )
    return tuple(schedules)


def _valid_cron(expression: str) -> bool:
    try:
        Schedule("check", expression, "UTC", "console").trigger()
    except ValueError:
        return False
    return True
