"""The archive: the core's analysis kept up to date in the store.

Ingest is incremental: only documents not seen before are analysed, only the overlap
clusters their quotes touch are recomputed, and each new document joins a story without
regrouping the rest. Commands read through the same object.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from bot import listings
from bot.core.analysis import Analysed, analyse
from bot.core.documents import Document
from bot.core.overlaps import Cluster, Dated, OverlapEngine
from bot.core.quotes import Quote
from bot.core.speakers import Speaker, SpeakerBook, fold
from bot.core.stories import Story, StoryIndex, StoryMember, TermVector
from bot.listings import StatementFilter
from bot.store import ClusterRow, DocumentMeta, MemberRow, StaleArchive, Store, StoryRow

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
        # The overlap and story indexes are needed only to ingest, so they are restored
        # from the store on the first ingest, not for every query; with the store
        # generation they were read at, which tells whether another process wrote since.
        self._overlap_engine: OverlapEngine | None = None
        self._story_index: StoryIndex | None = None
        self._generation = 0
        self._writing = threading.Lock()  # the indexes change under one ingest at a time
        # speaker_book(), rebuilt only when documents arrived (here or by another process).
        self._named: tuple[datetime | None, int, SpeakerBook] | None = None
        self._named_book = book
        self._ingests = 0

    # -- ingest ------------------------------------------------------------------------

    def ingest(self, documents: Iterable[Document], *, now: datetime) -> IngestResult:
        (result,) = self.ingest_batches([documents], now=now)
        return result

    def ingest_batches(
        self, batches: Iterable[Iterable[Document]], *, now: datetime
    ) -> Iterator[IngestResult]:
        """Ingest batch after batch, yielding each batch's result. With an analyser that
        can start work ahead (the process pool), the next batch is analysed on the other
        cores while this one is clustered and stored here.

        Each batch is stored in one transaction: its documents, quotes, clusters and
        stories all, or nothing. Its documents are stamped with `now`, or just after the
        last digest window or stamp if that is later (see `Store.write`), so that each
        arrives in exactly one digest."""
        pending: _Pending | None = None
        for documents in batches:
            started = self._start(documents, in_flight=pending.ids if pending else set())
            if pending is not None:
                yield self._finish(pending, now)
            pending = started
        if pending is not None:
            yield self._finish(pending, now)

    def _start(self, documents: Iterable[Document], *, in_flight: set[str]) -> _Pending:
        unique: dict[str, Document] = {}
        for document in documents:
            unique.setdefault(document.id, document)
        known = self.store.known_document_ids(unique) | (in_flight & unique.keys())
        fresh = [doc for doc_id, doc in unique.items() if doc_id not in known]
        start = getattr(self._analyser, "start", None)
        if not fresh:
            return _Pending(fresh, known, list)
        if start is None:
            return _Pending(fresh, known, lambda: self._analyser(fresh, self.book))
        return _Pending(fresh, known, start(fresh, self.book))

    def _finish(self, pending: _Pending, now: datetime) -> IngestResult:
        known = set(pending.known)
        if not pending.fresh:
            return IngestResult((), tuple(sorted(known)), 0, 0)
        analysed = pending.result()
        with self._writing:
            while True:
                try:
                    return self._commit(analysed, known, now)
                except StaleArchive:
                    # Another process wrote meanwhile: read the indexes again, and leave
                    # out the documents it stored.
                    stored = self.store.known_document_ids(a.document.id for a in analysed)
                    analysed = [a for a in analysed if a.document.id not in stored]
                    known |= stored

    def _commit(self, analysed: Sequence[Analysed], known: set[str], now: datetime) -> IngestResult:
        """Work out the batch's clusters and stories in memory, then store it all in one
        transaction. On any failure the indexes are dropped (the store holds nothing of
        the batch), to be restored from the store by the next ingest."""
        if not analysed:
            return IngestResult((), tuple(sorted(known)), 0, 0)
        try:
            engine, index = self._indexes()
            new_quotes = [q for item in analysed for q in item.quotes]
            new_docs = {a.document.id: a.document for a in analysed}
            given = {p.quote_id: p for item in analysed for p in item.prepared}
            links = engine.add(new_quotes, prepared=given)
            component, rows, sharing = self._clusters_after(engine, new_quotes, new_docs)
            terms = {a.document.id: a.terms for a in analysed if a.terms is not None}
            stale, stories = self._place(index, list(new_docs.values()), sharing, terms=terms)
            with self.store.write(now, expect=self._generation) as write:
                items = [(a.document, a.quotes, a.summary) for a in analysed]
                self.store.add_documents(write.conn, items, now=write.moment)
                missing = (q.id for q in new_quotes if q.id not in given)
                prepared = [*given.values(), *engine.prepared(missing)]
                self.store.add_overlap_state(write.conn, prepared, links)
                if rows or component:
                    self.store.replace_clusters(write.conn, component, rows, now=write.moment)
                self.store.drop_stories(write.conn, stale)
                self.store.save_stories(write.conn, stories, now=write.moment)
            self._generation = write.generation
        except BaseException:
            self._forget()
            raise
        self._ingests += 1
        log.info(
            "ingested documents",
            extra={"added": len(analysed), "skipped": len(known), "quotes": len(new_quotes)},
        )
        return IngestResult(
            added=tuple(a.document.id for a in analysed),
            skipped=tuple(sorted(known)),
            quotes=len(new_quotes),
            clusters_touched=len(rows),
        )

    def _forget(self) -> None:
        self._overlap_engine = self._story_index = None

    def _clusters_after(
        self, engine: OverlapEngine, new_quotes: Sequence[Quote], new_docs: dict[str, Document]
    ) -> tuple[set[str], list[ClusterRow], dict[str, set[str]]]:
        """The clusters that the new quotes (already added to the engine) link into,
        recomputed: the quotes whose stored clusters they replace, the clusters, and for
        each new document the documents it shares a cluster with (the story links)."""
        new_ids = [q.id for q in new_quotes]
        component: set[str] = set()
        for quote_id in new_ids:
            component |= engine.component(quote_id)
        if len(component) == len(new_ids) and all(len(engine.component(q)) == 1 for q in new_ids):
            return set(), [], {}  # nothing new links to anything
        doc_ids = {quote_id.rsplit(":", 1)[0] for quote_id in component}
        documents: dict[str, Dated] = {
            **self.store.document_meta(doc_ids - set(new_docs)),
            **new_docs,
        }
        found = engine.clusters(documents, touching=new_ids)
        sharing: dict[str, set[str]] = {}
        for cluster in found:
            members = {m.doc_id for m in cluster.members}
            for doc_id in members & new_docs.keys():
                sharing.setdefault(doc_id, set()).update(members - {doc_id})
        return component, [_cluster_row(c) for c in found], sharing

    def _place(
        self,
        index: StoryIndex,
        new_documents: Sequence[Document],
        sharing: dict[str, set[str]],
        *,
        terms: Mapping[str, TermVector] | None = None,
    ) -> tuple[set[str], list[StoryRow]]:
        """Place each new document in a story (stories it bridges are merged): the ids
        of the stories that no longer exist, and the stories to store."""
        linked = {other for others in sharing.values() for other in others}
        before = {d.id: d.story_id for d in self.store.document_meta(linked).values()}
        touched: dict[str, Story] = {}
        for document in sorted(new_documents, key=_by_date):
            story = index.add(
                document,
                shared_with=sharing.get(document.id, ()),
                vector=(terms or {}).get(document.id),
            )
            touched[story.id] = story
        # A later document may have merged stories placed earlier in this batch.
        final = {
            index.story_of(s.doc_ids[0]).id: index.story_of(s.doc_ids[0]) for s in touched.values()
        }
        stale = ({sid for sid in before.values() if sid} | set(touched)) - set(final)
        rows = [StoryRow(s.id, s.headline, s.first_seen, s.doc_ids) for s in final.values()]
        return stale, rows

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

    def _indexes(self) -> tuple[OverlapEngine, StoryIndex]:
        """The overlap engine and story index, restored from the store if need be."""
        if self._overlap_engine is None or self._story_index is None:
            # Read first: if anything is stored after this, the write's check fails and
            # the indexes are read again, so they never miss what another process stored.
            self._generation = self.store.generation()
            self._overlap_engine = self._restore_overlaps()
            self._story_index = self._restore_stories()
        return self._overlap_engine, self._story_index

    def _restore_overlaps(self) -> OverlapEngine:
        """The engine as it was: quotes, derived data and verified links put back, with
        nothing derived or verified again."""
        stored, links = self.store.overlap_state()
        engine = OverlapEngine()
        prepared = [(quote, p) for quote, p in stored if p is not None]
        if len(prepared) == len(stored):
            engine.restore(prepared, links)
            return engine
        # Quotes stored by a briefbot before schema 3: derive and verify them all, once,
        # and store the result for the next restart.
        engine.add(quote for quote, _ in stored)
        every = engine.prepared(quote.id for quote, _ in stored)
        with self.store.write(datetime.now(UTC), expect=self._generation) as write:
            self.store.replace_overlap_state(write.conn, every, engine.links())
        self._generation = write.generation
        return engine

    def _restore_stories(self) -> StoryIndex:
        """The story index, restored from the stories stored (no text is re-read, except
        the rare untitled document, whose headline sentence is worked out again)."""
        index = StoryIndex(load_documents=self.store.documents_by_ids)
        every = self.store.document_meta()
        untitled = self.store.documents_by_ids(
            [d.id for d in every.values() if not d.title and d.story_id]
        )
        unplaced = []  # stored without a story by a briefbot whose ingest was not atomic
        for meta in every.values():
            if meta.story_id is None:
                unplaced.append(meta.id)
                continue
            member = (
                StoryMember.of(untitled[meta.id])
                if meta.id in untitled
                else StoryMember.titled(
                    meta.id, published=meta.published, label=meta.label, title=meta.title or ""
                )
            )
            index.restore(member, meta.story_id)
        if unplaced:
            documents = self.store.documents_by_ids(unplaced)
            sharing = {doc_id: self._sharing(doc_id) for doc_id in documents}
            stale, rows = self._place(index, list(documents.values()), sharing)
            with self.store.write(datetime.now(UTC), expect=self._generation) as write:
                self.store.drop_stories(write.conn, stale)
                self.store.save_stories(write.conn, rows, now=write.moment)
            self._generation = write.generation
        return index

    # -- reading -----------------------------------------------------------------------

    def speaker_book(self) -> SpeakerBook:
        """The configured speakers, plus everyone the documents name."""
        version = (self.store.last_ingested_at(), self._ingests, self.book)
        if self._named != version:
            names = sorted(self.store.speaker_counts())
            self._named_book = self.book.with_speakers(Speaker(name) for name in names)
            self._named = version
        return self._named_book

    def statements(
        self,
        speaker: str,
        *,
        since: date | None = None,
        topic: str | None = None,
        limit: int | None = None,
    ) -> Statements:
        """A speaker's quotes: statements repeated by two or more outlets (most printed
        first), and quotes printed once (earliest first); `limit` of each."""
        wanted = StatementFilter(speaker, since, topic)
        repeated = listings.repeated_statements(self.store, wanted, limit=limit)
        once = listings.single_quotes(self.store, wanted, limit=limit)
        doc_ids = {m.doc_id for c in repeated.items for m in c.members}
        docs = self.store.document_meta(doc_ids | {q.doc_id for q in once.items})
        return Statements(
            speaker,
            tuple(repeated.items),
            tuple(once.items),
            docs,
            repeated_total=repeated.total,
            once_total=once.total,
        )

    def overlaps(self, *, min_outlets: int = 2, limit: int | None = None) -> Overlaps:
        """Statements printed by at least `min_outlets` outlets, the most printed first."""
        page = listings.top_clusters(self.store, min_outlets=min_outlets, limit=limit)
        docs = self.store.document_meta({m.doc_id for c in page.items for m in c.members})
        return Overlaps(tuple(page.items), docs, page.total)

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
class _Pending:
    """A batch whose analysis has started."""

    fresh: list[Document]
    known: set[str]  # ids already stored or in the batch before
    result: Callable[[], list[Analysed]]  # waits for the analysis

    @property
    def ids(self) -> set[str]:
        return {document.id for document in self.fresh}


@dataclass(frozen=True)
class Statements:
    speaker: str
    repeated: tuple[ClusterRow, ...]  # printed by two or more outlets
    once: tuple[Quote, ...]
    docs: dict[str, DocumentMeta]
    repeated_total: int = 0  # however many there are beyond the limit
    once_total: int = 0


@dataclass(frozen=True)
class Overlaps:
    clusters: tuple[ClusterRow, ...]
    docs: dict[str, DocumentMeta]
    total: int


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
                speaker=m.speaker,
            )
            for m in cluster.members
        ),
        disputed_speakers=cluster.disputed_speakers,
    )
