"""From raw article text to a Document: repair, cut, split, read the header."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.cleaning import find_cuts, repair_encoding
from bot.core.documents import Document, Paragraph, document_id
from bot.core.layout import find_paragraphs
from bot.core.metadata import read_header


@dataclass(frozen=True)
class KnownFields:
    """Metadata known from outside the text (front matter, HTML, config); wins over the text."""

    title: str | None = None
    outlet: str | None = None
    byline: str | None = None
    published: datetime | None = None
    url: str | None = None

    def merged_over(self, other: KnownFields) -> KnownFields:
        """These fields, with gaps filled from `other`."""
        return KnownFields(
            title=self.title or other.title,
            outlet=self.outlet or other.outlet,
            byline=self.byline or other.byline,
            published=self.published or other.published,
            url=self.url or other.url,
        )


def read_article(text: str, *, source: str, known: KnownFields = KnownFields()) -> Document:
    text = repair_encoding(text.replace("\r\n", "\n").replace("\r", "\n"))
    cuts = find_cuts(text)
    spans = find_paragraphs(text, cuts)
    header = read_header(text, spans)
    paragraphs = tuple(
        Paragraph(span.start, span.end, kind)
        for span, kind in zip(spans, header.kinds, strict=True)
    )
    document = Document(
        id=document_id(text),
        source=source,
        text=text,
        paragraphs=paragraphs,
        cuts=cuts,
        title=header.title,
        outlet=header.outlet,
        byline=header.byline,
        published=header.published,
    )
    return with_known(document, known)


def with_known(document: Document, known: KnownFields) -> Document:
    return replace(
        document,
        title=known.title or document.title,
        outlet=known.outlet or document.outlet,
        byline=known.byline or document.byline,
        published=known.published or document.published,
        url=known.url or document.url,
    )
