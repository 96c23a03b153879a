"""Digests over a real archive: each window shows only what arrived in it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import messages as m
from bot.archive import Archive
from bot.core.analysis import Analysed
from bot.core.documents import Document
from bot.core.speakers import SpeakerBook
from bot.digests import DigestView, digest_reply, gather_digest
from bot.handlers import BotContext, dispatcher
from bot.render.markdown import render
from bot.reply import Item, Reply, Section
from tests.archive_fixtures import (
    ARTICLES,
    BOOK,
    SANCTIONS,
    SEEDS,
    T0,
    Clock,
    load_documents,
    open_empty_store,
    remembered_analysis,
    same_words,
    seed_archive,
    sqlite_url,
    write_article,
    write_disputed_pair,
)

ATMOSPHERE = "An atmosphere of mutual trust takes years to achieve"
NEW_QUOTE = "We will judge the new administration by its deeds, not by its words"
SEED_HEADLINE = "Trump’s Foreign Policy Approach Almost The Same As Putin’s"
COURIER_URL = "https://example.org/baltic-courier/thaw"


@dataclass(frozen=True)
class Scenario:
    """Seeds ingested at T0 and digested; a new article a day later; digested again."""

    archive: Archive
    first_digest: datetime  # end of the first window (it starts at the beginning)
    courier_ingested: datetime
    second_digest: datetime
    third_digest: datetime
    courier_id: str

    def view(
        self,
        start: datetime | None,
        end: datetime,
        *,
        speakers: frozenset[str] | None = None,
        topics: tuple[str, ...] = (),
    ) -> DigestView:
        return gather_digest(
            self.archive, window_start=start, window_end=end, speakers=speakers, topics=topics
        )

    def first(
        self, *, speakers: frozenset[str] | None = None, topics: tuple[str, ...] = ()
    ) -> Reply:
        return digest_reply(self.view(None, self.first_digest, speakers=speakers, topics=topics))

    def second(
        self, *, speakers: frozenset[str] | None = None, topics: tuple[str, ...] = ()
    ) -> Reply:
        view = self.view(self.first_digest, self.second_digest, speakers=speakers, topics=topics)
        return digest_reply(view)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    folder = tmp_path_factory.mktemp("digests")
    clock = Clock(T0)
    archive = seed_archive(sqlite_url(folder), now=clock())
    first_digest = clock.advance(hours=1)
    path = write_article(
        folder,
        "courier.md",
        title="Kremlin cautions on a quick thaw",
        outlet="Baltic Courier",
        date="2016-11-12",
        url=COURIER_URL,
        paragraphs=[
            "MOSCOW – The Kremlin on Saturday played down hopes of a rapid improvement "
            "in ties with the United States.",
            f"“{ATMOSPHERE},” Kremlin spokesman Dmitry Peskov told reporters.",
            f"“{NEW_QUOTE},” Peskov said.",
        ],
    )
    courier_ingested = clock.advance(days=1)
    (courier_id,) = archive.ingest(load_documents(path), now=courier_ingested).added
    second_digest = clock.advance(hours=1)
    third_digest = clock.advance(hours=1)
    yield Scenario(archive, first_digest, courier_ingested, second_digest, third_digest, courier_id)
    archive.store.close()


def section(reply: Reply, heading: str) -> Section:
    (found,) = [s for s in reply.sections if s.heading == heading]
    return found


def every_item(reply: Reply) -> list[Item]:
    return [i for s in reply.sections for i in s.items]


def test_the_first_digest_has_everything_so_far(scenario: Scenario) -> None:
    reply = scenario.first()
    assert reply.title == m.DIGEST_TITLE.format(window=m.DIGEST_WINDOW_ALL)
    assert [s.heading for s in reply.sections[:2]] == [m.DIGEST_NEW_STORIES, m.DIGEST_REPEATED]
    stories = section(reply, m.DIGEST_NEW_STORIES).items
    assert stories[0].text == SEED_HEADLINE  # three outlets: the widest story first
    # Digested after the courier arrived, the window still ends before it.
    assert [x.label for x in stories[0].links] == [
        "Reuters",
        "002_ae0362d15ddcecd9.txt",
        "Trump: Russia’s Chance for Friendship?",
    ]
    assert len(stories) == 3
    assert all(s.detail for s in stories)  # each with its summary
    repeated = section(reply, m.DIGEST_REPEATED).items
    assert len(repeated) == 3
    # A file name and a title are no outlets: "sources".
    assert all("now 3 sources · first seen 2016-11-10" in r.detail for r in repeated)
    assert not any("was" in r.detail for r in repeated)
    # How each printing differs, as under /overlaps.
    assert repeated[0].notes[-1] == "Reuters — a partial quote close to it: “phenomenally close”"
    assert all(r.notes for r in repeated)
    # 16 quotes of his, 9 of them printings of the three repeated statements.
    peskov = section(reply, m.DIGEST_QUOTES_BY.format(speaker="Dmitry Peskov", count=7))
    assert len(peskov.items) == 5
    # The note on the rest comes after the list it speaks of.
    after = reply.sections[reply.sections.index(peskov) + 1]
    assert after == Section(text=m.DIGEST_MORE_QUOTES.format(rest=2, speaker="Dmitry Peskov"))


def test_the_next_digest_shows_only_what_is_new(scenario: Scenario) -> None:
    reply = scenario.second()
    assert reply.title == m.DIGEST_TITLE.format(
        window=m.DIGEST_WINDOW_SINCE.format(since="2024-01-01 10:00 UTC")
    )
    assert [s.heading for s in reply.sections] == [
        m.DIGEST_UPDATED_STORIES,
        m.DIGEST_REPEATED,
        m.DIGEST_QUOTES_BY.format(speaker="Dmitry Peskov", count=1),
    ]
    (story,) = reply.sections[0].items
    assert story.text == SEED_HEADLINE
    # Every outlet once, as a link where it has a URL: never named twice.
    assert [(x.label, x.url) for x in story.links] == [
        ("Reuters", None),
        ("002_ae0362d15ddcecd9.txt", None),
        ("Baltic Courier", COURIER_URL),
        ("Trump: Russia’s Chance for Friendship?", None),
    ]
    courier = scenario.archive.document(scenario.courier_id)
    assert courier is not None and story.detail in " ".join(courier.text.split())  # its summary
    assert "Baltic Courier" not in story.detail

    (repeated,) = reply.sections[1].items
    assert repeated.text == ATMOSPHERE
    assert repeated.detail == "Dmitry Peskov · now 4 sources (was 3) · first seen 2016-11-10"
    assert [x.label for x in repeated.links] == [
        "Reuters",
        "002_ae0362d15ddcecd9.txt",
        "Trump: Russia’s Chance for Friendship?",
        "Baltic Courier",
    ]
    assert repeated.links[-1].url == COURIER_URL

    (new_quote,) = reply.sections[2].items
    assert new_quote.text == NEW_QUOTE
    # Its date, and its outlet once, as the link.
    assert new_quote.detail == "2016-11-12"
    assert [(x.label, x.url) for x in new_quote.links] == [("Baltic Courier", COURIER_URL)]
    assert "now 4 sources (was 3)" in render(reply)
    assert render(reply).count("Baltic Courier") == 3  # the story, the statement, the quote


def test_nothing_from_the_first_window_comes_back(scenario: Scenario) -> None:
    old_quotes = [
        q.text
        for q in scenario.archive.store.all_quotes()
        if q.doc_id != scenario.courier_id and not same_words(q.text, ATMOSPHERE)
    ]
    shown = [i.text for i in every_item(scenario.second())]
    assert not [t for t in shown if any(same_words(t, old) for old in old_quotes)]
    first_stories = {i.text for i in section(scenario.first(), m.DIGEST_NEW_STORIES).items}
    assert not any(s.heading == m.DIGEST_NEW_STORIES for s in scenario.second().sections)
    assert {i.text for i in scenario.second().sections[0].items} <= first_stories  # updated only


def test_an_empty_window_says_nothing_is_new(scenario: Scenario) -> None:
    reply = digest_reply(scenario.view(scenario.second_digest, scenario.third_digest))
    assert reply.sections == (Section(text="Nothing new since 2024-01-02 11:00 UTC."),)
    assert not reply.is_error
    # A window that ends just before the article arrived does not show it.
    just_before = scenario.courier_ingested - timedelta(seconds=1)
    assert scenario.view(scenario.first_digest, just_before).digest.is_empty
    assert not scenario.view(scenario.first_digest, scenario.courier_ingested).digest.is_empty


def test_the_speaker_filter_applies_to_quotes_and_repeats(scenario: Scenario) -> None:
    putin = scenario.second(speakers=frozenset({"Vladimir Putin"}))
    assert [s.heading for s in putin.sections] == [m.DIGEST_UPDATED_STORIES]  # stories stay
    peskov = scenario.second(speakers=frozenset({"Dmitry Peskov"}))
    assert peskov == scenario.second()
    lavrov = scenario.first(speakers=frozenset({"Sergei Lavrov"}))
    quoted = [s.heading for s in lavrov.sections if s.heading.startswith("New quotes")]
    assert quoted == [m.DIGEST_QUOTES_BY.format(speaker="Sergei Lavrov", count=5)]
    assert not any(s.heading == m.DIGEST_REPEATED for s in lavrov.sections)


def test_the_topic_filter_applies_to_everything(scenario: Scenario) -> None:
    assert scenario.second(topics=("THAW",)) == scenario.second()  # in the new title
    bananas = scenario.second(topics=("bananas",))
    assert bananas.sections == (Section(text="Nothing new since 2024-01-01 10:00 UTC."),)
    ukraine = scenario.first(topics=("Zelenskyy",))
    stories = section(ukraine, m.DIGEST_NEW_STORIES).items
    assert [s.text[:14] for s in stories] == ["Kremlin Hails "]
    assert not any(s.heading == m.DIGEST_REPEATED for s in ukraine.sections)
    trust = scenario.first(topics=("mutual trust",))
    assert [i.text[:13] for i in section(trust, m.DIGEST_REPEATED).items] == [
        "An atmosphere",
        "It’s not poss",
    ]


def test_a_statement_attributed_differently_is_shown_to_either_speakers_followers(
    tmp_path: Path,
) -> None:
    archive = Archive(open_empty_store(sqlite_url(tmp_path)), BOOK)
    reuters, tass = write_disputed_pair(tmp_path)
    archive.ingest(load_documents(reuters), now=T0)
    later = T0 + timedelta(hours=1)
    archive.ingest(load_documents(tass), now=later)
    end = later + timedelta(minutes=1)

    def digest(speakers: frozenset[str] | None) -> Reply:
        view = gather_digest(archive, window_start=T0, window_end=end, speakers=speakers)
        return digest_reply(view)

    for name in ("Dmitry Peskov", "Sergei Lavrov"):
        (item,) = section(digest(frozenset({name})), m.DIGEST_REPEATED).items
        assert item.text == SANCTIONS
        assert item.detail == (
            "attributed differently: Dmitry Peskov (Reuters), Sergei Lavrov (TASS)"
            " · now 2 outlets (was 1) · first seen 2024-03-01"
        )
    putin = digest(frozenset({"Vladimir Putin"}))
    assert not any(s.heading == m.DIGEST_REPEATED for s in putin.sections)
    data = digest(None).data
    assert data is not None
    (repeated,) = data["repeated"]
    assert repeated["disputed_speakers"] == ["Dmitry Peskov", "Sergei Lavrov"]
    archive.store.close()


def test_the_digest_command_reads_the_clock(scenario: Scenario) -> None:
    bot = dispatcher(lambda: BotContext(scenario.archive, scenario.second_digest))
    last_day = bot.run_line("digest")  # the last 24 hours: the courier only
    assert [s.heading for s in last_day.sections] == [s.heading for s in scenario.second().sections]
    since = bot.run_line("digest since:2024-01-01")
    assert section(since, m.DIGEST_NEW_STORIES).items
    assert "(was" not in render(since)  # nothing of the seeds was printed before that date


def test_the_digest_as_data(scenario: Scenario) -> None:
    reply = scenario.second()
    data = reply.data
    assert data is not None
    assert data["window_start"] == scenario.first_digest.isoformat()
    assert data["window_end"] == scenario.second_digest.isoformat()
    (story,) = data["stories"]
    assert (story["headline"], story["is_new"]) == (SEED_HEADLINE, False)
    assert story["new_documents"] == [scenario.courier_id]
    assert story["summary"] == reply.sections[0].items[0].detail
    (repeated,) = data["repeated"]
    assert repeated["canonical_text"] == ATMOSPHERE
    assert len(repeated["outlets_before"]) == 3 and repeated["outlets_now"][-1] == "Baltic Courier"
    courier = [x for x in repeated["members"] if x["document"]["id"] == scenario.courier_id]
    assert [(x["relation"], x["document"]["url"]) for x in courier] == [("verbatim", COURIER_URL)]
    merged = [x for x in repeated["members"] if x["relation"] == "merged"]
    (only,) = merged  # seed 001's one quote of both statements names the other one
    assert [text[:17] for text in only["merged_with"]] == ["It’s not possible"]
    (quote,) = data["quotes"]
    assert (quote["text"], quote["speaker"], quote["cue"]) == (NEW_QUOTE, "Dmitry Peskov", "said")
    assert quote["document"]["outlet"] == "Baltic Courier"
    assert quote["document"]["date"] == "2016-11-12T00:00:00+00:00"


# -- digests while ingests run: each document in exactly one digest -------------------------

WAIT = 30.0  # seconds a thread gets to reach a state; it takes milliseconds


def arrived(archive: Archive, start: datetime | None, end: datetime) -> list[str]:
    """The documents a digest of this window presents as arrived in it."""
    view = gather_digest(archive, window_start=start, window_end=end, speakers=None)
    return [doc_id for news in view.digest.stories for doc_id in news.new_doc_ids]


def test_an_article_whose_ingest_spans_a_digest_is_in_the_next_digest(tmp_path: Path) -> None:
    archive = seed_archive(sqlite_url(tmp_path), now=T0)
    store, clock = archive.store, Clock(T0 + timedelta(hours=1))
    first_end = store.moment(clock())
    analysing, digested = threading.Event(), threading.Event()

    def analyse_while_the_digest_goes_out(
        documents: Sequence[Document], book: SpeakerBook
    ) -> list[Analysed]:
        analysing.set()
        assert digested.wait(WAIT)
        return remembered_analysis(documents, book)

    # The rescan thread, or `briefbot ingest` in another process: its clock reading is
    # taken as it starts, its documents are stored when analysis is done.
    rescan = Archive(store, BOOK, analyser=analyse_while_the_digest_goes_out)
    path = write_article(
        tmp_path,
        "late.md",
        title="A late arrival",
        outlet="Baltic Courier",
        date="2016-11-12",
        url=COURIER_URL,
        paragraphs=[f"“{NEW_QUOTE},” Peskov said."],
    )
    late = load_documents(path)
    started = clock()
    worker = threading.Thread(target=rescan.ingest, args=(late,), kwargs={"now": started})
    worker.start()
    assert analysing.wait(WAIT)
    second_end = store.moment(clock.advance(minutes=1))  # a digest fires meanwhile
    second = arrived(archive, first_end, second_end)
    digested.set()
    worker.join(WAIT)
    assert not worker.is_alive()
    third = arrived(archive, second_end, store.moment(clock.advance(hours=1)))
    assert (second, third) == ([], [late[0].id])


def test_documents_ingested_while_digests_go_out_each_land_in_exactly_one(
    tmp_path: Path,
) -> None:
    archive = Archive(open_empty_store(sqlite_url(tmp_path)), BOOK)  # analyses for real
    documents = load_documents(SEEDS) + load_documents(ARTICLES)
    done = threading.Event()

    def rescans() -> None:  # one article at a time, stamped as each ingest starts
        try:
            for document in documents:
                archive.ingest([document], now=datetime.now(UTC))
        finally:
            done.set()

    ingesting = threading.Thread(target=rescans)
    ingesting.start()
    shown: list[str] = []
    start: datetime | None = None
    while not done.is_set():
        end = archive.store.moment(datetime.now(UTC))
        shown += arrived(archive, start, end)
        start = end
    ingesting.join(WAIT)
    shown += arrived(archive, start, archive.store.moment(datetime.now(UTC)))
    assert Counter(shown) == Counter(d.id for d in documents)  # each once, none missed
    archive.store.close()
