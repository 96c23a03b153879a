"""Schema versions: a new database gets the current one recorded, an older one is
upgraded in place at start, step by step, and a newer one is refused.

The version is the `schema_version` row of the `meta` table. Each step below moves a
database one version up and records it, all in the transaction that opens the store;
tables that are simply new (schema 3's overlap state) need no step, as
`metadata.create_all` makes them.

Later schema changes will ship as Alembic migrations (`alembic upgrade head`), generated
against `schema.metadata`: they take over from `_STEPS` in `bring_up_to_date`, which then
checks the recorded version against Alembic's head.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, inspect, select, text, update
from sqlalchemy.engine import Connection

from bot import messages as m
from bot.core.statement_rules import voices
from bot.store.clusters import latest_printing
from bot.store.connection import StorageError
from bot.store.schema import SCHEMA_VERSION, cluster_members, clusters, documents, meta, quotes


def refuse_newer(conn: Connection) -> None:
    """StorageError if a newer briefbot wrote this database; checked before anything is
    created in it."""
    if inspect(conn).has_table("meta"):
        _refuse_newer(_stored_version(conn))


def bring_up_to_date(conn: Connection) -> None:
    """Record the schema version in a new database, upgrade an older one (in the caller's
    transaction), or refuse a newer one."""
    found = _stored_version(conn)
    if found is None:
        conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
    elif int(found) < SCHEMA_VERSION:
        for step in _STEPS[max(int(found), 1) - 1 :]:
            step(conn)
    else:
        _refuse_newer(found)


def _stored_version(conn: Connection) -> str | None:
    version = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version"))
    return version.scalar_one_or_none()


def _refuse_newer(found: str | None) -> None:
    if found is not None and int(found) > SCHEMA_VERSION:
        raise StorageError(
            m.STORAGE_NEWER.format(found=found, supported=SCHEMA_VERSION), m.STORAGE_NEWER_FIX
        )


def _migrate_1_to_2(conn: Connection) -> None:
    """Schema 2 adds quotes.seen and the listing indexes."""
    kind = "TIMESTAMP" if conn.dialect.name == "sqlite" else "TIMESTAMP WITH TIME ZONE"
    conn.execute(text(f"ALTER TABLE quotes ADD COLUMN seen {kind}"))
    first_seen = (
        select(func.coalesce(documents.c.published, documents.c.ingested_at))
        .where(documents.c.id == quotes.c.doc_id)
        .scalar_subquery()
    )
    conn.execute(update(quotes).values(seen=first_seen))
    conn.execute(
        text("CREATE INDEX ix_quotes_speaker_seen ON quotes (speaker, seen, doc_id, start, id)")
    )
    for index in clusters.indexes:
        index.create(conn, checkfirst=True)
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="2"))


def _migrate_2_to_3(conn: Connection) -> None:
    """Schema 3 records each digest's progress and its sender's claim."""
    kind = "TIMESTAMP" if conn.dialect.name == "sqlite" else "TIMESTAMP WITH TIME ZONE"
    columns = {
        "parts_sent": "INTEGER NOT NULL DEFAULT 0",
        "owner": "VARCHAR(200)",
        "lease_until": kind,
    }
    present = {column["name"] for column in inspect(conn).get_columns("deliveries")}
    for name, definition in columns.items():
        if name not in present:
            conn.execute(text(f"ALTER TABLE deliveries ADD COLUMN {name} {definition}"))
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="3"))


def _migrate_3_to_4(conn: Connection) -> None:
    """Schema 4 keeps who the documents name for a statement when they disagree. Clusters
    stored before it have no speaker when disputed; their names are worked out from the
    stored printings, as the overlap engine names them."""
    present = {column["name"] for column in inspect(conn).get_columns("clusters")}
    if "disputed_speakers" not in present:
        conn.execute(text("ALTER TABLE clusters ADD COLUMN disputed_speakers JSON"))
    printed: dict[str, list[tuple[str | None, str | None]]] = {}
    rows = conn.execute(
        select(cluster_members.c.cluster_id, quotes.c.speaker, quotes.c.speaker_role)
        .join(quotes, quotes.c.id == cluster_members.c.quote_id)
        .join(clusters, clusters.c.id == cluster_members.c.cluster_id)
        .where(clusters.c.speaker.is_(None))
    )
    for cluster_id, speaker, role in rows:
        printed.setdefault(cluster_id, []).append((speaker, role))
    for cluster_id, named in sorted(printed.items()):
        disputed = voices([speaker for speaker, _ in named], named)
        if len(disputed) > 1:
            conn.execute(
                update(clusters)
                .where(clusters.c.id == cluster_id)
                .values(disputed_speakers=list(disputed))
            )
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="4"))


def _migrate_4_to_5(conn: Connection) -> None:
    """Schema 5 marks each quote that is a printing of a repeated statement, and lists a
    speaker's quotes by that mark (the index replaces schema 2's); each cluster keeps
    when its latest printing was seen."""
    present = {column["name"] for column in inspect(conn).get_columns("quotes")}
    if "repeated" not in present:
        conn.execute(text("ALTER TABLE quotes ADD COLUMN repeated BOOLEAN NOT NULL DEFAULT FALSE"))
    if "last_seen" not in {column["name"] for column in inspect(conn).get_columns("clusters")}:
        kind = "TIMESTAMP" if conn.dialect.name == "sqlite" else "TIMESTAMP WITH TIME ZONE"
        conn.execute(text(f"ALTER TABLE clusters ADD COLUMN last_seen {kind}"))
    conn.execute(update(clusters).values(last_seen=latest_printing))
    printings = (
        select(cluster_members.c.quote_id)
        .join(clusters, clusters.c.id == cluster_members.c.cluster_id)
        .where(clusters.c.outlet_count >= 2)
    )
    conn.execute(update(quotes).where(quotes.c.id.in_(printings)).values(repeated=True))
    conn.execute(text("DROP INDEX IF EXISTS ix_quotes_speaker_seen"))
    for index in quotes.indexes:
        index.create(conn, checkfirst=True)
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="5"))


# The step from schema n to n + 1 is _STEPS[n - 1]; a new schema version appends its step.
_STEPS: tuple[Callable[[Connection], None], ...] = (
    _migrate_1_to_2,
    _migrate_2_to_3,
    _migrate_3_to_4,
    _migrate_4_to_5,
)
