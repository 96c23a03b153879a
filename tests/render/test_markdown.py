"""Markdown for the console and briefings/: untrusted text shows literally, nothing is cut."""

from __future__ import annotations

import re

import pytest

from bot.render.markdown import escape, link, render, render_text
from bot.reply import Item, Link, Reply, Section

HOSTILE = "[x](http://evil) <script>alert(1)</script> **bold** @everyone <@123> `code` ~~s~~ |a|"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[x](http://evil)", r"\[x\](http://evil)"),
        ("![img](http://evil/p.png)", r"!\[img\](http://evil/p.png)"),
        ("[ref]: http://evil", r"\[ref\]: http://evil"),
        ("<http://evil>", r"\<http://evil\>"),
        ("<script>alert(1)</script>", r"\<script\>alert(1)\</script\>"),
        ("# heading", r"\# heading"),
        ("## heading", r"\## heading"),
        ("> quote", r"\> quote"),
        ("**bold** and *it*", r"\*\*bold\*\* and \*it\*"),
        ("_it_ and __bold__", r"\_it\_ and \_\_bold\_\_"),
        ("__init__ of snake_case", r"\_\_init\_\_ of snake_case"),
        ("`code` ~~gone~~ |cell|", r"\`code\` \~\~gone\~\~ \|cell\|"),
        ("- item", r"\- item"),
        ("+ item", r"\+ item"),
        ("1. first", r"1\. first"),
        ("2016) a year", r"2016\) a year"),
        ("===", r"\==="),
        ("back\\slash", r"back\\slash"),
        ("AT&amp;T and &#60;b&#62; but not A&B", r"AT\&amp;T and \&#60;b\&#62; but not A&B"),
        ("@everyone @here", "@everyone @here"),
        ("a - b + c = d > e", r"a - b + c = d \> e"),
        ("He said: “It’s (not) 100% over.”", "He said: “It’s (not) 100% over.”"),
    ],
)
def test_escape_shows_untrusted_text_literally(text: str, shown: str) -> None:
    assert escape(text) == shown


def test_every_line_of_multiline_text_is_escaped() -> None:
    text = "first line\n# heading\n  > quote\n3. third\nplain"
    assert escape(text) == "first line\n\\# heading\n  \\> quote\n3\\. third\nplain"


def _unescaped_markup(markdown: str) -> list[str]:
    """Markup characters not preceded by a backslash: what a CommonMark parser would act on."""
    return re.findall(r"(?<!\\)[\[\]<>*`~|]", markdown)


def test_no_markup_character_of_hostile_text_survives_unescaped() -> None:
    assert _unescaped_markup(escape(HOSTILE)) == []
    # Undoing the escapes gives the text back: nothing was dropped or changed.
    assert re.sub(r"\\(.)", r"\1", escape(HOSTILE)) == HOSTILE


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=1&c=2", "[Reuters](<https://example.org/a?b=1&c=2>)"),
        ("HTTP://example.org/", "[Reuters](<HTTP://example.org/>)"),
        (
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            "[Reuters](<https://en.wikipedia.org/wiki/Foo_(bar)>)",
        ),
        ("javascript:alert(1)", "Reuters"),
        ("data:text/html,<script>", "Reuters"),
        ("ftp://example.org/file", "Reuters"),
        ("//example.org/no-scheme", "Reuters"),
        ("https://example.org/a b", "Reuters"),
        ("https://example.org/a>b", "Reuters"),
        ("https://example.org/a\\b", "Reuters"),
        (None, "Reuters"),
    ],
)
def test_links_only_for_plain_http_urls(url: str | None, expected: str) -> None:
    assert link(Link("Reuters", url)) == expected


def test_link_labels_are_escaped() -> None:
    assert link(Link("[evil](http://x)", "https://ok.example/")) == (
        r"[\[evil\](http://x)](<https://ok.example/>)"
    )


