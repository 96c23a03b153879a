"""Text normalisation for comparing quotes, with a map back to the original characters.

`normalize_text` is the fast path used for indexing and scoring; `normalize` returns the
same text plus, for every normalised character, the span of the original it came from, so
an alignment found on normalised text can be shown on the text as printed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import filterfalse

# One kind of apostrophe and one kind of double quote mark, each replacing one character
# by one. Done before NFKC, which would turn the acute accent ´ into a space and a mark.
_APOSTROPHES = re.compile("[’‘‚‛`´ʼ‹›]")
_DOUBLE_QUOTES = re.compile("[“”„‟«»]")

# A word: letters and digits, with an apostrophe inside ("it's"). Dots and commas inside
# a run are kept only in acronyms ("u.s.") and numbers ("1,000"); see `_split_token`.
_TOKEN = re.compile(r"[^\W_]+(?:['.,][^\W_]+)*")
_SEPARATOR = re.compile(r"([.,])")

# A small English function-word list: words that say nothing about which statement it is.
_STOP_WORDS = """
    a about above after again against all also am an and another any are aren't as at
    be because been before being below between both but by can can't cannot could couldn't
    did didn't do does doesn't doing don't down during each even ever every few for from
    further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
    herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its
    itself just let's many may me might more most much must mustn't my myself no nor not now
    of off on once only or other others our ours ourselves out over own same shall shan't she
    she'd she'll she's should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those
    through to too under until up upon us very was wasn't we we'd we'll we're we've were
    weren't what what's when when's where where's which while who who's whom why why's will
    with won't would wouldn't yet you you'd you'll you're you've your yours yourself
    yourselves mr mrs ms
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Normalized:
    """A normalised text and where each of its characters came from in `original`.

    `starts[i]`/`ends[i]` delimit the original characters that produced `text[i]`; the
    single space between two words maps to the separator that stood there."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.text.split())

    def word_spans(self) -> tuple[tuple[int, int], ...]:
        """Each word's span in `text` (not in the original)."""
        return tuple(m.span() for m in re.finditer(r"\S+", self.text))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of `original` that the normalised span [start, end) was made from."""
        if start >= end:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]

    def original_words(self) -> tuple[str, ...]:
        """Each word as printed in the original (same order and count as `words`)."""
        spans = (self.original_span(s, e) for s, e in self.word_spans())
        return tuple(self.original[s:e] for s, e in spans)


def normalize_text(text: str) -> str:
    """NFKC, casefold, one kind of quote mark, punctuation stripped, whitespace collapsed."""
    out: list[str] = []
    for token in _TOKEN.findall(_fold(text)):
        if "." in token or "," in token:
            out.extend("".join(token[i] for i in word) for word in _split_token(token))
        else:
            out.append(token)
    return " ".join(out)


def normalize(text: str) -> Normalized:
    """`normalize_text(text)` with a map back to the original characters."""
    folded, fold_starts, fold_ends = _fold_with_map(text)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    previous_end = 0
    for match in _TOKEN.finditer(folded):
        token, offset = match.group(), match.start()
        if "." not in token and "," not in token:
            # The common case, a plain word: its characters and their spans in one go.
            if chars:  # the space that stands for the separator before this word
                chars.append(" ")
                starts.append(fold_starts[previous_end])
                ends.append(fold_starts[offset])
            previous_end = match.end()
            chars.append(token)
            starts.extend(fold_starts[offset:previous_end])
            ends.extend(fold_ends[offset:previous_end])
            continue
        for word in _split_token(token):
            if chars:
                chars.append(" ")
                starts.append(fold_starts[previous_end])
                ends.append(fold_starts[offset + word[0]])
            for i in word:
                chars.append(token[i])
                starts.append(fold_starts[offset + i])
                ends.append(fold_ends[offset + i])
            previous_end = offset + word[-1] + 1
    return Normalized(text, "".join(chars), tuple(starts), tuple(ends))


def content_words(tokens: Iterable[str]) -> tuple[str, ...]:
    """The words that are not stop words, in order."""
    return tuple(filterfalse(STOP_WORDS.__contains__, tokens))


def _split_token(token: str) -> list[list[int]]:
    """Split a run holding "." or "," into words: the indices of each word's characters.

    "u.s" → [[0, 2]] ("us"), "1,000" → one word, "end.start" → two words."""
    pieces = _SEPARATOR.split(token)
    found = [list(range(len(pieces[0])))]
    position = len(pieces[0])
    for k in range(1, len(pieces), 2):
        before, separator, part = pieces[k - 1], pieces[k], pieces[k + 1]
        indices = list(range(position + 1, position + 1 + len(part)))
        number = before[-1].isdigit() and part[0].isdigit()
        acronym = separator == "." and len(before) == 1 and len(part) == 1
        if number or acronym:
            found[-1].extend(indices)
        else:
            found.append(indices)
        position += 1 + len(part)
    return found


def _mark(text: str) -> str:
    return _DOUBLE_QUOTES.sub('"', _APOSTROPHES.sub("'", text))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", _mark(text)).casefold()


def _fold_with_map(text: str) -> tuple[str, list[int], list[int]]:
    """`_fold(text)` with each folded character's original span."""
    marked = _mark(text)  # one character for one: offsets are unchanged
    whole = _fold(text)
    if marked.isascii():  # NFKC leaves ASCII alone and casefold maps it one to one
        return whole, list(range(len(text))), list(range(1, len(text) + 1))
    starts: list[int] = []
    ends: list[int] = []
    pieces: list[str] = []
    i = 0
    while i < len(marked):  # a base character and the combining marks that follow it
        j = i + 1
        while j < len(marked) and unicodedata.combining(marked[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", marked[i:j]).casefold()
        pieces.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    if "".join(pieces) != whole:
        # Composition across base characters (e.g. Hangul jamo): keep the exact text and
        # map every character to the whole original rather than to a wrong place.
        return whole, [0] * len(whole), [len(text)] * len(whole)
    return whole, starts, ends
