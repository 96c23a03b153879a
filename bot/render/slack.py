"""Render a neutral Reply as Slack Block Kit messages.

Pure functions only. Every string in a Reply may come from an untrusted article, so all
of it is escaped (`&`, `<`, `>` become entities, so no `<!channel>` or `<@U…>` survives),
and every mrkdwn object is `verbatim` so Slack does not auto-link names or mentions
either. The only raw `<…>` we emit are our own links.

mrkdwn's formatting characters (`*` `_` `~` `` ` ``) have no escape, so a marker that
Slack could read as formatting is swapped for a look-alike (as jsx-slack does). Slack
formats only at word boundaries, so a marker between two letters or digits
(`min_outlets`, `snake_case`, `a*b`) is left alone: such text stays copyable as written.

Slack's limits are enforced by splitting, never by cutting: a long text goes into several
sections, and a long reply into several messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from bot.delivery import with_mark
from bot.reply import Item, Link, Reply

Block = dict[str, Any]
Message = dict[str, Any]

BLOCKS_PER_MESSAGE = 50
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
MESSAGE_TEXT_BUDGET = 12_000  # text characters of all blocks; Slack's practical ceiling
LINK_MAX = 2000  # a longer link is shown as text, so that it can be split like text
MARK_ROOM = 64  # kept free on each message of a digest for its part mark

ERROR_PREFIX = ":warning: "
CONTINUED = "(continued, part {part} of {parts})"
PART_SUFFIX = " (part {part} of {parts})"
DEFAULT_FALLBACK = "briefbot"
NOTE_PREFIX = "• "  # before each line under an item (how an outlet printed a statement)
# The `text` fallback is a notification line; the content itself is in the blocks.
# Slack truncates `text` past 40,000 characters and recommends keeping it short.
FALLBACK_MAX = 3000
ELLIPSIS = "…"

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Look-alikes for mrkdwn's formatting characters: ∗ ˍ ∼ ˋ
_LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
# A marker Slack may format: one not flanked by letters or digits on both sides. Only
# ASCII counts as a letter here, to be safe: a marker next to `é` is neutralised.
_LOOSE_MARKER = re.compile(r"(?<![A-Za-z0-9])[*_~`]|[*_~`](?![A-Za-z0-9])")
_SOFT_HYPHEN = "\u00ad"  # before a leading `>` so the line is not a blockquote
_ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")  # never split inside these
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"
_NOT_IN_HOST = re.compile(r"[\s<>|\"`\\{}^]")


def escape_plain(text: str) -> str:
    """Escape for a plain_text object: only Slack's three control characters."""
    return text.translate(_ENTITIES)


def escape_mrkdwn(text: str) -> str:
    """Escape untrusted text for a mrkdwn object, so it shows as written and pings no one."""
    neutral = _LOOSE_MARKER.sub(lambda marker: _LOOKALIKES[marker.group()], text)
    escaped = neutral.translate(_ENTITIES)
    return re.sub(r"(?m)^(\s*)&gt;", rf"\1{_SOFT_HYPHEN}&gt;", escaped)


def link(item_link: Link) -> str:
    """`<url|label>` for an http(s) URL; otherwise just the escaped label."""
    label = " ".join(item_link.label.replace("|", " ").split())
    url = _safe_url(item_link.url)
    if url is None:
        return escape_mrkdwn(label)
    shown = escape_mrkdwn(label) or escape_mrkdwn(item_link.url or "")
    token = f"<{url}|{shown}>"
    # An absurdly long link is shown as text, so that it can be split like text.
    return token if len(token) <= LINK_MAX else f"{shown} {escape_mrkdwn(item_link.url or '')}"


def _safe_url(url: str | None) -> str | None:
    """The URL made safe inside `<…|…>`, or None unless it is http(s)."""
    try:
        parts = urlsplit((url or "").strip())
        host = parts.netloc.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or _NOT_IN_HOST.search(host):
        return None
    # Percent-encode whatever could end the token early (`|`, `>`, spaces, quotes).
    path, query, fragment = (quote(p, safe=_URL_SAFE) for p in parts[2:])
    safe = urlunsplit((parts.scheme.lower(), host, path, query, fragment))
    return safe.replace("&", "&amp;")


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, losing nothing.

    Prefers a line break, then a space, and never cuts through an entity or a link.
    """
    pieces: list[str] = []
    while len(text) > limit:
        cut = _cut_point(text, limit)
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces


def _cut_point(text: str, limit: int) -> int:
    window = text[: limit + 1]
    cut = window.rfind("\n", limit // 2) + 1 or window.rfind(" ", limit // 2) + 1 or limit
    cut = min(cut, limit)
    for atom in _ATOM.finditer(text, max(0, cut - LINK_MAX - 2), cut + LINK_MAX + 2):
        if atom.start() < cut < atom.end():
            return atom.start() if atom.start() > 0 else atom.end()
    return cut


def _lines(text: str, *, prefix: str = "") -> list[str]:
    """Escaped lines of untrusted text, each short enough for one section."""
    lines: list[str] = []
    for raw in text.splitlines():
        pieces = split_text(escape_mrkdwn(raw), SECTION_TEXT_MAX - len(prefix)) or [""]
        lines.extend(prefix + piece for piece in pieces)
    return lines


def _pack(lines: Iterable[str], limit: int = SECTION_TEXT_MAX) -> list[str]:
    """Join lines with newlines into as few texts of at most `limit` characters as possible."""
    texts: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + 1 + len(line) > limit:
            texts.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current:
        texts.append("\n".join(current))
    return [t for t in texts if t.strip()]


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(texts: list[str]) -> Iterator[Block]:
    """Context blocks of at most ten elements and one section's worth of text each."""
    chunk: list[str] = []
    for text in texts:
        if chunk and (
            len(chunk) == CONTEXT_ELEMENTS_MAX
            or sum(map(len, chunk)) + len(text) > SECTION_TEXT_MAX
        ):
            yield {"type": "context", "elements": [_mrkdwn(t) for t in chunk]}
            chunk = []
        chunk.append(text)
    if chunk:
        yield {"type": "context", "elements": [_mrkdwn(t) for t in chunk]}


