"""The edge where a finished Reply leaves the bot: one Sender per platform.

The outbox (bot/outbox.py) owns retries and exactly-once bookkeeping; a Sender only
tries once and says whether trying again could help.
"""

from __future__ import annotations

from typing import Protocol

from bot.reply import Reply


class DeliveryError(Exception):
    """A send failed. `retry_after` is the platform's own hint in seconds, when it gave one."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    """Posts a reply to one channel of one platform, e.g. platform "discord", channel "1234"."""

    platform: str

    async def send(self, channel: str, reply: Reply) -> None:
        """Deliver once, or raise DeliveryError."""
        ...

    async def already_delivered(self, channel: str, marker: str) -> bool:
        """Whether a message carrying `marker` (the digest's reference, printed in its
        footnote) is already in the channel. Asked only after a crash left a send
        unconfirmed; a sender that cannot look answers False, and the digest is resent."""
        ...
