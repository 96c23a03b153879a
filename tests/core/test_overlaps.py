from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from bot.core.documents import Document
from bot.core.overlap_index import InMemoryShingleIndex, shingles, text_shingles
from bot.core.overlaps import (
    Cluster,
    OverlapEngine,
    Relation,
    compare_quotes,
    find_overlaps,
    is_merged,
    prepare,
    word_diff,
)
from bot.core.quotes import Quote
from bot.core.text import normalize, normalize_text

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_FILES = {
    "seed000": "000_9400752ccb8fb0fa.txt",
    "seed001": "001_824f32114a763518.txt",
    "seed002": "002_ae0362d15ddcecd9.txt",
}
PESKOV = "Dmitry Peskov"


@cache
def seed_text(doc_id: str) -> str:
    return (SEEDS / SEED_FILES[doc_id]).read_text(encoding="utf-8")


def seed_quote(
    doc_id: str,
    text: str,
    speaker: str | None = PESKOV,
    *,
    partial: bool = False,
    role: str | None = None,
) -> Quote:
    """A quote as the extractor would give it, placed where the seed prints it."""
    start = seed_text(doc_id).index(text)
    return Quote(doc_id, start, start + len(text), text, speaker, role, partial=partial)


def seed_document(
    doc_id: str,
    *,
    outlet: str | None = None,
    title: str | None = None,
    published: datetime | None = None,
) -> Document:
    return Document(
        doc_id,
        SEED_FILES[doc_id],
        seed_text(doc_id),
        (),
        outlet=outlet,
        title=title,
        published=published,
    )


DOCS = {
    "seed000": seed_document(
        "seed000", outlet="Reuters", published=datetime(2016, 11, 10, 20, 0, tzinfo=UTC)
    ),
    "seed001": seed_document("seed001", title="Trump: Russia’s Chance for Friendship?"),
    "seed002": seed_document("seed002", published=datetime(2016, 11, 11, 9, 0, tzinfo=UTC)),
}

PHENOMENAL = (
    "It is phenomenal how close they are to one another when it comes to their conceptual "
    "approach to foreign policy"
)
BASIS = (
    "And that is probably a good basis for our moderate optimism that they will at least be "
    "able to start a dialogue to start to clear out the Augean stables in our bilateral "
    "relations"
)
ATMOSPHERE = "An atmosphere of mutual trust takes years to achieve"
NOT_POSSIBLE = (
    "not possible to just declare that there is an atmosphere of mutual trust, especially "
    "after such serious damage was done in the last few years to our relations"
)

PARTIAL_000 = seed_quote("seed000", "phenomenally close", "Kremlin", partial=True)
PRINCIPLES_000 = seed_quote(
    "seed000",
    "They (Putin and Trump) set out the same main foreign policy principles and that is incredible",
)
WHOLE_000 = seed_quote("seed000", f"{PHENOMENAL}. {BASIS}.")
ATMOSPHERE_000 = seed_quote("seed000", ATMOSPHERE)
NOT_POSSIBLE_000 = seed_quote("seed000", f"It’s {NOT_POSSIBLE}.")
# Seed 001 prints "Kremlin spokesman Dmitry Peskov": so the Kremlin's words are his voice.
PHENOMENAL_001 = seed_quote("seed001", PHENOMENAL, role="Kremlin spokesman")
BASIS_001 = seed_quote("seed001", f"{BASIS}.")
MERGED_001 = seed_quote("seed001", f"{ATMOSPHERE}. It’s {NOT_POSSIBLE}")
RESET_001 = seed_quote("seed001", "reset", None)
INTERESTS_002 = seed_quote(
    "seed002",
    "Trump said the US interests were the main priority for him and he would be prepared to "
    "build a relationship with any country. Putin said the same thing. He spoke about "
    "Russia's national priorities",
)
WHOLE_002 = seed_quote("seed002", f"{PHENOMENAL}. {BASIS}")
ATMOSPHERE_002 = seed_quote("seed002", ATMOSPHERE)
NOT_POSSIBLE_002 = seed_quote("seed002", f"It's {NOT_POSSIBLE}.")
FLEXIBLE_002 = seed_quote(
    "seed002",
    "Putin pursues consistent and flexible policy, but flexibility has limits. The Russian "
    "president is in favor of good relations, an improvement in relations with the US, we "
    "will see to which extent it will be a mutual bid",
)

