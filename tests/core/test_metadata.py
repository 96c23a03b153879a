"""Title, outlet, byline and date read from an article's own text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.core.article import read_article
from bot.core.documents import Document, ParagraphKind
from bot.core.metadata import parse_date
from bot.sources.files import load_file

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_000 = "000_9400752ccb8fb0fa.txt"
SEED_004 = "004_91b2cf10b7b235b0.txt"

BODY = (
    "The Kremlin said on Thursday that relations would take years to repair.\n\n"
    "Peskov said the two men shared the same main foreign policy principles.\n\n"
    "He added that trust would not return overnight."
)


def kinds(document: Document) -> list[tuple[ParagraphKind, str]]:
    return [(p.kind, document.paragraph_text(p)) for p in document.paragraphs]


# --- the seeds -------------------------------------------------------------------------


def test_seed_000_header_is_read_from_its_text() -> None:
    document = load_file(SEEDS / SEED_000)
    assert document.title == "Trump’s Foreign Policy Approach Almost The Same As Putin’s"
    assert document.outlet == "Reuters"
    assert document.byline == "Andrew Osborn"
    assert kinds(document)[:3] == [
        (ParagraphKind.TITLE, document.title),
        (ParagraphKind.BYLINE, "By Andrew Osborn"),
        (ParagraphKind.BODY, kinds(document)[2][1]),
    ]
    assert kinds(document)[2][1].startswith("MOSCOW (Reuters) – The Kremlin said")


def test_seed_000_takes_no_date_from_its_caption_or_its_comments() -> None:
    # The caption says "February 11, 2015 file photo" and every comment is dated
    # November 2016; neither is the article's date.
    assert load_file(SEEDS / SEED_000).published is None


def test_seed_000_date_comes_only_from_config(seed_documents: dict[str, Document]) -> None:
    published = seed_documents[SEED_000].published
    assert published == datetime(2016, 11, 10, tzinfo=UTC)


def test_seed_004_date_and_byline_come_from_its_text() -> None:
    document = load_file(SEEDS / SEED_004)
    assert document.published == datetime(2016, 11, 6, tzinfo=UTC)
    assert document.byline == "Richard Weitz"
    assert document.title == "Putin’s Perspectives on Working with the Next Administration"


def test_seed_001_section_headings_are_headings_not_body(
    seed_documents: dict[str, Document],
) -> None:
    document = seed_documents["001_824f32114a763518.txt"]
    headings = [text for kind, text in kinds(document) if kind is ParagraphKind.HEADING]
    assert headings == [
        "Why are Russians so optimistic about Trump?",
        "Misplaced optimism?",
        "If it was only so simple…",
        "What are the latest signs?",
        "Next Steps",
    ]
    assert "Misplaced optimism?" not in document.body


# --- outlet from a dateline ------------------------------------------------------------


@pytest.mark.parametrize(
    ("dateline", "outlet"),
    [
        ("MOSCOW (Reuters) – The Kremlin said on Thursday it was hopeful.", "Reuters"),
        ("MOSCOW (Reuters) - The Kremlin said on Thursday it was hopeful.", "Reuters"),
        ("WASHINGTON, Nov 10 (AP) — The president said something.", "AP"),
        ("BRUSSELS (Northern Wire) – Talks stalled on Monday.", "Northern Wire"),
        ("KYIV – President Zelenskyy told lawmakers on Thursday.", None),
        # Place names in any script.
        ("SÃO PAULO (Reuters) – Leaders met on Monday.", "Reuters"),
        ("ÇANAKKALE, March 3 (Anadolu) – The ceremony began at noon.", "Anadolu"),
        ("ZÜRICH (Agence Télégraphique Suisse) – Talks resumed.", "Agence Télégraphique Suisse"),
    ],
)
def test_outlet_comes_from_the_dateline(dateline: str, outlet: str | None) -> None:
    document = read_article(f"A headline\n\nBy Jane Doe\n\n{dateline}\n\n{BODY}", source="t")
    assert document.outlet == outlet


def test_a_parenthesis_further_down_is_not_an_outlet() -> None:
    text = f"A headline\n\n{BODY}\n\nMOSCOW (Reuters) – An older story quoted here."
    assert read_article(text, source="t").outlet is None


# --- bylines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "byline"),
    [
        ("By Andrew Osborn", "Andrew Osborn"),
        ("By Andrew Osborn and Jack Stubbs", "Andrew Osborn and Jack Stubbs"),
        ("By Ursula von der Leyen", "Ursula von der Leyen"),
        ("By Luiz Inácio da Silva", "Luiz Inácio da Silva"),
        ("By Harriet O’Neill", "Harriet O’Neill"),
        ("By María José Fernández", "María José Fernández"),
        ("By Özlem Çelik", "Özlem Çelik"),
    ],
)
def test_byline_is_read_and_kept_out_of_the_body(line: str, byline: str) -> None:
    document = read_article(f"A headline\n\n{line}\n\n{BODY}", source="t")
    assert document.byline == byline
    assert (ParagraphKind.BYLINE, line) in kinds(document)
    assert line not in document.body


def test_a_sentence_starting_with_by_is_not_a_byline() -> None:
    text = f"A headline\n\nBy all accounts, the relationship has been dreadful.\n\n{BODY}"
    document = read_article(text, source="t")
    assert document.byline is None
    assert "By all accounts" in document.body


# --- titles ----------------------------------------------------------------------------


def test_title_is_the_first_short_line_without_a_full_stop() -> None:
    document = read_article(f"Kremlin hails Trump's approach\n\n{BODY}", source="t")
    assert document.title == "Kremlin hails Trump's approach"
    assert document.body == BODY


def test_a_text_opening_with_a_sentence_has_no_title() -> None:
    document = read_article(BODY, source="t")
    assert document.title is None
    assert document.body == BODY


def test_a_quote_paragraph_is_not_a_title_or_heading() -> None:
    text = "“We are not in a hurry”\n\nThe Kremlin spokesman returned to the subject."
    document = read_article(text, source="t")
    assert document.title is None
    assert [k for k, _ in kinds(document)] == [ParagraphKind.BODY, ParagraphKind.BODY]


def test_numbered_list_items_are_body_not_headings() -> None:
    text = (
        "A headline\n\nThe minister set out three points:\n\n"
        "1. First point\n\n2) Second point\n\n- A bullet point\n\nThe end of the story."
    )
    document = read_article(text, source="t")
    assert kinds(document) == [
        (ParagraphKind.TITLE, "A headline"),
        (ParagraphKind.BODY, "The minister set out three points:"),
        (ParagraphKind.BODY, "1. First point"),
        (ParagraphKind.BODY, "2) Second point"),
        (ParagraphKind.BODY, "- A bullet point"),
        (ParagraphKind.BODY, "The end of the story."),
    ]


# --- dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "By Jane Doe\n\nNovember 10, 2016\n\nMOSCOW – The Kremlin said on Thursday.",
        "November 10, 2016\n\nBy Jane Doe\n\nMOSCOW – The Kremlin said on Thursday.",
        "By Jane Doe\n\n10 November 2016\n\nMOSCOW – The Kremlin said on Thursday.",
        "By Jane Doe\n\nNov. 10, 2016 MOSCOW – The Kremlin said on Thursday.",
        "2016-11-10 MOSCOW – The Kremlin said on Thursday.",
    ],
)
def test_date_comes_from_the_top_of_the_text(header: str) -> None:
    document = read_article(f"A headline\n\n{header}\n\n{BODY}", source="t")
    assert document.published == datetime(2016, 11, 10, tzinfo=UTC)


def test_a_date_line_is_not_part_of_the_body() -> None:
    document = read_article(f"A headline\n\nNovember 10, 2016\n\n{BODY}", source="t")
    assert document.published == datetime(2016, 11, 10, tzinfo=UTC)
    assert document.body == BODY


@pytest.mark.parametrize(
    "caption",
    [
        "FILE PHOTO: Dmitry Peskov in Moscow, March 3, 2015. REUTERS/Maxim Shemetov",
        "March 3, 2015 file photo of Dmitry Peskov. REUTERS/Maxim Shemetov",
        "Dmitry Peskov is seen in this March 3, 2015 file photo.",
    ],
)
def test_a_caption_date_is_never_the_article_date(caption: str) -> None:
    document = read_article(f"A headline\n\n{caption}\n\n{BODY}", source="t")
    assert document.published is None


def test_a_comment_date_is_never_the_article_date() -> None:
    text = (
        "A headline\n\nThe Kremlin said on Thursday it was hopeful.\n\n"
        "1. joe_k November 11, 2016\n\nGreat article.\n\n"
        "2. ann.b November 12, 2016\n\nRubbish."
    )
    assert read_article(text, source="t").published is None


def test_a_date_deep_in_the_story_is_not_the_article_date() -> None:
    paragraphs = [f"Paragraph {n} of the story." for n in range(6)]
    paragraphs.append("November 10, 2016 was the day the Kremlin spoke.")
    text = "A headline\n\n" + "\n\n".join(paragraphs)
    assert read_article(text, source="t").published is None


def test_a_date_inside_a_sentence_is_not_the_article_date() -> None:
    text = "A headline\n\nPutin and Trump spoke by phone after the election of November 8, 2016."
    assert read_article(text, source="t").published is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2016-11-10", datetime(2016, 11, 10, tzinfo=UTC)),
        ("November 10, 2016", datetime(2016, 11, 10, tzinfo=UTC)),
        ("Nov 10, 2016", datetime(2016, 11, 10, tzinfo=UTC)),
        ("10 November 2016", datetime(2016, 11, 10, tzinfo=UTC)),
        ("2016-11-10T09:30:00Z", datetime(2016, 11, 10, 9, 30, tzinfo=UTC)),
        (
            "2016-11-10T09:30:00+03:00",
            datetime(2016, 11, 10, 9, 30, tzinfo=timezone(timedelta(hours=3))),
        ),
        ("  2016-11-10  ", datetime(2016, 11, 10, tzinfo=UTC)),
    ],
)
def test_parse_date_gives_timezone_aware_datetimes(value: str, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("value", ["someday", "2016-13-45", "February 30, 2016", "10/11/2016", ""])
def test_parse_date_refuses_what_is_not_a_date(value: str) -> None:
    assert parse_date(value) is None


def test_every_seed_date_is_timezone_aware(seed_documents: dict[str, Document]) -> None:
    dates = {name: d.published for name, d in seed_documents.items()}
    assert all(p is not None and p.tzinfo is not None for p in dates.values())
    seed_004 = dates[SEED_004]
    assert seed_004 is not None and seed_004.date() == date(2016, 11, 6)
