"""Scoring one document against a week of documents at once, for the story index.

Dated documents are kept in blocks of one day each, as postings: each term with the
documents of that day that hold it and their weights. A new document is looked up term
by term in a nearby day's block, a few hundred binary searches in one sorted array,
instead of one per term of every document of the week. Scores are the same integer dot
products that comparing the documents pair by pair gives.

A day's block is rebuilt once enough documents arrived after it was built; until then
those few are scored one by one. Only the blocks used last are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # stories.py imports this module
    from bot.core.stories import TermVector

VectorsOf = Callable[[Sequence[str]], Mapping[str, "TermVector"]]
ScoreMany = Callable[["TermVector", Sequence["TermVector"]], list[float]]

_REBUILD_AFTER = 4  # documents added to a built day before it is built again


@dataclass(frozen=True, eq=False)
class DayPostings:
    """One day's documents as postings grouped by term."""

    doc_ids: tuple[str, ...]
    norms: npt.NDArray[np.float64]  # per document
    terms: npt.NDArray[np.int64]  # distinct, sorted
    starts: npt.NDArray[np.int64]  # postings of terms[i] are starts[i]:starts[i + 1]
    docs: npt.NDArray[np.int64]  # per posting: the document's position in doc_ids
    weights: npt.NDArray[np.int64]  # per posting

    @classmethod
    def of(cls, doc_ids: Sequence[str], vectors: Sequence[TermVector]) -> DayPostings:
        lengths = np.fromiter((len(v.ids) for v in vectors), np.int64, len(vectors))
        ids = np.concatenate([v.ids for v in vectors]) if vectors else np.zeros(0, np.int64)
        weights = np.concatenate([v.weights for v in vectors]) if vectors else np.zeros(0, np.int64)
        docs = np.repeat(np.arange(len(vectors), dtype=np.int64), lengths)
        order = np.argsort(ids, kind="stable")
        ids, weights, docs = ids[order], weights[order], docs[order]
        terms, firsts = np.unique(ids, return_index=True)
        return cls(
            doc_ids=tuple(doc_ids),
            norms=np.fromiter((v.norm for v in vectors), np.float64, len(vectors)),
            terms=terms,
            starts=np.append(firsts, len(ids)).astype(np.int64),
            docs=docs,
            weights=weights,
        )

    def cosines(self, vector: TermVector) -> list[float]:
        """Cosine of `vector` with each document of the day, in `doc_ids` order."""
        count = len(self.doc_ids)
        if not len(self.terms) or not len(vector.ids):
            return [0.0] * count
        at = np.minimum(np.searchsorted(self.terms, vector.ids), len(self.terms) - 1)
        hit = self.terms[at] == vector.ids
        at, own = at[hit], vector.weights[hit]
        first, counts = self.starts[at], self.starts[at + 1] - self.starts[at]
        # Every posting of every shared term: each term's run, laid end to end.
        runs = np.repeat(first - (np.cumsum(counts) - counts), counts)
        postings = runs + np.arange(int(counts.sum()), dtype=np.int64)
        products = self.weights[postings] * np.repeat(own, counts)
        # Integer products summed in float64 stay exact below 2**53 (these are far below),
        # so each dot product is the one the pair alone gives.
        dots = np.bincount(self.docs[postings], weights=products, minlength=count)
        norms = self.norms * vector.norm
        return [
            float(dot) / norm if norm else 0.0
            for dot, norm in zip(dots.tolist(), norms.tolist(), strict=True)
        ]


class DayBlocks:
    """The dated documents of a story index, by day, scored a day at a time."""

    def __init__(
        self, vectors_of: VectorsOf, score_many: ScoreMany, *, max_built: int = 64
    ) -> None:
        self._vectors_of = vectors_of
        self._score_many = score_many  # for the few documents a block does not hold yet
        self._max_built = max_built
        self._days: dict[date, list[str]] = {}
        self._built: OrderedDict[date, DayPostings] = OrderedDict()  # least recently used first

    def add(self, day: date, doc_id: str) -> None:
        self._days.setdefault(day, []).append(doc_id)

    def scores(self, vector: TermVector, days: Sequence[date]) -> Iterator[tuple[str, float]]:
        """(document id, cosine) for every document dated on one of `days`."""
        for day in days:
            members = self._days.get(day)
            if not members:
                continue
            block = self._block(day, members)
            yield from zip(block.doc_ids, block.cosines(vector), strict=True)
            waiting = members[len(block.doc_ids) :]
            if waiting:
                vectors = self._vectors_of(waiting)
                scored = self._score_many(vector, [vectors[d] for d in waiting])
                yield from zip(waiting, scored, strict=True)

    def _block(self, day: date, members: list[str]) -> DayPostings:
        block = self._built.get(day)
        if block is None or len(members) - len(block.doc_ids) >= _REBUILD_AFTER:
            vectors = self._vectors_of(members)
            block = DayPostings.of(members, [vectors[d] for d in members])
            self._built[day] = block
            while len(self._built) > self._max_built:
                self._built.popitem(last=False)
        self._built.move_to_end(day)
        return block