def test_a_whole_reply() -> None:
    reply = Reply(
        title="# Dmitry Peskov: 2 statements",
        sections=(
            Section(heading="<b>Repeated</b>", text="> not a quote\n1. not a list"),
            Section(
                items=(
                    Item(
                        text="[click](http://evil) **now**",
                        detail="Kremlin · 3 outlets",
                        links=(
                            Link("Reuters", "https://reuters.example/1"),
                            Link("TASS", "javascript:alert(1)"),
                        ),
                        quoted=True,
                    ),
                    Item(text="@everyone <@123>", detail="1 quote"),
                    Item(text="plain"),
                )
            ),
        ),
        footnote="Showing 2 of 10_",
    )
    assert render(reply) == (
        "# \\# Dmitry Peskov: 2 statements\n"
        "\n"
        "## \\<b\\>Repeated\\</b\\>\n"
        "\n"
        "\\> not a quote\n"
        "1\\. not a list\n"
        "\n"
        "> “\\[click\\](http://evil) \\*\\*now\\*\\*”\n"
        "> — Kremlin · 3 outlets · [Reuters](<https://reuters.example/1>), TASS\n"
        "\n"
        "- **@everyone \\<@123\\>**  \n"
        "  1 quote\n"
        "\n"
        "- **plain**\n"
        "\n"
        "_Showing 2 of 10\\__\n"
    )


def test_errors_are_marked_in_the_title() -> None:
    assert render(Reply(title="Bad date.", is_error=True)) == "# ⚠ Bad date.\n"


def test_nothing_is_cut() -> None:
    long_text = " ".join(f"word{n}" for n in range(20_000))
    reply = Reply(
        title="t",
        sections=(Section(text=long_text, items=tuple(Item(text=f"q{n}") for n in range(500))),),
    )
    markdown = render(reply)
    assert long_text in markdown
    assert all(f"- **q{n}**" in markdown for n in range(500))


NOTE = "Press TV — edited: …trust takes [-years-] {+many years+} to *achieve*"


def test_notes_follow_their_item_escaped() -> None:
    reply = Reply(
        title="t",
        sections=(
            Section(
                items=(
                    Item(text="An atmosphere", detail="Peskov", quoted=True, notes=(NOTE,)),
                    Item(text="plain", notes=("# not a heading",)),
                )
            ),
        ),
    )
    assert render(reply) == (
        "# t\n"
        "\n"
        "> “An atmosphere”\n"
        "> — Peskov\n"
        "> - Press TV — edited: …trust takes \\[-years-\\] {+many years+} to \\*achieve\\*\n"
        "\n"
        "- **plain**\n"
        "  - \\# not a heading\n"
    )


def test_a_quote_of_several_lines_stays_inside_its_blockquote() -> None:
    reply = Reply(title="t", sections=(Section(items=(Item(text="one\n# two", quoted=True),)),))
    assert render(reply) == "# t\n\n> “one\n> \\# two”\n"


def test_the_terminal_shows_the_same_layout_without_escapes() -> None:
    reply = Reply(
        title="quotes <speaker> [since]",
        sections=(
            Section(
                heading="Repeated",
                items=(
                    Item(
                        text="**bold** [x](http://evil)",
                        detail="Kremlin · 3 outlets",
                        links=(
                            Link("Reuters", "https://reuters.example/1"),
                            Link("TASS", "javascript:alert(1)"),
                        ),
                        quoted=True,
                        notes=(NOTE,),
                    ),
                    Item(text="snake_case", detail="1 quote"),
                ),
            ),
        ),
        footnote="Showing 2 of 10_",
    )
    assert render_text(reply) == (
        "# quotes <speaker> [since]\n"
        "\n"
        "## Repeated\n"
        "\n"
        "> “**bold** [x](http://evil)”\n"
        "> — Kremlin · 3 outlets · Reuters (https://reuters.example/1), TASS\n"
        f"> - {NOTE}\n"
        "\n"
        "- snake_case\n"
        "  1 quote\n"
        "\n"
        "Showing 2 of 10_\n"
    )
    assert "\\" not in render_text(reply)


def test_the_terminal_drops_control_characters_that_could_drive_it() -> None:
    hostile = "red\x1b[31m bell\x07 back\rspace \u202eevil\u202c tab\there"
    shown = render_text(Reply(title=hostile, sections=(Section(text="a\nb"),)))
    assert shown == "# red[31m bell backspace evil tab\there\n\na\nb\n"
