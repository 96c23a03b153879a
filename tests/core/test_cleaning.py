"""Encoding repair and the cuts that mark what is not the article, offsets kept."""

from __future__ import annotations

import random
import string
from pathlib import Path

import ftfy
import ftfy.bad_codecs
import pytest

from bot.core.article import read_article
from bot.core.cleaning import find_cuts, is_cut, repair_encoding
from bot.core.documents import Cut, CutReason, Document

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_000 = "000_9400752ccb8fb0fa.txt"
SEED_001 = "001_824f32114a763518.txt"

BODY = "\n\n".join(
    f"Paragraph {n} of the story reports what the minister told reporters in the capital."
    for n in range(6)
)


def cut_texts(document: Document) -> list[tuple[str, CutReason]]:
    return [(document.text[c.start : c.end], c.reason) for c in document.cuts]


def mojibake(text: str) -> str:
    """UTF-8 bytes read as Windows-1252, the commonest way articles get garbled."""
    return text.encode("utf-8").decode("sloppy-windows-1252")


# --- encoding repair -------------------------------------------------------------------


def test_seed_000_mac_roman_nbsp_is_repaired_beside_genuine_curly_apostrophes(
    seed_documents: dict[str, Document],
) -> None:
    raw_line = next(
        line
        for line in (SEEDS / SEED_000).read_text("utf-8").splitlines()
        if line.startswith("IMAGE:")
    )
    assert raw_line.startswith("IMAGE:¬†Belarus’ President")
    text = seed_documents[SEED_000].text
    repaired = next(line for line in text.splitlines() if line.startswith("IMAGE:"))
    assert repaired.startswith("IMAGE:\u00a0Belarus’ President")
    assert "¬†" not in text
    # Only the mojibake changed: every genuine apostrophe on the line is still there.
    assert repaired == raw_line.replace("¬†", "\u00a0")
    assert repaired.count("’") == raw_line.count("’") > 3


def test_seed_000_is_otherwise_left_exactly_as_written(
    seed_documents: dict[str, Document],
) -> None:
    raw = (SEEDS / SEED_000).read_text("utf-8")
    assert seed_documents[SEED_000].text == raw.replace("¬†", "\u00a0")


@pytest.mark.parametrize(
    "text",
    [
        "“It is phenomenal,” Peskov said. “It’s not possible to just declare it.”",
        "He called it a ‘reset’, and Lavrov said «мы готовы к диалогу».",
        "Straight \"double\" and 'single' quotes stay straight.",
    ],
)
def test_typographic_and_straight_quotes_survive_repair_unchanged(text: str) -> None:
    assert repair_encoding(text) == text


def test_utf8_read_as_windows_1252_is_repaired_between_genuine_quotes() -> None:
    garbled = "“The cafÃ© was naÃ¯ve,” he said. The mayorâ€™s office agreed."
    assert repair_encoding(garbled) == "“The café was naïve,” he said. The mayor’s office agreed."


def test_cyrillic_mojibake_whose_bytes_look_like_quote_marks_is_repaired() -> None:
    # "Д" is D0 94, and 0x94 in Windows-1252 is "”": the quote mark is part of the damage.
    original = "Дмитрий Песков сказал: «Говорит Москва»."
    garbled = mojibake(original)
    assert "”" in garbled
    assert repair_encoding(garbled) == original


@pytest.mark.parametrize("dash", ["–", "—"])
def test_garbled_dashes_whose_bytes_look_like_quote_marks_are_repaired(dash: str) -> None:
    # "–" is E2 80 93, and 0x93 in Windows-1252 is "“": the quote mark is part of the damage.
    garbled = f"First line\nMOSCOW {mojibake(dash)} The Kremlin said.\n\nThird line\n"
    assert "“" in garbled or "”" in garbled
    assert (
        repair_encoding(garbled) == f"First line\nMOSCOW {dash} The Kremlin said.\n\nThird line\n"
    )


# --- reader comments -------------------------------------------------------------------


def test_seed_000_reader_comments_are_cut_to_the_end(
    seed_documents: dict[str, Document],
) -> None:
    document = seed_documents[SEED_000]
    comments = [c for c in document.cuts if c.reason is CutReason.COMMENTS]
    assert len(comments) == 1
    cut = comments[0]
    cut_text = document.text[cut.start : cut.end]
    assert cut_text.lstrip().startswith("1. sarah.chen November 11, 2016")
    assert cut.end == len(document.text)
    for commenter in ("Aaron_of_Portsmouth", "Mama Bear", "charleo1", "johninPCFL"):
        assert commenter in cut_text
    assert "Czar Putin, allow me to introduce you" in cut_text


