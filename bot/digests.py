"""Digests: gather what arrived in a window, let the core choose, present it as a Reply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import messages as m
from bot import payloads
from bot.archive import Archive
from bot.core.digest import (
    ClusterFacts,
    Digest,
    DocFacts,
    Repeated,
    Sighting,
    StoryFacts,
    select_digest,
)
from bot.presenting import (
    Partners,
    attribution,
    merged_partners,
    seen,
    source_name,
    variant_notes,
)
from bot.reply import Item, Link, Reply, Section
from bot.store import ClusterRow, DocumentMeta

SECTION_LIMIT = 25  # items per section; the rest is counted, never silently dropped
QUOTES_PER_SPEAKER = 5  # so that one talkative speaker does not crowd out the others
_CONSISTENT_READ_ATTEMPTS = 5


@dataclass(frozen=True)
class DigestView:
    digest: Digest
    docs: Mapping[str, DocFacts]
    # What the reply shows beyond the core's facts: each statement's printings, the
    # documents' metadata and the statements merged quotes were merged with.
    clusters: Mapping[str, ClusterRow] = field(default_factory=dict)
    metas: Mapping[str, DocumentMeta] = field(default_factory=dict)
    partners: Partners = field(default_factory=dict)


def gather_digest(
    archive: Archive,
    *,
    window_start: datetime | None,
    window_end: datetime,
    speakers: frozenset[str] | None,
    topics: Sequence[str] = (),
) -> DigestView:
    """What arrived in the window, read as of one state of the archive.

    The reads are several queries; an ingest committing between them could move a
    document into a story the earlier reads never saw (stories merge), and the document
    would be missing from the digest. Every write counts a generation, so reads that
    begin and end at the same generation saw one state; otherwise read again."""
    store = archive.store
    for _ in range(_CONSISTENT_READ_ATTEMPTS - 1):
        generation = store.generation()
        view = _gather_once(archive, window_start, window_end, speakers, topics)
        if store.generation() == generation:
            return view
    # Ingest never paused in all those attempts: read once more while holding the write
    # lock (ingests wait for it, digests are rare).
    with store.writes_held():
        return _gather_once(archive, window_start, window_end, speakers, topics)


def _gather_once(
    archive: Archive,
    window_start: datetime | None,
    window_end: datetime,
    speakers: frozenset[str] | None,
    topics: Sequence[str],
) -> DigestView:
    store = archive.store
    arrived = [
        meta
        for meta in store.document_meta(store.ingested_since(window_start)).values()
        if meta.ingested_at <= window_end
    ]
    full = store.documents_by_ids(meta.id for meta in arrived)
    new_docs = {
        meta.id: DocFacts(
            id=meta.id,
            label=_name(meta),
            url=meta.url,
            title=meta.title,
            ingested_at=meta.ingested_at,
            published=meta.published,
            story_id=meta.story_id,
            summary=" ".join(
                " ".join(full[meta.id].text[a:b].split())
                for a, b in store.summary_spans(meta.id)[:2]
            ),
            searchable=f"{meta.title or ''} {full[meta.id].body}",
        )
        for meta in arrived
    }
    new_quotes = store.quotes_by_documents(new_docs)
    cluster_ids = {
        c for ids in store.cluster_ids_of_quotes(q.id for q in new_quotes).values() for c in ids
    }
    clusters = store.clusters(ids=cluster_ids, min_outlets=1) if cluster_ids else []
    story_ids = {d.story_id for d in new_docs.values() if d.story_id}
    stories = store.stories(ids=story_ids) if story_ids else []
    involved = {x.doc_id for c in clusters for x in c.members} | {
        d for s in stories for d in s.doc_ids
    }
    metas = store.document_meta(involved - set(new_docs))
    docs: dict[str, DocFacts] = dict(new_docs)
    for meta in metas.values():
        docs[meta.id] = DocFacts(
            id=meta.id,
            label=_name(meta),
            url=meta.url,
            title=meta.title,
            ingested_at=meta.ingested_at,
            published=meta.published,
            story_id=meta.story_id,
            summary="",
            searchable=meta.title or "",
        )
    digest = select_digest(
        window_start=window_start,
        window_end=window_end,
        new_docs=new_docs,
        new_quotes=new_quotes,
        clusters=[
            ClusterFacts(
                id=c.id,
                canonical_text=c.canonical_text,
                speaker=c.speaker,
                disputed_speakers=c.disputed_speakers,
                first_seen=c.first_seen,
                sightings=tuple(
                    Sighting(x.quote_id, x.doc_id, docs[x.doc_id].label, docs[x.doc_id].ingested_at)
                    for x in c.members
                    if x.doc_id in docs
                ),
            )
            for c in clusters
        ],
        stories=[StoryFacts(s.id, s.headline, s.doc_ids) for s in stories],
        docs_by_id=docs,
        speakers=speakers,
        topics=topics,
    )
    shown = {r.cluster.id for r in digest.repeated}
    rows = {c.id: c for c in clusters if c.id in shown}
    return DigestView(
        digest,
        docs,
        clusters=rows,
        metas={**metas, **{meta.id: meta for meta in arrived}},
        partners=merged_partners(store, rows.values()),
    )


def _name(meta: DocumentMeta) -> str:
    return source_name(meta.outlet, meta.title, meta.source)


def digest_reply(view: DigestView) -> Reply:
    digest, docs = view.digest, view.docs
    since = _when(digest.window_start) if digest.window_start else None
    window = m.DIGEST_WINDOW_SINCE.format(since=since) if since else m.DIGEST_WINDOW_ALL
    title = m.DIGEST_TITLE.format(window=window)
    data = digest_data(view)
    if digest.is_empty:
        return Reply(
            title=title,
            sections=(Section(text=m.DIGEST_EMPTY.format(since=since or "the start")),),
            data=data,
        )
    sections: list[Section] = []
    new = [s for s in digest.stories if s.is_new]
    updated = [s for s in digest.stories if not s.is_new]
    for heading, stories in ((m.DIGEST_NEW_STORIES, new), (m.DIGEST_UPDATED_STORIES, updated)):
        if stories:
            items = [
                _story_item(
                    s.story.doc_ids, s.new_doc_ids, s.story.headline, docs, digest.window_end
                )
                for s in stories
            ]
            sections.append(_limited(heading, items, more=m.DIGEST_MORE_STORIES))
    if digest.repeated:
        sections.append(
            _limited(
                m.DIGEST_REPEATED,
                [_repeated_item(r, view) for r in digest.repeated],
                more=m.DIGEST_MORE,
            )
        )
    by_speaker: dict[str, list[Item]] = {}
    for q in digest.quotes:
        doc = docs[q.doc_id]
        detail = " · ".join(
            filter(
                None, [m.PARTIAL_NOTE if q.partial else "", seen(doc.published, doc.ingested_at)]
            )
        )
        by_speaker.setdefault(q.speaker or m.UNATTRIBUTED, []).append(
            Item(text=q.text, detail=detail, links=(Link(doc.label, doc.url),), quoted=True)
        )
    for speaker, items in sorted(by_speaker.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        shown = items[:QUOTES_PER_SPEAKER]
        rest = len(items) - len(shown)
        heading = m.DIGEST_QUOTES_BY.format(speaker=speaker, count=len(items))
        sections.append(Section(heading=heading, items=tuple(shown)))
        if rest:  # after the list it speaks of, as a section of its own
            sections.append(Section(text=m.DIGEST_MORE_QUOTES.format(rest=rest, speaker=speaker)))
    return Reply(title=title, sections=tuple(sections), data=data)


def _repeated_item(repeated: Repeated, view: DigestView) -> Item:
    cluster, docs = repeated.cluster, view.docs
    # "outlets" only when every printing names one; a titled document is no outlet.
    named = all(view.metas[s.doc_id].outlet for s in cluster.sightings if s.doc_id in view.metas)
    word = m.OUTLETS if named else m.SOURCES
    now = word.format(count=len(repeated.outlets_now), s=_plural(len(repeated.outlets_now)))
    was = f" (was {len(repeated.outlets_before)})" if repeated.outlets_before else ""
    first = (
        m.FIRST_SEEN.format(date=cluster.first_seen.date().isoformat())
        if cluster.first_seen
        else ""
    )
    row = view.clusters.get(cluster.id)
    names = {doc_id: fact.label for doc_id, fact in docs.items()}
    said = attribution(row, names) if row is not None else cluster.speaker or m.UNATTRIBUTED
    return Item(
        text=cluster.canonical_text,
        detail=" · ".join(filter(None, [said, f"now {now}{was}", first])),
        links=tuple(
            Link(label, _url(label, cluster.sightings, docs)) for label in repeated.outlets_now
        ),
        quoted=True,
        notes=variant_notes(row, names, view.partners) if row is not None else (),
    )


def _story_item(
    doc_ids: Sequence[str],
    new_ids: Sequence[str],
    headline: str,
    docs: Mapping[str, DocFacts],
    window_end: datetime,
) -> Item:
    """The headline, the lead summary of its new coverage, and every outlet covering it
    (each once, linked when one of its articles has a URL)."""
    # Coverage that arrived after the window (a past window digested late) is not named.
    arrived = [docs[d] for d in doc_ids if d in docs and docs[d].ingested_at <= window_end]
    fresh = [docs[d] for d in new_ids if d in docs]
    urls: dict[str, str] = {}
    for doc in [*arrived, *fresh]:  # the newest coverage's URL wins
        if doc.url:
            urls[doc.label] = doc.url
    outlets = [o for o in dict.fromkeys(d.label for d in arrived) if o != headline]
    lead = next((d for d in fresh if d.summary), None)
    return Item(
        text=headline,
        detail=lead.summary if lead else "",
        links=tuple(Link(outlet, urls.get(outlet)) for outlet in outlets),
    )


def _limited(heading: str, items: list[Item], *, more: str) -> Section:
    if len(items) <= SECTION_LIMIT:
        return Section(heading=heading, items=tuple(items))
    return Section(
        heading=heading,
        items=tuple(items[:SECTION_LIMIT]),
        text=more.format(shown=SECTION_LIMIT, total=len(items)),
    )


def _url(label: str, sightings: Sequence[Sighting], docs: Mapping[str, DocFacts]) -> str | None:
    return next(
        (docs[s.doc_id].url for s in sightings if s.outlet == label and s.doc_id in docs), None
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def digest_data(view: DigestView) -> dict[str, Any]:
    """The digest as data: its window, stories, newly repeated statements and quotes."""
    digest, metas = view.digest, view.metas
    repeated = []
    for r in digest.repeated:
        row = view.clusters.get(r.cluster.id)
        found = (
            payloads.cluster(row, metas, view.partners)
            if row is not None
            else {"id": r.cluster.id, "canonical_text": r.cluster.canonical_text}
        )
        repeated.append(
            {**found, "outlets_before": list(r.outlets_before), "outlets_now": list(r.outlets_now)}
        )
    return {
        "window_start": payloads.when(digest.window_start),
        "window_end": payloads.when(digest.window_end),
        "stories": [
            {
                "id": s.story.id,
                "headline": s.story.headline,
                "is_new": s.is_new,
                "documents": [payloads.document_ref(d, metas) for d in s.story.doc_ids],
                "new_documents": list(s.new_doc_ids),
                "summary": next(
                    (view.docs[d].summary for d in s.new_doc_ids if d in view.docs), ""
                ),
            }
            for s in digest.stories
        ],
        "repeated": repeated,
        "quotes": [payloads.quote(q, metas) for q in digest.quotes],
    }
