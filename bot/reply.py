"""The platform-neutral reply every command returns.

Every string in a Reply is plain text, and much of it comes from untrusted articles.
Renderers (bot/render/) escape it for their platform and split it to fit the
platform's limits; nothing here knows about Markdown, embeds or Block Kit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    """A source to cite: an outlet name, and its URL when the article has one."""

    label: str
    url: str | None = None


@dataclass(frozen=True)
class Item:
    """One entry in a section: a quote, a document, a speaker."""

    text: str
    detail: str = ""
    links: tuple[Link, ...] = ()
    quoted: bool = False  # render `text` as a quotation


@dataclass(frozen=True)
class Section:
    heading: str = ""
    text: str = ""
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Reply:
    title: str
    sections: tuple[Section, ...] = ()
    footnote: str = ""
    is_error: bool = False
