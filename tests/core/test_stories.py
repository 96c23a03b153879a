"""Stories: grouping by shared quote clusters and text similarity, batch and incremental."""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.article import KnownFields, read_article
from bot.core.documents import Document
from bot.core.stories import (
    Story,
    StoryIndex,
    StoryMember,
    StorySettings,
    TermVector,
    group_stories,
    sharing_documents,
)
from bot.core.summaries import body_terms, content_terms, summarise
from bot.sources.files import load_path

ARTICLES = Path(__file__).resolve().parents[1] / "articles"

# Another outlet's light rewrite of seed 000: reordered clauses, other verbs, two
# paragraphs dropped.
REWRITE_OF_000 = """Kremlin sees Trump's foreign policy as close to Putin's

MOSCOW – The Kremlin said on Thursday that U.S. President-elect Donald Trump's approach to \
foreign policy was "phenomenally close" to that of President Vladimir Putin, which gave Moscow \
hope that battered U.S.-Russia relations could be gradually improved.

Kremlin spokesman Dmitry Peskov, who was speaking in New York, said he saw incredible \
similarities between the foreign policy ideas of the two men, which meant there was a solid \
basis for starting a meaningful dialogue between Moscow and Washington.

Peskov, who is in the United States for a chess tournament, said he had been struck by how \
similar parts of Trump's victory speech were to a speech that Putin gave in southern Russia \
last month.

"It is phenomenal how close they are to one another when it comes to their conceptual \
approach to foreign policy," Peskov said in comments broadcast by Russian state television \
on Thursday evening.

With Moscow and Washington at odds over Syria, Ukraine and NATO, Peskov cautioned that it \
would take a long time for relations to return to a high level because of how far they had \
deteriorated.

"An atmosphere of mutual trust takes years to achieve," he said.
"""


def on(day: int, month: int = 11, year: int = 2016) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeds(seed_documents: dict[str, Document]) -> dict[str, Document]:
    """Seed documents by their number: "000" … "004"."""
    return {name[:3]: document for name, document in seed_documents.items()}


@pytest.fixture(scope="module")
def seed_clusters(seeds: dict[str, Document]) -> dict[str, set[str]]:
    """Built by hand from the seeds: 000, 001 and 002 all print Peskov's "phenomenal how
    close" and "atmosphere of mutual trust" statements; 002 and 000 also share the
    "flexible policy" remarks only in paraphrase, so no cluster for that."""
    return {
        seeds[n].id: {"peskov-phenomenal-how-close", "peskov-atmosphere-of-mutual-trust"}
        for n in ("000", "001", "002")
    }


@pytest.fixture(scope="module")
def rewrite() -> Document:
    return read_article(
        REWRITE_OF_000,
        source="rewrite.txt",
        known=KnownFields(outlet="Daily Wire", published=on(11)),
    )


@pytest.fixture(scope="module")
def articles() -> list[Document]:
    return list(load_path(ARTICLES).documents)


def ids(stories: tuple[Story, ...]) -> list[set[str]]:
    return [set(s.doc_ids) for s in stories]


# --- batch ------------------------------------------------------------------------------


def test_seeds_make_three_stories(
    seeds: dict[str, Document], seed_clusters: dict[str, set[str]]
) -> None:
    stories = group_stories(list(seeds.values()), seed_clusters)
    assert ids(stories) == [
        {seeds["004"].id},  # 6 Nov 2016, the pre-election analysis
        {seeds["000"].id, seeds["001"].id, seeds["002"].id},  # from 10 Nov 2016
        {seeds["003"].id},  # March 2025
    ]
    kremlin = stories[1]
    assert kremlin.id == f"story-{seeds['000'].id}"
    assert kremlin.doc_ids == (seeds["000"].id, seeds["002"].id, seeds["001"].id)  # by date
    assert kremlin.first_seen == on(10)
    assert kremlin.headline == "Trump’s Foreign Policy Approach Almost The Same As Putin’s"
    assert kremlin.outlets == tuple(seeds[n].label for n in ("000", "002", "001"))
    assert stories[2].first_seen == on(3, 3, 2025)
    assert stories[2].headline == seeds["003"].title


def test_story_ids_and_order_survive_another_input_order(
    seeds: dict[str, Document], seed_clusters: dict[str, set[str]]
) -> None:
    forward = group_stories(list(seeds.values()), seed_clusters)
    backward = group_stories(list(reversed(seeds.values())), seed_clusters)
    assert forward == backward


