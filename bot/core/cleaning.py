"""Repairing text and marking what is not the article.

Cut parts stay in the text and are only marked, so every offset stays valid and a user
can see exactly what was removed and why.
"""

from __future__ import annotations

import re

import ftfy
import ftfy.badness

from bot.core.documents import Cut, CutReason

# ftfy refuses to repair a line that mixes mojibake ("¬†") with genuine typographic quotes,
# so such a line is repaired between the quote marks instead.
_QUOTE_MARK = re.compile("([“”‘’«»])")

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)

# "  1. sarah.chen November 11, 2016" — a numbered commenter with a date opens the comments.
_COMMENT_HEADER = re.compile(
    rf"^[ \t]*\d{{1,4}}\.[ \t]+\S[^\n]{{0,80}}?[ \t]+(?:{MONTHS})\.?[ \t]+\d{{1,2}},[ \t]+\d{{4}}"
    r"(?:[ \t]+(?:at[ \t]+)?\d{1,2}:\d{2}(?:[ \t]*[ap]\.?m\.?)?)?[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# A line that announces a comment section: "12 Comments", "Leave a Reply", "Reader comments".
_COMMENT_HEADING = re.compile(
    r"^[ \t]*(?:\d+[ \t]+(?:comments?|responses?|replies)|comments?|reader comments|"
    r"leave a (?:reply|comment)|join the discussion|add (?:a |new )?comment|"
    r"what do you think\?|discussion)[ \t]*:?[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)

_BOILERPLATE = re.compile(
    r"^[ \t]*(?:"
    r"time limit is exhausted\.?.*|.*please reload the captcha\.?|"
    r"your email address will not be published\.?.*|required fields are marked.*|"
    r"notify me of (?:follow-up comments|new posts).*|save my name, email.*|"
    r"post comment|submit comment|cancel reply|"
    r"share this(?: article)?:?|click to (?:share|email|print).*|like this:?|"
    r"(?:sign up|subscribe) (?:for|to) (?:our|the) newsletter.*|"
    r"this site uses akismet.*|please enable javascript.*|"
    r"all rights reserved\.?|copyright ©.*|© \d{4}.*|"
    r"advertisement|related (?:articles|posts|stories):?|read more:?"
    r")[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)

# Wire-service credits that close an article: "(Editing by Mark Heinrich)".
_CREDIT = re.compile(
    r"^[ \t]*\((?:additional )?(?:reporting|editing|writing|compiled|translated)\b[^\n]*\)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)

# Captions: labelled ("IMAGE:", "Photo:") or ending in a photo credit ("REUTERS/Name/Files").
_CAPTION = re.compile(
    r"^[ \t]*(?:(?i:IMAGE|PHOTO|FILE PHOTO|PICTURE|CAPTION|IMAGE CAPTION)[ \t]*:[^\n]*|"
    r"[^\n]*\b(?:REUTERS|AP Photo|AFP|Getty Images|EPA|TASS)/[^\n]*|"
    r"[^\n]*\bin this [^\n]*\bfile photo\b[^\n]*)$",
    re.MULTILINE,
)


# What ftfy changes in pure ASCII: HTML entities, control characters and terminal escapes.
_ASCII_FTFY_FIXES = re.compile(r"[&\x00-\x08\x0b-\x1f\x7f]")


def repair_encoding(text: str) -> str:
    """Fix mojibake and odd line breaks with ftfy, keeping typographic quotes as they are."""
    return "".join(_repair_line(line) for line in text.splitlines(keepends=True))


def _repair_line(line: str) -> str:
    if line.isascii() and not _ASCII_FTFY_FIXES.search(line):
        return line  # mojibake needs non-ASCII characters: nothing for ftfy to do (and fast)
    # Whole lines first: a quote mark can be part of the damage ("â€“" is –, "Ð”" is Д).
    fixed = ftfy.fix_text(line, uncurl_quotes=False)
    if not ftfy.badness.is_bad(fixed):
        return fixed
    parts = _QUOTE_MARK.split(line)
    return "".join(
        part if _QUOTE_MARK.fullmatch(part) else ftfy.fix_text(part, uncurl_quotes=False)
        for part in parts
    )


def find_cuts(text: str) -> tuple[Cut, ...]:
    """Mark reader comments, boilerplate lines, captions and credits, in text order."""
    cuts: list[Cut] = []
    comments_start = _comment_section_start(text)
    if comments_start is not None:
        cuts.append(Cut(comments_start, len(text), CutReason.COMMENTS))
    limit = comments_start if comments_start is not None else len(text)
    for pattern, reason in (
        (_BOILERPLATE, CutReason.BOILERPLATE),
        (_CREDIT, CutReason.CREDIT),
        (_CAPTION, CutReason.CAPTION),
    ):
        for match in pattern.finditer(text, 0, limit):
            if match.group().strip():
                cuts.append(Cut(match.start(), match.end(), reason))
    return tuple(_without_overlaps(sorted(cuts, key=lambda c: (c.start, -c.end))))


def _comment_section_start(text: str) -> int | None:
    """Where the reader comments begin: a comment heading, or the first numbered
    commenter line followed by another, whichever comes first."""
    starts: list[int] = []
    headers = _comment_headers(text)
    if len(headers) >= 2 or (headers and headers[0].start() > len(text) // 2):
        starts.append(headers[0].start())
    heading = next(iter(_COMMENT_HEADING.finditer(text)), None)
    if heading is not None and heading.start() > len(text) // 3:
        starts.append(heading.start())
    return min(starts) if starts else None


def _comment_headers(text: str) -> list[re.Match[str]]:
    """Numbered commenter lines, leaving out dated lines that follow one another directly:
    those are a list in the article (a timeline), not comments, which stand apart."""
    headers = list(_COMMENT_HEADER.finditer(text))
    line_after = {h.end() + 1 for h in headers}
    starts = {h.start() for h in headers}
    return [h for h in headers if h.start() not in line_after and h.end() + 1 not in starts]


def _without_overlaps(cuts: list[Cut]) -> list[Cut]:
    kept: list[Cut] = []
    for cut in cuts:
        if kept and cut.start < kept[-1].end:
            continue
        kept.append(cut)
    return kept


def is_cut(position: int, cuts: tuple[Cut, ...]) -> bool:
    return any(c.start <= position < c.end for c in cuts)
