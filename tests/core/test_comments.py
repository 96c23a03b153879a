"""Where reader comments begin: only where comment sections leave their marks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.article import read_article
from bot.core.comments import comment_section_start
from bot.core.documents import CutReason

SEED_000 = Path(__file__).resolve().parents[2] / "seeds" / "000_9400752ccb8fb0fa.txt"
BODY = "\n\n".join(
    f"Paragraph {n} of the story reports what the minister told reporters in the capital."
    for n in range(6)
)


# --- real comment sections ---------------------------------------------------------------


def test_seed_000_comments_start_at_the_first_commenter() -> None:
    text = SEED_000.read_text(encoding="utf-8")
    assert comment_section_start(text) == text.index("  1. sarah.chen November 11, 2016")


def test_a_comments_heading_with_commenters_and_reply_lines() -> None:
    comments = (
        "14 Comments\n\n"
        "markus_77 says:\nMarch 6, 2025 at 9:14 am\n\n“Talks are pointless,” Peskov said.\n\n"
        "Reply\n\n"
        "Helen Ward says:\nMarch 6, 2025 at 11:02 am\n\nI hope they succeed.\n\nReply"
    )
    text = f"A headline\n\n{BODY}\n\n{comments}"
    assert comment_section_start(text) == text.index("14 Comments")


def test_numbered_commenters_with_handles_and_close_dates() -> None:
    comments = "1. joe_k November 11, 2016\n\nGreat article.\n\n2. ann.b November 12, 2016\n\nNo."
    text = f"A headline\n\n{BODY}\n\n{comments}"
    assert comment_section_start(text) == text.index("1. joe_k")


def test_replies_numbered_anew_under_a_comment() -> None:
    comments = (
        "1. Mama Bear November 11, 2016\n\nFirst.\n\n"
        "    1. Papa Bear November 11, 2016\n\n    A reply.\n\n"
        "2. Baby Bear November 11, 2016\n\nSecond."
    )
    text = f"A headline\n\n{BODY}\n\n{comments}"
    assert comment_section_start(text) == text.index("1. Mama Bear")


def test_a_leave_a_reply_form() -> None:
    form = "Leave a Reply\n\nYour email address will not be published.\n\nPost Comment"
    text = f"A headline\n\n{BODY}\n\n{form}"
    assert comment_section_start(text) == text.index("Leave a Reply")


# --- article text that only looks like comments ------------------------------------------

TIMELINE = (
    "1. Istanbul round March 29, 2022\n\n"
    "“We saw a real chance for peace in Istanbul that spring,” said Mevlut Cavusoglu.\n\n"
    "2. Jeddah round August 5, 2023\n\n"
    "“The meeting in Jeddah was useful but produced no text,” said Andriy Yermak.\n\n"
    "3. Geneva round June 15, 2024\n\n"
    "“Nobody expected anything from Geneva,” said Peskov."
)


@pytest.mark.parametrize("where", ["middle", "end"])
def test_a_numbered_dated_list_with_blank_lines_is_article_text(where: str) -> None:
    text = f"A headline\n\nThe talks failed three times.\n\n{TIMELINE}" + (
        f"\n\n{BODY}" if where == "middle" else ""
    )
    assert comment_section_start(text) is None
    document = read_article(text, source="t")
    assert document.cuts == ()
    assert "Nobody expected anything from Geneva" in document.body


@pytest.mark.parametrize("heading", ["Discussion", "Comments", "What do you think?"])
def test_a_body_heading_over_article_text_cuts_nothing(heading: str) -> None:
    text = (
        f"A headline\n\n{BODY}\n\n{heading}\n\n"
        "Analysts were divided on whether the statement changed anything at all.\n\n"
        "“Nothing will change until the sanctions are lifted,” Lavrov said on Saturday."
    )
    assert comment_section_start(text) is None
    document = read_article(text, source="t")
    assert all(c.reason is not CutReason.COMMENTS for c in document.cuts)
    assert document.body.endswith("Lavrov said on Saturday.")


def test_two_dated_entries_with_event_titles_far_apart_are_not_commenters() -> None:
    events = (
        "1. Ceasefire talks March 3, 2022\n\nThe first round.\n\n"
        "2. Prisoner swap September 9, 2023\n\nThe second round."
    )
    assert comment_section_start(f"A headline\n\n{BODY}\n\n{events}") is None


def test_the_heading_must_open_the_comments_not_sit_far_above_them() -> None:
    far = "\n\n".join(["A long paragraph of article text that goes on and on."] * 20)
    text = f"A headline\n\n{BODY}\n\nComments\n\n{far}\n\nReply"
    assert comment_section_start(text) is None