SEED_QUOTES = (
    PARTIAL_000,
    PRINCIPLES_000,
    WHOLE_000,
    ATMOSPHERE_000,
    NOT_POSSIBLE_000,
    PHENOMENAL_001,
    BASIS_001,
    MERGED_001,
    RESET_001,
    INTERESTS_002,
    WHOLE_002,
    ATMOSPHERE_002,
    NOT_POSSIBLE_002,
    FLEXIBLE_002,
)


def relations(cluster: Cluster) -> dict[str, Relation]:
    return {member.quote_id: member.relation for member in cluster.members}


def cluster_with(clusters: Sequence[Cluster], quote: Quote) -> Cluster:
    (found,) = [c for c in clusters if c.canonical_quote_id == quote.id]
    return found


def clusters_holding(clusters: Sequence[Cluster], quote: Quote) -> list[Cluster]:
    return [c for c in clusters if quote.id in c.quote_ids]


def doc(doc_id: str, day: int | None = None, outlet: str | None = None) -> Document:
    published = None if day is None else datetime(2024, 3, day, tzinfo=UTC)
    return Document(doc_id, f"{doc_id}.txt", "", (), outlet=outlet, published=published)


def quote(doc_id: str, text: str, speaker: str | None = PESKOV, *, partial: bool = False) -> Quote:
    start = sum(map(ord, text)) % 10_000  # any offset; the id only has to be distinct
    return Quote(doc_id, start, start + len(text), text, speaker, partial=partial)


HARVEST = "The harvest this autumn was the best our farmers have seen in a decade"
EXPORTS = "Grain exports will double before the end of next year thanks to new ports"
PRICES = "Bread prices in the capital should fall by spring without any subsidy"


# ---- the seeds ----------------------------------------------------------------------


def test_the_seeds_make_three_clusters() -> None:
    clusters = find_overlaps(SEED_QUOTES, DOCS)
    assert {c.canonical_quote_id for c in clusters} == {
        WHOLE_000.id,
        ATMOSPHERE_000.id,
        NOT_POSSIBLE_000.id,
    }


def test_the_long_quote_printed_twice_absorbs_its_two_pieces() -> None:
    cluster = cluster_with(find_overlaps(SEED_QUOTES, DOCS), WHOLE_000)
    assert relations(cluster) == {
        WHOLE_000.id: Relation.VERBATIM,
        WHOLE_002.id: Relation.VERBATIM,
        PHENOMENAL_001.id: Relation.FRAGMENT,
        BASIS_001.id: Relation.FRAGMENT,
        PARTIAL_000.id: Relation.FRAGMENT,
    }
    assert cluster.members[0].quote_id == WHOLE_000.id  # canonical first
    assert cluster.canonical_text == WHOLE_000.text
    assert cluster.speaker == PESKOV
    assert cluster.outlets == (
        "Reuters",
        DOCS["seed002"].label,  # no outlet or title: still named
        "Trump: Russia’s Chance for Friendship?",  # no date: last
    )
    assert cluster.earliest_doc_id == "seed000"
    assert cluster.first_seen == datetime(2016, 11, 10, 20, 0, tzinfo=UTC)
    basis = cluster.member(BASIS_001.id)
    assert basis is not None and basis.score == 100.0 and not basis.near
    assert basis.aligned_span is not None
    start, end = basis.aligned_span
    assert WHOLE_000.text[start:end] == BASIS
    assert basis.diff is None  # printed word for word


def test_the_partial_quote_joins_as_a_near_fragment() -> None:
    cluster = cluster_with(find_overlaps(SEED_QUOTES, DOCS), WHOLE_000)
    partial = cluster.member(PARTIAL_000.id)
    assert partial is not None
    assert partial.relation is Relation.FRAGMENT and partial.near
    assert 70 <= partial.score < 90
    assert partial.diff == "[-phenomenal how-]{+phenomenally+} close"
    assert partial.aligned_span is not None
    start, end = partial.aligned_span
    assert WHOLE_000.text[start:end] == "phenomenal how close"


