"""Finding quoted spans by their marks, before anyone is attributed.

Handles “ ” « » „ and straight double quotes; ‘ ’ and straight single quotes when a
document uses them as its main marks (British style); the news habit of reopening the
mark on each paragraph of a long quote; and marks left unbalanced by the outlet.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from bot.core.layout import Span
from bot.core.letters import CAPITAL, LETTER


@dataclass(frozen=True)
class MarkedQuote:
    segments: tuple[Span, ...]  # the quoted words, one span per paragraph
    first_paragraph: int  # indexes into the paragraph list given
    last_paragraph: int
    open_mark: int | None  # offset of the opening mark; None when the outlet left it out
    close_mark: int | None  # offset of the closing mark; None when it never closed

    @property
    def start(self) -> int:
        return self.segments[0].start

    @property
    def end(self) -> int:
        return self.segments[-1].end

    @property
    def outer_start(self) -> int:
        return self.open_mark if self.open_mark is not None else self.start

    @property
    def outer_end(self) -> int:
        return self.close_mark + 1 if self.close_mark is not None else self.end


class Style(Enum):
    DOUBLE = "double"  # “…” «…» "…" — single marks inside are nested quotes
    SINGLE = "single"  # ‘…’ '…' — British style, double marks inside are nested


class _Kind(Enum):
    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True)
class _Mark:
    at: int
    kind: _Kind


# An opening mark: at the start or after a space, a bracket or a dash. The patterns open
# with the mark and look behind it ("not after anything else"), which lets `re` skip
# straight to the marks instead of trying the lookbehinds at every character.
_SINGLE_OPENER = re.compile(rf"[‘'](?<![^\s(\[—–-][‘'])(?=[0-9…]|{CAPITAL})")
_DOUBLE_OPENER = re.compile(r"[“«„]|\"(?<![^\s(\[—–-]\")(?=\S)")


def document_style(text: str, paragraphs: Sequence[Span]) -> Style:
    """Double marks unless the article opens quotes with single marks more often."""
    body = "\n".join(text[p.start : p.end] for p in paragraphs)
    doubles = len(_DOUBLE_OPENER.findall(body))
    singles = len(_SINGLE_OPENER.findall(body))
    return Style.SINGLE if singles > doubles else Style.DOUBLE


def find_marked_quotes(text: str, paragraphs: Sequence[Span]) -> list[MarkedQuote]:
    style = document_style(text, paragraphs)
    marks = [_marks(text, p, style) for p in paragraphs]
    quotes: list[MarkedQuote] = []
    index = 0
    while index < len(paragraphs):
        index = _pair_paragraph(text, paragraphs, marks, index, quotes)
    if style is Style.DOUBLE:
        quotes.extend(_secondary_single_quotes(text, paragraphs, quotes))
        quotes.sort(key=lambda q: q.outer_start)
    return quotes


# ‘…’ or '…' in an article whose main marks are double: a quote only when it sits outside
# every double-quoted span, opens before a letter, and holds two words or more.
_SINGLE_SPAN = re.compile(
    rf"[‘'](?<![^\s(\[—–-][‘'])(?={LETTER})"
    rf"((?:[^‘’'\n\"“”]|(?<={LETTER})['’](?={LETTER}))+?)"
    r"['’](?=[\s.,;:!?)\]—–-]|$)",
    re.MULTILINE,
)


def _secondary_single_quotes(
    text: str, paragraphs: Sequence[Span], doubles: Sequence[MarkedQuote]
) -> list[MarkedQuote]:
    found = []
    ordered = sorted(doubles, key=lambda q: q.outer_start)  # double quotes never nest
    starts = [q.outer_start for q in ordered]
    for index, paragraph in enumerate(paragraphs):
        for match in _SINGLE_SPAN.finditer(text, paragraph.start, paragraph.end):
            before = bisect_right(starts, match.start()) - 1
            inside = before >= 0 and match.start() < ordered[before].outer_end
            if inside or " " not in match.group(1).strip():
                continue
            content = Span(match.start(1), match.end(1))
            found.append(MarkedQuote((content,), index, index, match.start(), match.end() - 1))
    return found


def _pair_paragraph(
    text: str,
    paragraphs: Sequence[Span],
    marks: list[list[_Mark]],
    index: int,
    quotes: list[MarkedQuote],
) -> int:
    """Pair the marks of paragraph `index`; return the next paragraph to read (a quote
    that runs on into later paragraphs consumes them)."""
    open_at: int | None = None
    segments: list[Span] = []
    first = index
    last_close: int | None = None
    position = 0
    paragraph_marks = marks[index]
    while True:
        while position < len(paragraph_marks):
            mark = paragraph_marks[position]
            position += 1
            if mark.kind is _Kind.OPEN:
                if open_at is not None:  # a second opener: the outlet forgot to close
                    _emit(quotes, segments, Span(open_at + 1, mark.at), first, index, None, text)
                    segments = []
                open_at, first = mark.at, index
            elif open_at is not None:
                segments.append(Span(open_at + 1, mark.at))
                quotes.append(_quote(text, segments, first, index, mark.at))
                segments, open_at, last_close = [], None, mark.at
            else:
                quotes.append(_stray_closer(text, paragraphs[index], mark.at, last_close, index))
                last_close = mark.at
        if open_at is None:
            return index + 1
        end_of_paragraph = paragraphs[index].end
        continues = index + 1 < len(paragraphs) and _opens_or_closes_first(
            marks[index + 1], paragraphs[index + 1]
        )
        if not continues:
            _emit(quotes, segments, Span(open_at + 1, end_of_paragraph), first, index, None, text)
            return index + 1
        # The quote runs on: "reopened" when the next paragraph starts with a mark.
        segments.append(Span(open_at + 1, end_of_paragraph))
        index += 1
        paragraph_marks = marks[index]
        position = 0
        head = paragraph_marks[0]
        if head.kind is _Kind.OPEN and head.at == paragraphs[index].start:
            open_at = head.at
            position = 1
        else:
            open_at = paragraphs[index].start - 1


def _opens_or_closes_first(marks: list[_Mark], paragraph: Span) -> bool:
    if not marks:
        return False
    head = marks[0]
    return head.kind is _Kind.CLOSE or head.at == paragraph.start


def _emit(
    quotes: list[MarkedQuote],
    segments: list[Span],
    last: Span,
    first: int,
    index: int,
    close: int | None,
    text: str,
) -> None:
    quotes.append(_quote(text, [*segments, last], first, index, close))


def _quote(
    text: str, segments: list[Span], first: int, last: int, close: int | None
) -> MarkedQuote:
    opening = segments[0].start - 1
    has_open = opening >= 0 and text[opening] in "“«„\"‘'"
    return MarkedQuote(
        segments=tuple(segments),
        first_paragraph=first,
        last_paragraph=last,
        open_mark=opening if has_open else None,
        close_mark=close,
    )


_CLAUSE_BREAK = re.compile(r",\s+")


def _stray_closer(
    text: str, paragraph: Span, close: int, last_close: int | None, index: int
) -> MarkedQuote:
    """A closing mark with no opener. When a closed quote and its attribution come first
    in the paragraph (“…,” Putin told us, but he …”), the quote resumes after that
    attribution clause; otherwise it starts with the sentence."""
    if last_close is not None:
        clause = _CLAUSE_BREAK.search(text, last_close + 1, close)
        start = clause.end() if clause else last_close + 1
    else:
        start = _sentence_start(text, paragraph.start, close)
    return MarkedQuote((Span(start, close),), index, index, None, close)


_SENTENCE_END = re.compile(rf"[.!?]\s+(?={CAPITAL})")


def _sentence_start(text: str, floor: int, before: int) -> int:
    start = floor
    for match in _SENTENCE_END.finditer(text, floor, before):
        start = match.end()
    return start


_ANY_MARK = re.compile("[“”„«»\"‘’']")  # every character `_classify` can take for a mark


def _marks(text: str, paragraph: Span, style: Style) -> list[_Mark]:
    found: list[_Mark] = []
    depth_open = False
    for mark in _ANY_MARK.finditer(text, paragraph.start, paragraph.end):
        at = mark.start()
        kind = _classify(text, at, style, depth_open, paragraph)
        if kind is None:
            continue
        found.append(_Mark(at, kind))
        depth_open = kind is _Kind.OPEN
    return found


def _classify(text: str, at: int, style: Style, is_open: bool, paragraph: Span) -> _Kind | None:
    char = text[at]
    before = text[at - 1] if at > paragraph.start else " "
    after = text[at + 1] if at + 1 < paragraph.end else " "
    if style is Style.DOUBLE:
        if char in "“«„":
            # „…“ (German-style) closes with “; in English “ always opens.
            return _Kind.CLOSE if char == "“" and is_open and _opened_low(text, at) else _Kind.OPEN
        if char in "”»":
            return _Kind.CLOSE
        if char == '"':
            return _straight_direction(before, after, is_open)
        return None
    if char == "‘":
        return _Kind.OPEN
    if char in "’'":
        if after.isalpha() and before.isalpha():
            return None  # an apostrophe: don't, Putin's
        if not is_open:
            # Only a clear opener counts: a lone closing mark is an apostrophe (leaders' talks).
            opens = before.isspace() or before in "([{—–-“"
            return _Kind.OPEN if char == "'" and opens and not after.isspace() else None
        if after.isalpha() or (before == "s" and after == " " and not _ends_quote_soon(text, at)):
            return None  # possessive plural: leaders’ summit
        return _Kind.CLOSE
    return None


def _ends_quote_soon(text: str, at: int) -> bool:
    """After a closing single mark comes punctuation, the paragraph end or an attribution."""
    tail = text[at + 1 : at + 12]
    return bool(re.match(r"\s*(?:$|\n|[,.;:?!)]|(?:he|she|they|said|says)\b)", tail))


def _opened_low(text: str, at: int) -> bool:
    opener = max(text.rfind("„", 0, at), text.rfind("“", 0, at))
    return opener >= 0 and text[opener] == "„"


def _straight_direction(before: str, after: str, is_open: bool) -> _Kind:
    opens = before.isspace() or before in "([{—–-“‘"
    closes = not before.isspace() and (after.isspace() or after in ".,;:?!)]}—–-")
    if opens and not closes:
        return _Kind.OPEN
    if closes and not opens:
        return _Kind.CLOSE
    return _Kind.CLOSE if is_open else _Kind.OPEN
