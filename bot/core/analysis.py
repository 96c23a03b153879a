"""Everything the core learns from one document on its own: its quotes, its summary and
the term vector its story is found by.

Pure and independent per document, so an ingest can spread documents over processes.
Overlaps and stories need the whole archive and are computed afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.documents import Document
from bot.core.extraction import extract_quotes
from bot.core.quotes import Quote
from bot.core.speakers import SpeakerBook
from bot.core.stories import TermVector
from bot.core.summaries import summarise


@dataclass(frozen=True)
class Analysed:
    document: Document
    quotes: tuple[Quote, ...]
    summary: tuple[tuple[int, int], ...]  # sentence spans in document.text, best first
    terms: TermVector | None = None  # for StoryIndex.add


def analyse(document: Document, book: SpeakerBook) -> Analysed:
    summary = summarise(document)
    return Analysed(
        document=document,
        quotes=extract_quotes(document, book),
        summary=tuple((s.start, s.end) for s in summary.sentences),
        terms=TermVector.of(document.body),
    )
