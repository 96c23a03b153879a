"""Splitting an article into paragraphs, with offsets into the text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.documents import Cut

_BLANK_LINES = re.compile(r"\n[ \t\u00a0]*\n")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def find_paragraphs(text: str, cuts: tuple[Cut, ...] = ()) -> tuple[Span, ...]:
    """Paragraphs outside the cuts, whitespace trimmed.

    News text comes either with blank lines between paragraphs or with one paragraph per
    line; a block of evenly long lines is hard-wrapped prose and stays one paragraph.
    """
    spans: list[Span] = []
    for block in _blocks(text):
        lines = _lines(text, block)
        if _is_hard_wrapped(text, lines):
            spans.append(Span(lines[0].start, lines[-1].end))
        else:
            spans.extend(lines)
    pieces = (_trim(text, s) for piece in spans for s in _outside(piece, cuts))
    return tuple(p for p in pieces if p is not None)


def _blocks(text: str) -> list[Span]:
    blocks, start = [], 0
    for gap in _BLANK_LINES.finditer(text):
        blocks.append(Span(start, gap.start()))
        start = gap.end()
    blocks.append(Span(start, len(text)))
    return blocks


def _lines(text: str, block: Span) -> list[Span]:
    lines, start = [], block.start
    while start <= block.end:
        newline = text.find("\n", start, block.end)
        end = block.end if newline == -1 else newline
        trimmed = _trim(text, Span(start, end))
        if trimmed:
            lines.append(trimmed)
        start = end + 1
    return lines


def _is_hard_wrapped(text: str, lines: list[Span]) -> bool:
    if len(lines) < 2:
        return False
    widths = [line.end - line.start for line in lines[:-1]]
    return min(widths) >= 40 and max(widths) <= 100 and max(widths) - min(widths) <= 25


def _outside(span: Span, cuts: tuple[Cut, ...]) -> list[Span]:
    pieces = [span]
    for cut in cuts:
        next_pieces = []
        for piece in pieces:
            if cut.end <= piece.start or cut.start >= piece.end:
                next_pieces.append(piece)
                continue
            if piece.start < cut.start:
                next_pieces.append(Span(piece.start, cut.start))
            if cut.end < piece.end:
                next_pieces.append(Span(cut.end, piece.end))
        pieces = next_pieces
    return pieces


def _trim(text: str, span: Span) -> Span | None:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None
