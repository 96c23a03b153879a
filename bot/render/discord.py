"""Render a neutral Reply as Discord messages made of embeds.

Pure functions only. Every string in a Reply may come from an untrusted article, so it
is escaped with discord.py's own helpers (`escape_markdown`, `escape_mentions`) plus the
few forms they leave alone: `<#id>`, `<t:…>`, `<:emoji:id>` (a backslash before `<`),
the markdown inside a masked link's span (escaped piece by piece around each `](`),
indented quotes and headings, and numbered list markers. Senders still pass
`allowed_mentions` none; this is the layout half of the defence.

Discord's limits are enforced by splitting, never by cutting: a long text becomes several
blocks, blocks fill embed descriptions, and embeds fill messages. Lengths are counted in
UTF-16 code units, which is never less than Discord's own count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import discord
from discord.utils import escape_markdown, escape_mentions

from bot import messages as m
from bot.delivery import with_mark
from bot.reply import Item, Link, Reply, Section

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
EMBEDS_PER_MESSAGE = 10
MESSAGE_TOTAL_LIMIT = 6000  # title + description + footer of every embed in one message
MARK_ROOM = 64  # kept free on each message of a digest for its part mark
LINK_LIMIT = 1000  # a longer link is shown as text, so that it can be split like text

BLOCK_GAP = "\n\n"
META_SEPARATOR = " · "
QUOTE_META_PREFIX = "— "
NOTE_PREFIX = "• "  # a plain bullet: "- " would be a Markdown list

NORMAL_COLOUR = discord.Colour.blurple()
ERROR_COLOUR = discord.Colour.red()

# <#id>, <t:…>, <:emoji:id>, </cmd:id>, <https://…>, unless a backslash already escapes it
_ANGLE = re.compile(r"(?<!\\)((?:\\\\)*)<(?=\S)")
_LINK_JOIN = "]("  # what makes a masked link, `[x](y)`
_LINK_JOIN_ESCAPED = "]\\("
_LINE_START = re.compile(r"(?m)^([ \t]*)([>#])")  # indented quotes and headings
_NUMBERED = re.compile(r"(?m)^(\s*\d+)\.(?=\s)")  # "1. " starts a list
_URL_SAFE = "/:?#[]@!$&'*+,;=%~-._"  # not `(` `)` `<` `>` or spaces: they end a link


@dataclass(frozen=True)
class DiscordMessage:
    """One message to post: up to ten embeds within Discord's limits."""

    embeds: tuple[discord.Embed, ...]


def render_messages(reply: Reply, *, ref: str | None = None) -> list[DiscordMessage]:
    """Every character of the reply, in order, in as few messages as the limits allow.

    With `ref` (a digest's reference), the last footer of every message carries it and
    the message's part number, so that the channel's history shows which parts arrived.
    """
    room = MARK_ROOM if ref else 0
    title = escape_text(reply.title)
    blocks: list[str] = []
    if units(title) > TITLE_LIMIT:
        blocks.extend(split_to_fit(reply.title, _bold, DESCRIPTION_LIMIT))
        title = ""
    for section in reply.sections:
        blocks.extend(_section_blocks(section))
    footer = escape_mentions(reply.footnote.strip())  # footers show plain text, no markdown
    if units(footer) > FOOTER_LIMIT - room:
        blocks.extend(split_to_fit(reply.footnote, escape_text, DESCRIPTION_LIMIT))
        footer = ""

    colour = ERROR_COLOUR if reply.is_error else NORMAL_COLOUR
    pages = _pack(blocks, first_used=units(title), total_limit=MESSAGE_TOTAL_LIMIT - room)
    messages = [[discord.Embed(description=text, colour=colour) for text in page] for page in pages]
    if not messages[0]:
        empty = None if title else m.EMPTY_REPLY
        messages[0].append(discord.Embed(description=empty, colour=colour))
    if title:
        messages[0][0].title = title
    if footer:
        last = messages[-1]
        if _message_units(last) + units(footer) <= MESSAGE_TOTAL_LIMIT - room:
            last[-1].set_footer(text=footer)
        else:
            messages.append([discord.Embed(colour=colour).set_footer(text=footer)])
    if ref:
        for part, embeds in enumerate(messages, start=1):
            shown = embeds[-1].footer.text or ""
            embeds[-1].set_footer(text=with_mark(shown, ref, part, len(messages)))
    return [DiscordMessage(embeds=tuple(embeds)) for embeds in messages]


