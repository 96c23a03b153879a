"""Repairing text and marking what is not the article.

Cut parts stay in the text and are only marked, so every offset stays valid and a user
can see exactly what was removed and why.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
import ftfy.badness

from bot.core.comments import comment_section_start
from bot.core.documents import Cut, CutReason

# ftfy refuses to repair a line that mixes mojibake ("¬†") with genuine typographic quotes,
# so such a line is repaired between the quote marks instead.
_QUOTE_MARK = re.compile("([“”‘’«»])")

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


# Beyond ASCII, what ftfy's other fixers change: C1 controls, ligatures, full-width forms,
# odd line breaks, surrogates, invisible controls and byte-order marks.
_FTFY_FIXES = re.compile(
    "[&\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u3000\ud800-\udfff\ufb00-\ufb4f"
    "\uff00-\uffef\u206a-\u206f\ufff9-\ufffc\ufeff\u200b-\u200f]"
)


def _repair_line(line: str) -> str:
    if line.isascii() and not _ASCII_FTFY_FIXES.search(line):
        return line  # mojibake needs non-ASCII characters: nothing for ftfy to do (and fast)
    if (
        not _FTFY_FIXES.search(line)
        and unicodedata.is_normalized("NFC", line)
        and not ftfy.badness.is_bad(line)
    ):
        return line  # curly quotes and accents, no mojibake: what ftfy would return, faster
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
    comments_start = comment_section_start(text)
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


def _without_overlaps(cuts: list[Cut]) -> list[Cut]:
    kept: list[Cut] = []
    for cut in cuts:
        if kept and cut.start < kept[-1].end:
            continue
        kept.append(cut)
    return kept


def is_cut(position: int, cuts: tuple[Cut, ...]) -> bool:
    return any(c.start <= position < c.end for c in cuts)