def test_the_merged_quote_belongs_to_both_statements_it_merges() -> None:
    clusters = find_overlaps(SEED_QUOTES, DOCS)
    atmosphere = cluster_with(clusters, ATMOSPHERE_000)
    not_possible = cluster_with(clusters, NOT_POSSIBLE_000)
    assert relations(atmosphere) == {
        ATMOSPHERE_000.id: Relation.VERBATIM,
        ATMOSPHERE_002.id: Relation.VERBATIM,
        MERGED_001.id: Relation.MERGED,
    }
    assert relations(not_possible) == {
        NOT_POSSIBLE_000.id: Relation.VERBATIM,
        NOT_POSSIBLE_002.id: Relation.VERBATIM,  # "It's" and "It’s" are the same
        MERGED_001.id: Relation.MERGED,
    }
    in_atmosphere, in_not_possible = (
        atmosphere.member(MERGED_001.id),
        not_possible.member(MERGED_001.id),
    )
    assert in_atmosphere is not None and in_not_possible is not None
    assert in_atmosphere.aligned_span is not None and in_not_possible.aligned_span is not None
    assert MERGED_001.text[slice(*in_atmosphere.aligned_span)] == ATMOSPHERE
    assert MERGED_001.text[slice(*in_not_possible.aligned_span)] == f"It’s {NOT_POSSIBLE}"
    assert in_atmosphere.diff is None and in_not_possible.diff is None


def test_the_partial_quote_is_in_exactly_one_cluster() -> None:
    clusters = find_overlaps(SEED_QUOTES, DOCS)
    assert len(clusters_holding(clusters, PARTIAL_000)) == 1


def test_different_statements_stay_apart() -> None:
    engine = OverlapEngine()
    engine.add(SEED_QUOTES)
    clusters = engine.clusters(DOCS)
    for loner in (PRINCIPLES_000, INTERESTS_002, FLEXIBLE_002, RESET_001):
        assert clusters_holding(clusters, loner) == []
        assert engine.component(loner.id) == {loner.id}
    # Sharing "foreign policy" or "the US" is not sharing a statement.
    assert compare_quotes(PRINCIPLES_000, WHOLE_000) is None
    assert compare_quotes(FLEXIBLE_002, INTERESTS_002) is None


def test_sharing_a_common_phrase_is_not_a_link() -> None:
    first = quote("a", "Trade has collapsed in the last few years because of sanctions")
    second = quote("b", "Nobody has visited the museum in the last few years at all")
    assert compare_quotes(first, second) is None
    assert find_overlaps([first, second, NOT_POSSIBLE_000], {}) == ()


# ---- the support rule ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("whole", "parts", "merged"),
    [
        (2, [1, 1], False),  # seed "phenomenal": the whole is the statement
        (1, [2, 2], True),  # seed "atmosphere": the parts are the statements
        (1, [1, 1], True),  # a tie goes to the parts
        (2, [2, 1], True),
        (3, [2, 2], False),
    ],
)
def test_support_rule(whole: int, parts: list[int], merged: bool) -> None:
    assert is_merged(whole, parts) is merged


def test_on_a_tie_each_part_keeps_its_own_cluster() -> None:
    whole = quote("x", f"{HARVEST}. {EXPORTS}.")
    harvest, exports = quote("y", f"{HARVEST}."), quote("y", f"{EXPORTS}.")
    clusters = find_overlaps([whole, harvest, exports], {})
    assert sorted(c.canonical_quote_id for c in clusters) == sorted([harvest.id, exports.id])
    for cluster in clusters:
        assert cluster.member(whole.id) is not None
        assert relations(cluster)[whole.id] is Relation.MERGED


def test_a_whole_printed_more_often_than_its_parts_absorbs_them() -> None:
    wholes = [quote(d, f"{HARVEST}. {EXPORTS}.") for d in ("x", "z")]
    harvest, exports = quote("y", f"{HARVEST}."), quote("y", f"{EXPORTS}.")
    (cluster,) = find_overlaps([*wholes, harvest, exports], {})
    assert cluster.canonical_quote_id == wholes[0].id
    assert relations(cluster)[harvest.id] is Relation.FRAGMENT
    assert relations(cluster)[exports.id] is Relation.FRAGMENT


