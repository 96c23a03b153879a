"""What the queries do by hand so that every backend answers alike."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime


def chunks(items: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """Ids a few hundred at a time: PostgreSQL takes at most 65535 parameters in one
    statement, and SQLite has its own limit."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def nulls_first(moment: datetime | None) -> tuple[bool, datetime]:
    """A sort key putting rows without a date first; rows are sorted in Python, not SQL,
    so that both backends give the same order (ids by code point too, whatever the
    database's collation)."""
    return (moment is not None, moment or datetime.min.replace(tzinfo=UTC))
