"""Paragraph splitting: blank lines, one paragraph per line, hard-wrapped prose, cuts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.core.documents import Cut, CutReason, Document
from bot.core.layout import Span, find_paragraphs

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

PROSE = [
    "Kremlin spokesman Dmitry Peskov, speaking in New York, said he saw incredible "
    "similarities between the two men's foreign policy ideas, and this meant there was a "
    "solid basis to start a meaningful dialogue between Moscow and Washington.",
    "Peskov, in the United States for a chess tournament, said he was struck by how similar "
    "parts of Trump's victory speech were to a speech Putin gave in southern Russia last "
    "month, and that both men had put national interests first.",
    "With Moscow and Washington now at odds over Syria, Ukraine and NATO, Peskov cautioned "
    "that it would take a long time before relations could return to a high level, however, "
    "because of how far they had been allowed to deteriorate.",
]


def texts(text: str, spans: tuple[Span, ...]) -> list[str]:
    return [text[s.start : s.end] for s in spans]


def test_blank_lines_separate_paragraphs() -> None:
    text = "First paragraph.\n\nSecond paragraph.\n\n\n\nThird paragraph.\n"
    assert texts(text, find_paragraphs(text)) == [
        "First paragraph.",
        "Second paragraph.",
        "Third paragraph.",
    ]


def test_lines_holding_only_spaces_or_nbsp_count_as_blank() -> None:
    text = "First paragraph.\n  \t\nSecond paragraph.\n\u00a0\nThird paragraph."
    assert texts(text, find_paragraphs(text)) == [
        "First paragraph.",
        "Second paragraph.",
        "Third paragraph.",
    ]


def test_one_paragraph_per_line() -> None:
    text = "A headline\nShort first line.\n" + "\n".join(PROSE) + "\nA last, short line."
    assert texts(text, find_paragraphs(text)) == [
        "A headline",
        "Short first line.",
        *PROSE,
        "A last, short line.",
    ]


@pytest.mark.parametrize("name", ["002_ae0362d15ddcecd9.txt", "003_2a4461ba13edc195.txt"])
def test_seeds_written_one_paragraph_per_line_get_a_paragraph_per_line(
    name: str, seed_documents: dict[str, Document]
) -> None:
    document = seed_documents[name]
    lines = [line.strip() for line in document.text.splitlines() if line.strip()]
    assert len(lines) > 10
    assert [document.paragraph_text(p) for p in document.paragraphs] == lines


@pytest.mark.parametrize("width", [60, 70, 72, 78])
def test_a_block_of_hard_wrapped_lines_is_one_paragraph(width: int) -> None:
    wrapped = [textwrap.fill(paragraph, width=width) for paragraph in PROSE]
    assert all(block.count("\n") >= 2 for block in wrapped)
    text = "\n\n".join(wrapped)
    found = texts(text, find_paragraphs(text))
    assert found == wrapped
    assert [" ".join(p.split("\n")) for p in found] == PROSE


def test_a_hard_wrapped_paragraph_under_a_one_line_headline() -> None:
    text = "Kremlin hails Trump\n\n" + textwrap.fill(PROSE[0], width=70) + "\n"
    found = texts(text, find_paragraphs(text))
    assert found == ["Kremlin hails Trump", textwrap.fill(PROSE[0], width=70)]


def test_short_lines_of_very_different_lengths_are_separate_paragraphs() -> None:
    text = "Why are Russians so optimistic?\n" + PROSE[0] + "\nMisplaced optimism?\n" + PROSE[1]
    assert len(find_paragraphs(text)) == 4


def test_spans_are_trimmed_of_surrounding_whitespace() -> None:
    text = "   Indented paragraph.   \n\n\tTabbed paragraph.\t\n\n \u00a0Nbsp paragraph.\u00a0 "
    spans = find_paragraphs(text)
    assert texts(text, spans) == ["Indented paragraph.", "Tabbed paragraph.", "Nbsp paragraph."]
    for span in spans:
        assert not text[span.start].isspace() and not text[span.end - 1].isspace()


def test_whole_line_cuts_are_left_out() -> None:
    text = "First paragraph.\n\nIMAGE: a caption\n\nSecond paragraph."
    caption = text.index("IMAGE:")
    cut = Cut(caption, caption + len("IMAGE: a caption"), CutReason.CAPTION)
    assert texts(text, find_paragraphs(text, (cut,))) == ["First paragraph.", "Second paragraph."]


def test_a_cut_inside_a_paragraph_splits_it_into_trimmed_pieces() -> None:
    text = "Before the cut. ADVERTISEMENT After the cut."
    start = text.index("ADVERTISEMENT")
    cut = Cut(start, start + len("ADVERTISEMENT"), CutReason.BOILERPLATE)
    assert texts(text, find_paragraphs(text, (cut,))) == ["Before the cut.", "After the cut."]


def test_a_cut_to_the_end_leaves_nothing_after_it() -> None:
    text = "Body one.\n\nBody two.\n\n1. reader November 11, 2016\n\nA comment."
    start = text.index("1. reader")
    cut = Cut(start, len(text), CutReason.COMMENTS)
    assert texts(text, find_paragraphs(text, (cut,))) == ["Body one.", "Body two."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", " \t\n\u00a0\n "])
def test_text_without_words_has_no_paragraphs(text: str) -> None:
    assert find_paragraphs(text) == ()


def test_seed_paragraphs_are_ordered_trimmed_and_never_overlap_a_cut(
    seed_documents: dict[str, Document],
) -> None:
    for name, document in seed_documents.items():
        previous_end = 0
        for paragraph in document.paragraphs:
            assert previous_end <= paragraph.start < paragraph.end, name
            paragraph_text = document.paragraph_text(paragraph)
            assert paragraph_text == paragraph_text.strip(), name
            assert not any(
                c.start < paragraph.end and paragraph.start < c.end for c in document.cuts
            ), (name, paragraph_text[:40])
            previous_end = paragraph.end
