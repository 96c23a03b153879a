"""The edge where a finished Reply leaves the bot: one Sender per platform.

The outbox (bot/outbox.py) owns retries and exactly-once bookkeeping; a Sender only
tries once and says whether trying again could help.

A digest may need several messages ("parts"). The sender posts them in order and reports
each one the platform accepted, so the outbox can record it at once and a retry resumes
with the next part. Every part carries the digest's reference and its number
(`ref 1a2b3c4d5e · part 2 of 3`), so after a crash the sender can tell, from the
channel's history, which parts reached it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from bot import messages
from bot.reply import Reply


class DeliveryError(Exception):
    """A send failed. `retry_after` is the platform's own hint in seconds, when it gave one.

    `maybe_sent`: the platform may have taken the part before the failure (a dropped
    connection, a timeout, a 5xx), so the channel is asked before that part is posted
    again."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


def _ignore(_parts: int) -> None:
    return None


@dataclass(frozen=True)
class Progress:
    """Where one delivery attempt starts, and how it reports each accepted part."""

    ref: str  # the digest's reference, printed on every part with the part's number
    done: int = 0  # parts the platform already has: post from part done + 1
    # Called with the number of parts accepted so far, after each part and before the
    # next is posted. It may raise (the outbox lost its claim): then stop and let it out.
    accepted: Callable[[int], None] = _ignore


@dataclass(frozen=True)
class Seen:
    """What a look at the channel found of one digest."""

    parts: int = 0  # the highest part found; parts go out in order, so all before it too
    total: int = 0  # how many parts the digest has, as printed on them; 0: none found

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.parts >= self.total


class Sender(Protocol):
    """Posts a reply to one channel of one platform, e.g. platform "discord", channel "1234"."""

    platform: str

    async def send(self, channel: str, reply: Reply, progress: Progress) -> None:
        """Post the parts after `progress.done`, in order, calling `progress.accepted`
        after each; return when all are posted, or raise DeliveryError."""
        ...

    async def delivered(self, channel: str, ref: str) -> Seen:
        """Which parts of the digest with this reference are already in the channel.
        Asked only when a send was left unconfirmed (a crash, a lost answer). A sender
        that cannot look answers Seen(): the parts not recorded as accepted are resent."""
        ...


def part_mark(ref: str, part: int, total: int) -> str:
    """What each part of a digest carries: the reference alone for a one-part digest
    (its footnote already ends with it), else the reference and the part's number."""
    if total <= 1:
        return ref
    return f"{ref}{messages.DIGEST_PART.format(part=part, total=total)}"


def with_mark(footnote: str, ref: str, part: int, total: int) -> str:
    """A footer line for one part: the footnote (if any) ending with the part's mark."""
    mark = part_mark(ref, part, total)
    if footnote.endswith(ref):
        return footnote + mark.removeprefix(ref)
    return f"{footnote} · {mark}" if footnote else mark


def seen_in(texts: Iterable[str], ref: str) -> Seen:
    """The parts of the digest `ref` that these message texts show. A message with the
    reference and no part number is a whole one-part digest."""
    template = re.escape(messages.DIGEST_PART)
    for name in ("{part}", "{total}"):
        template = template.replace(re.escape(name), r"(\d+)")
    numbered = re.compile(re.escape(ref) + template)
    parts = total = 0
    whole = False
    for text in texts:
        for match in numbered.finditer(text):
            parts = max(parts, int(match.group(1)))
            total = max(total, int(match.group(2)))
        whole = whole or ref in text
    if not total and whole:
        return Seen(parts=1, total=1)
    return Seen(parts=parts, total=total)
