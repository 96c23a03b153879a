"""The real command registry against an archive of the seeds, called as adapters call it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import messages as m
from bot.archive import Archive
from bot.commands import MAX_LINE_CHARS, Dispatcher, Suggestion
from bot.handlers import BotContext, dispatcher
from bot.render import discord as discord_render
from bot.render import slack as slack_render
from bot.render.markdown import render, render_text
from bot.reply import Item, Reply
from tests.archive_fixtures import (
    ARTICLES,
    SANCTIONS,
    SEEDS,
    T0,
    load_documents,
    new_archive,
    same_words,
    seed_archive,
    seed_gold,
    sqlite_url,
    write_disputed_pair,
)

NOW = T0 + timedelta(hours=1)
SEED_OUTLETS = ("Reuters", "002_ae0362d15ddcecd9.txt", "Trump: Russia’s Chance for Friendship?")
PESKOV_CLUSTERS = (
    "It is phenomenal how close",
    "An atmosphere of mutual trust",
    "It’s not possible",
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    built = seed_archive(sqlite_url(tmp_path_factory.mktemp("seeds")))
    yield built
    built.store.close()


@pytest.fixture(scope="module")
def bot(archive: Archive) -> Dispatcher[BotContext]:
    return dispatcher(lambda: BotContext(archive, NOW))


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher[BotContext]]:
    """The seeds and the project's own test articles (more outlets, dates and URLs)."""
    built = new_archive(sqlite_url(tmp_path_factory.mktemp("wide")))
    built.ingest(load_documents(SEEDS) + load_documents(ARTICLES), now=T0)
    yield dispatcher(lambda: BotContext(built, NOW))
    built.store.close()


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Dispatcher[BotContext]]:
    built = new_archive(sqlite_url(tmp_path))
    yield dispatcher(lambda: BotContext(built, NOW))
    built.store.close()


def items(reply: Reply, heading: str | None = None) -> list[Item]:
    return [i for s in reply.sections if heading in (None, s.heading) for i in s.items]


def headings(reply: Reply) -> list[str]:
    return [s.heading for s in reply.sections]


# -- quotes --------------------------------------------------------------------------------


