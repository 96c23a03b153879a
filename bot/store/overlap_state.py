"""The overlap engine's own state: what it derived from each quote's text, and every
link it verified. A restart puts the engine back from these instead of deriving and
verifying everything again, so they are read in bulk, by position."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine

from bot.core.overlaps import Link, Prepared, Relation
from bot.core.quotes import Attribution, Quote
from bot.store.schema import quote_index, quote_links, quotes


class OverlapStateQueries:
    """The store's overlap-engine state (part of `Store`)."""

    engine: Engine

    def add_overlap_state(
        self, conn: Connection, prepared: Sequence[Prepared], links: Sequence[Link]
    ) -> None:
        """New quotes' derived data and the links they made, in the caller's transaction."""
        if prepared:
            conn.execute(insert(quote_index), [_prepared_row(p) for p in prepared])
        if links:
            conn.execute(insert(quote_links), [_link_row(link) for link in links])

    def replace_overlap_state(
        self, conn: Connection, prepared: Sequence[Prepared], links: Sequence[Link]
    ) -> None:
        """The whole engine's state, replacing what was stored (a one-off rebuild)."""
        conn.execute(delete(quote_links))
        conn.execute(delete(quote_index))
        self.add_overlap_state(conn, prepared, links)

    def overlap_state(self) -> tuple[list[tuple[Quote, Prepared | None]], list[Link]]:
        """Every quote with its stored derived data (None where a briefbot before schema
        3 stored the quote), and every stored link."""
        query = select(*_QUOTE_COLUMNS, quote_index.c.norm, quote_index.c.content).add_columns(
            quote_index.c.shingles
        )
        query = query.outerjoin(quote_index, quote_index.c.quote_id == quotes.c.id)
        found: list[tuple[Quote, Prepared | None]] = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                quote = _quote_from_tuple(row)
                if row.norm is None:
                    found.append((quote, None))
                    continue
                blob = row.shingles
                shingles = struct.unpack(f"<{len(blob) // 8}Q", blob)
                found.append((quote, Prepared(quote.id, row.norm, row.content, shingles)))
            # Read after the quotes: every link's quotes were committed with it or before.
            links = [_link(*row) for row in conn.execute(select(*quote_links.c))]
        return found, links


_QUOTE_COLUMNS = (
    quotes.c.doc_id,
    quotes.c.start,
    quotes.c.end,
    quotes.c.text,
    quotes.c.speaker,
    quotes.c.speaker_role,
    quotes.c.cue,
    quotes.c.partial,
    quotes.c.attribution,
)

# By name, looked up once: a restart reads every quote and link.
_RELATIONS = {relation.value: relation for relation in Relation}
_ATTRIBUTIONS = {attribution.name: attribution for attribution in Attribution}


def _quote_from_tuple(row: Any) -> Quote:
    """A Quote from a row of _QUOTE_COLUMNS first (by position: a restart reads them all)."""
    doc_id, start, end, quote_text, speaker, role, cue, partial, attribution = row[:9]
    attributed = _ATTRIBUTIONS[attribution]
    return Quote(doc_id, start, end, quote_text, speaker, role, cue, bool(partial), attributed)


def _prepared_row(prepared: Prepared) -> dict[str, Any]:
    return {
        "quote_id": prepared.quote_id,
        "norm": prepared.norm,
        "content": prepared.content,
        "shingles": struct.pack(f"<{len(prepared.shingles)}Q", *prepared.shingles),
    }


def _link_row(link: Link) -> dict[str, Any]:
    start, end = link.span if link.span is not None else (None, None)
    return {
        "a": link.a,
        "b": link.b,
        "relation": link.relation.value,
        "score": link.score,
        "near": link.near,
        "span_start": start,
        "span_end": end,
    }


def _link(
    a: str, b: str, relation: str, score: float, near: bool, start: int | None, end: int | None
) -> Link:
    span = None if start is None or end is None else (start, end)
    return Link(a, b, _RELATIONS[relation], score, bool(near), span)
