"""Runs of capitalised words that can be a name, in any script.

"Russian Deputy Foreign Minister Sergei Ryabkov", "Recep Tayyip Erdoğan", "Ursula von der
Leyen", "Mohammed bin Salman", "Jean-Yves Le Drian", "Siobhán O'Brien", "Donald J. Trump".
Words are found by a pattern for letters of any script and judged capitalised with `str`
methods (`letters.is_capitalised`), in one pass over the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from bot.core.letters import CAPITAL, is_capital, is_capitalised

# A word: letters, with hyphens or apostrophes inside ("Jean-Yves", "O'Brien", "Ode’s").
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# Small words inside a name, never at its ends: "Ursula von der Leyen", "bin Salman".
PARTICLES = frozenset(
    "de der den del della dei da das di du dos van von zu bin ibn bint al el ter ten".split()
)
_PARTICLES_IN_A_ROW = 3
# Arabic articles joined by a hyphen: "Bashar al-Assad".
_JOINED_ARTICLES = ("al-", "el-", "ad-", "as-", "ash-", "at-", "ul-", "bin-", "ibn-")
RUN_WORDS = 6  # "Russian Deputy Foreign Minister Sergei Ryabkov"
_RUN_AT_WINDOW = 200  # characters: more than a few words of a name ever take
# Stretches of words that open with a capital (or what may be one), particles between:
# every run of name words lies inside one. `is_name_word` has the last word.
_MAYBE_WORD = (
    rf"(?:(?:{'|'.join(a.rstrip('-') for a in _JOINED_ARTICLES)})-)?"
    rf"{CAPITAL}[^\W\d_]*(?:[-'’][^\W\d_]+)*\.?"
)
_MAYBE_NAMES = re.compile(
    rf"(?<![\w.])(?<![^\W\d_][-'’]){_MAYBE_WORD}"  # not inside "post-Cold" or "pre-War"
    rf"(?:(?:\s+(?:{'|'.join(sorted(PARTICLES))})){{0,{_PARTICLES_IN_A_ROW}}}\s+{_MAYBE_WORD})*"
)


@dataclass(frozen=True)
class Run:
    text: str  # as printed, particles included
    start: int
    end: int


_NAME, _PARTICLE, _OTHER = range(3)
_Word = tuple[int, int, int]  # start, end, kind


def is_name_word(word: str) -> bool:
    """Capitalised ("Çelik"), an initial ("J.") or joined to an article ("al-Assad")."""
    if is_capital(word[0]):
        return (len(word) == 2 and word[1] == ".") or is_capitalised(word)
    if "-" in word[:5]:
        for article in _JOINED_ARTICLES:
            if word.startswith(article):
                return is_capitalised(word[len(article) :])
    return False


def capitalised_runs(text: str, *, longest: int = RUN_WORDS) -> Iterator[Run]:
    """Each run of up to `longest` name words (particles between them not counted),
    separated by white space only, in text order."""
    # A pattern finds the stretches that might hold names, so that the words of the rest
    # of the text, most of it, are never looked at one by one.
    for stretch in _MAYBE_NAMES.finditer(text):
        words = _words(text, stretch.start(), stretch.end())
        index = 0
        while index < len(words):
            start, _, kind = words[index]
            glued = start > 0 and (text[start - 1] in "._" or text[start - 1].isalnum())
            if kind != _NAME or glued:  # "U.S." is no run of initials
                index += 1
                continue
            run, index = _run_from(text, words, index, longest)
            if run is not None:
                yield run


def run_at(text: str, at: int, *, longest: int) -> Run | None:
    """The run that starts exactly at `at`, if one does ("Mr. [Sánchez]")."""
    words = _words(text, at, min(len(text), at + _RUN_AT_WINDOW))
    if not words or words[0][0] != at or words[0][2] != _NAME:
        return None
    return _run_from(text, words, 0, longest)[0]


def _words(text: str, start: int, end: int) -> list[_Word]:
    found = []
    for match in _WORD.finditer(text, start, end):
        start, end = match.span()
        word = match.group()
        if len(word) == 1 and end < len(text) and text[end] == ".":
            end += 1  # an initial: "J."
            word += "."
        found.append((start, end, _kind(word)))
    return found


@lru_cache(maxsize=1 << 14)  # names and sentence openers recur in every document
def _kind(word: str) -> int:
    if word[0].islower() and "-" not in word[:5]:  # most words: decided at once
        return _PARTICLE if word in PARTICLES else _OTHER
    return _NAME if is_name_word(word) else _OTHER


def _run_from(text: str, words: list[_Word], first: int, longest: int) -> tuple[Run | None, int]:
    """The run opening with words[first], and the index of the word after it."""
    last, count, index = first, 1, first + 1
    while index < len(words) and count < longest:
        following = index
        while (
            following < len(words)
            and words[following][2] == _PARTICLE
            and following - index < _PARTICLES_IN_A_ROW
        ):
            following += 1
        if following == len(words) or words[following][2] != _NAME:
            break
        if any(not _spaced(text, words[k - 1], words[k]) for k in range(index, following + 1)):
            break
        last, count, index = following, count + 1, following + 1
    start, end = words[first][0], words[last][1]
    if end < len(text) and (text[end].isalnum() or text[end] == "_"):
        return None, last + 1  # glued to a digit: not a name
    return Run(text[start:end], start, end), last + 1


def _spaced(text: str, before: _Word, after: _Word) -> bool:
    gap = text[before[1] : after[0]]
    return bool(gap) and gap.isspace()
