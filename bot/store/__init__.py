"""The archive on disk: documents, quotes, overlap clusters, stories and deliveries.

SQLAlchemy Core over a SQLite file by default (WAL mode, so commands read while an ingest
writes) or a PostgreSQL URL for scale. Start at `archive_store.Store`; the rest:

- `schema`: the tables and the schema version; `migrations`: bringing an older database
  up to date at start (see the README's "Storage and schema changes");
- `connection`: a storage URL made into an engine, and StorageError;
- `rows`: the rows the rest of the bot reads (ClusterRow, DocumentMeta, Delivery, …);
- `portable`: what the queries do by hand so that every backend answers alike.

The tables themselves are imported from `bot.store.schema`.
"""

from bot.store.archive_store import Store
from bot.store.clusters import spoken_by
from bot.store.connection import StorageError
from bot.store.deliveries import StaleWindow
from bot.store.rows import ClusterRow, Delivery, DocumentMeta, MemberRow, StoryRow
from bot.store.schema import SCHEMA_VERSION, metadata
from bot.store.write_lock import StaleArchive, Write

__all__ = [
    "SCHEMA_VERSION",
    "ClusterRow",
    "Delivery",
    "DocumentMeta",
    "MemberRow",
    "StaleArchive",
    "StaleWindow",
    "StorageError",
    "Store",
    "StoryRow",
    "Write",
    "metadata",
    "spoken_by",
]