def test_a_quote_merging_three_statements_is_in_three_clusters() -> None:
    whole = quote("x", f"{HARVEST}. {EXPORTS}. {PRICES}.")
    parts = [quote(d, f"{part}.") for part in (HARVEST, EXPORTS, PRICES) for d in ("y", "z")]
    clusters = find_overlaps([whole, *parts], {})
    assert len(clusters) == 3
    for cluster in clusters:
        member = cluster.member(whole.id)
        assert member is not None and member.relation is Relation.MERGED
        assert member.aligned_span is not None
        assert whole.text[slice(*member.aligned_span)] == cluster.canonical_text.rstrip(".")


def test_overlapping_excerpts_are_fragments_not_merged_parts() -> None:
    words = f"{HARVEST} and {EXPORTS}".split()
    whole = quote("x", " ".join(words))
    head = quote("y", " ".join(words[: len(words) * 2 // 3]))
    tail = quote("z", " ".join(words[len(words) // 3 :]))
    (cluster,) = find_overlaps([whole, head, tail], {})
    assert relations(cluster) == {
        whole.id: Relation.VERBATIM,
        head.id: Relation.FRAGMENT,
        tail.id: Relation.FRAGMENT,
    }


# ---- links --------------------------------------------------------------------------


def test_a_changed_word_is_an_edited_variant_with_a_diff() -> None:
    months = quote("c", "An atmosphere of mutual trust takes months to achieve")
    clusters = find_overlaps([ATMOSPHERE_000, ATMOSPHERE_002, months], DOCS)
    (cluster,) = clusters
    member = cluster.member(months.id)
    assert member is not None and member.relation is Relation.EDITED
    assert 85 <= member.score < 100
    assert member.diff == "... trust takes [-years-]{+months+} to achieve"
    assert cluster.differences == ((months.id, member.diff),)


def test_its_and_it_is_are_an_edited_variant() -> None:
    it_is = quote("c", f"It is {NOT_POSSIBLE}.")
    (cluster,) = find_overlaps([NOT_POSSIBLE_000, NOT_POSSIBLE_002, it_is], DOCS)
    member = cluster.member(it_is.id)
    assert member is not None and member.relation is Relation.EDITED
    assert member.diff == "[-It’s-]{+It is+} not possible ..."
    verbatim = cluster.member(NOT_POSSIBLE_002.id)
    assert verbatim is not None and verbatim.relation is Relation.VERBATIM
    assert verbatim.diff is None


def test_a_fragment_link_reports_its_span_in_the_longer_quote() -> None:
    link = compare_quotes(BASIS_001, WHOLE_000)
    assert link is not None and link.relation is Relation.FRAGMENT
    assert (link.a, link.b) == (BASIS_001.id, WHOLE_000.id)
    assert link.span is not None
    start, end = normalize(WHOLE_000.text).original_span(*link.span)
    assert WHOLE_000.text[start:end] == BASIS


def test_a_fragment_needs_two_content_words() -> None:
    assert compare_quotes(quote("c", "of mutual"), ATMOSPHERE_000) is None
    assert compare_quotes(quote("c", "the US"), FLEXIBLE_002) is None
    link = compare_quotes(quote("c", "mutual trust"), ATMOSPHERE_000)
    assert link is not None and link.relation is Relation.FRAGMENT


def test_one_word_quotes_never_cluster() -> None:
    resets = [quote(d, "reset", None) for d in ("a", "b", "c")]
    assert find_overlaps([*resets, RESET_001], {}) == ()


def test_a_partial_quote_never_makes_a_cluster_of_its_own() -> None:
    partials = [quote(d, "phenomenally close", partial=True) for d in ("a", "b")]
    assert find_overlaps([*partials, PARTIAL_000], {}) == ()
    # With one full quote beside it, there is still only one document printing a statement.
    assert find_overlaps([PARTIAL_000, PHENOMENAL_001], DOCS) == ()


def test_a_partial_quote_never_pulls_two_clusters_together() -> None:
    trade = [quote(d, "They are phenomenally close on trade and that matters a lot") for d in "ab"]
    partial = quote("c", "phenomenally close", partial=True)
    clusters = find_overlaps([*trade, WHOLE_000, WHOLE_002, partial], DOCS)
    assert len(clusters) == 2
    (holder,) = clusters_holding(clusters, partial)
    assert holder.canonical_quote_id == trade[0].id  # the word-for-word match wins
    member = holder.member(partial.id)
    assert member is not None and member.relation is Relation.FRAGMENT and not member.near


def test_a_partial_quote_prefers_a_cluster_to_a_statement_printed_once() -> None:
    once = quote("a", "They are phenomenally close on trade and that matters a lot")
    partial = quote("c", "phenomenally close", partial=True)
    clusters = find_overlaps([once, WHOLE_000, WHOLE_002, partial], DOCS)
    (holder,) = clusters_holding(clusters, partial)
    assert holder.canonical_quote_id == WHOLE_000.id


def test_one_document_is_not_an_overlap_but_its_links_are_kept() -> None:
    again = Quote(WHOLE_000.doc_id, 9_999, 10_000, WHOLE_000.text, PESKOV)
    engine = OverlapEngine()
    links = engine.add([WHOLE_000, again])
    assert [link.relation for link in links] == [Relation.VERBATIM]
    assert engine.clusters(DOCS) == ()


# ---- cluster details ----------------------------------------------------------------


def test_canonical_is_the_wording_most_outlets_printed() -> None:
    documents = {"x": doc("x", 1), "y": doc("y", 2), "z": doc("z", 3)}
    odd = quote("x", "An atmosphere of mutual trust takes many years to achieve")
    common = [quote(d, ATMOSPHERE) for d in ("z", "y")]
    (cluster,) = find_overlaps([odd, *common], documents)
    assert cluster.canonical_quote_id == common[1].id  # "y", the earlier of the two
    assert cluster.earliest_doc_id == "x"  # the statement itself was first seen in x
    assert cluster.first_seen == datetime(2024, 3, 1, tzinfo=UTC)
    assert cluster.outlets == ("x.txt", "y.txt", "z.txt")


LAVROV = "Sergei Lavrov"


@pytest.mark.parametrize(
    ("speakers", "expected", "disputed"),
    [
        ([PESKOV, None, PESKOV], PESKOV, ()),
        ([None, None], None, ()),
        # Two people named for the same words: shown as disputed, never voted on.
        ([PESKOV, None, LAVROV, LAVROV], None, (LAVROV, PESKOV)),
        ([PESKOV, LAVROV], None, (PESKOV, LAVROV)),
        # The Kremlin and its spokesman, printed as "Kremlin spokesman": one voice.
        ([None, "Kremlin", f"{PESKOV}|Kremlin spokesman"], PESKOV, ()),
        # Without a role to say so, a body and a person are two names.
        (["Kremlin", PESKOV], None, (PESKOV, "Kremlin")),  # as often named: by name
    ],
)
def test_the_speaker_is_who_every_document_names(
    speakers: list[str | None], expected: str | None, disputed: tuple[str, ...]
) -> None:
    documents = {f"d{i}": doc(f"d{i}", i + 1) for i in range(len(speakers))}
    quotes = []
    for i, printed in enumerate(speakers):
        speaker, _, role = (printed or "").partition("|")
        found = quote(f"d{i}", ATMOSPHERE, speaker or None)
        quotes.append(replace(found, speaker_role=role or None))
    (cluster,) = find_overlaps(quotes, documents)
    assert cluster.canonical_quote_id == quotes[0].id
    assert cluster.speaker == expected
    assert cluster.disputed_speakers == disputed
    assert [m.speaker for m in cluster.members if m.quote_id == quotes[0].id] == [quotes[0].speaker]


def test_clusters_do_not_depend_on_input_order() -> None:
    extra = [quote("c", "An atmosphere of mutual trust takes months to achieve")]
    first = find_overlaps([*SEED_QUOTES, *extra], DOCS)
    shuffled = [*SEED_QUOTES, *extra]
    for seed in range(3):
        random.Random(seed).shuffle(shuffled)
        assert find_overlaps(shuffled, DOCS) == first
    assert [c.id for c in find_overlaps(SEED_QUOTES, DOCS)] == [
        c.id for c in find_overlaps(SEED_QUOTES, DOCS)
    ]


def test_incremental_adds_give_the_batch_clusters() -> None:
    engine = OverlapEngine()
    by_doc: dict[str, list[Quote]] = {}
    for q in SEED_QUOTES:
        by_doc.setdefault(q.doc_id, []).append(q)
    for doc_id in ("seed002", "seed001", "seed000"):
        engine.add(by_doc[doc_id])
    assert engine.add(SEED_QUOTES) == ()  # known quotes are skipped
    assert engine.clusters(DOCS) == find_overlaps(SEED_QUOTES, DOCS)


def test_clusters_can_be_recomputed_for_the_touched_components_only() -> None:
    engine = OverlapEngine()
    engine.add([q for q in SEED_QUOTES if q.doc_id != "seed001"])
    new = [q for q in SEED_QUOTES if q.doc_id == "seed001"]
    links = engine.add(new)
    assert {link.a for link in links} | {link.b for link in links} >= {
        PHENOMENAL_001.id,
        MERGED_001.id,
    }
    touched = engine.clusters(DOCS, touching=[q.id for q in new])
    assert touched == engine.clusters(DOCS)  # every seed cluster holds a seed001 quote
    assert engine.clusters(DOCS, touching=[RESET_001.id, PRINCIPLES_000.id]) == ()


def test_word_diff_ignores_case_and_punctuation() -> None:
    assert word_diff("An atmosphere, of TRUST!", "an atmosphere of trust") is None
    assert word_diff("alpha beta gamma delta epsilon", "alpha beta gamma delta zeta") == (
        "... gamma delta [-epsilon-]{+zeta+}"
    )
    assert word_diff("one two three", "one two four") == "one two [-three-]{+four+}"


# ---- the index ----------------------------------------------------------------------


def test_shingles_are_stable_and_ignore_stop_words() -> None:
    assert shingles(("mutual", "trust")) == (7371601824060594467,)
    assert text_shingles(normalize_text("It’s not possible to just declare it")) == (
        text_shingles(normalize_text("It is not possible to just declare it"))
    )
    assert text_shingles(normalize_text("the US")) == ()


def test_stop_shingles_are_ignored() -> None:
    index = InMemoryShingleIndex(stop_postings=3)
    common = shingles(("foreign", "policy"))
    for quote_id in (1, 2):
        index.add(quote_id, common)
    assert index.candidates(common) == {1: 1, 2: 1}
    index.add(3, common)
    assert index.candidates(common) == {}


def test_reprints_still_cluster_when_their_shingles_are_stop_shingles() -> None:
    engine = OverlapEngine(index=InMemoryShingleIndex(stop_postings=2))
    reprints = [quote(d, ATMOSPHERE) for d in "abcde"]
    engine.add(reprints)
    (cluster,) = engine.clusters({})
    assert set(cluster.quote_ids) == {q.id for q in reprints}


class DictShingleIndex:
    """Another ShingleIndex, as a store would provide one."""

    def __init__(self) -> None:
        self.postings: dict[int, list[int]] = {}

    def add(self, quote_id: int, shingles: Collection[int]) -> None:
        for shingle in shingles:
            self.postings.setdefault(shingle, []).append(quote_id)

    def candidates(self, shingles: Collection[int]) -> dict[int, int]:
        shared: dict[int, int] = {}
        for shingle in shingles:
            for quote_id in self.postings.get(shingle, ()):
                shared[quote_id] = shared.get(quote_id, 0) + 1
        return shared


def test_the_candidate_index_can_be_replaced() -> None:
    index = DictShingleIndex()
    engine = OverlapEngine(index=index)
    engine.add(SEED_QUOTES)
    assert index.postings  # the engine did use it
    assert engine.clusters(DOCS) == find_overlaps(SEED_QUOTES, DOCS)


# ---- statements that only look alike --------------------------------------------------

READY = "We are ready to talk to the United States about strategic stability"
NOT_READY = "We are not ready to talk to the United States about Ukraine"
SANCTIONS = "The United States must understand that sanctions will not work"


def test_the_opposite_statement_is_no_fragment_of_the_first() -> None:
    ready = [quote(d, READY) for d in "ab"]
    not_ready = quote("a", NOT_READY)
    assert compare_quotes(not_ready, ready[0]) is None
    clusters = find_overlaps([*ready, not_ready], {})
    assert [c.quote_ids for c in clusters] == [tuple(q.id for q in ready)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("We will pay the bill in full this year", "We will not pay the bill in full this year"),
        ("Russia is ready for a ceasefire now", "Russia is never ready for a ceasefire now"),
        ("They can win the war this year", "They can't win the war this year"),
    ],
)
def test_a_negation_blocks_an_edited_link(first: str, second: str) -> None:
    assert compare_quotes(quote("a", first), quote("b", second)) is None


def test_a_fragment_really_is_contained() -> None:
    long = quote("a", READY)
    assert (link := compare_quotes(quote("b", "We are ready to talk to the United States"), long))
    assert link.relation is Relation.FRAGMENT
    # Most of it aligns, but "Ukraine" is nowhere in the long quote.
    assert (
        compare_quotes(quote("b", "We are ready to talk to the United States about Ukraine"), long)
        is None
    )


def test_two_speakers_link_only_word_for_word() -> None:
    lavrov = quote("a", SANCTIONS, "Sergei Lavrov")
    never = quote("b", SANCTIONS.replace("not", "never"), PESKOV)
    same = quote("c", SANCTIONS, PESKOV)
    its = quote("d", SANCTIONS.replace("must", "must,"), PESKOV)
    assert compare_quotes(lavrov, never) is None  # one word apart, two people: not linked
    assert (link := compare_quotes(lavrov, same)) and link.relation is Relation.VERBATIM
    assert (link := compare_quotes(lavrov, its)) and link.relation is Relation.VERBATIM
    assert (link := compare_quotes(same, never)) and link.relation is Relation.EDITED


def test_the_same_words_under_two_names_show_the_dispute_whatever_the_order() -> None:
    documents = {d: doc(d, n) for n, d in enumerate("abc", start=1)}
    quotes = [
        quote("a", SANCTIONS, "Sergei Lavrov"),
        quote("b", SANCTIONS.replace("not", "never"), PESKOV),
        quote("c", SANCTIONS, PESKOV),
    ]
    expected = None
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        engine = OverlapEngine()
        for i in order:  # one at a time: the same words under another name still link
            engine.add([quotes[i]])
        (cluster,) = engine.clusters(documents)
        assert cluster.speaker is None
        assert cluster.disputed_speakers == (PESKOV, "Sergei Lavrov")
        assert {m.quote_id: m.speaker for m in cluster.members} == {q.id: q.speaker for q in quotes}
        expected = expected or cluster
        assert cluster == expected


def test_a_partial_quote_joins_only_in_a_voice_the_cluster_names() -> None:
    whole = [quote(d, f"{PHENOMENAL}. {BASIS}") for d in "ab"]
    by_lavrov = quote("c", "phenomenally close", "Sergei Lavrov", partial=True)
    by_kremlin = quote("c", "phenomenally close", "Kremlin", partial=True)
    assert clusters_holding(find_overlaps([*whole, by_lavrov], {}), by_lavrov) == []
    assert clusters_holding(find_overlaps([*whole, by_kremlin], {}), by_kremlin) == []
    spokesman = replace(whole[1], speaker_role="Kremlin spokesman")
    (holder,) = clusters_holding(find_overlaps([whole[0], spokesman, by_kremlin], {}), by_kremlin)
    assert holder.speaker == PESKOV


# ---- prepared elsewhere ---------------------------------------------------------------


def test_quotes_prepared_elsewhere_link_as_if_prepared_by_the_engine() -> None:
    by_itself, given = OverlapEngine(), OverlapEngine()
    prepared = {q.id: prepare(q) for q in SEED_QUOTES}
    assert by_itself.add(SEED_QUOTES) == given.add(SEED_QUOTES, prepared=prepared)
    assert given.prepared(prepared) == list(prepared.values())


# ---- partial quotes ------------------------------------------------------------------


def test_a_statement_quoted_in_part_word_for_word_elsewhere_is_repeated() -> None:
    whole = quote("a", f"{HARVEST}, and {EXPORTS}")
    part = quote("b", "the best our farmers have seen in a decade", partial=True)
    (cluster,) = find_overlaps([whole, part], {"a": doc("a", 1), "b": doc("b", 2)})
    assert relations(cluster) == {whole.id: Relation.VERBATIM, part.id: Relation.FRAGMENT}


def test_a_near_partial_quote_alone_does_not_make_a_statement_repeated() -> None:
    whole = quote("a", "It is phenomenal how close the two programmes are on foreign policy")
    near = quote("b", "phenomenally close", partial=True)
    assert compare_quotes(near, whole) is not None  # they do match, only nearly
    assert find_overlaps([whole, near], {"a": doc("a", 1), "b": doc("b", 2)}) == ()
