"""The real command registry against an archive of the seeds, called as adapters call it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import messages as m
from bot.archive import Archive
from bot.commands import MAX_LINE_CHARS, Dispatcher
from bot.handlers import BotContext, dispatcher
from bot.render.markdown import render
from bot.reply import Item, Reply
from tests.archive_fixtures import (
    ARTICLES,
    SEEDS,
    T0,
    load_documents,
    new_archive,
    same_words,
    seed_archive,
    seed_gold,
    sqlite_url,
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
        assert "3 outlets" in item.detail
        assert "first seen 2016-11-10 (Reuters)" in item.detail


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


def test_a_nonsense_name_gets_a_way_forward(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes Xqzvw Blorptz")
    assert reply.is_error
    assert "Xqzvw Blorptz" in reply.title
    assert [s.text for s in reply.sections] == [m.NO_SUGGESTIONS]
    assert "/speakers" in render(reply)


def test_a_speaker_named_only_in_an_article_is_found(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes weitz")
    assert reply.title == "Richard Weitz: 1 statement"


def test_a_configured_speaker_without_quotes_says_so(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes Hillary")
    assert not reply.is_error
    assert reply.title == m.NO_STATEMENTS.format(speaker="Hillary Clinton", filters="")


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


def test_quotes_limit_counts_what_is_left_out(bot: Dispatcher[BotContext]) -> None:
    reply = bot.run_line("quotes Peskov limit:1")
    assert [len(s.items) for s in reply.sections] == [1, 1]
    assert reply.footnote == m.SHOWING.format(shown=2, total=10)
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
    assert limited.footnote == m.SHOWING.format(shown=1, total=3)


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
    assert reply.footnote == m.CUTS_NOTE.format(
        cuts="editing credit, image caption, reader comments"
    )


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
    assert reply.title == m.SOURCES_TITLE.format(documents=5, s="s", outlets=5, os="s")
    listed = [i.detail.rsplit(" · ", 1)[-1] for i in items(reply)]
    assert sorted(listed) == sorted(d.id for d in archive.documents())
    assert "Reuters" in headings(reply)


def test_sources_group_documents_by_outlet(wide: Dispatcher[BotContext]) -> None:
    reply = wide.run_line("sources")
    assert reply.title.startswith("11 documents from ")
    assert "Kyiv Ledger" in headings(reply)


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
        ("sources everything", "Too many words for `sources`: sources"),
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
    assert bot.complete("quotes", "speaker", "pes") == ["Dmitry Peskov"]
    assert bot.complete("quotes", "speaker", "")[0] == "Dmitry Peskov"  # most quoted first
    assert bot.complete("summary", "document", "friend") == [
        "Trump: Russia’s Chance for Friendship?"
    ]
    assert bot.complete("quotes", "since", "20") == []
    assert bot.complete("nope", "speaker", "p") == []
