"""The Document: one article, its repaired text, what was cut from it, and its metadata.

Every offset in a Document, a Cut, a Paragraph or a Quote indexes into `Document.text`,
the article as loaded after encoding repair. Nothing is deleted from `text`: parts that
are not the article (reader comments, CAPTCHA lines, captions) are marked as Cuts, so a
user can always see what was removed and why.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CutReason(StrEnum):
    COMMENTS = "reader comments"
    BOILERPLATE = "site boilerplate"
    CAPTION = "image caption"
    CREDIT = "editing credit"


class ParagraphKind(StrEnum):
    TITLE = "title"
    HEADING = "heading"  # a section heading inside the article
    BYLINE = "byline"
    BODY = "body"


@dataclass(frozen=True)
class Cut:
    start: int
    end: int
    reason: CutReason


@dataclass(frozen=True)
class Paragraph:
    start: int
    end: int
    kind: ParagraphKind


@dataclass(frozen=True)
class Document:
    id: str
    source: str  # the path or URL it was loaded from
    text: str
    paragraphs: tuple[Paragraph, ...]  # the article's own paragraphs, cuts excluded
    cuts: tuple[Cut, ...] = ()
    title: str | None = None
    outlet: str | None = None
    byline: str | None = None
    published: datetime | None = None  # timezone-aware
    url: str | None = None

    def paragraph_text(self, paragraph: Paragraph) -> str:
        return self.text[paragraph.start : paragraph.end]

    def body_paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(p for p in self.paragraphs if p.kind is ParagraphKind.BODY)

    @property
    def body(self) -> str:
        """The article text with titles, bylines and cuts left out."""
        return "\n\n".join(self.paragraph_text(p) for p in self.body_paragraphs())

    @property
    def label(self) -> str:
        """How to name the document to a reader: outlet, else title, else its file name."""
        return self.outlet or self.title or self.source.replace("\\", "/").rsplit("/", 1)[-1]


def document_id(text: str) -> str:
    """A stable id from the content alone, blind to whitespace and Unicode form,
    so that re-ingesting the same article under another name adds nothing."""
    canonical = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