def test_quotes_lists_the_repeated_statements_first(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("/quotes Peskov")
    assert not reply.is_error
    assert reply.title == "Dmitry Peskov: 10 statements"
    assert headings(reply) == [m.REPEATED_HEADING, m.ONCE_HEADING]
    repeated = items(reply, m.REPEATED_HEADING)
    assert [i.text[: len(p)] for i, p in zip(repeated, PESKOV_CLUSTERS, strict=True)] == list(
        PESKOV_CLUSTERS
    )
    for item in repeated:
        assert item.quoted
        assert tuple(link.label for link in item.links) == SEED_OUTLETS  # earliest first
        # Two of the three name no outlet: a file name and a title are no "outlets".
        assert item.detail == "Dmitry Peskov · 3 sources · first seen 2016-11-10 (Reuters)"


def test_quotes_shows_each_quote_once_and_only_peskovs(
    bot: Dispatcher[BotContext], archive: Archive
) -> None:
    reply = bot.run_line("quotes Peskov")
    shown = [i.text for i in items(reply)]
    assert len(shown) == len(set(shown)) == 10

    found = archive.statements("Dmitry Peskov")
    assert shown == [c.canonical_text for c in found.repeated] + [q.text for q in found.once]
    printed = [
        (found.docs[c.canonical_quote_id.rsplit(":", 1)[0]].source, c.canonical_text)
        for c in found.repeated
    ] + [(found.docs[q.doc_id].source, q.text) for q in found.once]
    gold = seed_gold()
    for source, text in printed:
        matches = [g for g in gold if g.document == Path(source).name and same_words(g.text, text)]
        assert [g.speaker for g in matches] == ["Dmitry Peskov"], text
    # No member of a repeated statement comes back among the quotes printed once.
    members = {x.quote_id for c in found.repeated for x in c.members}
    assert not members & {q.id for q in found.once}


@pytest.mark.parametrize(
    "spelling",
    ["peskov", "Песков", "Dmitri Peskov", "Peskof", "PESKOV", "пЕСКОВ", "dmitri PESKOV", "peSKOF"],
)
def test_speaker_matching_is_forgiving(bot: Dispatcher[BotContext], spelling: str) -> None:
    assert bot.run_line(f"quotes {spelling}") == bot.run_line("quotes Dmitry Peskov")


def test_an_ambiguous_name_gets_suggestions(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes Sergei")
    assert reply.is_error
    assert reply.title == m.UNKNOWN_SPEAKER.format(query="Sergei")
    assert headings(reply) == [m.DID_YOU_MEAN]
    offered = [i.text for i in items(reply)]
    assert {"Sergei Lavrov", "Sergei Ryabkov"} <= set(offered)


def test_a_nonsense_name_gets_the_most_quoted_speakers(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes xyzzy")
    assert reply.is_error
    assert "xyzzy" in reply.title
    assert headings(reply) == [m.MOST_QUOTED]
    offered = [(i.text, i.detail) for i in items(reply)]
    assert offered[:2] == [("Dmitry Peskov", "16 quotes"), ("Vladimir Putin", "11 quotes")]
    assert len(offered) == 5
    assert "/speakers" in render(reply)


def test_suggestions_are_only_speakers_with_quotes(bot: Dispatcher[BotContext]) -> None:
    # "nobody" is closest to configured speakers with no quote in the seeds (Zelenskyy):
    # they are not offered; the most quoted are, when nobody close has a quote.
    reply = bot.run_line("quotes nobody")
    assert reply.is_error
    counts = bot.context().archive.speaker_counts()
    offered = [i.text for i in items(reply)]
    assert offered and all(counts.get(name) for name in offered)
    assert "Volodymyr Zelenskyy" not in offered
    assert reply.data is not None
    assert [s["name"] for s in reply.data["suggestions"]] == offered


@pytest.mark.parametrize(
    ("phrase", "speaker"),
    [
        ("the Kremlin spokesman", "Dmitry Peskov"),
        ("Kremlin spokesman", "Dmitry Peskov"),
        ("Russia's Foreign Minister", "Sergei Lavrov"),
        ("Kremlin", "Kremlin"),
    ],
)
def test_a_role_phrase_wins_over_an_alias_inside_it(
    bot: Dispatcher[BotContext], phrase: str, speaker: str
) -> None:
    reply = bot.run("quotes", {"speaker": phrase})
    assert not reply.is_error
    assert reply.data is not None and reply.data["speaker"] == speaker


def test_a_speaker_named_only_in_an_article_is_found(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes weitz")
    assert reply.title == "Richard Weitz: 1 statement"


def test_a_configured_speaker_without_quotes_says_so(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes Hillary")
    assert not reply.is_error
    assert reply.title == m.NO_STATEMENTS.format(speaker="Hillary Clinton", filters="")


def test_quotes_since_never_lists_a_copy_of_a_repeated_statement_as_printed_once(
    bot: Dispatcher[BotContext], archive: Archive
) -> None:
    # The three repeated statements were first seen on 2016-11-10 and printed again on
    # the 11th (002) and the 18th (001): since the 11th they are still repeated, and
    # none of their copies is a quote "printed once".
    reply = bot.run_line("quotes Peskov since:2016-11-11")
    assert reply.title == "Dmitry Peskov: 9 statements (since 2016-11-11)"
    repeated = items(reply, m.REPEATED_HEADING)
    assert [i.text[: len(p)] for i in repeated for p in PESKOV_CLUSTERS if i.text.startswith(p)]
    assert len(repeated) == 3
    everything = archive.statements("Dmitry Peskov")
    copies = {x.text for c in everything.repeated for x in c.members}
    once = [i.text for i in items(reply, m.ONCE_HEADING)]
    assert len(once) == 6 and not set(once) & copies
    # Since the 19th nothing of them was printed again: they are not listed at all.
    later = bot.run_line("quotes Peskov since:2016-11-19")
    assert headings(later) == [m.ONCE_HEADING]
    assert not {i.text for i in items(later)} & copies


def test_quotes_since_a_date(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes Peskov since:2017-01-01")
    assert reply.title == "Dmitry Peskov: 4 statements (since 2017-01-01)"
    assert headings(reply) == [m.ONCE_HEADING]
    assert all("2025-03-03" in i.detail for i in items(reply))
    assert bot.run_line("quotes Peskov --since 2017-01-01") == reply
    assert bot.run_line("quotes Peskov --since=2017-01-01") == reply


def test_quotes_about_a_topic(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line('quotes Peskov topic:"mutual trust"')
    assert reply.title == "Dmitry Peskov: 2 statements (about 'mutual trust')"
    assert [i.text[:13] for i in items(reply, m.REPEATED_HEADING)] == [
        "An atmosphere",
        "It’s not poss",
    ]
    zelenskyy = bot.run_line("quotes Dmitry Peskov topic:Zelenskyy")
    assert [i.text for i in items(zelenskyy)] == ["The Kyiv regime and Zelenskyy do not want peace"]
    nothing = bot.run_line("quotes Peskov topic:bananas since:2016-01-01")
    assert not nothing.is_error
    assert nothing.title == m.NO_STATEMENTS.format(
        speaker="Dmitry Peskov", filters=" (since 2016-01-01, about 'bananas')"
    )


def test_quotes_limit_is_the_total_shown(bot: Dispatcher[BotContext]) -> None:
    one = bot.run_line("quotes Peskov limit:1")
    assert headings(one) == [m.REPEATED_HEADING]
    assert len(items(one)) == 1
    assert one.footnote == m.SHOWING.format(shown=1, total=10)
    five = bot.run_line("quotes Peskov limit:5")
    assert [len(s.items) for s in five.sections] == [3, 2]  # repeated first, then the rest
    assert five.footnote == m.SHOWING.format(shown=5, total=10)
    assert bot.run_line("quotes Peskov").footnote == ""


def test_quotes_links_to_articles_that_have_urls(wide: Dispatcher[BotContext]) -> None:
    reply = wide.run_line("quotes Peskov topic:Zelenskyy")
    links = {link.label: link.url for i in items(reply) for link in i.links}
    assert links["Kyiv Ledger"] == "https://example.org/kyiv-ledger/zelenskyy-territory"
    assert "[Kyiv Ledger](<https://example.org/kyiv-ledger/zelenskyy-territory>)" in render(reply)


# -- overlaps, summary, search, sources, speakers, digest, help --------------------------------


def test_overlaps_by_number_of_outlets(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("overlaps")
    assert reply.title == m.OVERLAPS_TITLE.format(count=3, s="s", minimum=2)
    assert [i.text[: len(p)] for i, p in zip(items(reply), PESKOV_CLUSTERS, strict=True)] == list(
        PESKOV_CLUSTERS
    )
    assert bot.run_line("overlaps 2") == reply
    assert bot.run_line("overlaps min_outlets:3") == Reply(
        title=m.OVERLAPS_TITLE.format(count=3, s="s", minimum=3), sections=reply.sections
    )
    four = bot.run_line("overlaps 4")
    assert not four.is_error
    assert (four.title, four.sections) == (m.NO_OVERLAPS.format(minimum=4), ())
    limited = bot.run_line("overlaps limit:1")
    assert len(items(limited)) == 1
    # Only what `overlaps` takes: no since: or topic:.
    assert limited.footnote == m.SHOWING_OVERLAPS.format(shown=1, total=3)
    assert "since:" not in limited.footnote and "min_outlets:" in limited.footnote


def test_each_printing_that_is_not_verbatim_is_shown_with_how_it_differs(
    bot: Dispatcher[BotContext],
) -> None:
    phenomenal, atmosphere, not_possible = items(bot.run_line("overlaps"))
    friendship = "Trump: Russia’s Chance for Friendship?"
    assert phenomenal.notes == (
        f"{friendship} — printed only part: “It is phenomenal how close they are to … "
        "approach to foreign policy”",
        f"{friendship} — printed only part: “And that is probably a good basis for … "
        "in our bilateral relations.”",
        "Reuters — a partial quote close to it: “phenomenally close”",
    )
    # Seed 001 printed the two statements as one quote: each names the other.
    assert atmosphere.notes == (
        f"{friendship} — merged into one quote with “It’s not possible to just declare "
        "that there … years to our relations.”",
    )
    assert not_possible.notes == (
        f"{friendship} — merged into one quote with "
        "“An atmosphere of mutual trust takes years to achieve”",
    )
    # The same lines under `quotes`, and as Markdown under the quote.
    assert items(bot.run_line("quotes Peskov"), m.REPEATED_HEADING)[1].notes == atmosphere.notes
    assert "> - Reuters — a partial quote close to it: “phenomenally close”" in render(
        bot.run_line("overlaps")
    )


def test_an_edited_printing_shows_a_word_diff(tmp_path: Path) -> None:
    archive = seed_archive(sqlite_url(tmp_path))
    variant = tmp_path / "variant.md"
    variant.write_text(
        "---\ntitle: Kremlin sees long road to trust\noutlet: Press TV\ndate: 2016-11-12\n---\n"
        "MOSCOW – Kremlin spokesman Dmitry Peskov said rebuilding ties would be slow.\n\n"
        "“An atmosphere of mutual trust takes many years to achieve,” Peskov said.\n",
        encoding="utf-8",
    )
    archive.ingest(load_documents(variant), now=NOW)
    bot = dispatcher(lambda: BotContext(archive, NOW))
    atmosphere = next(i for i in items(bot.run_line("overlaps")) if i.text.startswith("An atmos"))
    assert "Press TV — edited: …trust takes {+many+} years to achieve" in atmosphere.notes
    reply = bot.run_line("quotes Peskov")
    assert reply.data is not None
    [cluster] = [c for c in reply.data["repeated"]["items"] if c["id"] == atmosphere_id(reply)]
    [edited] = [x for x in cluster["members"] if x["relation"] == "edited"]
    assert edited["document"]["outlet"] == "Press TV"
    assert edited["text"] == "An atmosphere of mutual trust takes many years to achieve"
    assert edited["diff"] == "... trust takes {+many+} years to achieve"
    archive.store.close()


DISPUTED = "attributed differently: Dmitry Peskov (Reuters), Sergei Lavrov (TASS)"


@pytest.fixture
def disputed(tmp_path: Path) -> Iterator[Dispatcher[BotContext]]:
    """Reuters prints the words as Peskov's, TASS the same words as Lavrov's."""
    built = new_archive(sqlite_url(tmp_path))
    built.ingest([d for p in write_disputed_pair(tmp_path) for d in load_documents(p)], now=T0)
    yield dispatcher(lambda: BotContext(built, NOW))
    built.store.close()


@pytest.mark.parametrize("name", ["Lavrov", "Peskov"])
def test_a_statement_attributed_differently_is_listed_for_each_speaker_as_disputed(
    disputed: Dispatcher[BotContext], name: str
) -> None:
    reply = disputed.run_line(f"quotes {name}")
    assert reply.title.endswith(": 1 statement")
    assert headings(reply) == [m.REPEATED_HEADING]  # not hidden, not "printed once"
    (item,) = items(reply)
    assert item.text == SANCTIONS
    assert item.detail == f"{DISPUTED} · 2 outlets · first seen 2024-03-01 (Reuters)"
    assert reply.data is not None
    (cluster,) = reply.data["repeated"]["items"]
    assert (cluster["speaker"], cluster["disputed_speakers"]) == (
        None,
        ["Dmitry Peskov", "Sergei Lavrov"],
    )
    assert [(x["document"]["outlet"], x["speaker"]) for x in cluster["members"]] == [
        ("Reuters", "Dmitry Peskov"),
        ("TASS", "Sergei Lavrov"),
    ]
    assert reply.data["once"]["items"] == []


def test_a_disputed_statement_reads_the_same_in_overlaps_and_on_every_platform(
    disputed: Dispatcher[BotContext],
) -> None:
    reply = disputed.run_line("overlaps")
    (item,) = items(reply)
    assert item.detail.startswith(DISPUTED + " · ")
    assert m.UNATTRIBUTED not in item.detail
    assert f"> — {DISPUTED} · 2 outlets" in render_text(reply)
    assert f"> — {DISPUTED} · 2 outlets" in render(reply)
    discord_text = "\n".join(
        str(embed.description)
        for page in discord_render.render_messages(reply)
        for embed in page.embeds
    )
    assert DISPUTED in discord_text
    slack_text = json.dumps(slack_render.render_messages(reply), ensure_ascii=False)
    assert DISPUTED in slack_text


def atmosphere_id(reply: Reply) -> str:
    assert reply.data is not None
    return str(
        next(
            c["id"]
            for c in reply.data["repeated"]["items"]
            if c["canonical_text"].startswith("An atmosphere")
        )
    )


@pytest.mark.parametrize(
    ("reference", "title"),
    [
        ("000", "Trump’s Foreign Policy Approach Almost The Same As Putin’s"),
        ("001_824f", "Trump: Russia’s Chance for Friendship?"),
        ("b3d443", "Trump’s Foreign Policy Approach Almost The Same As Putin’s"),
        ("Putin’s Perspectives", "Putin’s Perspectives on Working with the Next Administration"),
        (
            "kremlin hails",
            "Kremlin Hails Trump’s Foreign Policy Shift, Citing Alignment with Russian Interests",
        ),
        ("Reuters", "Trump’s Foreign Policy Approach Almost The Same As Putin’s"),
    ],
)
def test_summary_finds_a_document(
    bot: Dispatcher[BotContext], archive: Archive, reference: str, title: str
) -> None:
    reply = bot.run_line(f"summary {reference}")
    assert not reply.is_error
    assert reply.title == title
    assert headings(reply)[1] == m.SUMMARY_HEADING
    meta = next(d for d in archive.documents() if d.title == title)
    document = archive.document(meta.id)
    assert document is not None
    flat = " ".join(document.text.split())
    paragraphs = reply.sections[1].text.split("\n\n")
    assert paragraphs and all(p and p in flat for p in paragraphs)
    assert meta.id in reply.sections[0].text


def test_summary_lists_the_documents_quotes_and_cuts(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("summary 000")
    quoted = items(reply, m.QUOTES_HEADING)
    assert [i.text[:20] for i in quoted] == [
        "phenomenally close",
        "They (Putin and Trum",
        "It is phenomenal how",
        "An atmosphere of mut",
        "It’s not possible to",
    ]
    assert quoted[0].detail.startswith("Kremlin · (partial quote)")
    # What was cut, each as a short excerpt with its reason and size.
    assert reply.footnote.startswith(
        "Removed from the text: editing credit (26 characters): “(Editing by Mark Heinrich)”; "
        "image caption (344 characters): “IMAGE: Belarus’ President Alexander Lukashenko"
    )
    assert "reader comments (13,304 characters): “1. sarah.chen November 11, 2016" in (
        reply.footnote
    )


def test_summary_shows_outlet_byline_date_and_file(bot: Dispatcher[BotContext]) -> None:
    reuters = bot.run_line("summary 000")
    assert reuters.sections[0].text == (
        "Reuters · by Andrew Osborn · 2016-11-10 · 000_9400752ccb8fb0fa.txt · id b3d443b8c6b7311e"
    )
    data = reuters.data
    assert data is not None
    assert data["document"]["byline"] == "Andrew Osborn"
    assert data["document"]["published"] == "2016-11-10T00:00:00+00:00"
    assert [(c["reason"], c["end"] - c["start"]) for c in data["removed"]] == [
        ("editing credit", 26),
        ("image caption", 344),
        ("reader comments", 13304),
    ]
    assert data["removed"][0]["text"] == "(Editing by Mark Heinrich)"
    assert data["summary"] == reuters.sections[1].text.split("\n\n")
    assert data["quotes"][0]["text"] == "phenomenally close"
    assert data["quotes"][0]["partial"] is True and data["quotes"][0]["speaker"] == "Kremlin"


def test_an_undated_document_says_it_was_ingested_then(tmp_path: Path) -> None:
    archive = new_archive(sqlite_url(tmp_path))
    plain = tmp_path / "undated.txt"
    plain.write_text(
        "Harbour row\n\n“The northern quay needs repairs before the storms,” said Mallory Quint.\n",
        encoding="utf-8",
    )
    archive.ingest(load_documents(plain), now=NOW)
    bot = dispatcher(lambda: BotContext(archive, NOW))
    [quote] = items(bot.run_line("quotes Mallory Quint"))
    assert quote.detail == "undated, ingested 2024-01-01"
    assert "undated, ingested 2024-01-01" in bot.run_line("summary undated").sections[0].text
    archive.store.close()


def test_summary_of_an_unknown_document(bot: Dispatcher[BotContext]) -> None:
    unknown = bot.run_line("summary zzzz qqqq")
    assert unknown.is_error
    assert unknown.title == m.UNKNOWN_DOCUMENT.format(query="zzzz qqqq")
    assert unknown.sections == ()
    ambiguous = bot.run_line("summary Trump")
    assert ambiguous.is_error
    assert headings(ambiguous) == [m.DOCUMENT_SUGGESTIONS]
    assert len(items(ambiguous)) >= 2


def test_search_looks_in_quotes_and_documents(
    bot: Dispatcher[BotContext], archive: Archive
) -> None:
    reply = bot.run_line("search Mutual Trust")
    assert reply.title == m.SEARCH_TITLE.format(query="Mutual Trust")
    assert headings(reply) == [m.SEARCH_QUOTES, m.SEARCH_DOCUMENTS]
    found = [i.text for i in items(reply, m.SEARCH_QUOTES)]
    expected = [q.text for q in archive.store.all_quotes() if "mutual trust" in q.text.lower()]
    assert sorted(found) == sorted(expected)
    assert all(i.detail.startswith("Dmitry Peskov") for i in items(reply, m.SEARCH_QUOTES))
    titled = bot.run_line("search Augean stables")
    assert items(titled, m.SEARCH_DOCUMENTS)
    limited = bot.run_line("search trust limit:2")
    assert len(items(limited, m.SEARCH_QUOTES)) == 2


def test_search_needs_three_characters_and_takes_wildcards_literally(
    bot: Dispatcher[BotContext],
) -> None:
    short = bot.run_line("search  a  ")
    assert short.is_error
    assert short.title == m.SEARCH_TOO_SHORT.format(minimum=3)
    for needle in ("%%%", "___", "zzzzqqq"):
        reply = bot.run_line(f"search {needle}")
        assert not reply.is_error
        assert reply.title == m.NO_RESULTS.format(query=needle)


def test_sources_lists_every_document_once(bot: Dispatcher[BotContext], archive: Archive) -> None:
    reply = bot.run_line("sources")
    # Only one of the five names an outlet; the others are not called outlets.
    assert reply.title == "5 documents: 1 outlet, 4 with no outlet named"
    listed = [i.detail.rsplit(" · ", 1)[-1] for i in items(reply)]
    assert sorted(listed) == sorted(d.id for d in archive.documents())
    assert headings(reply) == ["Reuters · 1 document", "No outlet named · 4 documents"]
    # Newest first within a group.
    dates = [i.detail.split(" · ")[0] for i in reply.sections[1].items]
    assert dates == sorted(dates, reverse=True)
    assert reply.footnote == ""


def test_sources_group_documents_by_outlet_most_documents_first(
    wide: Dispatcher[BotContext],
) -> None:
    reply = wide.run_line("sources limit:100")
    total = len(wide.context().archive.documents())
    assert reply.title.startswith(f"{total} documents: ")
    assert any(h.startswith("Kyiv Ledger · ") for h in headings(reply))
    counts = [int(h.rsplit(" · ", 1)[1].split()[0]) for h in headings(reply)[:-1]]
    assert counts == sorted(counts, reverse=True)
    assert headings(reply)[-1].startswith(m.NO_OUTLET)
    assert len(items(reply)) == total


def test_sources_and_speakers_are_limited(wide: Dispatcher[BotContext]) -> None:
    archive = wide.context().archive
    total = len(archive.documents())
    three = wide.run_line("sources limit:3")
    assert len(items(three)) == 3
    assert three.footnote == m.SHOWING_LIST.format(shown=3, total=total, maximum=100)
    assert three.data is not None and three.data["total"] == total
    assert len(three.data["documents"]) == 3
    speakers = wide.run_line("speakers limit:2")
    counts = archive.speaker_counts()
    assert [i.text for i in items(speakers)] == sorted(counts, key=lambda n: (-counts[n], n))[:2]
    assert speakers.footnote == m.SHOWING_LIST.format(shown=2, total=len(counts), maximum=100)
    # The default is 25.
    assert len(items(wide.run_line("speakers"))) == min(25, len(counts))


def test_speakers_with_their_counts(bot: Dispatcher[BotContext], archive: Archive) -> None:
    reply = bot.run_line("speakers")
    counts = archive.store.speaker_counts()
    assert reply.title == m.SPEAKERS_TITLE.format(count=len(counts), s="s")
    listed = [(i.text, int(i.detail.split()[0])) for i in items(reply)]
    assert listed == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    first = items(reply)[0]
    assert (first.text, first.detail) == ("Dmitry Peskov", "16 quotes · Kremlin spokesman")
    weitz = next(i for i in items(reply) if i.text == "Richard Weitz")
    assert weitz.detail == "1 quote"


def test_digest_covers_the_last_day_or_a_given_date(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("digest")
    assert reply.title == m.DIGEST_TITLE.format(
        window=m.DIGEST_WINDOW_SINCE.format(since="2023-12-31 10:00 UTC")
    )
    assert headings(reply)[:2] == [m.DIGEST_NEW_STORIES, m.DIGEST_REPEATED]
    later = bot.run_line("digest since:2024-01-02")
    assert [s.text for s in later.sections] == [m.DIGEST_EMPTY.format(since="2024-01-02 00:00 UTC")]


def test_help_lists_every_command(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("help")
    assert not reply.is_error
    names = [i.text.split()[0] for i in items(reply)]
    expected = ["quotes", "overlaps", "summary", "search", "sources", "speakers", "digest", "help"]
    assert names == expected
    assert names == [c.name for c in bot.registry.commands]
    assert items(reply)[0].text == "quotes <speaker> [since] [topic] [limit]"
    assert bot.run_line("") == reply


def test_an_unknown_command_gets_the_help(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("/frobnicate Peskov")
    assert reply.is_error
    assert "frobnicate" in reply.title
    assert items(reply) == items(bot.run_line("help"))
    assert bot.run("frobnicate", {}).is_error


# -- bad input -------------------------------------------------------------------------------


def test_an_overlong_line_is_refused_not_cut(bot: Dispatcher[BotContext]) -> None:
    line = "search " + "trust " * 100
    reply = bot.run_line(line[: MAX_LINE_CHARS + 1])
    assert reply.is_error
    assert reply.title == f"That command is {MAX_LINE_CHARS + 1} characters long; the limit is 500."
    at_limit = bot.run_line(line[:MAX_LINE_CHARS])
    assert "limit is" not in at_limit.title
    by_name = bot.run("search", {"text": "x" * (MAX_LINE_CHARS + 1)})
    assert by_name.is_error and "longer than 500" in by_name.title


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "quotes Peskov since:2016-13-45",
            "`since` must be a date like 2016-11-10, not '2016-13-45'.",
        ),
        (
            "quotes Peskov since:yesterday",
            "`since` must be a date like 2016-11-10, not 'yesterday'.",
        ),
        ("quotes Peskov limit:ten", "`limit` must be a whole number, not 'ten'."),
        ("quotes Peskov limit:0", "`limit` must be at least 1."),
        ("quotes Peskov limit:101", "`limit` must be at most 100."),
        ("overlaps two", "`min_outlets` must be a whole number, not 'two'."),
        ("overlaps 1", "`min_outlets` must be at least 2."),
        ("digest since:10/11/2016", "`since` must be a date like 2016-11-10, not '10/11/2016'."),
        ("quotes", "`quotes` needs `speaker`: quotes <speaker> [since] [topic] [limit]"),
        ("summary", "`summary` needs `document`: summary <document>"),
        ("quotes Peskov --since", "`--since` needs a value."),
        ("quotes Peskov --sinse 2016-01-01", "`quotes` has no option `sinse`"),
        ("sources everything", "`limit` must be a whole number, not 'everything'."),
        ("speakers limit:101", "`limit` must be at most 100."),
    ],
)
def test_bad_values_get_a_clear_error(
    bot: Dispatcher[BotContext], archive: Archive, line: str, error: str
) -> None:
    reply = bot.run_line(line)
    assert reply.is_error
    assert reply.title.startswith(error)
    assert render(reply).startswith("# ⚠ ")
    assert len(archive.documents()) == 5  # nothing is lost


def test_an_empty_archive_answers_every_command(empty: Dispatcher[BotContext]) -> None:
    assert empty.run_line("sources").title == m.EMPTY_ARCHIVE
    assert empty.run_line("speakers").title == m.EMPTY_ARCHIVE
    quotes = empty.run_line("quotes Peskov")
    assert (quotes.title, quotes.is_error) == (
        m.NO_STATEMENTS.format(speaker="Dmitry Peskov", filters=""),
        False,
    )
    assert empty.run_line("overlaps").title == m.NO_OVERLAPS.format(minimum=2)
    assert empty.run_line("search trust").title == m.NO_RESULTS.format(query="trust")
    assert empty.run_line("summary 000").title == m.UNKNOWN_DOCUMENT.format(query="000")
    digest = empty.run_line("digest")
    assert [s.text for s in digest.sections] == [
        m.DIGEST_EMPTY.format(since="2023-12-31 10:00 UTC")
    ]
    for line in ("quotes nobody-at-all", "sources", "digest", "overlaps"):
        assert render(empty.run_line(line)).strip()


# -- autocomplete ------------------------------------------------------------------------------


def test_completion_of_speakers_and_documents(bot: Dispatcher[BotContext]) -> None:
    assert bot.complete("quotes", "speaker", "pes") == [
        Suggestion("Dmitry Peskov", "Dmitry Peskov")
    ]
    assert bot.complete("quotes", "speaker", "")[0].value == "Dmitry Peskov"  # most quoted first
    [document] = bot.complete("summary", "document", "friend")
    assert document.label == "Trump: Russia’s Chance for Friendship?"
    # The value is the document's id, which summary finds that document by.
    assert bot.run("summary", {"document": document.value}).title == document.label
    assert bot.complete("quotes", "since", "20") == []
    assert bot.complete("nope", "speaker", "p") == []
