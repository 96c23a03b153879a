"""The Block Kit renderer: escaping, links, and Slack's limits without losing text."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.render.slack import (
    FALLBACK_MAX,
    MESSAGE_TEXT_BUDGET,
    Message,
    block_text_size,
    escape_mrkdwn,
    link,
    render_messages,
    split_text,
)
from bot.reply import Item, Link, Reply, Section
from tests.fakes.slack_api import block_errors

MENTIONS = ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C999>", "<!subteam^S1>")
_LOOKALIKES_BACK = str.maketrans({"\u2217": "*", "\u02cd": "_", "\u223c": "~", "\u02cb": "`"})


def restore(text: str) -> str:
    """Undo the renderer's escaping, to compare with what the article said."""
    text = text.replace("\u00ad", "").translate(_LOOKALIKES_BACK)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def texts(message: Message) -> list[str]:
    found: list[str] = []
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(e["text"] for e in block.get("elements", ()))
    return found


def content(messages: list[Message]) -> list[str]:
    """Every text of a reply's messages, without the continuation markers."""
    return [
        t
        for number, m in enumerate(messages)
        for t in texts({"blocks": m["blocks"][1:] if number else m["blocks"]})
    ]


def squash(text: str) -> str:
    return "".join(text.split())


def mrkdwn_objects(messages: list[Message]) -> list[dict[str, Any]]:
    objects = [b["text"] for m in messages for b in m["blocks"] if "text" in b]
    objects += [e for m in messages for b in m["blocks"] for e in b.get("elements", ())]
    return [o for o in objects if o["type"] == "mrkdwn"]


def test_a_plain_reply_has_a_header_its_content_links_and_a_fallback() -> None:
    reply = Reply(
        title="Quotes by Dmitry Peskov",
        sections=(
            Section(
                heading="Thursday",
                items=(
                    Item(
                        text="An atmosphere of mutual trust takes years to achieve",
                        detail="Dmitry Peskov, Kremlin spokesman",
                        links=(Link("Press TV", "https://www.presstv.ir/Detail/2016/11/10/493"),),
                        quoted=True,
                    ),
                ),
            ),
        ),
        footnote="1 quote",
    )

    [message] = render_messages(reply)

    assert message["text"] == "Quotes by Dmitry Peskov"
    header, heading, quote, links, footnote = message["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Quotes by Dmitry Peskov", "emoji": True},
    }
    assert heading["text"]["text"] == "*Thursday*"
    assert quote["text"]["text"] == (
        "> An atmosphere of mutual trust takes years to achieve\nDmitry Peskov, Kremlin spokesman"
    )
    assert links["type"] == "context"
    assert links["elements"][0]["text"] == "<https://www.presstv.ir/Detail/2016/11/10/493|Press TV>"
    assert footnote["elements"][0]["text"] == "1 quote"
    assert block_errors(message) == []


def test_article_text_cannot_mention_anyone_anywhere_in_the_payload() -> None:
    hostile = "Ping " + " ".join(MENTIONS) + " & <b>bold</b>"
    reply = Reply(
        title=hostile,
        sections=(
            Section(
                heading=hostile,
                text=hostile,
                items=(Item(text=hostile, detail=hostile, links=(Link(hostile, hostile),)),),
            ),
        ),
        footnote=hostile,
    )

    messages = render_messages(reply)
    payload = json.dumps(messages, ensure_ascii=False)

    for mention in MENTIONS:
        assert mention not in payload
    assert "<" not in payload and ">" not in payload  # not even a link: the URL was not http(s)
    assert "&lt;!channel&gt;" in payload and "&amp; &lt;b&gt;" in payload
    assert all(o["verbatim"] is True for o in mrkdwn_objects(messages))  # no auto-linking
    for text in texts(messages[0])[1:]:
        assert hostile in restore(text)


def test_mrkdwn_formatting_characters_in_a_quote_are_neutralised() -> None:
    quote = "*not bold* _not italic_ ~not struck~ `not code` ```not a block```\n> not a quote"
    [message] = render_messages(Reply(title="t", sections=(Section(items=(Item(text=quote),)),)))

    [body] = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]

    assert not re.search(r"[*_~`]", body)
    assert not any(line.startswith(("&gt;", ">")) for line in body.splitlines())
    assert restore(body) == quote


