"""Scoring extraction and clustering against hand-made gold: precision and recall.

Used by the quality gate (tests/test_quality_gate.py), by `briefbot eval`, and by the
benchmark's generated ground truth.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from bot.core.quotes import Quote


def comparable(text: str) -> str:
    """Quote text as compared with gold: case, marks, spacing and end punctuation aside."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    text = re.sub(r"\s+", " ", text).strip().casefold()
    return text.rstrip(".,;:!? ")


@dataclass(frozen=True)
class GoldQuote:
    doc: str  # the document's file name
    text: str
    speaker: str | None
    partial: bool


@dataclass(frozen=True)
class Ratio:
    hits: int
    total: int

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.value:.3f} ({self.hits}/{self.total})"


@dataclass(frozen=True)
class QuoteScores:
    precision: Ratio
    recall: Ratio
    speaker_full: Ratio  # correct speaker among matched full quotes
    speaker_all: Ratio
    partial_flag: Ratio
    missed: tuple[GoldQuote, ...]
    spurious: tuple[Quote, ...]
    wrong_speaker: tuple[tuple[GoldQuote, Quote], ...]

    @property
    def f1(self) -> float:
        p, r = self.precision.value, self.recall.value
        return 2 * p * r / (p + r) if p + r else 0.0


def score_quotes(gold: Sequence[GoldQuote], found: Mapping[str, Sequence[Quote]]) -> QuoteScores:
    """`found` maps each gold document name to the quotes extracted from it."""
    matched: list[tuple[GoldQuote, Quote]] = []
    missed: list[GoldQuote] = []
    used: set[str] = set()
    for item in gold:
        candidates = [
            q
            for q in found.get(item.doc, ())
            if q.id not in used and comparable(q.text) == comparable(item.text)
        ]
        if candidates:
            used.add(candidates[0].id)
            matched.append((item, candidates[0]))
        else:
            missed.append(item)
    spurious = tuple(q for quotes in found.values() for q in quotes if q.id not in used)
    total_found = sum(len(quotes) for quotes in found.values())
    full = [(g, q) for g, q in matched if not g.partial]
    wrong = tuple((g, q) for g, q in matched if g.speaker != q.speaker)
    return QuoteScores(
        precision=Ratio(len(matched), total_found),
        recall=Ratio(len(matched), len(gold)),
        speaker_full=Ratio(sum(g.speaker == q.speaker for g, q in full), len(full)),
        speaker_all=Ratio(sum(g.speaker == q.speaker for g, q in matched), len(matched)),
        partial_flag=Ratio(sum(g.partial == q.partial for g, q in matched), len(matched)),
        missed=tuple(missed),
        spurious=spurious,
        wrong_speaker=wrong,
    )


@dataclass(frozen=True)
class PairScores:
    precision: Ratio
    recall: Ratio
    missed: tuple[frozenset[str], ...]
    spurious: tuple[frozenset[str], ...]


def cluster_pairs(clusters: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    """Every pair of members that share a cluster; a member may sit in several clusters."""
    pairs: set[frozenset[str]] = set()
    for members in clusters:
        for a, b in combinations(sorted(set(members)), 2):
            pairs.add(frozenset((a, b)))
    return pairs


def score_pairs(gold: set[frozenset[str]], found: set[frozenset[str]]) -> PairScores:
    hits = gold & found
    return PairScores(
        precision=Ratio(len(hits), len(found)),
        recall=Ratio(len(hits), len(gold)),
        missed=tuple(sorted(gold - found, key=sorted)),
        spurious=tuple(sorted(found - gold, key=sorted)),
    )