def escape_text(text: str) -> str:
    """Untrusted text made inert for a description or title: it shows as written."""
    # escape_markdown escapes a whole `[x](y) … )` span with one backslash and leaves the
    # markdown inside it alone, so escape the text between `](` junctions instead.
    escaped = _LINK_JOIN_ESCAPED.join(escape_markdown(part) for part in text.split(_LINK_JOIN))
    escaped = escape_mentions(escaped)
    escaped = _ANGLE.sub(r"\1\\<", escaped)
    escaped = _LINE_START.sub(r"\1\\\2", escaped)
    return _NUMBERED.sub(r"\1\\.", escaped)


def link_markdown(link: Link) -> str:
    """`[label](url)` for an http(s) URL; otherwise just the escaped label."""
    url = _safe_url(link.url)
    label = escape_text(" ".join(link.label.split()))
    if url is None:
        return label
    if not label or "[" in label or "]" in label:
        # Brackets cannot be escaped inside a link label: show the URL beside the label.
        shown = f"{label} (<{url}>)" if label else f"<{url}>"
        return shown if units(shown) <= LINK_LIMIT else f"{label} {escape_text(url)}".strip()
    token = f"[{label}]({url})"
    return token if units(token) <= LINK_LIMIT else f"{label} {escape_text(url)}"


