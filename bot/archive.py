"""The archive: the core's analysis kept up to date in the store.

Ingest is incremental: only documents not seen before are analysed, only the overlap
clusters their quotes touch are recomputed, and each new document joins a story without
regrouping the rest. Commands read through the same object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from bot.core.analysis import Analysed, analyse
from bot.core.documents import Document
from bot.core.overlaps import Cluster, OverlapEngine
from bot.core.quotes import Quote
from bot.core.speakers import Speaker, SpeakerBook, fold
from bot.core.stories import Story, StoryIndex
from bot.store import ClusterRow, DocumentMeta, MemberRow, Store, StoryRow

log = logging.getLogger(__name__)

Analyser = Callable[[Sequence[Document], SpeakerBook], list[Analysed]]


def analyse_in_process(documents: Sequence[Document], book: SpeakerBook) -> list[Analysed]:
    return [analyse(document, book) for document in documents]


@dataclass(frozen=True)
class IngestResult:
    added: tuple[str, ...]  # ids of documents new to the archive
    skipped: tuple[str, ...]  # ids already there (the same text ingested again)
    quotes: int
    clusters_touched: int


class Archive:
    def __init__(self, store: Store, book: SpeakerBook, *, analyser: Analyser = analyse_in_process):
        self.store = store
        self.book = book
        self._analyser = analyser
        # The overlap and story indexes are needed only to ingest, so they are rebuilt
        # from the store on the first ingest, not for every query.
        self._overlap_engine: OverlapEngine | None = None
        self._story_index: StoryIndex | None = None

    # -- ingest ------------------------------------------------------------------------

    def ingest(self, documents: Iterable[Document], *, now: datetime) -> IngestResult:
        unique: dict[str, Document] = {}
        for document in documents:
            unique.setdefault(document.id, document)
        known = self.store.known_document_ids(unique)
        fresh = [doc for doc_id, doc in unique.items() if doc_id not in known]
        if not fresh:
            return IngestResult((), tuple(sorted(known)), 0, 0)
        analysed = self._analyser(fresh, self.book)
        new_quotes = [q for item in analysed for q in item.quotes]
        self._overlaps()  # the indexes hold the archive as it was before this batch
        self._stories()
        with self.store.transaction() as conn:
            self.store.add_documents(
                conn, [(a.document, a.quotes, a.summary) for a in analysed], now=now
            )
        touched = self._update_clusters(
            new_quotes, {a.document.id: a.document for a in analysed}, now
        )
        self._update_stories([a.document for a in analysed], now)
        log.info(
            "ingested documents",
            extra={"added": len(fresh), "skipped": len(known), "quotes": len(new_quotes)},
        )
        return IngestResult(
            added=tuple(a.document.id for a in analysed),
            skipped=tuple(sorted(known)),
            quotes=len(new_quotes),
            clusters_touched=touched,
        )

    def _update_clusters(
        self, new_quotes: Sequence[Quote], new_docs: dict[str, Document], now: datetime
    ) -> int:
        """Recompute only the clusters that the new quotes link into."""
        engine = self._overlaps()
        engine.add(new_quotes)
        new_ids = [q.id for q in new_quotes]
        component: set[str] = set()
        for quote_id in new_ids:
            component |= engine.component(quote_id)
        if len(component) == len(new_ids) and all(len(engine.component(q)) == 1 for q in new_ids):
            return 0  # nothing new links to anything
        doc_ids = {quote_id.rsplit(":", 1)[0] for quote_id in component}
        documents = {**self.store.documents_by_ids(doc_ids - set(new_docs)), **new_docs}
        found = engine.clusters(documents, touching=new_ids)
        with self.store.transaction() as conn:
            self.store.replace_clusters(conn, component, [_cluster_row(c) for c in found], now=now)
        return len(found)

    def _update_stories(self, new_documents: Sequence[Document], now: datetime) -> None:
        """Place each new document in a story; stories it bridges are merged."""
        index = self._stories()
        before = {
            d.id: d.story_id
            for d in self.store.document_meta(
                {q for doc in new_documents for q in self._sharing(doc.id)}
            ).values()
        }
        touched: dict[str, Story] = {}
        for document in sorted(new_documents, key=_by_date):
            story = index.add(document, shared_with=self._sharing(document.id))
            touched[story.id] = story
        # A later document may have merged stories placed earlier in this batch.
        final = {
            index.story_of(s.doc_ids[0]).id: index.story_of(s.doc_ids[0]) for s in touched.values()
        }
        stale = ({sid for sid in before.values() if sid} | set(touched)) - set(final)
        with self.store.transaction() as conn:
            self.store.drop_stories(conn, stale)
            self.store.save_stories(
                conn,
                [StoryRow(s.id, s.headline, s.first_seen, s.doc_ids) for s in final.values()],
                now=now,
            )

    def _sharing(self, doc_id: str) -> set[str]:
        """Documents whose quotes share an overlap cluster with this document's quotes."""
        quote_ids = [q.id for q in self.store.quotes_by_documents([doc_id])]
        cluster_ids = {
            c for ids in self.store.cluster_ids_of_quotes(quote_ids).values() for c in ids
        }
        if not cluster_ids:
            return set()
        rows = self.store.clusters(ids=cluster_ids, min_outlets=1)
        return {m.doc_id for row in rows for m in row.members} - {doc_id}

    def _overlaps(self) -> OverlapEngine:
        if self._overlap_engine is None:
            self._overlap_engine = OverlapEngine()
            self._overlap_engine.add(self.store.all_quotes())
        return self._overlap_engine

    def _stories(self) -> StoryIndex:
        if self._story_index is None:
            index = StoryIndex()
            stored = self.store.documents_by_ids(self.store.ingested_since(None))
            for document in sorted(stored.values(), key=_by_date):
                index.add(document, shared_with=self._sharing(document.id))
            self._story_index = index
        return self._story_index

    # -- reading -----------------------------------------------------------------------

    def speaker_book(self) -> SpeakerBook:
        """The configured speakers, plus everyone the documents name."""
        book = self.book
        for name in self.store.speaker_counts():
            book = book.with_speaker(Speaker(name))
        return book

    def statements(
        self, speaker: str, *, since: date | None = None, topic: str | None = None
    ) -> Statements:
        """A speaker's quotes: clusters of repeated statements, and quotes printed once."""
        found = [c for c in self.store.clusters(min_outlets=1, speaker=speaker)]
        clustered = {m.quote_id for c in found for m in c.members}
        singles = [q for q in self.store.quotes_by_speaker(speaker) if q.id not in clustered]
        doc_ids = {m.doc_id for c in found for m in c.members} | {q.doc_id for q in singles}
        docs = self.store.document_meta(doc_ids)

        def keep(text: str, seen: datetime | None, doc_ids: Iterable[str]) -> bool:
            if since is not None and (seen is None or seen.date() < since):
                return False
            if topic:
                haystack = " ".join([text, *(docs[d].title or "" for d in doc_ids if d in docs)])
                return all(word in haystack.casefold() for word in topic.casefold().split())
            return True

        repeated = [
            c
            for c in found
            if len({docs[m.doc_id].label for m in c.members if m.doc_id in docs}) >= 2
            and keep(c.canonical_text, c.first_seen, (m.doc_id for m in c.members))
        ]
        # A "cluster" printed by one outlet only (e.g. a fragment quoted twice by one
        # article) is shown with the quotes printed once.
        shown = {m.quote_id for c in repeated for m in c.members}
        once = [
            q
            for q in self.store.quotes_by_speaker(speaker)
            if q.id not in shown and keep(q.text, docs[q.doc_id].first_seen, (q.doc_id,))
        ]
        once.sort(key=lambda q: (docs[q.doc_id].first_seen, q.doc_id, q.start))
        return Statements(speaker, tuple(repeated), tuple(once), docs)

    def overlaps(self, *, min_outlets: int = 2) -> tuple[list[ClusterRow], dict[str, DocumentMeta]]:
        found = self.store.clusters(min_outlets=min_outlets)
        docs = self.store.document_meta({m.doc_id for c in found for m in c.members})
        return found, docs

    def find_document(self, reference: str) -> tuple[DocumentMeta | None, list[DocumentMeta]]:
        """A document by id (or its first characters), file name, title or outlet."""
        wanted = fold(reference)
        every = self.store.document_meta()
        for meta in every.values():
            names = (meta.id, Path(meta.source).name, Path(meta.source).stem, meta.title or "")
            if wanted in (fold(n) for n in names):
                return meta, [meta]
        # The start of an id or file name ("000", "b3d443"), when only one document has it.
        prefixed = [
            meta
            for meta in every.values()
            if len(wanted) >= 3
            and any(fold(n).startswith(wanted) for n in (meta.id, Path(meta.source).name))
        ]
        if len(prefixed) == 1:
            return prefixed[0], prefixed
        choices = {
            doc_id: " ".join(filter(None, (meta.title, meta.outlet, Path(meta.source).stem)))
            for doc_id, meta in every.items()
        }
        # Words of one title or outlet ("Putin's Perspectives", "Reuters"), when only one
        # document has them all: fuzzy scores alone tie on a word many titles share.
        words = set(utils.default_process(reference).split())
        holding = [
            every[doc_id]
            for doc_id, text in choices.items()
            if words and words <= set(utils.default_process(text).split())
        ]
        if len(holding) == 1:
            return holding[0], holding
        scored = process.extract(
            reference,
            choices,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=5,
            score_cutoff=60,
        )
        ranked = [every[key] for _choice, _score, key in scored]
        if scored and scored[0][1] >= 90 and (len(scored) == 1 or scored[1][1] < scored[0][1] - 5):
            return ranked[0], ranked
        return None, ranked

    def search(self, text: str, *, limit: int) -> tuple[list[Quote], list[DocumentMeta]]:
        found_quotes = self.store.search_quotes(text, limit=limit)
        doc_ids = self.store.search_documents(text, limit=limit)
        docs = self.store.document_meta([*doc_ids, *(q.doc_id for q in found_quotes)])
        return found_quotes, [docs[d] for d in doc_ids if d in docs]

    def documents(self) -> list[DocumentMeta]:
        return list(self.store.document_meta().values())

    def speaker_counts(self) -> dict[str, int]:
        return self.store.speaker_counts()

    def document(self, doc_id: str) -> Document | None:
        return self.store.document(doc_id)


@dataclass(frozen=True)
class Statements:
    speaker: str
    repeated: tuple[ClusterRow, ...]  # printed by two or more outlets
    once: tuple[Quote, ...]
    docs: dict[str, DocumentMeta]


def _by_date(document: Document) -> tuple[bool, float, str]:
    published = document.published
    return (published is None, published.timestamp() if published else 0.0, document.id)


def _cluster_row(cluster: Cluster) -> ClusterRow:
    return ClusterRow(
        id=cluster.id,
        canonical_quote_id=cluster.canonical_quote_id,
        canonical_text=cluster.canonical_text,
        speaker=cluster.speaker,
        earliest_doc_id=cluster.earliest_doc_id,
        first_seen=cluster.first_seen,
        outlets=cluster.outlets,
        members=tuple(
            MemberRow(
                quote_id=m.quote_id,
                doc_id=m.doc_id,
                text=m.text,
                relation=m.relation.value,
                score=m.score,
                near=m.near,
                diff=m.diff,
            )
            for m in cluster.members
        ),
    )