def test_without_clusters_001_stands_apart_from_the_event_it_discusses(
    seeds: dict[str, Document],
) -> None:
    """001 is eight days after 000 and shares no rewrite with it: only its quotes tie it."""
    stories = group_stories(list(seeds.values()))
    assert {seeds["001"].id} in ids(stories)
    # 000 and 002 report the same remarks the next day in much the same words.
    assert {seeds["000"].id, seeds["002"].id} in ids(stories)


def test_a_near_identical_rewrite_joins_by_text_alone(
    seeds: dict[str, Document], rewrite: Document
) -> None:
    stories = group_stories([seeds["000"], rewrite, seeds["003"], seeds["004"]])
    assert {seeds["000"].id, rewrite.id} in ids(stories)
    assert len(stories) == 3


def test_a_rewrite_weeks_later_does_not_join_by_text(
    seeds: dict[str, Document], rewrite: Document
) -> None:
    late = replace(rewrite, published=on(10) + timedelta(days=20))
    assert len(group_stories([seeds["000"], late])) == 2


def test_004_is_not_grouped_with_000_even_when_dated_the_same_day(
    seeds: dict[str, Document],
) -> None:
    same_day = replace(seeds["004"], published=seeds["000"].published)
    assert len(group_stories([seeds["000"], same_day])) == 2
    # Nor does a looser threshold that still separates the seeds join them.
    assert len(group_stories([seeds["000"], same_day], settings=StorySettings(0.3))) == 2


def test_undated_documents_join_only_as_near_duplicates_or_by_clusters(
    seeds: dict[str, Document], rewrite: Document
) -> None:
    undated_rewrite = replace(rewrite, published=None)
    assert len(group_stories([seeds["000"], undated_rewrite])) == 2
    copy = read_article(
        seeds["000"].text.replace("Andrew Osborn", "Staff").replace("incredible", "striking"),
        source="copy.txt",
    )
    assert copy.published is None and copy.id != seeds["000"].id
    assert len(group_stories([seeds["000"], copy])) == 1
    clusters = {seeds["000"].id: {"c"}, undated_rewrite.id: {"c"}}
    assert len(group_stories([seeds["000"], undated_rewrite], clusters)) == 1


def test_a_statement_requoted_years_later_does_not_merge_stories(
    seeds: dict[str, Document], seed_clusters: dict[str, set[str]]
) -> None:
    clusters = {**seed_clusters, seeds["003"].id: {"peskov-phenomenal-how-close"}}
    stories = group_stories(list(seeds.values()), clusters)
    assert {seeds["003"].id} in ids(stories)
    assert len(stories) == 3


def test_the_headline_of_untitled_documents_is_their_best_summary_sentence(
    seeds: dict[str, Document],
) -> None:
    untitled = seeds["002"]
    assert untitled.title is None
    (story,) = group_stories([untitled])
    assert story.headline == summarise(untitled).sentences[0].text
    assert story.outlets == (untitled.label,)


def test_duplicate_documents_count_once(seeds: dict[str, Document]) -> None:
    (story,) = group_stories([seeds["003"], seeds["003"]])
    assert story.doc_ids == (seeds["003"].id,)


def test_sharing_documents(seeds: dict[str, Document], seed_clusters: dict[str, set[str]]) -> None:
    assert sharing_documents(seeds["001"].id, seed_clusters) == {seeds["000"].id, seeds["002"].id}
    assert sharing_documents(seeds["003"].id, seed_clusters) == set()


# --- incremental ----------------------------------------------------------------------------


def test_adding_one_at_a_time_in_any_order_matches_the_batch(
    seeds: dict[str, Document],
    seed_clusters: dict[str, set[str]],
    rewrite: Document,
    articles: list[Document],
) -> None:
    documents = [*seeds.values(), rewrite, *articles]
    batch = group_stories(documents, seed_clusters)
    assert len(batch) == len(documents) - 3  # 000+001+002+rewrite are one story
    orders = [documents, list(reversed(documents))]
    for seed in range(4):
        shuffled = documents[:]
        random.Random(seed).shuffle(shuffled)
        orders.append(shuffled)
    for order in orders:
        index = StoryIndex()
        for document in order:
            story = index.add(document, shared_with=sharing_documents(document.id, seed_clusters))
            assert document.id in story.doc_ids
        assert index.stories() == batch, [d.source for d in order]
        assert len(index) == len(documents)


