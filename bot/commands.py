"""The one registry of chat commands.

A command is declared once here, with typed parameters, and every platform gets it:
the Discord adapter turns it into a slash command, the Slack adapter into a `/brief`
subcommand, the console into a typed line. Handlers return a neutral `Reply`.

Handlers are added in `bot/handlers.py`; this module only knows their shape.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from bot.reply import Item, Reply, Section

MAX_LINE_CHARS = 500  # longer input is refused, not truncated


class ParamKind(StrEnum):
    TEXT = "text"
    INT = "integer"
    DATE = "date"  # YYYY-MM-DD


class Completion(StrEnum):
    """Where a parameter's suggestions come from."""

    SPEAKERS = "speakers"
    DOCUMENTS = "documents"


class CommandError(Exception):
    """Bad input from a user; the message is shown to them as it is."""


Ctx = TypeVar("Ctx")


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    kind: ParamKind = ParamKind.TEXT
    required: bool = False
    completion: Completion | None = None
    min_value: int | None = None
    max_value: int | None = None

    def parse(self, raw: str) -> str | int | date:
        raw = raw.strip()
        if self.kind is ParamKind.TEXT:
            return raw
        if self.kind is ParamKind.INT:
            try:
                value = int(raw)
            except ValueError:
                raise CommandError(f"`{self.name}` must be a whole number, not {raw!r}.") from None
            if self.min_value is not None and value < self.min_value:
                raise CommandError(f"`{self.name}` must be at least {self.min_value}.")
            if self.max_value is not None and value > self.max_value:
                raise CommandError(f"`{self.name}` must be at most {self.max_value}.")
            return value
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise CommandError(
                f"`{self.name}` must be a date like 2016-11-10, not {raw!r}."
            ) from None


@dataclass(frozen=True)
class Command(Generic[Ctx]):
    name: str
    description: str
    handler: Callable[[Ctx, Mapping[str, object]], Reply]
    params: tuple[Param, ...] = ()

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def usage(self) -> str:
        parts = [self.name]
        for p in self.params:
            parts.append(f"<{p.name}>" if p.required else f"[{p.name}]")
        return " ".join(parts)


@dataclass(frozen=True)
class Registry(Generic[Ctx]):
    commands: tuple[Command[Ctx], ...] = field(default_factory=tuple)

    def get(self, name: str) -> Command[Ctx] | None:
        wanted = name.strip().lstrip("/").lower()
        return next((c for c in self.commands if c.name == wanted), None)

    def bind(self, command: Command[Ctx], raw: Mapping[str, str]) -> dict[str, object]:
        """Type-check raw string arguments against the command's parameters."""
        unknown = sorted(set(raw) - {p.name for p in command.params})
        if unknown:
            raise CommandError(f"`{command.name}` has no option `{unknown[0]}`.")
        bound: dict[str, object] = {}
        for p in command.params:
            value = raw.get(p.name, "")
            if value.strip():
                bound[p.name] = p.parse(value)
            elif p.required:
                raise CommandError(f"`{command.name}` needs `{p.name}`: {command.usage}")
        return bound


def split_line(command: Command[Ctx], words: Sequence[str]) -> dict[str, str]:
    """Turn `Dmitry Peskov since:2016-11-01` or `--since 2016-11-01` into named arguments.

    Words that name no option fill the first parameter that was not named, so that a
    speaker with a space in the name needs no quoting.
    """
    named: dict[str, str] = {}
    loose: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        key, sep, value = word.lstrip("-").partition(":" if not word.startswith("--") else "=")
        if word.startswith("--") and command.param(key) is not None:
            if sep:
                named[key] = value
            elif i + 1 < len(words):
                named[key] = words[i + 1]
                i += 1
            else:
                raise CommandError(f"`--{key}` needs a value.")
        elif sep and not word.startswith("-") and command.param(key) is not None:
            named[key] = value
        elif word.startswith("--") and key:
            # Not a word of the speaker's name: a mistyped option must not vanish into it.
            raise CommandError(f"`{command.name}` has no option `{key}`: {command.usage}")
        elif sep and value and (guess := _mistyped_option(command, key)):
            raise CommandError(f"`{command.name}` has no option `{key}`; did you mean `{guess}`?")
        else:
            loose.append(word)
        i += 1
    if loose:
        free = [p for p in command.params if p.name not in named]
        if not free:
            raise CommandError(f"Too many words for `{command.name}`: {command.usage}")
        named[free[0].name] = " ".join(loose)
    return named


def _mistyped_option(command: Command[Ctx], key: str) -> str | None:
    """`sinse:2016-01-01` is a typo of `since:`, not two words of a speaker's name."""
    if not key.islower() or not key.replace("_", "").isalpha():
        return None
    names = [p.name for p in command.params]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.7)
    return close[0] if close else None


def parse_line(line: str) -> list[str]:
    """Split a typed command line into words, honouring quotes when they balance."""
    if len(line) > MAX_LINE_CHARS:
        raise CommandError(
            f"That command is {len(line)} characters long; the limit is {MAX_LINE_CHARS}."
        )
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


@dataclass(frozen=True)
class Suggestion:
    """An autocomplete choice: `label` is shown; `value` is what the option then holds, any
    reference the command accepts (a document's id: short, and never ambiguous)."""

    label: str
    value: str


Completer = Callable[[Ctx, Completion, str], list[Suggestion]]


@dataclass(frozen=True)
class Dispatcher(Generic[Ctx]):
    """What adapters call: a registry bound to a way of making the handlers' context.

    It never raises for bad user input: errors come back as a Reply with `is_error`.
    Unknown commands get the help text.
    """

    registry: Registry[Ctx]
    context: Callable[[], Ctx]
    completer: Completer[Ctx] | None = None

    def run(self, name: str, raw: Mapping[str, str]) -> Reply:
        command = self.registry.get(name)
        if command is None:
            return help_reply(self.registry, unknown=name)
        try:
            too_long = next((k for k, v in raw.items() if len(v) > MAX_LINE_CHARS), None)
            if too_long is not None:
                raise CommandError(f"`{too_long}` is longer than {MAX_LINE_CHARS} characters.")
            return command.handler(self.context(), self.registry.bind(command, raw))
        except CommandError as error:
            return Reply(title=str(error), is_error=True)

    def run_line(self, line: str) -> Reply:
        """Run a typed line such as `quotes Peskov since:2016-11-01` (a leading / is optional)."""
        try:
            words = parse_line(line)
        except CommandError as error:
            return Reply(title=str(error), is_error=True)
        if not words:
            return help_reply(self.registry)
        command = self.registry.get(words[0])
        if command is None:
            return help_reply(self.registry, unknown=words[0])
        try:
            raw = split_line(command, words[1:])
        except CommandError as error:
            return Reply(title=str(error), is_error=True)
        return self.run(command.name, raw)

    def complete(self, name: str, param: str, prefix: str) -> list[Suggestion]:
        command = self.registry.get(name)
        spec = command.param(param) if command else None
        if spec is None or spec.completion is None or self.completer is None:
            return []
        return self.completer(self.context(), spec.completion, prefix[:MAX_LINE_CHARS])


def help_reply(registry: Registry[Ctx], *, unknown: str | None = None) -> Reply:
    items = tuple(Item(text=c.usage, detail=c.description) for c in registry.commands)
    title = "briefbot commands"
    if unknown:
        title = f"Unknown command {unknown!r}. Here is what I can do:"
    return Reply(title=title, sections=(Section(items=items),), is_error=unknown is not None)
