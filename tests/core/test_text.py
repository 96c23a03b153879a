from __future__ import annotations

import pytest

from bot.core.text import STOP_WORDS, content_words, normalize, normalize_text


@pytest.mark.parametrize(
    "printed",
    ["It’s not possible", "It's not possible", "It‘s not possible", "It`s not possible"],
)
def test_every_apostrophe_becomes_one(printed: str) -> None:
    assert normalize_text(printed) == "it's not possible"


def test_quote_marks_and_punctuation_are_stripped_and_whitespace_collapsed() -> None:
    printed = "“Hello,”  she said —\n«world»! „Yes“ (really)…"
    assert normalize_text(printed) == "hello she said world yes really"


def test_nfkc_and_casefold() -> None:
    assert normalize_text("ﬁne ＡＢＣ Straße ÉCOLE") == "fine abc strasse école"


def test_acronyms_numbers_and_glued_sentences() -> None:
    assert normalize_text("The U.S. paid $1,000 (3.5%) at 10 a.m.") == (
        "the us paid 1000 35 at 10 am"
    )
    assert normalize_text("the end.Start again,then") == "the end start again then"


def test_apostrophes_at_word_edges_are_quote_marks_not_part_of_words() -> None:
    assert normalize_text("'reset' and ‘New Cold War’") == "reset and new cold war"


@pytest.mark.parametrize(
    "printed",
    [
        "“It’s – Café,” he said. U.S.-Russia ties, 1,000 words.",
        "Cafe\u0301 and e\u0301te\u0301",  # decomposed accents
        "ﬁne ＡＢＣ ẞ",
        "\u1100\u1161 composes across two base characters",  # Hangul jamo
        "",
        "…",
    ],
)
def test_the_mapped_text_is_the_fast_text(printed: str) -> None:
    assert normalize(printed).text == normalize_text(printed)


def test_offset_map_points_at_the_original_characters() -> None:
    printed = "“It’s phenomenal,” said Mr. Peskov about U.S. ties."
    normalized = normalize(printed)
    assert normalized.text == "it's phenomenal said mr peskov about us ties"
    assert normalized.original_words() == (
        "It’s",
        "phenomenal",
        "said",
        "Mr",
        "Peskov",
        "about",
        "U.S",
        "ties",
    )
    start = normalized.text.index("phenomenal said")
    begin, end = normalized.original_span(start, start + len("phenomenal said"))
    assert printed[begin:end] == "phenomenal,” said"
    apostrophe = normalized.text.index("'")
    assert printed[normalized.starts[apostrophe]] == "’"


def test_offset_map_spans_a_decomposed_character() -> None:
    printed = "Cafe\u0301 society"
    normalized = normalize(printed)
    assert normalized.text == "café society"
    assert normalized.original_span(3, 4) == (3, 5)  # é was "e" + combining acute
    assert normalized.original_words() == ("Cafe\u0301", "society")


def test_offset_map_of_a_ligature() -> None:
    normalized = normalize("ﬁne")
    assert normalized.text == "fine"
    assert normalized.original_span(0, 2) == (0, 1)  # "fi" came from one character


def test_content_words_drop_stop_words() -> None:
    assert content_words(normalize_text("the US").split()) == ()
    assert content_words(normalize_text("It’s not our fault").split()) == ("fault",)
    assert content_words("an atmosphere of mutual trust".split()) == (
        "atmosphere",
        "mutual",
        "trust",
    )
    assert "it's" in STOP_WORDS and "mutual" not in STOP_WORDS
