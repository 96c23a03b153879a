"""Choosing what a digest says, from plain facts: windows, repeats, stories, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.digest import (
    ClusterFacts,
    Digest,
    DocFacts,
    Sighting,
    StoryFacts,
    matches_topic,
    select_digest,
)
from bot.core.quotes import Quote

START = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
END = START + timedelta(days=1)
BEFORE = START - timedelta(hours=5)
DURING = START + timedelta(hours=5)
AFTER = END + timedelta(hours=5)


def doc(doc_id: str, at: datetime, *, label: str = "", title: str = "", body: str = "") -> DocFacts:
    return DocFacts(
        id=doc_id,
        label=label or doc_id,
        url=None,
        title=title or None,
        ingested_at=at,
        published=None,
        story_id=None,
        summary="",
        searchable=f"{title} {body}",
    )


def quote(doc_id: str, start: int, text: str, speaker: str | None) -> Quote:
    return Quote(doc_id, start, start + len(text), text, speaker)


def sighting(q: Quote, docs: dict[str, DocFacts]) -> Sighting:
    d = docs[q.doc_id]
    return Sighting(q.id, d.id, d.label, d.ingested_at)


def choose(
    docs: dict[str, DocFacts],
    quotes: list[Quote],
    *,
    clusters: tuple[ClusterFacts, ...] = (),
    stories: tuple[StoryFacts, ...] = (),
    speakers: frozenset[str] | None = None,
    topics: tuple[str, ...] = (),
    start: datetime | None = START,
) -> Digest:
    new_docs = {
        k: d
        for k, d in docs.items()
        if (start is None or d.ingested_at > start) and d.ingested_at <= END
    }
    return select_digest(
        window_start=start,
        window_end=END,
        new_docs=new_docs,
        new_quotes=[q for q in quotes if q.doc_id in new_docs],
        clusters=clusters,
        stories=stories,
        docs_by_id=docs,
        speakers=speakers,
        topics=topics,
    )


# A statement printed by Reuters before the window, by TASS and Reuters again in it,
# and by AP after it.
DOCS = {
    "reuters": doc("reuters", BEFORE, label="Reuters", title="Talks stall"),
    "tass": doc("tass", DURING, label="TASS", title="Kremlin on talks", body="Ukraine talks"),
    "reuters2": doc("reuters2", DURING, label="Reuters", title="Talks, day two"),
    "ap": doc("ap", AFTER, label="AP", title="Talks resume"),
    "other": doc("other", DURING, label="Wire", title="Markets", body="Gas prices rose"),
}
STATEMENT = "Nobody is talking about concessions"
Q = {
    "reuters": quote("reuters", 10, STATEMENT, "Dmitry Peskov"),
    "tass": quote("tass", 40, STATEMENT, "Dmitry Peskov"),
    "reuters2": quote("reuters2", 5, STATEMENT, "Dmitry Peskov"),
    "ap": quote("ap", 7, STATEMENT, "Dmitry Peskov"),
    "lavrov": quote("tass", 90, "We are ready for a dialogue of equals", "Sergei Lavrov"),
    "nobody": quote("tass", 200, "to start a dialogue", None),
    "gas": quote("other", 3, "Prices will fall by spring", "Alexander Novak"),
}
CLUSTER = ClusterFacts(
    id="c1",
    canonical_text=STATEMENT,
    speaker="Dmitry Peskov",
    first_seen=BEFORE,
    sightings=tuple(sighting(Q[k], DOCS) for k in ("reuters", "tass", "reuters2", "ap")),
)
STORY = StoryFacts("story-talks", "Talks stall", ("reuters", "tass", "reuters2", "ap"))
MARKETS = StoryFacts("story-markets", "Markets", ("other",))


def test_a_statement_newly_printed_by_more_outlets_counts_them_before_and_now() -> None:
    digest = choose(DOCS, list(Q.values()), clusters=(CLUSTER,))
    (repeated,) = digest.repeated
    assert repeated.outlets_before == ("Reuters",)
    assert repeated.outlets_now == ("Reuters", "TASS")  # AP printed it after the window
    # Its printings are not listed again among the new quotes.
    assert [q.text for q in digest.quotes] == [
        "Prices will fall by spring",
        "We are ready for a dialogue of equals",
    ]


def test_a_sighting_at_the_window_start_belongs_to_the_window_before() -> None:
    docs = {**DOCS, "tass": doc("tass", START, label="TASS")}
    sightings = tuple(
        Sighting(s.quote_id, s.doc_id, s.outlet, docs[s.doc_id].ingested_at)
        for s in CLUSTER.sightings
    )
    cluster = ClusterFacts("c1", STATEMENT, "Dmitry Peskov", BEFORE, sightings)
    digest = choose(docs, list(Q.values()), clusters=(cluster,))
    assert digest.repeated == ()  # only Reuters again in the window: no new outlet


def test_the_same_outlet_printing_again_is_not_a_repeat() -> None:
    sightings = tuple(sighting(Q[k], DOCS) for k in ("reuters", "reuters2"))
    cluster = ClusterFacts("c1", STATEMENT, "Dmitry Peskov", BEFORE, sightings)
    digest = choose(DOCS, [Q["reuters2"]], clusters=(cluster,))
    assert digest.repeated == ()
    assert [q.id for q in digest.quotes] == [Q["reuters2"].id]


def test_a_first_window_counts_every_outlet_as_new() -> None:
    digest = choose(DOCS, list(Q.values()), clusters=(CLUSTER,), start=None)
    (repeated,) = digest.repeated
    assert (repeated.outlets_before, repeated.outlets_now) == ((), ("Reuters", "TASS"))
    one_outlet = ClusterFacts("c2", STATEMENT, "Dmitry Peskov", BEFORE, CLUSTER.sightings[:1])
    assert choose(DOCS, [], clusters=(one_outlet,), start=None).repeated == ()


def test_stories_new_or_with_more_coverage() -> None:
    digest = choose(DOCS, [], stories=(STORY, MARKETS))
    assert [(s.story.id, s.is_new, s.new_doc_ids) for s in digest.stories] == [
        ("story-markets", True, ("other",)),
        ("story-talks", False, ("tass", "reuters2")),
    ]
    quiet = StoryFacts("story-quiet", "Quiet", ("reuters",))
    assert choose(DOCS, [], stories=(quiet,)).stories == ()


def test_a_story_whose_later_coverage_came_after_the_window_is_still_new() -> None:
    story = StoryFacts("story-late", "Talks", ("tass", "ap"))  # AP arrived after the window
    (news,) = choose(DOCS, [], stories=(story,)).stories
    assert (news.is_new, news.new_doc_ids) == (True, ("tass",))


def test_new_stories_come_first_then_the_widest() -> None:
    wide = StoryFacts("story-b", "Wide", ("tass", "reuters2"))
    narrow = StoryFacts("story-a", "Narrow", ("other",))
    old = StoryFacts("story-0", "Old", ("reuters", "tass", "reuters2"))
    digest = choose(DOCS, [], stories=(narrow, old, wide))
    assert [s.story.id for s in digest.stories] == ["story-b", "story-a", "story-0"]


def test_tracked_speakers_filter_quotes_and_repeats_but_not_stories() -> None:
    digest = choose(
        DOCS,
        list(Q.values()),
        clusters=(CLUSTER,),
        stories=(STORY,),
        speakers=frozenset({"Sergei Lavrov"}),
    )
    assert digest.repeated == ()
    assert [q.speaker for q in digest.quotes] == ["Sergei Lavrov"]
    assert [s.story.id for s in digest.stories] == ["story-talks"]
    everyone = choose(DOCS, list(Q.values()), speakers=None)
    assert None not in {q.speaker for q in everyone.quotes}  # unattributed words never listed


def about(*topics: str) -> Digest:
    return choose(
        DOCS, list(Q.values()), clusters=(CLUSTER,), stories=(STORY, MARKETS), topics=topics
    )


def test_topics_match_stories_by_text_and_statements_by_words_and_titles() -> None:
    # Stories match by their whole text; statements, new or repeated, by their own
    # words and the titles of the articles printing them, one rule for both.
    gas = about("GAS")
    assert [s.story.id for s in gas.stories] == ["story-markets"]  # "Gas prices" in the body
    assert gas.repeated == () and gas.quotes == ()  # Novak's words don't say gas
    ukraine = about("ukraine", "nothing")  # any one of the topics
    assert [s.story.id for s in ukraine.stories] == ["story-talks"]
    assert ukraine.repeated == () and ukraine.quotes == ()
    spring = about("SPRING")
    assert [q.speaker for q in spring.quotes] == ["Alexander Novak"]  # case-blind, own words
    talks = about("Kremlin on talks")  # the TASS title
    assert len(talks.repeated) == 1
    assert [q.speaker for q in talks.quotes] == ["Sergei Lavrov"]  # same title, not repeated
    assert about("  ") == about()


def test_a_topic_matches_word_starts_never_the_middle_of_a_word() -> None:
    # "war" is not in "towards", "aware" or "software"; it starts "wartime".
    assert not matches_topic("A step towards peace; aware of the software.", [["war"]])
    assert matches_topic("The wartime economy", [["war"]])
    assert matches_topic("The war goes on", [["war"]])
    # Every word of a topic, as /quotes … topic: does; case and accents don't count.
    assert matches_topic("Mutual TRUST takes years", [["mutu", "trust"]])
    assert not matches_topic("Mutual respect", [["mutual", "trust"]])
    assert matches_topic("Zelenskyy met Macron", [["zelenskyy"]])
    assert matches_topic("Crème brûlée for ÉLYSÉE", [["elysee"]])
    # Any one of the topics.
    assert matches_topic("Gas prices rose", [["oil"], ["gas"]])
    towards = doc("towards", DURING, title="A step towards peace", body="Both are aware")
    story = StoryFacts("story-towards", "A step towards peace", ("towards",))
    assert choose({"towards": towards}, [], stories=(story,), topics=("war",)).is_empty
    assert not choose({"towards": towards}, [], stories=(story,), topics=("toward",)).is_empty


def test_an_empty_window() -> None:
    before = CLUSTER.sightings[:1]
    cluster = ClusterFacts("c1", STATEMENT, "Dmitry Peskov", BEFORE, before)
    story = StoryFacts("story-talks", "Talks stall", ("reuters",))
    digest = choose(
        {"reuters": DOCS["reuters"]}, [Q["reuters"]], clusters=(cluster,), stories=(story,)
    )
    assert digest.is_empty
    assert (digest.window_start, digest.window_end) == (START, END)
    assert not choose(DOCS, [Q["gas"]]).is_empty