@pytest.mark.parametrize(
    "text",
    [
        "overlaps [min_outlets] [limit]",
        "overlaps min_outlets:3",
        "a snake_case_name, 2*3*4 and x~y",
        "see https://example.com/some_page_name?a_b=c~d",
        "Peskov_said",
    ],
)
def test_markers_inside_words_are_left_as_typed_so_they_can_be_copied(text: str) -> None:
    [message] = render_messages(Reply(title="t", sections=(Section(items=(Item(text=text),)),)))

    assert escape_mrkdwn(text) == text
    assert texts(message)[1] == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("_italic_", "\u02cditalic\u02cd"),
        ("(*bold*)", "(\u2217bold\u2217)"),
        ("snake_case_", "snake_case\u02cd"),  # the last one could close an italic
        ("__init__", "\u02cd\u02cdinit\u02cd\u02cd"),
        ("Путин_сказал_", "Путин\u02cdсказал\u02cd"),  # only ASCII counts as a word here
        ("x `code` ~c~", "x \u02cbcode\u02cb \u223cc\u223c"),
    ],
)
def test_markers_at_a_word_boundary_are_neutralised(text: str, expected: str) -> None:
    assert escape_mrkdwn(text) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            Link("TASS", "https://tass.com/politics?id=1&lang=en"),
            "<https://tass.com/politics?id=1&amp;lang=en|TASS>",
        ),
        (Link("RT|<x>", "http://rt.com/news/1"), "<http://rt.com/news/1|RT &lt;x&gt;>"),
        (Link("A", "https://a.example/p|q>r s"), "<https://a.example/p%7Cq%3Er%20s|A>"),
        (
            Link("Izvestia", "https://известия.рф/a"),
            "<https://xn--b1agedd7ch9h.xn--p1ai/a|Izvestia>",
        ),
        (Link("Evil", "javascript:alert(1)"), "Evil"),
        (Link("Files", "ftp://files.example/a"), "Files"),
        (Link("No scheme", "www.example.com"), "No scheme"),
        (Link("Offline"), "Offline"),
        (Link("*Loud*", "https://x.example"), "<https://x.example|\u2217Loud\u2217>"),
        (
            Link("Huge", "https://x.example/?q=" + "a&b" * 700),
            "Huge https://x.example/?q=" + "a&amp;b" * 700,  # shown as text, split like text
        ),
    ],
)
def test_links_are_made_only_for_http_urls(target: Link, expected: str) -> None:
    assert link(target) == expected


def test_a_long_reply_is_split_within_slack_limits_and_keeps_every_character() -> None:
    giant = " ".join(f"giant{i} <&>*" for i in range(1500))  # ~20k characters, one item
    items = [Item(text=f"quote {i}: " + "words & more " * 60, quoted=True) for i in range(60)]
    items.insert(7, Item(text=giant, detail="Someone"))
    outlets = tuple(Link(f"Outlet {i}", f"https://news{i}.example/story") for i in range(25))
    items.insert(20, Item(text="cited widely", links=outlets))
    title = "A very long title " * 12
    reply = Reply(
        title=title,
        sections=(
            Section(heading="First", text="intro " * 800, items=tuple(items)),
            Section(heading="Second", items=(Item(text="last item"),)),
        ),
        footnote="note " * 900,
    )

    messages = render_messages(reply)

    assert len(messages) > 3
    for number, message in enumerate(messages, start=1):
        assert block_errors(message) == []
        assert sum(block_text_size(b) for b in message["blocks"]) <= MESSAGE_TEXT_BUDGET
        assert message["text"].endswith(f"(part {number} of {len(messages)})")
    stream = squash("".join(restore(t) for t in content(messages)))
    expected = [title, "intro " * 800, *(i.text for i in items), "last item", "note " * 900]
    position = 0
    for text in expected:  # every text arrives, in order
        position = stream.index(squash(text), position)
    links = [t for t in content(messages) if "news" in t]
    assert links == [f"<{o.url}|{o.label}>" for o in outlets]


def test_a_title_too_long_for_a_header_is_kept_whole_in_sections() -> None:
    title = "Unknown command " + "x" * 400
    [message] = render_messages(Reply(title=title, is_error=True))

    assert all(b["type"] != "header" for b in message["blocks"])
    assert squash(title) in squash(restore("".join(texts(message))))
    assert message["text"].startswith(":warning: ")
    assert block_errors(message) == []


def test_the_fallback_text_is_capped_while_the_blocks_keep_the_whole_title() -> None:
    title = "Headline & <more> " + "word " * 12_000  # 60,000+ characters
    items = tuple(Item(text=f"item {i} " + "x" * 2500) for i in range(12))
    reply = Reply(title=title, sections=(Section(items=items),), is_error=True)

    messages = render_messages(reply)

    assert len(messages) > 1
    for number, message in enumerate(messages, start=1):
        text = message["text"]
        assert len(text) <= FALLBACK_MAX
        assert text.startswith(":warning: Headline &amp; &lt;more&gt; word word")
        assert text.endswith(f"word… (part {number} of {len(messages)})")
        assert block_errors(message) == []
    whole = squash("".join(restore(t) for t in content(messages)))
    assert squash(title) in whole.replace("*", "")  # in bold sections, every word


