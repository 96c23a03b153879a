"""Render a neutral Reply as Markdown (briefings/ files), or in the same layout as text
for a terminal (the console and the CLI).

Article text is untrusted. In Markdown its control characters are escaped, so that a
quote shows as written and cannot open a link, a heading or an HTML tag. A terminal
shows text as it is (nothing there can ping anyone or make a link), so it gets no
backslashes, only its control characters dropped. Neither has a size limit: nothing is
split or cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.reply import Item, Link, Reply, Section

# Characters that can start markup anywhere in a line. Parentheses are harmless once
# brackets are escaped (no link can form), and are left alone to keep text readable.
# An underscore between two letters or digits (file_name) never starts emphasis in
# CommonMark; any other one can (`__init__`), so it is escaped. An ampersand is escaped
# only where it would start an entity (`&amp;` would show as `&`).
_SPECIAL = re.compile(r"([\\`*\[\]<>|~]|(?<![^\W_])_|_(?![^\W_])|&(?=#?[0-9A-Za-z]+;))")
# Markers that only count at the start of a line: headings, lists, quotes, rules. An
# ordered-list marker is escaped at its punctuation: a backslash before a digit is shown.
_LINE_START = re.compile(r"(?m)^(\s*)(?:([-+=>#])|(\d+)([.)]))")


def escape(text: str) -> str:
    """Untrusted text, shown literally by any CommonMark renderer."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_marker, escaped)


def _escape_marker(match: re.Match[str]) -> str:
    indent, marker, number, delimiter = match.groups()
    if marker:
        return f"{indent}\\{marker}"
    return f"{indent}{number}\\{delimiter}"


def link(item_link: Link) -> str:
    label = escape(item_link.label)
    url = item_link.url or ""
    # Inside <…> a destination may hold parentheses; only spaces, angle brackets and
    # backslashes could end it early or change it.
    if urlsplit(url).scheme.lower() in ("http", "https") and not re.search(r"[\s<>\\]", url):
        return f"[{label}](<{url}>)"
    return label


@dataclass(frozen=True)
class _Style:
    """How plain text becomes output: escaped and marked up, or as a terminal shows it."""

    text: Callable[[str], str]
    link: Callable[[Link], str]
    bold: str  # around an item's name
    emphasis: str  # around the footnote
    line_break: str  # between an item's name and its detail


def render(reply: Reply) -> str:
    """Markdown, for briefings/ files: every piece of text escaped."""
    return _render(reply, _MARKDOWN)


def render_text(reply: Reply) -> str:
    """The same layout for a terminal: text as written, no backslashes, links as
    "label (url)". Control characters, which could drive the terminal, are dropped."""
    return _render(reply, _TERMINAL)


def plain(text: str) -> str:
    """Untrusted text for a terminal: no escape sequences, no reordering of the line."""
    return _CONTROLS.sub("", text)


def plain_link(item_link: Link) -> str:
    label = plain(item_link.label)
    url = plain(item_link.url or "")
    if urlsplit(url).scheme.lower() in ("http", "https") and not re.search(r"\s", url):
        return f"{label} ({url})"
    return label


# C0 and C1 controls but tab and newline, and the bidirectional overrides and isolates.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = _Style(text=escape, link=link, bold="**", emphasis="_", line_break="  \n")
_TERMINAL = _Style(text=plain, link=plain_link, bold="", emphasis="", line_break="\n")


def _render(reply: Reply, style: _Style) -> str:
    lines = [f"# {'⚠ ' if reply.is_error else ''}{style.text(reply.title)}", ""]
    for section in reply.sections:
        lines.extend(_section(section, style))
    if reply.footnote:
        lines.extend([f"{style.emphasis}{style.text(reply.footnote)}{style.emphasis}", ""])
    return "\n".join(lines).rstrip() + "\n"


def _section(section: Section, style: _Style) -> list[str]:
    lines: list[str] = []
    if section.heading:
        lines.extend([f"## {style.text(section.heading)}", ""])
    if section.text:
        lines.extend([style.text(section.text), ""])
    for item in section.items:
        lines.extend(_item(item, style))
    return lines


def _item(item: Item, style: _Style) -> list[str]:
    sources = ", ".join(style.link(x) for x in item.links)
    detail = " · ".join(part for part in (style.text(item.detail), sources) if part)
    notes = [f"- {style.text(' '.join(note.split()))}" for note in item.notes]
    if item.quoted:
        lines = [
            f"> “{line}" if n == 0 else f"> {line}"
            for n, line in enumerate(style.text(item.text).split("\n"))
        ]
        lines[-1] += "”"
        if detail:
            lines.append(f"> — {detail}")
        return [*lines, *(f"> {note}" for note in notes), ""]
    line = f"- {style.bold}{style.text(item.text)}{style.bold}"
    if detail:
        line += f"{style.line_break}  {detail}"
    return [line, *(f"  {note}" for note in notes), ""]
