"""Extracting every direct quote from a document, with who said it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.attribution import Attributed, attribute_quotes
from bot.core.documents import Document, ParagraphKind
from bot.core.layout import Span
from bot.core.letters import CAPITAL
from bot.core.names import capitalised_runs
from bot.core.quote_marks import MarkedQuote, find_marked_quotes
from bot.core.quotes import Attribution, Quote
from bot.core.references import INSTITUTIONS, ROLE_WORDS, People, name_tail
from bot.core.speakers import SpeakerBook, fold

SCARE_QUOTE_WORDS = 3  # "reset", "New Cold War": not statements unless someone is said to say them
_WORD = re.compile(r"\w+(?:[’'-]\w+)*")


def extract_quotes(
    document: Document, book: SpeakerBook, *, marked: Sequence[MarkedQuote] | None = None
) -> tuple[Quote, ...]:
    """`marked`: `find_marked_quotes` over the body paragraphs, when already found."""
    body = [Span(p.start, p.end) for p in document.paragraphs if p.kind is ParagraphKind.BODY]
    if marked is None:
        marked = find_marked_quotes(document.text, body)
    people = _people_in(document, marked, book)
    attributed = attribute_quotes(document.text, body, marked, people)
    quotes = (_to_quote(document, item) for item in attributed if _is_statement(document, item))
    return tuple(q for q in quotes if q.text)


def _is_statement(document: Document, item: Attributed) -> bool:
    words = _WORD.findall(_quote_text(document.text, item.quote))
    if not words:
        return False
    if len(words) <= SCARE_QUOTE_WORDS:
        if item.speaker is None and not _reported_by_unnamed(item, len(words)):
            return False  # a scare quote, a title, "frosty": not a statement we can place
        if not item.direct and not _is_own_sentence(document.text, item):
            return False
    # A phrase no one in the text is said to have said is a slogan or an allusion.
    return not (item.partial and item.speaker is None and item.unnamed is None)


# Verbs that label rather than report: "One diplomat described the mood as ‘cautiously
# hopeful’" is the writer's summary, "Ode's office said the talks were “constructive and
# frank”" reports the office's words.
_LABELLING = frozenset(
    "described describing called calling characterized characterised cited praised "
    "lauded hailed criticized criticised dismissed".split()
)


def _reported_by_unnamed(item: Attributed, word_count: int) -> bool:
    return (
        item.unnamed is not None
        and word_count >= 2
        and item.cue is not None
        and item.cue not in _LABELLING
    )


def _is_own_sentence(text: str, item: Attributed) -> bool:
    """A short quote standing as a sentence of its own, such as the “Never.” after
    “We will not pay,” Martínez said: the speaker's words, not a scare quote."""
    words = _quote_text(text, item.quote)
    first = next((c for c in words if c.isalpha()), "")
    return not item.partial and first.isupper() and words.endswith((".", "!", "?", "…"))


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
    alone = _WordsBefore(outside)
    names: dict[str, str] = {}  # folded -> as first printed: "Jose Martinez" is "José Martínez"
    roles: list[tuple[str, str]] = []
    people: dict[str, None] = {}
    for paragraph in document.paragraphs:
        if paragraph.kind not in (ParagraphKind.BODY, ParagraphKind.BYLINE):
            continue
        chunk = outside[paragraph.start : paragraph.end]
        for run in capitalised_runs(chunk):
            tokens = name_tail(run.text.split())
            if len(tokens) < 2 or tokens[-1].lower() in INSTITUTIONS:
                continue
            name = " ".join(tokens)
            known = book.get(name)
            if known is None:
                names.setdefault(fold(name), name)
                name = names[fold(name)]
            role = _printed_role(chunk, run.start + run.text.find(tokens[0]))
            if role:
                roles.append((role, known.name if known else name))
            if role or paragraph.kind is ParagraphKind.BYLINE or alone.surname_alone(tokens):
                people[name] = None
    # "Le Drian" printed alone is "Jean-Yves Le Drian", not a second person.
    printed = list(names.values())
    tails = {" ".join(n.split()[i:]) for n in printed for i in range(1, len(n.split()))}
    kept = tuple(n for n in printed if n not in tails)
    return People(book, kept, tuple(roles), tuple(people))


# A word that can end a name, and the word just before one.
_SURNAME = re.compile(
    rf"(?<![\w'’.-])(?:(?:al|el|ad|as|ash|at|ul|bin|ibn)-)?{CAPITAL}\w*(?:[-'’.]\w+)*"
)
_WORD_BEFORE = re.compile(r"\w+(?:[-'’.]\w+)*$")


class _WordsBefore:
    """Where each capitalised word of a text is printed, so that "is this surname ever
    printed without this first name?" looks only at that word's places. The word before
    a place is read only when asked: most runs are settled before this question."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: dict[str, list[int]] = {}
        for match in _SURNAME.finditer(text):
            word = match.group()
            bare = word[:-2] if word.endswith(("’s", "'s")) else word  # "Weitz's" is "Weitz"
            for key in (word,) if bare == word else (word, bare):
                self._starts.setdefault(key, []).append(match.start())

    def surname_alone(self, tokens: Sequence[str]) -> bool:
        """Referred to by surname alone somewhere ("Weitz said"): a person's habit, not a
        place's ("New York" is never "York")."""
        return any(self._word_before(at) != tokens[0] for at in self._starts.get(tokens[-1], ()))

    def _word_before(self, start: int) -> str | None:
        """The word printed one space before `start`, if any."""
        text = self._text
        if start > 1 and text[start - 1] == " ":
            previous = _WORD_BEFORE.search(text, max(0, start - 80), start - 1)
            return previous.group() if previous is not None else None
        return None


def _printed_role(chunk: str, name_start: int) -> str | None:
    words = chunk[:name_start].split()[-4:]
    kept = [w for w in words if fold(w).removesuffix("'s") in ROLE_WORDS]
    if len(kept) < 2 or kept != words[-len(kept) :]:
        return None
    return " ".join(kept)
