"""Articles, quotes and clusters the store's tests store, and helpers to store them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from bot.core.article import KnownFields, read_article
from bot.core.documents import Document
from bot.core.quotes import Attribution, Quote
from bot.store import ClusterRow, MemberRow, Store
from tests.archive_fixtures import T0

WAIT = 30.0  # seconds a thread gets to reach a state; it takes milliseconds


def article(
    body: str,
    *,
    name: str,
    published: datetime | None = None,
    outlet: str | None = None,
    url: str | None = None,
) -> Document:
    known = KnownFields(outlet=outlet, published=published, url=url)
    return read_article(body, source=f"/corpus/{name}", known=known)


def quote_in(
    document: Document, words: str, speaker: str | None, *, partial: bool = False
) -> Quote:
    start = document.text.index(words)
    return Quote(
        doc_id=document.id,
        start=start,
        end=start + len(words),
        text=words,
        speaker=speaker,
        speaker_role="Kremlin spokesman" if speaker else None,
        cue="said",
        partial=partial,
        attribution=Attribution.AFTER if speaker else Attribution.NONE,
    )


REUTERS = """Kremlin says trust takes time

By Andrew Osborn

MOSCOW (Reuters) – The Kremlin urged patience on Thursday.

“An atmosphere of mutual trust takes years to achieve,” Peskov said.

“We are 100% sure of it, and snake_case is not a word,” he said.

Comments

reader_1 says:
November 10, 2016 at 9:14 am

“Great article!” wrote a reader.
"""


TASS = """Песков: доверие требует времени

МОСКВА – «Атмосфера доверия требует лет», — сказал Песков.

“An atmosphere of mutual trust takes years to achieve,” Peskov told TASS.
"""


def store_documents(store: Store, documents: list[Document]) -> None:
    with store.transaction() as conn:
        store.add_documents(conn, [(d, [], []) for d in documents], now=T0)


def store_documents_in(store: Store, conn: Connection, documents: list[Document]) -> None:
    store.add_documents(conn, [(d, [], []) for d in documents], now=T0)


def cluster_of(
    cluster_id: str, quotes: list[Quote], *, outlets: tuple[str, ...], first_seen: datetime | None
) -> ClusterRow:
    head = quotes[0]
    members = tuple(
        MemberRow(
            quote_id=q.id,
            doc_id=q.doc_id,
            text=q.text,
            relation="verbatim" if n < 2 else "fragment",
            score=100.0 if n < 2 else 91.5,
            near=False,
            diff=None if n < 2 else "- word",
            speaker=q.speaker,  # read back from the quote
        )
        for n, q in enumerate(quotes)
    )
    return ClusterRow(
        id=cluster_id,
        canonical_quote_id=head.id,
        canonical_text=head.text,
        speaker=head.speaker,
        earliest_doc_id=head.doc_id,
        first_seen=first_seen,
        outlets=outlets,
        members=members,
    )


PESKOV, LAVROV = "Dmitry Peskov", "Sergei Lavrov"


def disputed_cluster(store: Store) -> ClusterRow:
    """The same words stored as Peskov's by one document and as Lavrov's by another."""
    words = "An atmosphere of mutual trust takes years to achieve"
    body = REUTERS.replace("Thursday", "Friday")  # not the documents of `stored`
    first = article(body, name="reuters.txt", published=datetime(2016, 11, 11, tzinfo=UTC))
    second = article(body.replace("Peskov", "Lavrov"), name="other.txt", outlet="RT")
    peskov, lavrov = quote_in(first, words, PESKOV), quote_in(second, words, LAVROV)
    with store.transaction() as conn:
        store.add_documents(conn, [(first, [peskov], []), (second, [lavrov], [])], now=T0)
    cluster = ClusterRow(
        id="disputed",
        canonical_quote_id=peskov.id,
        canonical_text=words,
        speaker=None,
        earliest_doc_id=first.id,
        first_seen=first.published,
        outlets=("Reuters", "RT"),
        members=tuple(
            MemberRow(q.id, q.doc_id, words, "verbatim", 100.0, False, None, q.speaker)
            for q in (peskov, lavrov)
        ),
        disputed_speakers=(PESKOV, LAVROV),
    )
    with store.transaction() as conn:
        store.replace_clusters(conn, [peskov.id, lavrov.id], [cluster], now=T0)
    return cluster
