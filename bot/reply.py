"""The platform-neutral reply every command returns.

Every string in a Reply is plain text, and much of it comes from untrusted articles.
Renderers (bot/render/) escape it for their platform and split it to fit the
platform's limits; nothing here knows about Markdown, embeds or Block Kit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any


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
    # Lines shown under the item, each plain text: how each outlet printed a repeated
    # statement when not verbatim ("Press TV — edited: …").
    notes: tuple[str, ...] = ()


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
    # The same answer as JSON-ready data (`briefbot … --json`). Renderers ignore it, the
    # outbox does not store it, and two replies showing the same are equal whatever it is.
    data: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


def reply_to_dict(reply: Reply) -> dict[str, object]:
    """A JSON-ready form of what is shown, so the outbox can store a reply and send it
    after a restart (`data` is left out: it is for --json, not for sending)."""
    shown = asdict(replace(reply, data=None))
    shown.pop("data")
    return shown


def reply_from_dict(data: Mapping[str, Any]) -> Reply:
    sections = tuple(
        Section(
            heading=s.get("heading", ""),
            text=s.get("text", ""),
            items=tuple(
                Item(
                    text=i["text"],
                    detail=i.get("detail", ""),
                    links=tuple(Link(label=ln["label"], url=ln.get("url")) for ln in i["links"]),
                    quoted=bool(i.get("quoted", False)),
                    notes=tuple(i.get("notes", ())),
                )
                for i in s.get("items", ())
            ),
        )
        for s in data.get("sections", ())
    )
    return Reply(
        title=data["title"],
        sections=sections,
        footnote=data.get("footnote", ""),
        is_error=bool(data.get("is_error", False)),
    )
