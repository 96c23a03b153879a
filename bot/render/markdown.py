"""Render a neutral Reply as Markdown: for briefings/ files and the console.

Article text is untrusted: Markdown's control characters are escaped so that a quote
shows as written and cannot open a link, a heading or an HTML tag. Markdown has no size
limit, so nothing is split or cut.
"""

from __future__ import annotations

import re
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


def render(reply: Reply) -> str:
    lines = [f"# {'⚠ ' if reply.is_error else ''}{escape(reply.title)}", ""]
    for section in reply.sections:
        lines.extend(_section(section))
    if reply.footnote:
        lines.extend([f"_{escape(reply.footnote)}_", ""])
    return "\n".join(lines).rstrip() + "\n"


def _section(section: Section) -> list[str]:
    lines: list[str] = []
    if section.heading:
        lines.extend([f"## {escape(section.heading)}", ""])
    if section.text:
        lines.extend([escape(section.text), ""])
    for item in section.items:
        lines.extend(_item(item))
    return lines


def _item(item: Item) -> list[str]:
    sources = ", ".join(link(x) for x in item.links)
    detail = " · ".join(part for part in (escape(item.detail), sources) if part)
    if item.quoted:
        lines = [f"> “{escape(item.text)}”"]
        if detail:
            lines.append(f"> — {detail}")
        return [*lines, ""]
    line = f"- **{escape(item.text)}**"
    if detail:
        line += f"  \n  {detail}"
    return [line, ""]
