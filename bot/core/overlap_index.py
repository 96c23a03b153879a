"""Candidate quotes for overlap checks: word shingles and an inverted index over them.

A shingle is a hashed pair of content-word stems (adjacent, and in short quotes also one
apart), so that it survives stop-word edits ("It's" / "It is"), a changed word, and a
fragment cut out of a longer quote. Shingles are 63-bit non-negative ints, stable across
processes (CRC-32 of the stems, not Python's salted `hash`), so a store can persist them.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Collection, Sequence
from itertools import pairwise
from typing import Protocol

import numpy as np

from bot.core.text import content_words

_MASK64 = (1 << 64) - 1
# An odd multiplier permutes 64-bit values, so stem pair -> shingle loses nothing beyond
# CRC-32 collisions of the stems themselves.
_MULTIPLIER = 0x9E3779B97F4A7C15
# Pairs one word apart too, for short quotes only: there a single changed word would
# leave too few adjacent pairs in common; long quotes keep plenty and twice the postings.
SKIP_SHINGLES_UP_TO = 8
_STEM_LENGTH = 5
_stem_hashes: dict[str, int] = {}
_STEM_CACHE_LIMIT = 1 << 20


def stem(word: str) -> str:
    """A crude stem: drop a possessive or plural "s", keep five characters.

    "phenomenal"/"phenomenally" and "policy"/"policies" meet; collisions between
    different words only add candidates, which verification then rejects."""
    if word.endswith("'s"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    return word[:_STEM_LENGTH]


def shingles(content: Sequence[str]) -> tuple[int, ...]:
    """The distinct shingles of a quote's content words (see `text.content_words`)."""
    known = _stem_hashes.get
    hashes = [known(w) or _stem_hash(w) for w in content]
    found = {(((a << 32) | b) * _MULTIPLIER & _MASK64) >> 1 for a, b in pairwise(hashes)}
    if len(hashes) <= SKIP_SHINGLES_UP_TO:
        # Not told apart from adjacent pairs: a dropped word turns one into the other.
        skipping = zip(hashes, hashes[2:], strict=False)
        found.update((((a << 32) | b) * _MULTIPLIER & _MASK64) >> 1 for a, b in skipping)
    return tuple(found)


def text_shingles(normalized_text: str) -> tuple[int, ...]:
    """The shingles of a text already passed through `text.normalize_text`."""
    return shingles(content_words(normalized_text.split()))


def _stem_hash(word: str) -> int:
    cached = _stem_hashes.get(word)
    if cached is None:
        if len(_stem_hashes) >= _STEM_CACHE_LIMIT:
            _stem_hashes.clear()
        cached = _stem_hashes[word] = zlib.crc32(stem(word).encode("utf-8"))
    return cached


class ShingleIndex(Protocol):
    """Where candidates come from. Quote ids are small ints chosen by the caller."""

    def add(self, quote_id: int, shingles: Collection[int]) -> None: ...

    def candidates(self, shingles: Collection[int]) -> dict[int, int]:
        """Quotes sharing at least one of these shingles, with how many they share.

        Stop-shingles (held by too many quotes to tell statements apart) are ignored."""
        ...


class InMemoryShingleIndex:
    """Postings in fixed hash buckets of two parallel uint32 arrays (8 bytes a posting).

    A shingle's top bits choose the bucket and the next 32 bits are stored, so no Python
    object is kept per shingle. A shingle found held by `stop_postings` quotes becomes a
    stop-shingle: `candidates` ignores it from then on and `add` no longer stores it."""

    def __init__(self, *, stop_postings: int = 400, bucket_bits: int = 16) -> None:
        self._stop_postings = stop_postings
        self._bucket_shift = 63 - bucket_bits
        self._keys: list[array[int]] = [array("I") for _ in range(1 << bucket_bits)]
        self._ids: list[array[int]] = [array("I") for _ in range(1 << bucket_bits)]
        self._stop: set[int] = set()

    def add(self, quote_id: int, shingles: Collection[int]) -> None:
        all_keys, all_ids, shift, stop = self._keys, self._ids, self._bucket_shift, self._stop
        for shingle in shingles:
            if shingle not in stop:
                all_keys[shingle >> shift].append((shingle >> _KEY_SHIFT) & 0xFFFFFFFF)
                all_ids[shingle >> shift].append(quote_id)

    def add_many(self, entries: Sequence[tuple[int, Collection[int]]]) -> None:
        """`add` for each (quote id, shingles), at once (a restart puts back the whole
        index): the postings are sorted into their buckets in numpy, not one by one."""
        counts = np.fromiter((len(s) for _, s in entries), dtype=np.int64, count=len(entries))
        if not counts.sum():
            return
        ids = np.repeat(np.fromiter((i for i, _ in entries), np.uint32, len(entries)), counts)
        flat = np.fromiter((x for _, s in entries for x in s), np.uint64, int(counts.sum()))
        if self._stop:  # stop-shingles are not stored (an index restored is empty anyway)
            kept = ~np.isin(flat, np.fromiter(self._stop, np.uint64, len(self._stop)))
            flat, ids = flat[kept], ids[kept]
        buckets = (flat >> np.uint64(self._bucket_shift)).astype(np.int64)
        keys = ((flat >> np.uint64(_KEY_SHIFT)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        order = np.argsort(buckets, kind="stable")  # each bucket's postings in given order
        buckets, keys, ids = buckets[order], keys[order], ids[order]
        present, starts = np.unique(buckets, return_index=True)
        bounds = [*(starts * 4).tolist(), len(buckets) * 4]  # in bytes: 4 a posting
        key_bytes, id_bytes = memoryview(keys.tobytes()), memoryview(ids.tobytes())
        for n, bucket in enumerate(present.tolist()):
            start, end = bounds[n], bounds[n + 1]
            self._keys[bucket].frombytes(key_bytes[start:end])
            self._ids[bucket].frombytes(id_bytes[start:end])

    def candidates(self, shingles: Collection[int]) -> dict[int, int]:
        shared: dict[int, int] = {}
        all_keys, shift, stop = self._keys, self._bucket_shift, self._stop
        for shingle in shingles:
            keys = all_keys[shingle >> shift]
            key = (shingle >> _KEY_SHIFT) & 0xFFFFFFFF
            if key not in keys or shingle in stop:
                continue  # the common case: a shingle no earlier quote has
            if keys.count(key) >= self._stop_postings:
                stop.add(shingle)
                continue
            ids = self._ids[shingle >> shift]
            at = keys.index(key)
            try:
                while True:
                    quote_id = ids[at]
                    shared[quote_id] = shared.get(quote_id, 0) + 1
                    at = keys.index(key, at + 1)
            except ValueError:
                pass  # no more postings
        return shared


_KEY_SHIFT = 15  # bits 15-46 of a shingle are stored; the bucket takes the top bits
