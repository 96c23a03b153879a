"""The archive's tables and the schema version they make.

A change here is a schema change: raise SCHEMA_VERSION and add the upgrade step in
`migrations.py`, or a database written by the previous version will not have it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator

SCHEMA_VERSION = 5


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", Text, nullable=False),
    Column("title", Text),
    Column("outlet", Text),
    Column("byline", Text),
    Column("published", UTCDateTime, index=True),
    Column("url", Text),
    Column("text", Text, nullable=False),
    Column("paragraphs", JSON, nullable=False),  # [[start, end, kind], ...]
    Column("cuts", JSON, nullable=False),  # [[start, end, reason], ...]
    Column("summary", JSON, nullable=False),  # [[start, end], ...] best first
    Column("story_id", String(32), index=True),
    Column("ingested_at", UTCDateTime, nullable=False, index=True),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("doc_id", String(32), ForeignKey("documents.id"), nullable=False, index=True),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("speaker", String(200), index=True),
    Column("speaker_role", Text),
    Column("cue", String(64)),
    Column("partial", Boolean, nullable=False),
    Column("attribution", String(64), nullable=False),
    # The document's first-seen moment (published, else ingested), copied here so that a
    # speaker's quotes are listed in date order from one index (added in schema 2).
    Column("seen", UTCDateTime),
    # Whether the quote is a printing of a statement two or more outlets printed (kept
    # with the clusters): a speaker's quotes printed once are then one index range, counted
    # and paged without looking up each quote's clusters (added in schema 5).
    Column("repeated", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_quotes_speaker_once", "speaker", "repeated", "seen", "doc_id", "start", "id"),
)

clusters = Table(
    "clusters",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("canonical_quote_id", String(64), nullable=False),
    Column("canonical_text", Text, nullable=False),
    Column("speaker", String(200), index=True),
    Column("earliest_doc_id", String(32), nullable=False),
    Column("first_seen", UTCDateTime),
    Column("outlets", JSON, nullable=False),
    Column("outlet_count", Integer, nullable=False, index=True),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
    # Added in schema 4: the people the documents name for the statement when they
    # disagree (`speaker` is then NULL), most often named first; NULL when they agree.
    Column("disputed_speakers", JSON(none_as_null=True)),
    # Added in schema 5: when its latest printing was seen, so that "printed since" is
    # read from the row, not from every printing's quote.
    Column("last_seen", UTCDateTime),
    # A speaker's repeated statements, most printed first, without reading the rows.
    Index("ix_clusters_speaker_rank", "speaker", "outlet_count", "first_seen", "id"),
)

cluster_members = Table(
    "cluster_members",
    metadata,
    Column(
        "cluster_id", String(64), ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("quote_id", String(64), ForeignKey("quotes.id"), primary_key=True, index=True),
    Column("relation", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("near", Boolean, nullable=False),
    Column("diff", Text),
)

# The overlap engine's own state (added in schema 3; new tables, so no migration step):
# what it derives from each quote's text, and every link it verified. A restart puts the
# engine back from these instead of deriving and verifying everything again.
quote_index = Table(
    "quote_index",
    metadata,
    Column("quote_id", String(64), ForeignKey("quotes.id"), primary_key=True),
    Column("norm", Text, nullable=False),
    Column("content", Integer, nullable=False),
    Column("shingles", LargeBinary, nullable=False),  # little-endian uint64s
)

quote_links = Table(
    "quote_links",
    metadata,
    Column("a", String(64), ForeignKey("quotes.id"), primary_key=True),
    Column("b", String(64), ForeignKey("quotes.id"), primary_key=True),
    Column("relation", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("near", Boolean, nullable=False),
    Column("span_start", Integer),
    Column("span_end", Integer),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("headline", Text, nullable=False),
    Column("first_seen", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(200), nullable=False),
    Column("slot", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("window_start", UTCDateTime),
    Column("window_end", UTCDateTime, nullable=False),
    Column("reply", JSON, nullable=False),
    Column("markdown", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # Added in schema 3. How many of the digest's messages the platform has accepted, so
    # a retry resumes with the next; and which outbox holds the row while it sends, until
    # when (a live owner's send is never settled or taken over by another process).
    Column("parts_sent", Integer, nullable=False, server_default="0"),
    Column("owner", String(200)),
    Column("lease_until", UTCDateTime),
    UniqueConstraint("target", "slot", name="one_digest_per_target_and_slot"),
)
