"""Reading title, outlet, byline and date from an article's own text.

Only the article's paragraphs are read, never cut parts, so the date of a caption's
"file photo" or of a reader comment can't become the article's date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.comments import MONTHS
from bot.core.documents import ParagraphKind
from bot.core.layout import Span
from bot.core.letters import CAPITAL, LETTER

_NAME_PARTICLES = "de|der|den|del|da|di|du|dos|van|von|al|bin|ibn"  # "Ursula von der Leyen"
_CAPITALISED = rf"{CAPITAL}[\w.'’-]+"  # "Osborn", "Çelik", "O'Brien"
_BYLINE = re.compile(
    rf"^By\s+(?P<names>{_CAPITALISED}(?:\s+(?:{_CAPITALISED}|{_NAME_PARTICLES}|and|&))*"
    rf"(?:\s*,\s*{_CAPITALISED}(?:\s+{_CAPITALISED})*)*)\s*$"
)
# "MOSCOW (Reuters) –", "SÃO PAULO, Nov 10 (AP) —": the parenthesis names the outlet.
_DATELINE = re.compile(
    rf"^(?P<place>{CAPITAL}(?:{LETTER}|[.'’ -]){{1,40}}?)(?:,[^()\n]{{1,30}})?\s*"
    rf"\((?P<outlet>{CAPITAL}[\w .&'’-]{{1,40}})\)\s*[-–—]"
)
_PLACE_DATELINE = re.compile(rf"^(?P<place>{CAPITAL}(?:{LETTER}|[.'’ ]){{1,30}}?)\s+[-–—]\s")
_LIST_ITEM = re.compile(r"^(?:\d{1,3}[.)]|[-*•])\s")

_ISO_DATE = re.compile(r"\b(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})\b")
_MONTH_FIRST = re.compile(
    rf"\b(?P<month>{MONTHS})\.?\s+(?P<d>\d{{1,2}}),?\s+(?P<y>(?:19|20)\d{{2}})\b"
)
_DAY_FIRST = re.compile(
    rf"\b(?P<d>\d{{1,2}})\s+(?P<month>{MONTHS})\.?,?\s+(?P<y>(?:19|20)\d{{2}})\b"
)
_MONTH_NUMBERS = {
    name.lower(): number
    for number, full in enumerate(MONTHS.split("|")[:12], start=1)
    for name in (full, full[:3], "sept" if number == 9 else full)
}
_HEADER_PARAGRAPHS = 4  # a date further down the text is about the story, not the article
_DATE_LINE_MAX = 40  # a short line under the title, such as "November 10, 2016", dates it
_TERMINAL = (".", "!", ";", ":", ",", "”", '"', "’")


@dataclass(frozen=True)
class Header:
    """What the text itself says about the article, and which paragraphs are not body."""

    kinds: tuple[ParagraphKind, ...]
    title: str | None = None
    outlet: str | None = None
    byline: str | None = None
    published: datetime | None = None


def read_header(text: str, paragraphs: Sequence[Span]) -> Header:
    kinds = [ParagraphKind.BODY] * len(paragraphs)
    title = byline = outlet = None
    published = None
    body_seen = 0  # body paragraphs so far: the dateline can only open the first
    for index, span in enumerate(paragraphs):
        line = text[span.start : span.end]
        byline_match = _BYLINE.match(line)
        if byline_match:
            kinds[index] = ParagraphKind.BYLINE
            byline = byline or byline_match.group("names")
        elif _looks_like_heading(line):
            is_first = index == 0 and len(paragraphs) > 1
            kinds[index] = ParagraphKind.TITLE if is_first else ParagraphKind.HEADING
            title = title or (line if is_first else None)
        elif outlet is None and body_seen == 0:
            dateline = _DATELINE.match(line)
            outlet = dateline.group("outlet").strip() if dateline else None
        if (
            published is None
            and index < _HEADER_PARAGRAPHS + 1
            and (
                kinds[index] in (ParagraphKind.BODY, ParagraphKind.BYLINE)
                or (kinds[index] is ParagraphKind.HEADING and len(line) <= _DATE_LINE_MAX)
            )
        ):
            published = _leading_date(line)
        body_seen += kinds[index] is ParagraphKind.BODY
    return Header(tuple(kinds), title=title, outlet=outlet, byline=byline, published=published)


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    if not words or len(line) > 150 or len(words) > 16:
        return False
    if line.endswith(_TERMINAL) or _PLACE_DATELINE.match(line) or _DATELINE.match(line):
        return False
    if _LIST_ITEM.match(line):  # "1. First point" is part of the body
        return False
    return line[0] not in "“”\"«»‘'"  # a one-line quote paragraph is not a heading


def _leading_date(line: str) -> datetime | None:
    """A date that opens a header paragraph ("2016-11-06 Based on…", "November 10, 2016")."""
    head = line[:40]
    for pattern in (_ISO_DATE, _MONTH_FIRST, _DAY_FIRST):
        match = pattern.search(head)
        if (
            match
            and match.start() <= 12
            and "file photo" not in line[match.end() : match.end() + 20]
        ):
            return _to_datetime(match)
    return None


def _to_datetime(match: re.Match[str]) -> datetime | None:
    groups = match.groupdict()
    month_name = groups.get("month")
    month = _MONTH_NUMBERS[month_name.lower()] if month_name else int(groups["m"])
    try:
        return datetime(int(groups["y"]), month, int(groups["d"]), tzinfo=UTC)
    except ValueError:
        return None


def parse_date(value: str) -> datetime | None:
    """Parse a date given in front matter or config: ISO, or "November 10, 2016"."""
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for pattern in (_MONTH_FIRST, _DAY_FIRST, _ISO_DATE):
            match = pattern.fullmatch(value)
            if match:
                return _to_datetime(match)
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