def _bold(text: str) -> list[str]:
    one_line = " ".join(text.split())  # bold does not span lines in mrkdwn
    pieces = (p.strip() for p in split_text(escape_mrkdwn(one_line), SECTION_TEXT_MAX - 2))
    return [f"*{p}*" for p in pieces if p]


def _title_blocks(reply: Reply) -> list[Block]:
    title = " ".join(reply.title.split())
    if not title:
        return []
    prefix = ERROR_PREFIX if reply.is_error else ""
    plain = prefix + escape_plain(title)
    if len(plain) <= HEADER_TEXT_MAX:
        return [{"type": "header", "text": {"type": "plain_text", "text": plain, "emoji": True}}]
    # Too long for a header: bold sections keep every character.
    lines = [prefix.strip()] if prefix else []
    return [_section(text) for text in _pack([*lines, *_bold(title)])]


def _item_blocks(item: Item) -> list[Block]:
    lines = _lines(item.text, prefix="> " if item.quoted else "")
    lines += _lines(item.detail)
    for note in item.notes:
        lines += _lines(" ".join(note.split()), prefix=NOTE_PREFIX)
    blocks = [_section(text) for text in _pack(lines)]
    links = [link(ln) for ln in item.links]
    blocks.extend(_context([t for t in links if t]))
    return blocks


def reply_blocks(reply: Reply) -> list[Block]:
    """All the blocks of a reply, each within Slack's per-block limits, before paging."""
    blocks = _title_blocks(reply)
    for section in reply.sections:
        if section.heading.strip():
            blocks.extend(_section(t) for t in _pack(_bold(section.heading)))
        blocks.extend(_section(t) for t in _pack(_lines(section.text)))
        for item in section.items:
            blocks.extend(_item_blocks(item))
    if reply.footnote.strip():
        blocks.extend(_context(_pack(_lines(reply.footnote))))
    return blocks


def block_text_size(block: Block) -> int:
    """Characters of text a block carries (what the per-message budget counts)."""
    if "text" in block:
        return len(block["text"]["text"])
    return sum(len(e.get("text", "")) for e in block.get("elements", ()))


def _pages(blocks: list[Block], *, mark_room: int = 0) -> list[list[Block]]:
    # Room for the "continued" context block, and for a digest's part mark when asked.
    reserved_blocks = 2 if mark_room else 1
    marker_room = len(CONTINUED) + 10 + mark_room
    pages: list[list[Block]] = []
    page: list[Block] = []
    size = 0
    for block in blocks:
        block_size = block_text_size(block)
        full = len(page) + 1 > BLOCKS_PER_MESSAGE - reserved_blocks or (
            size + block_size > MESSAGE_TEXT_BUDGET - marker_room
        )
        if page and full:
            pages.append(page)
            page, size = [], 0
        page.append(block)
        size += block_size
    if page or not pages:
        pages.append(page)
    return pages


def render_messages(reply: Reply, *, ref: str | None = None) -> list[Message]:
    """chat.postMessage / response_url payloads (`blocks` plus a plain `text` fallback).

    With `ref` (a digest's reference), every message ends with it and its part number,
    so that the channel's history shows which parts arrived.
    """
    title = escape_mrkdwn(" ".join(reply.title.split())) or DEFAULT_FALLBACK
    room = MARK_ROOM if ref else 0
    pages = _pages(reply_blocks(reply) or [_section(title)], mark_room=room)
    parts = len(pages)
    suffix = PART_SUFFIX.format(part=parts, parts=parts) if parts > 1 else ""
    prefix = ERROR_PREFIX if reply.is_error else ""
    fallback = prefix + _shorten(title, FALLBACK_MAX - len(prefix) - len(suffix))
    messages: list[Message] = []
    for number, page in enumerate(pages, start=1):
        text = fallback
        if parts > 1:
            text += PART_SUFFIX.format(part=number, parts=parts)
        if number > 1:
            page = [*_context([CONTINUED.format(part=number, parts=parts)]), *page]
        if ref:
            page = _marked(page, ref, number, parts)
        messages.append({"text": text, "blocks": page})
    return messages


def _marked(page: list[Block], ref: str, part: int, parts: int) -> list[Block]:
    """The page ending with the part's mark: on the footnote's last line when the page
    ends with it, else in a context block of its own."""
    last = page[-1] if page else None
    if last is not None and last.get("type") == "context":
        element = last["elements"][-1]
        marked = with_mark(element["text"], ref, part, parts)
        if element["text"].endswith(ref) and len(marked) <= SECTION_TEXT_MAX:
            elements = [*last["elements"][:-1], {**element, "text": marked}]
            return [*page[:-1], {**last, "elements": elements}]
    return [*page, *_context([with_mark("", ref, part, parts)])]


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a space (never inside an entity), with an ellipsis."""
    if len(text) <= limit:
        return text
    return split_text(text, limit - len(ELLIPSIS))[0].rstrip() + ELLIPSIS
