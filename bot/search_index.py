"""Word search over quotes and documents: SQLite FTS5 tables beside the archive.

A LIKE scan reads every quote and every article body, which takes seconds on a 100k
archive; an FTS5 index answers in a few milliseconds. The tables keep their own copy of
the text (not an external-content table): those map to SQLite's implicit rowids, which
VACUUM may renumber.

Search matches whole words in order, the last one also as the start of a word
("mutual tru" finds "mutual trust"), ignoring case, accents and punctuation. Newest
ingested first. PostgreSQL has no FTS5; the store falls back to ILIKE there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

_TABLES = {
    "quote_words": "CREATE VIRTUAL TABLE quote_words USING fts5("
    "quote_id UNINDEXED, doc_id UNINDEXED, speaker, text, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "document_words": "CREATE VIRTUAL TABLE document_words USING fts5("
    "doc_id UNINDEXED, title, text, tokenize = 'unicode61 remove_diacritics 2')",
}
# Each table filled from the archive when it is made: an archive from before the index,
# or from before quotes were indexed by speaker too.
_FILL = {
    "quote_words": "INSERT INTO quote_words (quote_id, doc_id, speaker, text) "
    "SELECT id, doc_id, coalesce(speaker, ''), text FROM quotes ORDER BY rowid",
    "document_words": "INSERT INTO document_words (doc_id, title, text) "
    "SELECT id, coalesce(title, ''), text FROM documents ORDER BY ingested_at, id",
}
# Letters and digits, as FTS5's unicode61 tokenizer splits them.
_WORD = re.compile(r"[^\W_]+")


def create(conn: Connection) -> None:
    """The index's tables, made and filled if missing or of an older shape."""
    for table, statement in _TABLES.items():
        columns = {row[1] for row in conn.execute(text(f"PRAGMA table_info({table})"))}
        if columns and (table != "quote_words" or "speaker" in columns):
            continue
        if columns:
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text(statement))
        conn.execute(text(_FILL[table]))


def add(
    conn: Connection,
    documents: Sequence[tuple[str, str | None, str]],
    quotes: Sequence[tuple[str, str, str | None, str]],
) -> None:
    """Index new documents (id, title, text) and quotes (id, document id, speaker, text)."""
    if documents:
        conn.execute(
            text("INSERT INTO document_words (doc_id, title, text) VALUES (:id, :title, :text)"),
            [{"id": i, "title": title or "", "text": body} for i, title, body in documents],
        )
    if quotes:
        conn.execute(
            text(
                "INSERT INTO quote_words (quote_id, doc_id, speaker, text) "
                "VALUES (:id, :doc, :speaker, :text)"
            ),
            [
                {"id": i, "doc": doc_id, "speaker": speaker or "", "text": body}
                for i, doc_id, speaker, body in quotes
            ],
        )


def match_expression(query: str, *, column: str | None = None) -> str | None:
    """The FTS5 query for these words (a phrase, the last word a prefix), in one column
    or in any, or None when the query holds no word at all."""
    words = _WORD.findall(query)
    if not words:
        return None
    phrase = '"' + " ".join(words) + '" *'
    return f"{column} : {phrase}" if column else phrase


def spoken_expression(speaker: str, query: str) -> str | None:
    """The FTS5 query for quotes attributed to this name whose text holds these words.
    The name is a phrase, so longer names that hold it match too: the caller keeps the
    exact name."""
    in_text = match_expression(query, column="text")
    name = _WORD.findall(speaker)
    if in_text is None or not name:
        return in_text
    return 'speaker : "' + " ".join(name) + '" AND ' + in_text


def quote_ids(conn: Connection, query: str, *, limit: int) -> list[str]:
    """Ids of the quotes holding these words, newest ingested first."""
    if conn.dialect.name != "sqlite":
        return _postgres_ids(conn, query, limit, _POSTGRES_QUOTES)
    return _fts_ids(
        conn,
        match_expression(query, column="text"),
        limit,
        "SELECT quote_id FROM quote_words WHERE quote_words",
    )


def document_ids(conn: Connection, query: str, *, limit: int) -> list[str]:
    """Ids of the documents whose title or text holds these words, newest ingested first."""
    if conn.dialect.name != "sqlite":
        return _postgres_ids(conn, query, limit, _POSTGRES_DOCUMENTS)
    return _fts_ids(
        conn,
        match_expression(query),
        limit,
        "SELECT doc_id FROM document_words WHERE document_words",
    )


def _fts_ids(conn: Connection, expression: str | None, limit: int, select: str) -> list[str]:
    if expression is None:
        return []
    rows = conn.execute(
        text(f"{select} MATCH :q ORDER BY rowid DESC LIMIT :limit"),
        {"q": expression, "limit": limit},
    )
    return [row[0] for row in rows]


# PostgreSQL: the same word semantics with its own text search (words in sequence, the
# last one a prefix), scanning rather than indexed.
_POSTGRES_QUOTES = (
    "SELECT q.id FROM quotes q JOIN documents d ON d.id = q.doc_id "
    "WHERE to_tsvector('simple', q.text) @@ to_tsquery('simple', :q) "
    "ORDER BY d.ingested_at DESC, q.doc_id, q.start LIMIT :limit"
)
_POSTGRES_DOCUMENTS = (
    "SELECT id FROM documents "
    "WHERE to_tsvector('simple', coalesce(title, '') || ' ' || text) "
    "@@ to_tsquery('simple', :q) ORDER BY ingested_at DESC, id LIMIT :limit"
)


def postgres_expression(query: str) -> str | None:
    """The tsquery for these words (in sequence, the last a prefix), or None when the
    query holds no word; symbols never reach tsquery's own syntax."""
    words = [word.lower() for word in _WORD.findall(query)]
    return " <-> ".join(words) + ":*" if words else None


def _postgres_ids(conn: Connection, query: str, limit: int, statement: str) -> list[str]:
    expression = postgres_expression(query)
    if expression is None:
        return []
    rows = conn.execute(text(statement), {"q": expression, "limit": limit})
    return [row[0] for row in rows]