def test_seed_000_caption_and_credit_are_cut_with_their_reasons(
    seed_documents: dict[str, Document],
) -> None:
    document = seed_documents[SEED_000]
    cuts = cut_texts(document)
    assert ("(Editing by Mark Heinrich)", CutReason.CREDIT) in cuts
    captions = [text for text, reason in cuts if reason is CutReason.CAPTION]
    assert len(captions) == 1
    assert captions[0].startswith("IMAGE:\u00a0Belarus’ President Alexander Lukashenko")
    assert captions[0].endswith("in this February 11, 2015 file photo. REUTERS/Grigory Dukor/Files")
    assert sorted(c.reason for c in document.cuts) == sorted(
        [CutReason.CREDIT, CutReason.CAPTION, CutReason.COMMENTS]
    )


def test_no_body_paragraph_of_seed_000_is_cut(seed_documents: dict[str, Document]) -> None:
    document = seed_documents[SEED_000]
    raw = (SEEDS / SEED_000).read_text("utf-8")
    article = raw[: raw.index("(Editing by Mark Heinrich)")]
    body = [p.strip() for p in article.split("\n\n")[2:] if p.strip()]
    assert body[0].startswith("MOSCOW (Reuters)") and body[-1].startswith("Peskov spoke after")
    assert len(body) == 10
    kept = {document.paragraph_text(p) for p in document.body_paragraphs()}
    for paragraph in body:
        start = document.text.index(paragraph)
        assert not any(c.start < start + len(paragraph) and start < c.end for c in document.cuts)
        assert paragraph in kept


def test_seed_001_captcha_line_is_the_only_cut_and_the_last_paragraph_survives(
    seed_documents: dict[str, Document],
) -> None:
    document = seed_documents[SEED_001]
    assert cut_texts(document) == [
        ("Time limit is exhausted. Please reload the CAPTCHA.", CutReason.BOILERPLATE)
    ]
    last = document.paragraph_text(document.paragraphs[-1])
    assert last.startswith("The path to normalization of the relationship will be difficult")
    assert last.endswith("Isn’t that “change we can believe in”?")
    assert not is_cut(document.text.index(last), document.cuts)


def test_comment_form_under_leave_a_reply_is_cut_as_comments() -> None:
    form = (
        "Leave a Reply\n\nYour email address will not be published. "
        "Required fields are marked *\n\nComment\n\nName *\n\nPost Comment\n"
    )
    document = read_article(f"A headline\n\n{BODY}\n\n{form}", source="t")
    assert cut_texts(document) == [(form, CutReason.COMMENTS)]  # to the end of the text
    assert document.body == BODY


def test_comment_form_lines_without_a_heading_are_cut_as_boilerplate() -> None:
    lines = [
        "Your email address will not be published.",
        "Required fields are marked *",
        "Post Comment",
        "Notify me of follow-up comments by email.",
    ]
    document = read_article(f"A headline\n\n{BODY}\n\n" + "\n\n".join(lines), source="t")
    assert cut_texts(document) == [(line, CutReason.BOILERPLATE) for line in lines]
    assert document.body == BODY


def test_numbered_comments_in_one_paragraph_per_line_text_are_cut() -> None:
    comments = "1. joe_k November 11, 2016\nGreat article.\n2. ann.b November 12, 2016\nRubbish."
    text = f"A headline\nMOSCOW – The minister spoke.\nHe said more.\n{comments}"
    document = read_article(text, source="t")
    assert cut_texts(document) == [(comments, CutReason.COMMENTS)]
    assert document.body == "MOSCOW – The minister spoke.\n\nHe said more."


def test_a_comments_heading_opens_the_comment_section() -> None:
    comments = "3 Comments\n\nivan_k March 6, 2025\n\n“Peace through strength” is the only way."
    document = read_article(f"A headline\n\n{BODY}\n\n{comments}", source="t")
    assert cut_texts(document) == [(comments, CutReason.COMMENTS)]


# --- a numbered list in the body is not a comment section ------------------------------


def test_a_numbered_list_in_the_body_is_not_cut() -> None:
    listing = "1. First point\n\n2. Second point of the plan, which is long.\n\n3. Third point"
    text = f"A headline\n\nThe minister set out three points:\n\n{listing}\n\n{BODY}"
    assert find_cuts(text) == ()
    document = read_article(text, source="t")
    assert "1. First point" in document.body
    assert "3. Third point" in document.body
    assert document.body.endswith(BODY)


