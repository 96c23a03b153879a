"""From raw text to a Document: offsets, stable content ids, and outside metadata."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from bot.core.article import KnownFields, read_article, with_known
from bot.core.documents import Document, ParagraphKind, document_id

ARTICLE = (
    "Kremlin hails Trump's approach\n\n"
    "By Andrew Osborn\n\n"
    "MOSCOW (Reuters) – The Kremlin said on Thursday it saw a basis for dialogue.\n\n"
    "“It is phenomenal how close they are,” Peskov said.\n\n"
    "(Editing by Mark Heinrich)\n"
)


def test_every_offset_indexes_the_document_text() -> None:
    document = read_article(ARTICLE, source="wire.txt")
    assert document.source == "wire.txt"
    assert [document.paragraph_text(p) for p in document.paragraphs] == [
        "Kremlin hails Trump's approach",
        "By Andrew Osborn",
        "MOSCOW (Reuters) – The Kremlin said on Thursday it saw a basis for dialogue.",
        "“It is phenomenal how close they are,” Peskov said.",
    ]
    [credit] = document.cuts
    assert document.text[credit.start : credit.end] == "(Editing by Mark Heinrich)"


def test_body_leaves_out_title_byline_and_cuts() -> None:
    document = read_article(ARTICLE, source="t")
    assert document.body == (
        "MOSCOW (Reuters) – The Kremlin said on Thursday it saw a basis for dialogue.\n\n"
        "“It is phenomenal how close they are,” Peskov said."
    )
    assert [p.kind for p in document.body_paragraphs()] == [ParagraphKind.BODY] * 2


def test_seed_000_body_holds_the_article_and_nothing_cut(
    seed_documents: dict[str, Document],
) -> None:
    body = seed_documents["000_9400752ccb8fb0fa.txt"].body
    assert body.startswith("MOSCOW (Reuters) – The Kremlin said on Thursday")
    assert "Peskov spoke after one of Russia’s most senior diplomats" in body
    for cut_part in ("By Andrew Osborn", "Editing by", "IMAGE:", "sarah.chen", "Mama Bear"):
        assert cut_part not in body


def test_windows_and_old_mac_line_endings_read_like_unix_ones() -> None:
    unix = read_article(ARTICLE, source="t")
    for ending in ("\r\n", "\r"):
        other = read_article(ARTICLE.replace("\n", ending), source="t")
        assert other.text == unix.text
        assert other.paragraphs == unix.paragraphs
        assert other.cuts == unix.cuts


# --- stable ids ------------------------------------------------------------------------


def test_the_id_is_a_short_hex_content_hash() -> None:
    document = read_article(ARTICLE, source="t")
    assert document.id == document_id(document.text)
    assert len(document.id) == 16
    int(document.id, 16)


@pytest.mark.parametrize(
    "variant",
    [
        ARTICLE.replace("\n", "\r\n"),
        ARTICLE.replace("\n", " \t\n") + "\n\n   ",
        "\n\n" + ARTICLE,
        ARTICLE.replace("\n\n", "\n\n\n"),
    ],
    ids=["crlf", "trailing-whitespace", "leading-blank-lines", "extra-blank-lines"],
)
def test_the_same_text_laid_out_differently_gets_the_same_id(variant: str) -> None:
    assert read_article(variant, source="b.txt").id == read_article(ARTICLE, source="a.txt").id


def test_the_same_text_under_another_name_or_with_other_metadata_gets_the_same_id() -> None:
    first = read_article(ARTICLE, source="reuters/one.txt")
    second = read_article(
        ARTICLE, source="copies/two.md", known=KnownFields(title="Other", outlet="Other")
    )
    assert first.id == second.id


def test_composed_and_decomposed_accents_get_the_same_id() -> None:
    text = "Café talks\n\nThe naïve minister spoke."
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    assert read_article(decomposed, source="t").id == read_article(text, source="t").id


@pytest.mark.parametrize(
    "changed",
    [
        ARTICLE.replace("Thursday", "Friday"),
        ARTICLE.replace("phenomenal", "Phenomenal"),
        ARTICLE + "\nOne more sentence.",
    ],
)
def test_different_text_gets_a_different_id(changed: str) -> None:
    assert read_article(changed, source="t").id != read_article(ARTICLE, source="t").id


def test_seed_ids_are_distinct(seed_documents: dict[str, Document]) -> None:
    ids = [d.id for d in seed_documents.values()]
    assert len(set(ids)) == len(ids) == 5


# --- metadata known from outside the text ----------------------------------------------


def test_known_fields_win_over_what_the_text_says() -> None:
    known = KnownFields(
        title="Kremlin welcomes Trump",
        outlet="Reuters Moscow",
        byline="Jack Stubbs",
        published=datetime(2016, 11, 10, tzinfo=UTC),
        url="https://example.org/a",
    )
    document = read_article(ARTICLE, source="t", known=known)
    assert (document.title, document.outlet, document.byline) == (
        "Kremlin welcomes Trump",
        "Reuters Moscow",
        "Jack Stubbs",
    )
    assert document.published == datetime(2016, 11, 10, tzinfo=UTC)
    assert document.url == "https://example.org/a"


def test_fields_not_known_keep_what_the_text_says() -> None:
    document = read_article(ARTICLE, source="t", known=KnownFields(url="https://example.org/a"))
    assert document.title == "Kremlin hails Trump's approach"
    assert document.outlet == "Reuters"
    assert document.byline == "Andrew Osborn"
    assert document.url == "https://example.org/a"


def test_with_known_replaces_only_given_fields() -> None:
    document = read_article(ARTICLE, source="t")
    updated = with_known(document, KnownFields(outlet="AP"))
    assert updated.outlet == "AP"
    assert (updated.title, updated.byline, updated.id, updated.text) == (
        document.title,
        document.byline,
        document.id,
        document.text,
    )


def test_merged_over_prefers_its_own_fields_and_fills_gaps() -> None:
    later = KnownFields(outlet="Later", published=datetime(2020, 1, 2, tzinfo=UTC))
    earlier = KnownFields(title="Earlier title", outlet="Earlier", url="https://x.test")
    assert later.merged_over(earlier) == KnownFields(
        title="Earlier title",
        outlet="Later",
        published=datetime(2020, 1, 2, tzinfo=UTC),
        url="https://x.test",
    )
