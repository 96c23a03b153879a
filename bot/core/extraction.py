"""Extracting every direct quote from a document, with who said it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.attribution import Attributed, attribute_quotes
from bot.core.documents import Document, ParagraphKind
from bot.core.layout import Span
from bot.core.quote_marks import MarkedQuote, find_marked_quotes
from bot.core.quotes import Attribution, Quote
from bot.core.references import CAPITALISED_RUN, INSTITUTIONS, ROLE_WORDS, People, name_tail
from bot.core.speakers import SpeakerBook, fold

SCARE_QUOTE_WORDS = 3  # "reset", "New Cold War": not statements unless someone is said to say them
_WORD = re.compile(r"\w+(?:[’'-]\w+)*")


def extract_quotes(document: Document, book: SpeakerBook) -> tuple[Quote, ...]:
    body = [Span(p.start, p.end) for p in document.paragraphs if p.kind is ParagraphKind.BODY]
    marked = find_marked_quotes(document.text, body)
    people = _people_in(document, marked, book)
    attributed = attribute_quotes(document.text, body, marked, people)
    quotes = (_to_quote(document, item) for item in attributed if _is_statement(document, item))
    return tuple(q for q in quotes if q.text)


def _is_statement(document: Document, item: Attributed) -> bool:
    words = _WORD.findall(_quote_text(document.text, item.quote))
    if not words:
        return False
    if len(words) <= SCARE_QUOTE_WORDS and item.speaker is None:
        return False  # a scare quote, a title, "frosty": not a statement we can place
    if len(words) <= SCARE_QUOTE_WORDS and not item.direct:
        return False
    # A phrase no one in the text is said to have said is a slogan or an allusion.
    return not (item.partial and item.speaker is None and item.unnamed is None)


def _to_quote(document: Document, item: Attributed) -> Quote:
    speaker = item.speaker
    return Quote(
        doc_id=document.id,
        start=item.quote.start,
        end=item.quote.end,
        text=_quote_text(document.text, item.quote),
        speaker=speaker.name if speaker else None,
        speaker_role=speaker.role if speaker else item.unnamed,
        cue=item.cue,
        partial=item.partial,
        attribution=speaker.how if speaker else Attribution.NONE,
    )


def _quote_text(text: str, quote: MarkedQuote) -> str:
    joined = " ".join(" ".join(text[s.start : s.end].split()) for s in quote.segments)
    return joined.strip().rstrip(",").strip()


def _people_in(document: Document, quotes: Sequence[MarkedQuote], book: SpeakerBook) -> People:
    """The book, plus full names and "role Name" pairs printed outside the quotes."""
    masked = list(document.text)
    for quote in quotes:
        for segment in quote.segments:
            masked[segment.start : segment.end] = " " * (segment.end - segment.start)
    outside = "".join(masked)
    names: list[str] = []
    roles: list[tuple[str, str]] = []
    people: list[str] = []
    for paragraph in document.paragraphs:
        if paragraph.kind not in (ParagraphKind.BODY, ParagraphKind.BYLINE):
            continue
        chunk = outside[paragraph.start : paragraph.end]
        for match in CAPITALISED_RUN.finditer(chunk):
            tokens = name_tail(match.group().split())
            if len(tokens) < 2 or tokens[-1].lower() in INSTITUTIONS:
                continue
            name = " ".join(tokens)
            if book.get(name) is None and name not in names:
                names.append(name)
            role = _printed_role(chunk, match.start() + match.group().find(tokens[0]))
            known = book.get(name)
            if role:
                roles.append((role, known.name if known else name))
            if role or paragraph.kind is ParagraphKind.BYLINE or _surname_alone(outside, name):
                people.append(name)
    return People(book, tuple(names), tuple(roles), tuple(people))


def _surname_alone(text: str, name: str) -> bool:
    """Referred to by surname alone somewhere ("Weitz said"): a person's habit, not a place's."""
    surname = re.escape(name.split()[-1])
    first = re.escape(name.split()[0])
    return re.search(rf"(?<!{first} )\b{surname}\b", text) is not None


def _printed_role(chunk: str, name_start: int) -> str | None:
    words = chunk[:name_start].split()[-4:]
    kept = [w for w in words if fold(w).removesuffix("'s") in ROLE_WORDS]
    if len(kept) < 2 or kept != words[-len(kept) :]:
        return None
    return " ".join(kept)