def test_term_vectors_dropped_from_the_cache_are_read_again(
    seeds: dict[str, Document], rewrite: Document, articles: list[Document]
) -> None:
    documents = [*seeds.values(), rewrite, *articles]
    by_id = {d.id: d for d in documents}
    loaded: list[str] = []

    def load(ids: Collection[str]) -> dict[str, Document]:
        loaded.extend(ids)
        return {doc_id: by_id[doc_id] for doc_id in ids}

    index = StoryIndex(load_documents=load, cache_size=1)
    for document in documents:
        index.add(document)
    assert index.stories() == group_stories(documents)
    assert loaded  # the neighbours' vectors were gone and came back from the archive


def test_a_restored_index_keeps_stories_and_links_new_documents(
    seeds: dict[str, Document], seed_clusters: dict[str, set[str]]
) -> None:
    first = StoryIndex()
    for key in ("000", "001", "003"):
        first.add(seeds[key], shared_with=sharing_documents(seeds[key].id, seed_clusters))
    by_id = {d.id: d for d in seeds.values()}
    restored = StoryIndex(load_documents=lambda ids: {d: by_id[d] for d in ids})
    for story in first.stories():
        for doc_id in story.doc_ids:
            restored.restore(StoryMember.of(by_id[doc_id]), story.id)
    assert restored.stories() == first.stories()
    new = seeds["002"]
    joined = restored.add(new, shared_with=sharing_documents(new.id, seed_clusters))
    assert set(joined.doc_ids) == {seeds[k].id for k in ("000", "001", "002")}


def test_a_link_found_later_merges_two_stories(
    seeds: dict[str, Document], seed_clusters: dict[str, set[str]]
) -> None:
    index = StoryIndex()
    index.add(seeds["001"])
    first = index.add(seeds["000"])
    assert first.doc_ids == (seeds["000"].id,)  # eight days apart, no cluster known yet
    # The overlap engine clusters the shared quote afterwards; adding again records it.
    merged = index.add(seeds["001"], shared_with={seeds["000"].id})
    assert merged.doc_ids == (seeds["000"].id, seeds["001"].id)
    assert merged.id == first.id
    assert index.story_of(seeds["000"].id) == merged
    assert len(index) == 2
    assert seeds["001"].id in index and seeds["003"].id not in index
    assert index.stories() == group_stories(
        [seeds["000"], seeds["001"]],
        {d: seed_clusters[d] for d in (seeds["000"].id, seeds["001"].id)},
    )


def test_adding_a_document_again_changes_nothing(seeds: dict[str, Document]) -> None:
    index = StoryIndex()
    story = index.add(seeds["003"])
    assert index.add(seeds["003"]) == story
    assert index.stories() == (story,)


def test_links_to_documents_not_added_yet_wait_for_them(
    seeds: dict[str, Document],
) -> None:
    index = StoryIndex()
    alone = index.add(seeds["001"], shared_with={seeds["000"].id})
    assert alone.doc_ids == (seeds["001"].id,)
    joined = index.add(seeds["000"], shared_with={seeds["001"].id})
    assert set(joined.doc_ids) == {seeds["000"].id, seeds["001"].id}


# --- term vectors ---------------------------------------------------------------------------


def test_a_term_vector_from_the_body_terms_is_the_vector_of_the_body(
    seeds: dict[str, Document],
) -> None:
    for document in seeds.values():
        vector = TermVector.of(document.body)
        assert TermVector.of_terms(content_terms(document.body)) == vector
        assert TermVector.of_terms(body_terms(document).words) == vector
        assert list(vector.ids) == sorted(vector.ids)


def test_a_term_vector_weighs_words_and_word_pairs_by_their_counts() -> None:
    # talk ×2, resume ×2, "talk resume" ×2, "resume talk" ×1: 1 + ln 2 is 1.693
    vector = TermVector.of_terms(["talk", "resume", "talk", "resume"])
    assert sorted(vector.weights.tolist()) == [1000, 1693, 1693, 1693]
    assert vector.norm == pytest.approx((1000**2 + 3 * 1693**2) ** 0.5)
    assert TermVector.of_terms([]).norm == 0.0
