"""Canonical speakers: names, aliases and roles.

The book is built from `config/speakers.yaml` by the config layer; the core only sees the
parsed entries. Documents can name people the book does not know: they become speakers
of their own, never dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import TypeVar, cast

from rapidfuzz import fuzz, process, utils

RESOLVE_SCORE = 80.0  # WRatio a typo must reach to count as that speaker ("Peskof": 83)
RESOLVE_MARGIN = 10.0  # and by how much it must beat any other speaker ("Sergei": 0)


class SpeakerKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


@dataclass(frozen=True)
class Speaker:
    name: str
    aliases: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # "Kremlin spokesman": a role phrase that names this speaker
    kind: SpeakerKind = SpeakerKind.PERSON

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def surname(self) -> str:
        return self.name.split()[-1]


def _combining_marks() -> re.Pattern[str]:
    """Every combining mark of the Basic Multilingual Plane, as one character class."""
    ranges: list[list[int]] = []
    for code in range(0x10000):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges) + "]")


_COMBINING = _combining_marks()


@lru_cache(maxsize=1 << 16)  # the same names and role phrases are folded again and again
def fold(text: str) -> str:
    """Compare names blind to case, accents and typographic apostrophes."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    if decomposed.isascii():
        stripped = decomposed
    elif max(decomposed) <= "\uffff":  # one pattern, rather than a test per character
        stripped = _COMBINING.sub("", decomposed)
    else:
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


_Index = TypeVar("_Index")


@dataclass(frozen=True)
class SpeakerBook:
    speakers: tuple[Speaker, ...] = field(default_factory=tuple)

    def indexed(self, build: Callable[[SpeakerBook], _Index]) -> _Index:
        """`build(self)`, worked out once per book (`build` is the key) and kept with it:
        what other modules derive from the book is then not derived again for every
        document. A pickled book leaves these behind; its copy builds its own."""
        built = self._indexes.get(build)
        if built is None:
            built = self._indexes[build] = build(self)
        return cast(_Index, built)

    @cached_property
    def _indexes(self) -> dict[Callable[[SpeakerBook], object], object]:
        return {}

    def __getstate__(self) -> dict[str, object]:
        return {key: value for key, value in self.__dict__.items() if key != "_indexes"}

    @cached_property
    def _by_name(self) -> dict[str, Speaker]:
        index: dict[str, Speaker] = {}
        for speaker in self.speakers:
            for name in speaker.names:
                index.setdefault(fold(name), speaker)
        return index

    @cached_property
    def _by_role(self) -> dict[str, Speaker]:
        return {fold(role): s for s in self.speakers for role in s.roles}

    def get(self, name: str) -> Speaker | None:
        """The speaker this exact name or alias belongs to."""
        return self._by_name.get(fold(name))

    def by_role(self, phrase: str) -> Speaker | None:
        """The speaker a role phrase such as "the Kremlin's chief spokesman" points to."""
        folded = fold(phrase)
        for prefix in ("the ", "a ", "an "):
            folded = folded.removeprefix(prefix)
        return self._by_role.get(folded)

    def with_speaker(self, speaker: Speaker) -> SpeakerBook:
        return self.with_speakers([speaker])

    def with_speakers(self, speakers: Iterable[Speaker]) -> SpeakerBook:
        """This book plus the speakers whose names it does not know yet (one new book
        for them all: adding thousands one at a time re-indexed the book each time)."""
        known = set(self._by_name)
        added = []
        for speaker in speakers:
            if fold(speaker.name) not in known:
                known.add(fold(speaker.name))
                added.append(speaker)
        return SpeakerBook((*self.speakers, *added)) if added else self

    def resolve(self, query: str) -> tuple[Speaker | None, list[Speaker]]:
        """The one speaker a user meant, or None and the closest names to offer.

        An alias, a transliteration listed as one, or a small typo ("Peskof") resolves;
        an ambiguous query ("Sergei") returns suggestions instead of a guess."""
        exact = self._by_name.get(fold(query))
        if exact is not None:
            return exact, [exact]
        scored = self._scored(query, limit=10, cutoff=60.0)
        suggestions = _distinct(speaker for speaker, _ in scored)[:5]
        if not scored:
            return None, []
        best_speaker, best = scored[0]
        runner_up = next((score for speaker, score in scored if speaker != best_speaker), 0.0)
        if best >= RESOLVE_SCORE and best - runner_up >= RESOLVE_MARGIN:
            return best_speaker, suggestions
        return None, suggestions

    def _scored(self, query: str, *, limit: int, cutoff: float) -> list[tuple[Speaker, float]]:
        folded = fold(query)
        if not folded:
            return []
        found = process.extract(
            folded,
            list(self._by_name),
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=limit,
            score_cutoff=cutoff,
        )
        return [(self._by_name[choice], float(score)) for choice, score, _ in found]

    def suggest(self, query: str, *, limit: int = 5, cutoff: float = 70.0) -> list[Speaker]:
        """Speakers whose names look like the query, best first: forgiving of typos,
        transliterations listed as aliases, and partial names."""
        folded = fold(query)
        if not folded:
            return []
        exact = self._by_name.get(folded)
        if exact is not None:
            return [exact]
        choices = list(self._by_name)
        scored = process.extract(
            folded,
            choices,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=limit * 4,
            score_cutoff=cutoff,
        )
        ranked: list[Speaker] = []
        for choice, _score, _index in scored:
            speaker = self._by_name[choice]
            if speaker not in ranked:
                ranked.append(speaker)
        return ranked[:limit]


def _distinct(speakers: Iterable[Speaker]) -> list[Speaker]:
    return list(dict.fromkeys(speakers))
