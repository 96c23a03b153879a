"""Digests: gather what arrived in a window, let the core choose, present it as a Reply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot import messages as m
from bot.archive import Archive
from bot.core.digest import (
    ClusterFacts,
    Digest,
    DocFacts,
    Sighting,
    StoryFacts,
    select_digest,
)
from bot.reply import Item, Link, Reply, Section

SECTION_LIMIT = 25  # items per section; the rest is counted, never silently dropped
QUOTES_PER_SPEAKER = 5  # so that one talkative speaker does not crowd out the others


@dataclass(frozen=True)
class DigestView:
    digest: Digest
    docs: Mapping[str, DocFacts]


def gather_digest(
    archive: Archive,
    *,
    window_start: datetime | None,
    window_end: datetime,
    speakers: frozenset[str] | None,
    topics: Sequence[str] = (),
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
            label=meta.label,
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
            label=meta.label,
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
    return DigestView(digest, docs)


def digest_reply(view: DigestView) -> Reply:
    digest, docs = view.digest, view.docs
    since = _when(digest.window_start) if digest.window_start else None
    window = m.DIGEST_WINDOW_SINCE.format(since=since) if since else m.DIGEST_WINDOW_ALL
    title = m.DIGEST_TITLE.format(window=window)
    if digest.is_empty:
        return Reply(
            title=title, sections=(Section(text=m.DIGEST_EMPTY.format(since=since or "the start")),)
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
            sections.append(_limited(heading, items))
    if digest.repeated:
        items = [
            Item(
                text=r.cluster.canonical_text,
                detail=" · ".join(
                    filter(
                        None,
                        [
                            r.cluster.speaker or m.UNATTRIBUTED,
                            f"now {len(r.outlets_now)} outlets"
                            + (f" (was {len(r.outlets_before)})" if r.outlets_before else ""),
                            m.FIRST_SEEN.format(date=r.cluster.first_seen.date().isoformat())
                            if r.cluster.first_seen
                            else "",
                        ],
                    )
                ),
                links=tuple(
                    Link(label, _url(label, r.cluster.sightings, docs)) for label in r.outlets_now
                ),
                quoted=True,
            )
            for r in digest.repeated
        ]
        sections.append(_limited(m.DIGEST_REPEATED, items))
    by_speaker: dict[str, list[Item]] = {}
    for q in digest.quotes:
        doc = docs[q.doc_id]
        detail = " · ".join(filter(None, [m.PARTIAL_NOTE if q.partial else "", doc.label]))
        links = (Link(doc.label, doc.url),) if doc.url else ()
        by_speaker.setdefault(q.speaker or m.UNATTRIBUTED, []).append(
            Item(text=q.text, detail=detail, links=links, quoted=True)
        )
    for speaker, items in sorted(by_speaker.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        shown = items[:QUOTES_PER_SPEAKER]
        rest = len(items) - len(shown)
        heading = m.DIGEST_QUOTES_BY.format(speaker=speaker, count=len(items))
        sections.append(Section(heading=heading, items=tuple(shown)))
        if rest:  # after the list it speaks of, as a section of its own
            sections.append(Section(text=m.DIGEST_MORE_QUOTES.format(rest=rest, speaker=speaker)))
    return Reply(title=title, sections=tuple(sections))


def _story_item(
    doc_ids: Sequence[str],
    new_ids: Sequence[str],
    headline: str,
    docs: Mapping[str, DocFacts],
    window_end: datetime,
) -> Item:
    # Coverage that arrived after the window (a past window digested late) is not named.
    arrived = [docs[d] for d in doc_ids if d in docs and docs[d].ingested_at <= window_end]
    outlets = [o for o in dict.fromkeys(d.label for d in arrived) if o != headline]
    lead = next((docs[d] for d in new_ids if d in docs and docs[d].summary), None)
    detail = " — ".join(filter(None, [", ".join(outlets), lead.summary if lead else ""]))
    links = tuple(Link(docs[d].label, docs[d].url) for d in new_ids if d in docs and docs[d].url)
    return Item(text=headline, detail=detail, links=links)


def _limited(heading: str, items: list[Item]) -> Section:
    if len(items) <= SECTION_LIMIT:
        return Section(heading=heading, items=tuple(items))
    return Section(
        heading=heading,
        items=tuple(items[:SECTION_LIMIT]),
        text=m.DIGEST_MORE.format(shown=SECTION_LIMIT, total=len(items)),
    )


def _url(label: str, sightings: Sequence[Sighting], docs: Mapping[str, DocFacts]) -> str | None:
    return next(
        (docs[s.doc_id].url for s in sightings if s.outlet == label and s.doc_id in docs), None
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
