"""Settings: YAML files parsed once into typed, validated values.

Every error names the file, the key and the fix. Secrets never come from YAML: tokens
are read from the environment only (see bot/secrets handling in the adapters).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.article import KnownFields
from bot.core.speakers import Speaker, SpeakerBook, SpeakerKind
from bot.sources.files import UnreadableFile, known_fields


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
        return yaml.safe_load(path.read_text(encoding="utf-8"))
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
    if not isinstance(data, Mapping) or not isinstance(data.get(key, []), list):
        raise ConfigError(
            path,
            key,
            f"expected a list under `{key}:`",
            f"see the comment at the top of {path.name}",
        )
    return list(data.get(key) or [])


def load_speakers(path: Path) -> SpeakerBook:
    speakers: list[Speaker] = []
    seen: set[str] = set()
    for index, entry in enumerate(_list_under(read_yaml(path), path, "speakers")):
        key = f"speakers[{index}]"
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("name"), str)
            or not entry["name"].strip()
        ):
            raise ConfigError(path, key, "every speaker needs a `name`", "add `name: Full Name`")
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
            raise ConfigError(
                path, f"{key}.date", str(error), "write dates as YYYY-MM-DD"
            ) from None
        rules.append(SourceRule(entry["match"], fields))
    return SourceRules(tuple(rules))