@pytest.mark.parametrize("where", ["top", "bottom"])
def test_a_dated_timeline_list_is_not_mistaken_for_commenters(where: str) -> None:
    timeline = (
        "Timeline of the talks:\n\n"
        "1. Ceasefire agreed March 3, 2025\n"
        "2. Talks resumed March 10, 2025\n"
        "3. Talks collapsed March 20, 2025"
    )
    last = "The final paragraph of the article says what happens next, and it matters."
    middle = f"{timeline}\n\n{BODY}" if where == "top" else f"{BODY}\n\n{timeline}"
    document = read_article(f"A headline\n\n{middle}\n\n{last}", source="t")
    assert document.cuts == ()
    assert BODY in document.body
    assert "2. Talks resumed March 10, 2025" in document.body
    assert document.body.endswith(last)


# --- captions and credits --------------------------------------------------------------


@pytest.mark.parametrize(
    "caption",
    [
        "IMAGE: Vladimir Putin attends a meeting in Moscow.",
        "Photo: A man walks past the Kremlin wall in central Moscow. Somebody/Agency",
        "FILE PHOTO: Kremlin spokesman Dmitry Peskov in Moscow, Russia, March 3, 2015.",
        "Kremlin spokesman Dmitry Peskov in Moscow. REUTERS/Maxim Shemetov",
        "Vladimir Putin attends a meeting in this March 3, 2015 file photo.",
    ],
)
def test_image_captions_are_cut(caption: str) -> None:
    document = read_article(f"A headline\n\n{BODY}\n\n{caption}\n\nThe end.", source="t")
    assert cut_texts(document) == [(caption, CutReason.CAPTION)]
    assert caption not in document.body
    assert document.body.endswith("The end.")


@pytest.mark.parametrize(
    "credit",
    [
        "(Editing by Mark Heinrich)",
        "(Reporting by Andrew Osborn; Editing by Mark Heinrich)",
        "(Additional reporting by Jack Stubbs; Writing by Andrew Osborn; Editing by Tom Heneghan)",
    ],
)
def test_editing_credits_are_cut(credit: str) -> None:
    document = read_article(f"A headline\n\n{BODY}\n\n{credit}\n", source="t")
    assert cut_texts(document) == [(credit, CutReason.CREDIT)]
    assert document.body == BODY


def test_prose_that_mentions_comments_photos_or_editing_is_not_cut() -> None:
    prose = (
        "Peskov declined to comment on the photo, which showed the editing room of the paper.\n\n"
        "The Kremlin said comments by the reporter (editing aside) were unfair.\n\n"
        "Comments made on Thursday by Lavrov were read out in full."
    )
    assert find_cuts(f"A headline\n\n{prose}") == ()


# --- the cuts as a whole ---------------------------------------------------------------


def test_cuts_are_ordered_disjoint_and_inside_the_text(
    seed_documents: dict[str, Document],
) -> None:
    for document in seed_documents.values():
        previous_end = 0
        for cut in document.cuts:
            assert previous_end <= cut.start < cut.end <= len(document.text)
            assert document.text[cut.start : cut.end].strip()
            previous_end = cut.end


def test_is_cut_is_true_exactly_inside_a_cut() -> None:
    cuts = (Cut(5, 10, CutReason.CAPTION),)
    assert [is_cut(i, cuts) for i in (4, 5, 9, 10)] == [False, True, True, False]


def test_the_ascii_shortcut_gives_what_ftfy_gives() -> None:
    # Pure ASCII lines skip ftfy unless they hold something ftfy fixes in ASCII.
    rng = random.Random(7)
    alphabet = string.printable + "&;#\x1b\x00\x7f"
    lines = ["Tom &amp; Jerry\n", "a\x1b[31mred\x1b[0m\n", "one\r\n", "&lt;b&gt;\n"]
    lines += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    for line in lines:
        assert repair_encoding(line) == "".join(
            ftfy.fix_text(part, uncurl_quotes=False) for part in line.splitlines(keepends=True)
        ), repr(line)


def test_the_shortcut_for_clean_typographic_lines_gives_what_ftfy_gives() -> None:
    # Lines with curly quotes and accents but no mojibake skip ftfy; they must come out as
    # ftfy would give them, including its Unicode normalisation and invisible controls.
    rng = random.Random(11)
    alphabet = string.ascii_letters + " ,.“”‘’«»–—…éüçğÀ\u00a0Ã©â€\u0301\ufb01\u200b\u2028"
    lines = ["Erdog\u0306an said\n", "“Good,” she said – “very good”.\n", "ﬁnal\n", "a\u200bb\n"]
    lines += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 50))) for _ in range(3000)]
    for line in lines:
        fixed = ftfy.fix_text(line, uncurl_quotes=False)
        if not ftfy.badness.is_bad(fixed):  # otherwise the line is repaired piece by piece
            assert repair_encoding(line) == fixed, repr(line)
