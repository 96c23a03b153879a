"""Day blocks: a week of documents scored at once must give exactly the pairwise cosines."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pytest

from bot.core.day_blocks import DayBlocks, DayPostings
from bot.core.stories import TermVector, _similarities

WORDS = [f"word{n}" for n in range(300)]


def _vector(rng: random.Random) -> TermVector:
    # Zipf-like draws: a few common words shared by most texts, many rare ones.
    words = [WORDS[min(int(rng.paretovariate(1.2)) - 1, len(WORDS) - 1)] for _ in range(80)]
    return TermVector.of(" ".join(words))


@pytest.fixture(scope="module")
def vectors() -> dict[str, TermVector]:
    rng = random.Random(7)
    return {f"doc{n}": _vector(rng) for n in range(120)}


def test_postings_give_the_pairwise_cosines_exactly(vectors: dict[str, TermVector]) -> None:
    ids = list(vectors)[:40]
    postings = DayPostings.of(ids, [vectors[d] for d in ids])
    for probe in list(vectors.values())[40:60]:
        assert postings.cosines(probe) == _similarities(probe, [vectors[d] for d in ids])


def test_empty_vectors_and_empty_days_score_zero() -> None:
    empty = TermVector.of("")
    some = TermVector.of("sanctions talks sanctions")
    assert DayPostings.of(["a"], [empty]).cosines(some) == [0.0]
    assert DayPostings.of(["a"], [some]).cosines(empty) == [0.0]
    assert DayPostings.of([], []).cosines(some) == []


def test_blocks_score_every_document_of_the_days_asked_as_they_arrive(
    vectors: dict[str, TermVector],
) -> None:
    loads: list[int] = []

    def vectors_of(ids: Sequence[str]) -> Mapping[str, TermVector]:
        loads.append(len(ids))
        return {d: vectors[d] for d in ids}

    blocks = DayBlocks(vectors_of, _similarities, max_built=2)
    start = date(2016, 11, 1)
    day_of = {doc_id: start + timedelta(days=n % 5) for n, doc_id in enumerate(vectors)}
    probe = vectors["doc0"]
    for n, doc_id in enumerate(vectors):
        blocks.add(day_of[doc_id], doc_id)
        if n % 7 == 0:  # asked while days are still filling up: built and waiting parts
            days = [start + timedelta(days=k) for k in (0, 2, 4)]
            scored = dict(blocks.scores(probe, days))
            wanted = [d for d in list(vectors)[: n + 1] if day_of[d] in days]
            assert sorted(scored) == sorted(wanted)
            expected = _similarities(probe, [vectors[d] for d in wanted])
            assert [scored[d] for d in wanted] == expected
    assert loads  # the blocks were built from the vectors asked for
