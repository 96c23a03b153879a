"""The terminal: a chat with the bot, and where console digests are printed.

`/quotes Peskov` typed here runs the same command, through the same registry, as on
Discord and Slack, and shows the reply in the Markdown layout, as text for a terminal
(no backslash escapes; briefings/ files keep the escaped Markdown).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any, TextIO

from bot.commands import Dispatcher
from bot.delivery import Progress, Seen
from bot.render.markdown import render_text
from bot.reply import Reply

PROMPT = "briefbot> "
WELCOME = "Type a command such as /quotes Peskov, /help for the list, or /quit to leave."
QUIT_WORDS = {"/quit", "/exit", "quit", "exit"}


class ConsoleSender:
    """Prints digests for the "console" target."""

    platform = "console"

    def __init__(self, out: TextIO | None = None):
        self.out = out

    async def send(self, channel: str, reply: Reply, progress: Progress) -> None:
        if progress.done:
            return  # one part, already printed
        out = self.out or sys.stdout
        out.write(render_text(reply) + "\n")
        out.flush()
        progress.accepted(1)

    async def delivered(self, channel: str, ref: str) -> Seen:
        return Seen()  # a terminal keeps no history; printing again is harmless


def answer(dispatcher: Dispatcher[Any], line: str) -> str:
    """The reply to one typed line, as the terminal shows it."""
    return render_text(dispatcher.run_line(line.strip()))


async def repl(
    dispatcher: Dispatcher[Any],
    *,
    read_line: Callable[[], str] = input,
    out: TextIO | None = None,
) -> None:
    """Read commands until /quit or end of input; handlers run off the event loop."""
    stream = out or sys.stdout
    stream.write(WELCOME + "\n")
    stream.flush()
    while True:
        try:
            line = await asyncio.to_thread(_prompted, read_line, stream)
        except (EOFError, KeyboardInterrupt):
            return
        if not line.strip():
            continue
        if line.strip().lower() in QUIT_WORDS:
            return
        reply = await asyncio.to_thread(answer, dispatcher, line)
        stream.write(reply + "\n")
        stream.flush()


def _prompted(read_line: Callable[[], str], stream: TextIO) -> str:
    stream.write(PROMPT)
    stream.flush()
    return read_line()
