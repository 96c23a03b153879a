"""The rows the rest of the bot reads from the store, and the converters between the
tables' rows and the core's objects (quotes, documents) or the outbox's deliveries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.documents import Cut, CutReason, Document, Paragraph, ParagraphKind
from bot.core.quotes import Attribution, Quote


@dataclass(frozen=True)
class ClusterRow:
    """A stored overlap cluster, as commands show it."""

    id: str
    canonical_quote_id: str
    canonical_text: str
    speaker: str | None
    earliest_doc_id: str
    first_seen: datetime | None
    outlets: tuple[str, ...]
    members: tuple[MemberRow, ...]
    # Who the documents name when they disagree (`speaker` is then None), most often
    # named first; empty when they agree.
    disputed_speakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class MemberRow:
    quote_id: str
    doc_id: str
    text: str
    relation: str
    score: float
    near: bool
    diff: str | None
    speaker: str | None = None  # who this printing names (the quote's speaker)


@dataclass(frozen=True)
class StoryRow:
    id: str
    headline: str
    first_seen: datetime | None
    doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class DocumentMeta:
    """A document without its text: what listings and citations need."""

    id: str
    source: str
    title: str | None
    outlet: str | None
    url: str | None
    published: datetime | None
    ingested_at: datetime
    story_id: str | None

    @property
    def label(self) -> str:
        # The same rule as Document.label, so clustering names a document alike from either.
        return self.outlet or self.title or self.source.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def first_seen(self) -> datetime:
        return self.published or self.ingested_at


@dataclass(frozen=True)
class Delivery:
    id: int
    target: str
    slot: str
    status: str  # pending | sending | sent | superseded
    window_start: datetime | None
    window_end: datetime
    reply: dict[str, Any]
    markdown: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    parts_sent: int = 0
    owner: str | None = None
    lease_until: datetime | None = None


def quote_values(quote: Quote) -> dict[str, Any]:
    """A quote as a `quotes` row (without `seen`, which comes from its document)."""
    return {
        "id": quote.id,
        "doc_id": quote.doc_id,
        "start": quote.start,
        "end": quote.end,
        "text": quote.text,
        "speaker": quote.speaker,
        "speaker_role": quote.speaker_role,
        "cue": quote.cue,
        "partial": quote.partial,
        "attribution": quote.attribution.name,
    }


def quote_from_row(row: Any) -> Quote:
    return Quote(
        doc_id=row["doc_id"],
        start=row["start"],
        end=row["end"],
        text=row["text"],
        speaker=row["speaker"],
        speaker_role=row["speaker_role"],
        cue=row["cue"],
        partial=bool(row["partial"]),
        attribution=Attribution[row["attribution"]],
    )


def document_values(
    document: Document, summary: Sequence[tuple[int, int]], *, now: datetime
) -> dict[str, Any]:
    """A document as a `documents` row, ingested `now`, with its summary's spans."""
    return {
        "id": document.id,
        "source": document.source,
        "title": document.title,
        "outlet": document.outlet,
        "byline": document.byline,
        "published": document.published,
        "url": document.url,
        "text": document.text,
        "paragraphs": [[p.start, p.end, p.kind.value] for p in document.paragraphs],
        "cuts": [[c.start, c.end, c.reason.value] for c in document.cuts],
        "summary": [list(span) for span in summary],
        "story_id": None,
        "ingested_at": now,
    }


def document_from_row(row: Any) -> Document:
    return Document(
        id=row["id"],
        source=row["source"],
        text=row["text"],
        paragraphs=tuple(Paragraph(a, b, ParagraphKind(k)) for a, b, k in row["paragraphs"]),
        cuts=tuple(Cut(a, b, CutReason(r)) for a, b, r in row["cuts"]),
        title=row["title"],
        outlet=row["outlet"],
        byline=row["byline"],
        published=row["published"],
        url=row["url"],
    )


def delivery_from_row(row: Any) -> Delivery:
    reply = row["reply"]
    return Delivery(
        id=row["id"],
        target=row["target"],
        slot=row["slot"],
        status=row["status"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        reply=json.loads(reply) if isinstance(reply, str) else reply,
        markdown=row["markdown"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        parts_sent=row["parts_sent"],
        owner=row["owner"],
        lease_until=row["lease_until"],
    )