def units(text: str) -> int:
    """Length as Discord counts it, at worst: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_to_fit(raw: str, render: Callable[[str], str], limit: int) -> list[str]:
    """Render `raw` in consecutive pieces, each rendering within `limit`.

    Pieces end at a word boundary when one fits, else mid-word. Nothing is dropped but
    the whitespace where a piece ends.
    """
    pieces: list[str] = []
    rest = raw.strip()
    while rest:
        whole = render(rest)
        if units(whole) <= limit:
            pieces.append(whole)
            break
        cut = _longest_fitting_prefix(rest, render, limit)
        pieces.append(render(rest[:cut]))
        rest = rest[cut:].lstrip()
    return pieces


def _longest_fitting_prefix(text: str, render: Callable[[str], str], limit: int) -> int:
    window = text[: limit + 1]  # rendering never shortens text, so no longer prefix fits
    starts = [m.start() for m in re.finditer(r"(?<=\s)\S", window)]
    best = _largest_fitting(starts, text, render, limit)
    if best is None:
        best = _largest_fitting(list(range(1, len(window))), text, render, limit)
    if best is None:
        raise ValueError(f"a limit of {limit} leaves no room for text")
    return best


def _largest_fitting(
    cuts: list[int], text: str, render: Callable[[str], str], limit: int
) -> int | None:
    """Binary search for the largest cut whose prefix renders within the limit."""
    low, high, best = 0, len(cuts) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if units(render(text[: cuts[middle]])) <= limit:
            best, low = cuts[middle], middle + 1
        else:
            high = middle - 1
    return best


def _section_blocks(section: Section) -> list[str]:
    blocks: list[str] = []
    if section.text.strip():
        blocks.extend(split_to_fit(section.text, escape_text, DESCRIPTION_LIMIT))
    for item in section.items:
        blocks.extend(_item_blocks(item))
    heading = escape_text(" ".join(section.heading.split()))
    if not heading:
        return blocks
    heading_block = f"**{heading}**"
    if units(heading_block) > DESCRIPTION_LIMIT:
        return split_to_fit(section.heading, _bold, DESCRIPTION_LIMIT) + blocks
    if blocks and units(heading_block) + 1 + units(blocks[0]) <= DESCRIPTION_LIMIT:
        # Keep the heading with what follows, so it never ends a page on its own.
        return [f"{heading_block}\n{blocks[0]}", *blocks[1:]]
    return [heading_block, *blocks]


def _item_blocks(item: Item) -> list[str]:
    body = split_to_fit(item.text, _quote if item.quoted else _bold, DESCRIPTION_LIMIT)
    prefix = QUOTE_META_PREFIX if item.quoted and body else ""
    room = DESCRIPTION_LIMIT - units(prefix)
    meta_parts = split_to_fit(item.detail, escape_text, room)
    for link in item.links:
        shown = link_markdown(link)
        if units(shown) <= room:
            meta_parts.append(shown)
        else:  # an absurd label: show it and its URL as text, split like text
            meta_parts += split_to_fit(f"{link.label} {link.url or ''}", escape_text, room)
    meta = [f"{prefix}{line}" for line in _join_within(meta_parts, META_SEPARATOR, room)]
    note_room = DESCRIPTION_LIMIT - units(NOTE_PREFIX)
    note_lines = [
        f"{NOTE_PREFIX}{piece}"
        for note in item.notes
        for piece in split_to_fit(" ".join(note.split()), escape_text, note_room)
    ]
    # The detail and the notes follow the text line by line, as far as a description
    # holds them; the rest go on in blocks of their own.
    blocks = list(body)
    for block in [*meta, *_join_within(note_lines, "\n", DESCRIPTION_LIMIT)]:
        if blocks and units(blocks[-1]) + 1 + units(block) <= DESCRIPTION_LIMIT:
            blocks[-1] += f"\n{block}"
        else:
            blocks.append(block)
    return blocks


def _join_within(parts: Iterable[str], separator: str, limit: int) -> list[str]:
    """Join parts, each already within the limit, greedily into lines within the limit."""
    lines: list[str] = []
    for part in parts:
        if lines and units(lines[-1]) + units(separator) + units(part) <= limit:
            lines[-1] += separator + part
        elif part:
            lines.append(part)
    return lines


def _bold(raw: str) -> str:
    text = escape_text(raw.strip())
    return f"**{text}**" if text else ""


def _quote(raw: str) -> str:
    lines = escape_text(raw.strip()).split("\n")
    return "\n".join(f"> {line}".rstrip() for line in lines)


def _pack(
    blocks: list[str], *, first_used: int, total_limit: int = MESSAGE_TOTAL_LIMIT
) -> list[list[str]]:
    """Fill descriptions, then embeds, then messages, in order."""
    pages: list[list[str]] = [[]]
    used = first_used
    gap = units(BLOCK_GAP)
    for block in blocks:
        size = units(block)
        page = pages[-1]
        if (
            page
            and units(page[-1]) + gap + size <= DESCRIPTION_LIMIT
            and used + gap + size <= total_limit
        ):
            page[-1] += BLOCK_GAP + block
            used += gap + size
        elif len(page) < EMBEDS_PER_MESSAGE and used + size <= total_limit:
            page.append(block)
            used += size
        else:
            pages.append([block])
            used = size
    return pages


def _message_units(embeds: list[discord.Embed]) -> int:
    return sum(
        units(e.title or "") + units(e.description or "") + units(e.footer.text or "")
        for e in embeds
    )


def _safe_url(url: str | None) -> str | None:
    """The URL, percent-encoded where it could end a markdown link, or None unless http(s)."""
    try:
        parts = urlsplit((url or "").strip())
        host = parts.netloc.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not host
        or re.search(r"[\s<>()\\\"]", host)
    ):
        return None
    path, query, fragment = (quote(p, safe=_URL_SAFE) for p in parts[2:])
    return urlunsplit((parts.scheme.lower(), host, path, query, fragment))
