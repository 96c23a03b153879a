"""Word shingles and the inverted index that finds overlap candidates."""

from __future__ import annotations

from bot.core.overlap_index import (
    SKIP_SHINGLES_UP_TO,
    InMemoryShingleIndex,
    shingles,
    stem,
    text_shingles,
)
from bot.core.text import content_words, normalize_text


def test_stem_meets_plurals_possessives_and_derived_forms() -> None:
    assert stem("phenomenal") == stem("phenomenally") == "pheno"
    assert stem("policies")[:4] == stem("policy")[:4]
    assert stem("russia's") == stem("russia")
    assert stem("us") == "us"  # too short to be a plural


def test_shingles_are_adjacent_content_word_pairs_and_one_apart_in_short_quotes() -> None:
    short = content_words("mutual trust takes years".split())
    assert len(short) <= SKIP_SHINGLES_UP_TO
    assert len(shingles(short)) == 3 + 2  # three adjacent pairs, two one apart
    long = content_words(" ".join(f"word{n}" for n in range(SKIP_SHINGLES_UP_TO + 2)).split())
    assert len(shingles(long)) == len(long) - 1  # adjacent pairs only


def test_shingles_ignore_stop_words_and_survive_a_changed_one() -> None:
    a = text_shingles(normalize_text("It's not possible to just declare mutual trust"))
    b = text_shingles(normalize_text("It is not possible to simply declare mutual trust"))
    assert set(a) & set(b)
    assert text_shingles(normalize_text("It is the")) == ()


def test_shingles_are_stable_non_negative_63_bit_ints() -> None:
    found = text_shingles(normalize_text("An atmosphere of mutual trust takes years"))
    assert found == text_shingles(normalize_text("An atmosphere of mutual trust takes years"))
    assert all(0 <= s < 2**63 for s in found)


def test_candidates_count_the_shingles_shared() -> None:
    index = InMemoryShingleIndex()
    trust = text_shingles(normalize_text("An atmosphere of mutual trust takes years to achieve"))
    other = text_shingles(normalize_text("Grain exports will double before the end of next year"))
    index.add(1, trust)
    index.add(2, other)
    part = text_shingles(normalize_text("mutual trust takes years"))
    shared = index.candidates(part)
    assert set(shared) == {1}
    assert shared[1] == len(set(part) & set(trust))
    assert index.candidates(()) == {}


def test_a_shingle_held_by_too_many_quotes_stops_counting() -> None:
    index = InMemoryShingleIndex(stop_postings=3)
    common = text_shingles(normalize_text("the United States"))
    for quote_id in range(3):
        index.add(quote_id, common)
    assert index.candidates(common) == {}  # a stop-shingle now
    index.add(9, common)  # and no longer stored
    assert index.candidates(common) == {}
