"""Everything the core learns from one document on its own: its quotes, its summary and
the term vector its story is found by.

Pure and independent per document, so an ingest can spread documents over processes.
Overlaps and stories need the whole archive and are computed afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.documents import Document
from bot.core.extraction import extract_quotes
from bot.core.layout import Span
from bot.core.overlaps import Prepared, prepare
from bot.core.quote_marks import find_marked_quotes
from bot.core.quotes import Quote
from bot.core.speakers import SpeakerBook
from bot.core.stories import TermVector
from bot.core.summaries import body_terms, summarise


@dataclass(frozen=True)
class Analysed:
    document: Document
    quotes: tuple[Quote, ...]
    summary: tuple[tuple[int, int], ...]  # sentence spans in document.text, best first
    terms: TermVector | None = None  # for StoryIndex.add
    prepared: tuple[Prepared, ...] = ()  # for OverlapEngine.add, one per quote


def analyse(document: Document, book: SpeakerBook) -> Analysed:
    # The quote marks and the body's content terms are found once and shared: extraction
    # and the summary both need the marks, the summary and the term vector the terms.
    body = [Span(p.start, p.end) for p in document.body_paragraphs()]
    marked = tuple(find_marked_quotes(document.text, body))
    terms = body_terms(document)
    summary = summarise(document, marked=marked, terms=terms)
    quotes = extract_quotes(document, book, marked=marked)
    return Analysed(
        document=document,
        quotes=quotes,
        summary=tuple((s.start, s.end) for s in summary.sentences),
        terms=TermVector.of_terms(terms.words),
        prepared=tuple(prepare(quote) for quote in quotes),
    )
