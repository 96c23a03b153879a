"""Discord rendering: embeds within every limit, nothing lost, nothing that pings or formats."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot import messages as m
from bot.render.discord import (
    DESCRIPTION_LIMIT,
    EMBEDS_PER_MESSAGE,
    ERROR_COLOUR,
    FOOTER_LIMIT,
    MESSAGE_TOTAL_LIMIT,
    TITLE_LIMIT,
    DiscordMessage,
    escape_text,
    link_markdown,
    render_messages,
    units,
)
from bot.reply import Item, Link, Reply, Section

ZWSP = "\u200b"


def payloads(messages: list[DiscordMessage]) -> list[list[dict[str, Any]]]:
    return [[dict(embed.to_dict()) for embed in message.embeds] for message in messages]


def assert_within_limits(messages: list[DiscordMessage]) -> None:
    assert messages
    for message in payloads(messages):
        assert 1 <= len(message) <= EMBEDS_PER_MESSAGE
        total = 0
        for embed in message:
            title = embed.get("title", "")
            description = embed.get("description", "")
            footer = embed.get("footer", {}).get("text", "")
            assert units(title) <= TITLE_LIMIT
            assert units(description) <= DESCRIPTION_LIMIT
            assert units(footer) <= FOOTER_LIMIT
            assert title or description or footer, "Discord refuses an empty embed"
            assert "fields" not in embed
            total += units(title) + units(description) + units(footer)
        assert total <= MESSAGE_TOTAL_LIMIT


def descriptions(messages: list[DiscordMessage]) -> str:
    return "\n\n".join(e.get("description", "") for m in payloads(messages) for e in m)


def quote_body(messages: list[DiscordMessage]) -> str:
    """The text of every blockquote line, in order."""
    lines = descriptions(messages).split("\n")
    return "".join(line[2:] for line in lines if line.startswith("> "))


def no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_a_quote_shows_text_speaker_outlets_and_date_with_links() -> None:
    reply = Reply(
        title="Quotes by Dmitry Peskov",
        sections=(
            Section(
                heading="Since 2016-11-01",
                items=(
                    Item(
                        text="We are ready to restore relations.",
                        detail="Dmitry Peskov · first seen 2016-11-10",
                        links=(Link("RT", "https://www.rt.com/news/a_(1)"), Link("TASS")),
                        quoted=True,
                    ),
                ),
            ),
        ),
        footnote="2 outlets",
    )

    [message] = payloads(render_messages(reply))

    assert message == [
        {
            "type": "rich",
            "flags": 0,
            "color": 0x5865F2,
            "title": "Quotes by Dmitry Peskov",
            "description": "**Since 2016-11-01**\n"
            "> We are ready to restore relations.\n"
            "— Dmitry Peskov · first seen 2016-11-10"
            " · [RT](https://www.rt.com/news/a_%281%29) · TASS",
            "footer": {"text": "2 outlets"},
        }
    ]


def test_mentions_and_markdown_in_quoted_text_are_inert() -> None:
    text = (
        "@everyone @here <@123456789012345678> <@&234567890123456789> <#345678901234567890> "
        "**bold** __under__ `code` ||spoiler|| [click](https://evil.example) ~~gone~~\n"
        "> not a quote\n# not a heading"
    )
    reply = Reply(title="t", sections=(Section(items=(Item(text=text, quoted=True),)),))

    [[embed]] = payloads(render_messages(reply))

    assert embed["description"] == (
        f"> @{ZWSP}everyone @{ZWSP}here \\<@{ZWSP}123456789012345678> "
        f"\\<@{ZWSP}&234567890123456789> \\<#345678901234567890> "
        "\\*\\*bold\\*\\* \\_\\_under\\_\\_ \\`code\\` \\|\\|spoiler\\|\\| "
        "[click]\\(https://evil.example) \\~\\~gone\\~\\~\n"
        "> \\> not a quote\n"
        "> \\# not a heading"
    )


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        # discord.py's escape_markdown alone leaves the bold inside a link's span alone.
        ("[a](b) **bold** (c)", "[a]\\(b) \\*\\*bold\\*\\* (c)"),
        ("[x](<https://e.com>)", "[x]\\(\\<https://e.com>)"),
        (
            "<t:1700000000:R> <:wave:123> </quotes:1>",
            "\\<t:1700000000:R> \\<:wave:123> \\</quotes:1>",
        ),
        (
            "  > indented\n 1. listed\n- dash\n-# small",
            "  \\> indented\n 1\\. listed\n\\- dash\n\\-# small",
        ),
        ("a back\\slash <#1>", "a back\\\\slash \\<#1>"),
        ("see https://example.com/a_b_c ok", "see https://example.com/a_b_c ok"),
        ("plain words, 3 < 4", "plain words, 3 < 4"),
    ],
)
def test_escape_text(raw: str, escaped: str) -> None:
    assert escape_text(raw) == escaped


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        (Link("RT", "https://rt.com/x y"), "[RT](https://rt.com/x%20y)"),
        (Link("RT", "HTTP://rt.com/"), "[RT](http://rt.com/)"),
        (Link("**RT**", "https://rt.com/"), "[\\*\\*RT\\*\\*](https://rt.com/)"),
        (Link("Evil", "javascript:alert(1)"), "Evil"),
        (Link("Evil", "ftp://files.example/"), "Evil"),
        (Link("Evil", "https://"), "Evil"),
        (Link("TASS", None), "TASS"),
        (Link("a [b] c", "https://e.com/"), "a [b] c (<https://e.com/>)"),
        (Link("", "https://e.com/"), "<https://e.com/>"),
    ],
)
def test_links_only_for_http_urls_and_with_escaped_labels(link: Link, shown: str) -> None:
    assert link_markdown(link) == shown


def test_a_long_reply_fills_several_messages_within_every_limit_and_in_order() -> None:
    items = tuple(
        Item(
            text=" ".join(f"q{i:03d}w{j:03d}" for j in range(120)),
            detail=f"Speaker {i} · first seen 2016-11-{1 + i % 28:02d}",
            links=(Link(f"Outlet {i}", f"https://outlet{i}.example/a"),),
            quoted=True,
        )
        for i in range(60)
    )
    reply = Reply(title="Quotes", sections=(Section(heading="All", items=items),), footnote="end")

    messages = render_messages(reply)

    assert len(messages) > 1
    assert_within_limits(messages)
    text = descriptions(messages)
    assert re.findall(r"q\d{3}w\d{3}", text) == [
        f"q{i:03d}w{j:03d}" for i in range(60) for j in range(120)
    ]
    assert re.findall(r"Speaker (\d+)", text) == [str(i) for i in range(60)]
    assert re.findall(r"\]\(https://outlet(\d+)\.example/a\)", text) == [str(i) for i in range(60)]
    assert payloads(messages)[-1][-1]["footer"] == {"text": "end"}
    assert payloads(messages)[0][0]["title"] == "Quotes"


def test_a_single_quote_longer_than_a_message_is_split_without_losing_a_character() -> None:
    words = [f"{n}:" + "abcdefghij"[n % 10] * (1 + n % 37) for n in range(2500)]
    text = " ".join(words) + "\n" + "x" * 9000  # and a "word" longer than any embed
    reply = Reply(
        title="Long", sections=(Section(items=(Item(text=text, detail="Peskov", quoted=True),)),)
    )

    messages = render_messages(reply)

    assert len(messages) >= 10
    assert_within_limits(messages)
    assert no_space(quote_body(messages)) == no_space(text)
    assert descriptions(messages).endswith("\n— Peskov")


def test_split_escaped_text_keeps_every_character_and_never_a_dangling_backslash() -> None:
    text = "*_`|~\\<@" * 2000  # every character escapes to two or more
    reply = Reply(title="t", sections=(Section(text=text),))

    messages = render_messages(reply)

    assert_within_limits(messages)
    pieces = [e["description"] for m in payloads(messages) for e in m]
    assert len(pieces) > 3
    assert "".join(pieces) == escape_text(text)  # piece by piece, the same escapes as whole
    for piece in pieces:
        assert re.search(r"(?<!\\)(\\\\)*\\$", piece) is None


def test_lengths_are_counted_in_utf16_units() -> None:
    text = "😀" * 3000  # 3000 code points, 6000 UTF-16 units
    reply = Reply(title="Emoji", sections=(Section(text=text),))

    messages = render_messages(reply)

    assert_within_limits(messages)
    assert "".join(e["description"] for m in payloads(messages) for e in m) == text
    assert len(messages) == 2


def test_a_title_too_long_for_the_title_moves_whole_into_the_description() -> None:
    title = "Quotes about " + "sanctions " * 60

    [[embed]] = payloads(render_messages(Reply(title=title)))

    assert "title" not in embed
    assert embed["description"] == f"**{title.strip()}**"


def test_a_footnote_too_long_for_a_footer_becomes_text() -> None:
    footnote = "Sources: " + "outlet, " * 400
    reply = Reply(title="t", footnote=footnote)

    messages = render_messages(reply)

    assert_within_limits(messages)
    assert no_space(descriptions(messages)) == no_space(escape_text(footnote))
    assert all("footer" not in e for m in payloads(messages) for e in m)


def test_a_footer_that_no_longer_fits_goes_in_a_message_of_its_own() -> None:
    text = "w " * 2950  # leaves less than the footer's room in the last message
    reply = Reply(title="t", sections=(Section(text=text),), footnote="f" * 2000)

    messages = render_messages(reply)

    assert_within_limits(messages)
    assert payloads(messages)[-1] == [
        {"type": "rich", "flags": 0, "color": 0x5865F2, "footer": {"text": "f" * 2000}}
    ]


def test_many_short_items_never_exceed_ten_embeds_per_message() -> None:
    items = tuple(Item(text="x" * 500 + f" {i}") for i in range(200))

    messages = render_messages(Reply(title="t", sections=(Section(items=items),)))

    assert_within_limits(messages)
    assert re.findall(r" (\d+)\*\*", descriptions(messages)) == [str(i) for i in range(200)]


def test_an_empty_reply_still_says_something() -> None:
    [[embed]] = payloads(render_messages(Reply(title="")))
    assert embed["description"] == m.EMPTY_REPLY


def test_a_title_only_reply_is_one_embed() -> None:
    [[embed]] = payloads(render_messages(Reply(title="No quotes by Nobody")))
    assert embed["title"] == "No quotes by Nobody"
    assert "description" not in embed


def test_error_replies_are_red() -> None:
    [[embed]] = payloads(render_messages(Reply(title="`since` must be a date", is_error=True)))
    assert embed["color"] == ERROR_COLOUR.value
    assert embed["title"] == "\\`since\\` must be a date"


def test_a_heading_stays_with_the_first_item_and_items_are_bold_when_not_quoted() -> None:
    reply = Reply(
        title="briefbot commands",
        sections=(
            Section(
                heading="Commands",
                items=(Item(text="quotes <speaker> [since]", detail="Quotes by a speaker"),),
            ),
        ),
    )

    [[embed]] = payloads(render_messages(reply))

    assert (
        embed["description"] == "**Commands**\n**quotes \\<speaker> [since]**\nQuotes by a speaker"
    )


def test_notes_follow_the_quote_each_on_a_line_escaped() -> None:
    note = "Press TV — edited: …trust takes [-years-] {+many+} to *achieve* @everyone"
    item = Item(text="An atmosphere", detail="Peskov", quoted=True, notes=(note, "TASS — x"))
    [message] = render_messages(Reply(title="t", sections=(Section(items=(item,)),)))
    assert message.embeds[0].description == (
        f"> An atmosphere\n— Peskov\n• {escape_text(note)}\n• TASS — x"
    )
    assert "@everyone" not in (message.embeds[0].description or "")


def test_many_long_notes_are_split_within_limits_losing_nothing() -> None:
    notes = tuple(
        f"Outlet {n} — edited: " + " ".join(f"n{n}w{w}" for w in range(300)) for n in range(12)
    )
    item = Item(text="Statement", detail="Peskov", quoted=True, notes=notes)
    messages = render_messages(Reply(title="t", sections=(Section(items=(item,)),)))
    assert_within_limits(messages)
    assert len(messages) > 1
    text = descriptions(messages)
    assert re.findall(r"n\d+w\d+", text) == [f"n{n}w{w}" for n in range(12) for w in range(300)]
    assert text.count("• Outlet") == 12


# A digest's part marks


@pytest.mark.parametrize(
    "footnote",
    ["since 2025-03-09 · ref 0123456789", "x " * 1100 + "ref 0123456789", ""],
    ids=["short", "too-long-for-a-footer", "none"],
)
def test_every_message_of_a_digest_ends_with_its_part_mark_within_limits(footnote: str) -> None:
    ref = "ref 0123456789"
    # Blocks that fill messages to the last unit the limits allow.
    items = tuple(Item(text="w" * 2990) for _ in range(7))
    reply = Reply(title="briefbot digest", sections=(Section(items=items),), footnote=footnote)

    marked = render_messages(reply, ref=ref)

    assert_within_limits(marked)
    parts = len(marked)
    assert parts > 2
    footers = [p[-1]["footer"]["text"] for p in payloads(marked)]
    for number, footer in enumerate(footers, start=1):
        assert footer.endswith(f"{ref} · part {number} of {parts}")
    assert footers.count(f"{ref} · part {parts} of {parts}") == (
        0 if footnote.startswith("since") else 1
    )
    # The same content as without marks, in order (page breaks may fall elsewhere).
    plain = descriptions(render_messages(reply))
    assert "".join(descriptions(marked).split()) == "".join(plain.split())


def test_a_one_message_digest_carries_its_reference_alone() -> None:
    reply = Reply(title="briefbot digest", footnote="since 2025-03-09 · ref 0123456789")
    [message] = payloads(render_messages(reply, ref="ref 0123456789"))
    assert message[-1]["footer"]["text"] == "since 2025-03-09 · ref 0123456789"
    [bare] = payloads(render_messages(Reply(title="briefbot digest"), ref="ref 0123456789"))
    assert bare[-1]["footer"]["text"] == "ref 0123456789"
