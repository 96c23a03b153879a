"""The terminal chat: the same registry as every other platform, in the Markdown layout
but as text for a terminal (no backslash escapes)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from bot.adapters.console import PROMPT, WELCOME, ConsoleSender, answer, repl
from bot.archive import Archive
from bot.commands import Dispatcher
from bot.delivery import Progress, Seen
from bot.handlers import BotContext, dispatcher
from bot.render.markdown import render, render_text
from bot.reply import Reply, Section
from tests.archive_fixtures import T0, seed_archive, sqlite_url


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    built = seed_archive(sqlite_url(tmp_path_factory.mktemp("console")))
    yield built
    built.store.close()


@pytest.fixture(scope="module")
def bot(archive: Archive) -> Dispatcher[BotContext]:
    return dispatcher(lambda: BotContext(archive, T0 + timedelta(hours=1)))


class Script:
    """A user typing these lines, then closing the terminal (end of input)."""

    def __init__(self, *lines: str, end: type[BaseException] = EOFError):
        self.lines = list(lines)
        self.read = 0
        self.end = end

    def __call__(self) -> str:
        if self.read == len(self.lines):
            raise self.end()
        self.read += 1
        return self.lines[self.read - 1]


async def session(bot: Dispatcher[BotContext], read_line: Callable[[], str]) -> str:
    out = io.StringIO()
    await repl(bot, read_line=read_line, out=out)
    return out.getvalue()


async def test_a_typed_command_shows_the_shared_layout(bot: Dispatcher[BotContext]) -> None:
    script = Script("/quotes Peskov", "/quit", "/help")
    shown = await session(bot, script)
    expected = render_text(bot.run_line("/quotes Peskov"))
    assert shown == WELCOME + "\n" + PROMPT + expected + "\n" + PROMPT
    assert script.read == 2  # nothing is read after /quit
    assert expected.startswith("# Dmitry Peskov: 10 statements\n")
    assert "> “It is phenomenal how close" in expected


async def test_the_terminal_shows_text_without_markdown_escapes(
    bot: Dispatcher[BotContext],
) -> None:
    shown = await session(bot, Script("/help"))
    assert "- quotes <speaker> [since] [topic] [limit]\n" in shown
    assert "\\" not in shown
    # The same reply in a briefings/ file is escaped Markdown.
    assert "- **quotes \\<speaker\\> \\[since\\] \\[topic\\] \\[limit\\]**" in render(
        bot.run_line("help")
    )


async def test_blank_lines_are_ignored(bot: Dispatcher[BotContext]) -> None:
    shown = await session(bot, Script("", "   ", "\t", "help"))
    assert shown == WELCOME + "\n" + PROMPT * 4 + render_text(bot.run_line("help")) + "\n" + PROMPT


@pytest.mark.parametrize("word", ["/quit", "/exit", "quit", "EXIT", "  /Quit  "])
async def test_quit_words_end_the_session(bot: Dispatcher[BotContext], word: str) -> None:
    script = Script(word, "/sources")
    assert await session(bot, script) == WELCOME + "\n" + PROMPT
    assert script.read == 1


@pytest.mark.parametrize("end", [EOFError, KeyboardInterrupt])
async def test_end_of_input_ends_the_session(
    bot: Dispatcher[BotContext], end: type[BaseException]
) -> None:
    shown = await session(bot, Script("speakers", end=end))
    assert shown == WELCOME + "\n" + PROMPT + render_text(bot.run_line("speakers")) + "\n" + PROMPT


async def test_errors_are_shown_not_raised(bot: Dispatcher[BotContext]) -> None:
    shown = await session(bot, Script("/quotes Peskov since:2016-13-45", "x" * 600, "/frobnicate"))
    assert "# ⚠ `since` must be a date like 2016-11-10" in shown
    assert "# ⚠ That command is 600 characters long; the limit is 500." in shown
    assert "# ⚠ Unknown command '/frobnicate'. Here is what I can do:" in shown


def test_answer_is_the_rendered_reply(bot: Dispatcher[BotContext]) -> None:
    assert answer(bot, "  /overlaps 2 \n") == render_text(bot.run_line("/overlaps 2"))


async def test_the_console_sender_prints_digests() -> None:
    out = io.StringIO()
    sender = ConsoleSender(out)
    reply = Reply(title="briefbot digest", sections=(Section(text="Nothing new."),))
    accepted: list[int] = []
    await sender.send("console", reply, Progress("ref 0123456789", accepted=accepted.append))
    assert out.getvalue() == render_text(reply) + "\n"
    assert accepted == [1]
    await sender.send("console", reply, Progress("ref 0123456789", done=1))  # printed already
    assert out.getvalue() == render_text(reply) + "\n"
    assert sender.platform == "console"
    assert await sender.delivered("console", "ref 0123456789") == Seen()
