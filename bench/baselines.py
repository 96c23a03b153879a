"""What the overlap engine is measured against, on the same quotes.

* All pairs with rapidfuzz `process.cdist` (every core): `fuzz.ratio` for verbatim and
  edited copies, `fuzz.partial_ratio` for fragments, with the engine's thresholds.
  Only the upper triangle is scored (row blocks against the rows after them), which
  halves the work of a full matrix; the result is the same.
* MinHash LSH (datasketch) over the engine's own shingles, candidates verified by the
  engine's own check (`overlaps.compare_quotes`): a peer candidate generator.
* The engine itself, timed from scratch on the same quotes.

Each returns links as pairs of positions in the quote list, so that recall can be
compared by connected component (`components`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz, process

from bot.core.overlap_index import text_shingles
from bot.core.overlaps import DEFAULT_SETTINGS, OverlapEngine, OverlapSettings, compare_quotes
from bot.core.quotes import Quote
from bot.core.text import content_words, normalize_text

Pair = tuple[int, int]  # positions in the quote list, smaller first
_BLOCK = 256  # rows scored at once: small blocks skip most of the lower triangle


@dataclass(frozen=True)
class Timed:
    seconds: float
    links: frozenset[Pair]
    detail: dict[str, float]


def engine_links(quotes: Sequence[Quote]) -> tuple[Timed, OverlapEngine]:
    """The overlap engine on these quotes from an empty index."""
    started = time.perf_counter()
    engine = OverlapEngine()
    found = engine.add(quotes)
    seconds = time.perf_counter() - started
    at = {q.id: i for i, q in enumerate(quotes)}
    links = frozenset(_pair(at[link.a], at[link.b]) for link in found)
    return Timed(seconds, links, {}), engine


def all_pairs(
    quotes: Sequence[Quote],
    *,
    fragments: bool = True,
    settings: OverlapSettings = DEFAULT_SETTINGS,
) -> Timed:
    """Every pair scored with rapidfuzz cdist; `fragments=False` skips partial_ratio
    (verbatim and edited links only, a lower bound on the cost of all pairs)."""
    started = time.perf_counter()
    norms = [normalize_text(q.text) for q in quotes]
    enough = [len(content_words(n.split())) >= settings.min_content_words for n in norms]
    partial = [q.partial for q in quotes]
    prepared = time.perf_counter()
    edited = _upper_triangle(norms, fuzz.ratio, settings.edited_min_ratio)
    ratio_done = time.perf_counter()
    contained: set[Pair] = set()
    if fragments:
        contained = _upper_triangle(norms, fuzz.partial_ratio, settings.fragment_min_score)
    done = time.perf_counter()
    links = frozenset(
        (i, j)
        for i, j in edited | contained
        if enough[i] and enough[j] and not (partial[i] and partial[j])
    )
    detail = {
        "normalise_seconds": prepared - started,
        "ratio_seconds": ratio_done - prepared,
        "partial_ratio_seconds": done - ratio_done if fragments else float("nan"),
    }
    return Timed(done - started, links, detail)


def minhash_lsh(quotes: Sequence[Quote], *, threshold: float = 0.3, num_perm: int = 64) -> Timed:
    """MinHash LSH candidates (each quote queried before it is inserted, like the
    engine's incremental index), verified by the engine's own pairwise check."""
    started = time.perf_counter()
    shingles = [text_shingles(normalize_text(q.text)) for q in quotes]
    usable = [i for i, s in enumerate(shingles) if s]
    hashes = MinHash.bulk(
        [[s & 0xFFFFFFFF for s in shingles[i]] for i in usable],
        num_perm=num_perm,
        hashfunc=_identity,
    )
    hashed = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    candidates: list[Pair] = []
    for i, minhash in zip(usable, hashes, strict=True):
        candidates.extend(_pair(int(j), i) for j in lsh.query(minhash))
        lsh.insert(i, minhash)
    indexed = time.perf_counter()
    links = frozenset(
        (i, j) for i, j in candidates if compare_quotes(quotes[i], quotes[j]) is not None
    )
    done = time.perf_counter()
    detail = {
        "minhash_seconds": hashed - started,
        "lsh_seconds": indexed - hashed,
        "verify_seconds": done - indexed,
        "candidates": float(len(candidates)),
    }
    return Timed(done - started, links, detail)


def scored_pairs(size: int) -> int:
    """How many pairs `all_pairs` scores for `size` quotes (the upper triangle plus the
    lower half of each diagonal block): the unit for estimating larger sizes."""
    return sum(min(_BLOCK, size - start) * (size - start) for start in range(0, size, _BLOCK))


def components(size: int, links: Iterable[Pair]) -> list[int]:
    """The connected component (a representative position) of each position."""
    parent = list(range(size))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [root(x) for x in range(size)]


def _upper_triangle(texts: Sequence[str], scorer: Callable[..., float], cutoff: float) -> set[Pair]:
    found: set[Pair] = set()
    for start in range(0, len(texts), _BLOCK):
        rows = texts[start : start + _BLOCK]
        scores = process.cdist(
            rows,
            texts[start:],
            scorer=scorer,
            score_cutoff=cutoff,
            dtype=np.uint8,
            workers=-1,
        )
        for i, j in zip(*np.nonzero(scores), strict=True):
            if j > i:  # positions relative to the block: j > i is a pair after the diagonal
                found.add((start + int(i), start + int(j)))
    return found


def _pair(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def _identity(value: int) -> int:
    return value