def test_a_short_title_is_the_whole_fallback() -> None:
    title = "x" * (FALLBACK_MAX - len(" (part 2 of 2)"))
    items = tuple(Item(text=f"item {i} " + "x" * 2500) for i in range(6))

    messages = render_messages(Reply(title=title, sections=(Section(items=items),)))

    assert [m["text"] for m in messages] == [f"{title} (part {n} of 2)" for n in (1, 2)]


def test_an_error_reply_is_marked() -> None:
    [message] = render_messages(Reply(title="`since` must be a date", is_error=True))

    assert message["blocks"][0]["text"]["text"] == ":warning: `since` must be a date"


def test_continuation_messages_say_so() -> None:
    items = tuple(Item(text=f"item {i} " + "x" * 2500) for i in range(12))
    messages = render_messages(Reply(title="Search", sections=(Section(items=items),)))

    assert len(messages) > 1
    assert messages[0]["blocks"][0]["type"] == "header"
    for number, message in enumerate(messages[1:], start=2):
        assert message["blocks"][0]["elements"][0]["text"] == (
            f"(continued, part {number} of {len(messages)})"
        )


def test_split_text_never_cuts_an_entity_and_loses_nothing() -> None:
    text = "&amp;&lt;&gt;" * 700 + "tail"

    pieces = split_text(text, 100)

    assert "".join(pieces) == text
    assert all(len(p) <= 100 for p in pieces)
    assert all(re.fullmatch(r"(?:&(?:amp|lt|gt);)*(?:tail)?", p) for p in pieces)


def test_notes_follow_the_quote_escaped_and_within_limits() -> None:
    note = "Press TV — edited: …takes [-years-] {+many+} to *achieve* <!channel>"
    item = Item(text="An atmosphere", detail="Peskov", quoted=True, notes=(note,))
    [message] = render_messages(Reply(title="t", sections=(Section(items=(item,)),)))
    [section] = [t for t in texts(message) if t.startswith("> ")]
    assert section.split("\n") == ["> An atmosphere", "Peskov", "• " + escape_mrkdwn(note)]
    assert "<!channel>" not in json.dumps(message)
    many = Item(
        text="S",
        quoted=True,
        notes=tuple(
            f"Outlet {n} — " + " ".join(f"n{n}w{w}" for w in range(400)) for n in range(20)
        ),
    )
    messages = render_messages(Reply(title="t", sections=(Section(items=(many,)),)))
    assert len(messages) > 1
    for found in messages:
        assert block_errors(found) == []
    text = " ".join(content(messages))
    assert re.findall(r"n\d+w\d+", text) == [f"n{n}w{w}" for n in range(20) for w in range(400)]


# A digest's part marks


def test_every_message_of_a_digest_ends_with_its_part_mark_within_limits() -> None:
    ref = "ref 0123456789"
    items = tuple(Item(text=f"story {n}") for n in range(130))  # many small blocks
    reply = Reply(
        title="briefbot digest",
        sections=(Section(items=items),),
        footnote=f"since 2025-03-09 · {ref}",
    )

    marked = render_messages(reply, ref=ref)

    parts = len(marked)
    assert parts > 2
    for number, message in enumerate(marked, start=1):
        assert block_errors(message) == []
        last = message["blocks"][-1]
        assert last["type"] == "context"
        assert last["elements"][-1]["text"].endswith(f"{ref} · part {number} of {parts}")
    # On the last message the mark extends the footnote rather than repeating it.
    assert marked[-1]["blocks"][-1]["elements"][-1]["text"] == (
        f"since 2025-03-09 · {ref} · part {parts} of {parts}"
    )
    unmarked = render_messages(reply)
    assert [b for m in unmarked for b in m["blocks"] if b["type"] != "context"] == [
        b for m in marked for b in m["blocks"] if b["type"] != "context"
    ]


def test_a_one_message_digest_carries_its_reference_alone() -> None:
    ref = "ref 0123456789"
    [message] = render_messages(Reply(title="briefbot digest", footnote=f"since · {ref}"), ref=ref)
    assert message["blocks"][-1]["elements"][-1]["text"] == f"since · {ref}"
    [bare] = render_messages(Reply(title="briefbot digest"), ref=ref)
    assert bare["blocks"][-1]["elements"][-1]["text"] == ref
