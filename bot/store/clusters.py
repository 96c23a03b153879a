"""The overlap clusters: each statement printed by several documents, with its members
(every printing), replaced whenever a quote in them is recomputed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from bot.store.portable import chunks, nulls_first
from bot.store.rows import ClusterRow, MemberRow
from bot.store.schema import cluster_members, clusters, quotes


def spoken_by(speaker: str) -> ColumnElement[bool]:
    """The clusters that are this speaker's statement, or disputed with this speaker among
    the people the documents name (one of its printings names them)."""
    # Checked for the few disputed clusters only, member by member: an IN list, or a
    # join the planner may drive from the speaker's side, reads every quote a busy
    # speaker ever said (tens of milliseconds on a 100k archive).
    member_speaker = (
        select(quotes.c.speaker).where(quotes.c.id == cluster_members.c.quote_id).scalar_subquery()
    )
    named = (
        select(cluster_members.c.cluster_id)
        .where(cluster_members.c.cluster_id == clusters.c.id, member_speaker == speaker)
        .exists()
    )
    return or_(
        clusters.c.speaker == speaker,
        and_(
            clusters.c.speaker.is_(None),
            clusters.c.disputed_speakers.is_not(None),
            named,
        ),
    )


# The latest `seen` of a cluster's printings (their quotes are stored first).
latest_printing = (
    select(func.max(quotes.c.seen))
    .join(cluster_members, cluster_members.c.quote_id == quotes.c.id)
    .where(cluster_members.c.cluster_id == clusters.c.id)
    .scalar_subquery()
)


class ClusterQueries:
    """The store's overlap clusters (part of `Store`)."""

    engine: Engine

    def replace_clusters(
        self,
        conn: Connection,
        touched_quote_ids: Iterable[str],
        rows: Sequence[ClusterRow],
        *,
        now: datetime,
    ) -> None:
        """Drop every cluster holding a touched quote, then store the recomputed ones,
        and mark which of their quotes are printings of a repeated statement."""
        touched = list(touched_quote_ids)
        stale: set[str] = set()
        for chunk in chunks(touched):
            found = conn.execute(
                select(cluster_members.c.cluster_id).where(cluster_members.c.quote_id.in_(chunk))
            )
            stale.update(row.cluster_id for row in found)
        stale.update(row.id for row in rows)
        for chunk in chunks(sorted(stale)):
            conn.execute(delete(cluster_members).where(cluster_members.c.cluster_id.in_(chunk)))
            conn.execute(delete(clusters).where(clusters.c.id.in_(chunk)))
        members = {m.quote_id for row in rows for m in row.members}
        repeated = {m.quote_id for row in rows if len(row.outlets) >= 2 for m in row.members}
        for value, ids in ((False, (members | set(touched)) - repeated), (True, repeated)):
            for chunk in chunks(sorted(ids)):
                conn.execute(update(quotes).where(quotes.c.id.in_(chunk)).values(repeated=value))
        if not rows:
            return
        conn.execute(
            insert(clusters),
            [
                {
                    "id": row.id,
                    "canonical_quote_id": row.canonical_quote_id,
                    "canonical_text": row.canonical_text,
                    "speaker": row.speaker,
                    "earliest_doc_id": row.earliest_doc_id,
                    "first_seen": row.first_seen,
                    "outlets": list(row.outlets),
                    "outlet_count": len(row.outlets),
                    "updated_at": now,
                    "disputed_speakers": list(row.disputed_speakers) or None,
                }
                for row in rows
            ],
        )
        conn.execute(
            insert(cluster_members),
            [
                {
                    "cluster_id": row.id,
                    "quote_id": m.quote_id,
                    "relation": m.relation,
                    "score": m.score,
                    "near": m.near,
                    "diff": m.diff,
                }
                for row in rows
                for m in row.members
            ],
        )
        for chunk in chunks([row.id for row in rows]):
            conn.execute(
                update(clusters).where(clusters.c.id.in_(chunk)).values(last_seen=latest_printing)
            )

    def clusters(
        self,
        *,
        speaker: str | None = None,
        min_outlets: int = 2,
        ids: Iterable[str] | None = None,
        updated_since: datetime | None = None,
    ) -> list[ClusterRow]:
        query = select(clusters).where(clusters.c.outlet_count >= min_outlets)
        if speaker is not None:
            query = query.where(spoken_by(speaker))
        if updated_since is not None:
            query = query.where(clusters.c.updated_at > updated_since)
        with self.engine.connect() as conn:
            if ids is None:
                heads = [dict(row._mapping) for row in conn.execute(query)]
            else:
                # In chunks: PostgreSQL takes at most 65535 parameters per statement.
                heads = []
                for chunk in chunks(sorted(set(ids))):
                    rows = conn.execute(query.where(clusters.c.id.in_(chunk)))
                    heads.extend(dict(row._mapping) for row in rows)
            # Sorted here, not in SQL, so that both backends give the same order (NULL
            # dates first, ids by code point whatever the database's collation).
            heads.sort(key=lambda h: (-h["outlet_count"], *nulls_first(h["first_seen"]), h["id"]))
            members = self._members(conn, [h["id"] for h in heads])
        return [
            ClusterRow(
                id=h["id"],
                canonical_quote_id=h["canonical_quote_id"],
                canonical_text=h["canonical_text"],
                speaker=h["speaker"],
                earliest_doc_id=h["earliest_doc_id"],
                first_seen=h["first_seen"],
                outlets=tuple(h["outlets"]),
                members=_canonical_first(members.get(h["id"], ()), h["canonical_quote_id"]),
                disputed_speakers=tuple(h["disputed_speakers"] or ()),
            )
            for h in heads
        ]

    def cluster_ids_of_quotes(self, quote_ids: Iterable[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(quote_ids)):
                rows = conn.execute(
                    select(cluster_members.c.quote_id, cluster_members.c.cluster_id).where(
                        cluster_members.c.quote_id.in_(chunk)
                    )
                )
                for row in rows:
                    found.setdefault(row.quote_id, set()).add(row.cluster_id)
        return found

    def _members(
        self, conn: Connection, cluster_ids: list[str]
    ) -> dict[str, tuple[MemberRow, ...]]:
        grouped: dict[str, list[MemberRow]] = {}
        for chunk in chunks(cluster_ids):
            rows = conn.execute(
                select(cluster_members, quotes.c.doc_id, quotes.c.text, quotes.c.speaker)
                .join(quotes, quotes.c.id == cluster_members.c.quote_id)
                .where(cluster_members.c.cluster_id.in_(chunk))
            )
            for row in rows:
                grouped.setdefault(row.cluster_id, []).append(
                    MemberRow(
                        quote_id=row.quote_id,
                        doc_id=row.doc_id,
                        text=row.text,
                        relation=row.relation,
                        score=row.score,
                        near=row.near,
                        diff=row.diff,
                        speaker=row.speaker,
                    )
                )
        return {key: tuple(value) for key, value in grouped.items()}


_RELATION_ORDER = {"verbatim": 0, "edited": 1, "merged": 2, "fragment": 3}


def _canonical_first(members: Sequence[MemberRow], canonical: str) -> tuple[MemberRow, ...]:
    return tuple(
        sorted(
            members,
            key=lambda m: (
                m.quote_id != canonical,
                _RELATION_ORDER.get(m.relation, 9),
                m.near,
                m.quote_id,
            ),
        )
    )
