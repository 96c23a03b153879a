"""Where the reader comments under an article begin, if it has any.

A heading such as "Comments" or a numbered, dated list proves nothing by itself: articles
have "Discussion" sections and dated timelines ("1. Istanbul round March 29, 2022"). A
comment section is recognised only by evidence that comment sections leave: several
commenter headers (a name or handle and a date), replies numbered anew under a comment,
handles such as "sarah.chen", dates within days of one another, a time of day, "says:"
lines, and comment-form lines ("Reply", "Leave a Reply", "Your email address…").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_MONTH_NUMBERS = {
    name.lower(): number
    for number, full in enumerate(MONTHS.split("|")[:12], start=1)
    for name in (full, full[:3], "sept" if number == 9 else full)
}

_DATE = rf"(?P<month>{MONTHS})\.?[ \t]+(?P<day>\d{{1,2}}),[ \t]+(?P<year>\d{{4}})"
_TIME = r"(?P<time>[ \t]+(?:at[ \t]+)?\d{1,2}:\d{2}(?:[ \t]*[ap]\.?m\.?)?)?"
# "  1. sarah.chen November 11, 2016" (numbered) or "ivan_k March 6, 2025 at 9:14 am".
_HEADER = re.compile(
    rf"^(?P<indent>[ \t]*)(?:(?P<number>\d{{1,4}})\.[ \t]+)?(?P<name>\S[^\n]{{0,80}}?)[ \t]+"
    rf"{_DATE}{_TIME}[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# A line that announces a comment section: "12 Comments", "Leave a Reply", "Discussion".
HEADING = re.compile(
    r"^[ \t]*(?:\d+[ \t]+(?:comments?|responses?|replies)|comments?|reader comments|"
    r"leave a (?:reply|comment)|join the discussion|add (?:a |new )?comment|"
    r"what do you think\?|discussion)[ \t]*:?[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# Lines found only in comment sections.
_COMMENT_LINE = re.compile(
    r"^[ \t]*(?:"
    r"\S[^\n]{0,60}?[ \t]+(?:says|said|wrote|writes)[ \t]*:|"  # "markus_77 says:"
    rf"{_DATE}[ \t]+(?:at[ \t]+)?\d{{1,2}}:\d{{2}}(?:[ \t]*[ap]\.?m\.?)?|"  # a time stamp
    r"reply|report|log in to reply|cancel reply|post comment|submit comment|"
    r"leave a (?:reply|comment)|your email address will not be published\.?.*|"
    r"required fields are marked.*|\d+[ \t]+likes?|load more comments"
    r")[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_NEAR_HEADING = 600  # a comment section's first comment follows its heading closely
_DAYS_APART = 31  # comments on one article are written within days of one another
_EVIDENCE_NEEDED = 2


@dataclass(frozen=True)
class _Header:
    start: int
    end: int
    indent: int
    number: int | None
    name: str
    day: date | None
    has_time: bool


def comment_section_start(text: str) -> int | None:
    """The offset where the comments begin, or None when the article has none."""
    starts = []
    headers = _numbered_headers(text)
    if headers and _evidence(text, headers) >= _EVIDENCE_NEEDED:
        starts.append(headers[0].start)
    for heading in HEADING.finditer(text):
        if heading.start() > 0 and _comments_follow(text, heading.end()):
            starts.append(heading.start())
            break
    return min(starts) if starts else None


def _comments_follow(text: str, at: int) -> bool:
    """A comment header or a comment-form line comes right after a heading."""
    window = text[at : at + _NEAR_HEADING]
    return bool(_HEADER.search(window) or _COMMENT_LINE.search(window))


def _numbered_headers(text: str) -> list[_Header]:
    """Numbered commenter lines, leaving out dated lines that follow one another directly:
    those are a list in the article (a timeline), not comments, which stand apart."""
    found = [h for h in _headers(text) if h.number is not None]
    line_after = {h.end + 1 for h in found}
    starts = {h.start for h in found}
    return [h for h in found if h.start not in line_after and h.end + 1 not in starts]


def _headers(text: str) -> list[_Header]:
    return [
        _Header(
            start=m.start(),
            end=m.end(),
            indent=len(m.group("indent").expandtabs(4)),
            number=int(m.group("number")) if m.group("number") else None,
            name=m.group("name").strip(),
            day=_day(m),
            has_time=bool(m.group("time")),
        )
        for m in _HEADER.finditer(text)
    ]


def _day(match: re.Match[str]) -> date | None:
    try:
        month = _MONTH_NUMBERS[match.group("month").lower().rstrip(".")]
        return date(int(match.group("year")), month, int(match.group("day")))
    except (KeyError, ValueError):
        return None


def _evidence(text: str, headers: Sequence[_Header]) -> int:
    """How many signs say these numbered, dated lines head reader comments."""
    score = 0
    if _has_replies(headers):
        score += 2
    names = [h.name for h in headers]
    if len(set(names)) < len(names):
        score += 1  # someone answers in the thread
    if any(_is_handle(name) for name in names):
        score += 1
    if len(headers) >= 2 and all(_is_name_shaped(name) for name in names):
        score += 1
    days = [h.day for h in headers if h.day is not None]
    if len(days) >= 2 and (max(days) - min(days)).days <= _DAYS_APART:
        score += 1
    if any(h.has_time for h in headers):
        score += 1
    if _COMMENT_LINE.search(text, headers[0].start):
        score += 2
    return score


def _has_replies(headers: Sequence[_Header]) -> bool:
    """Numbering that starts again, further indented, under a comment: a reply."""
    return any(
        later.number is not None
        and earlier.number is not None
        and later.number <= earlier.number
        and later.indent > headers[0].indent
        for earlier, later in pairwise(headers)
    )


_HANDLE = re.compile(r"^(?=\S*[_.\d])[\w.-]{2,40}$|^[a-z][\w.-]{1,40}$")


def _is_handle(name: str) -> bool:
    """A screen name: "sarah.chen", "Aaron_of_Portsmouth", "charleo1", "joe_k"."""
    return bool(_HANDLE.match(name))


def _is_name_shaped(name: str) -> bool:
    """A handle, or one to three capitalised words: "Mama Bear", "Helen Ward"."""
    words = name.split()
    return _is_handle(name) or (1 <= len(words) <= 3 and all(w[0].isupper() for w in words))
