"""The chat commands: one registry, every platform.

Each handler reads the archive and returns a neutral Reply, with the same answer as
data for `--json` (see bot/payloads.py). Adapters never see the archive; they call a
Dispatcher built by `dispatcher()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot import messages as m
from bot import payloads
from bot.archive import Archive
from bot.commands import (
    Command,
    CommandError,
    Completion,
    Dispatcher,
    Param,
    ParamKind,
    Registry,
    Suggestion,
    help_reply,
)
from bot.core.documents import Cut, Document
from bot.core.quotes import Quote
from bot.core.speakers import Speaker
from bot.digests import digest_reply, gather_digest
from bot.presenting import (
    Partners,
    attribution,
    excerpt,
    merged_partners,
    seen,
    source_name,
    variant_notes,
)
from bot.reply import Item, Link, Reply, Section
from bot.store import ClusterRow, DocumentMeta

DEFAULT_LIMIT = 10
LIST_LIMIT = 25  # sources and speakers
MAX_LIMIT = 100
SEARCH_MIN_CHARS = 3
DIGEST_DEFAULT_DAYS = 1
SUGGESTIONS = 5
CUTS_SHOWN = 5  # excerpts of removed text in a summary's footnote; the rest are counted


@dataclass(frozen=True)
class BotContext:
    archive: Archive
    now: datetime
    tracked_speakers: frozenset[str] | None = None  # None: everyone in the speaker config


# -- quotes ----------------------------------------------------------------------------


def quotes_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    query = str(args["speaker"])
    speaker, suggestions = resolve_speaker(ctx.archive, query)
    if speaker is None:
        return unknown_speaker(ctx.archive, query, suggestions)
    since = _date(args.get("since"))
    topic = str(args["topic"]) if args.get("topic") else None
    limit = int(str(args.get("limit", DEFAULT_LIMIT)))
    found = ctx.archive.statements(speaker.name, since=since, topic=topic, limit=limit)
    # `limit` is the whole page: repeated statements first, then what room is left.
    repeated = found.repeated[:limit]
    once = found.once[: limit - len(repeated)]
    filters = _filters(since, topic)
    total = found.repeated_total + found.once_total
    partners = merged_partners(ctx.archive.store, repeated)
    data = {
        "speaker": speaker.name,
        "filters": {"since": since.isoformat() if since else None, "topic": topic},
        "total": total,
        "shown": len(repeated) + len(once),
        "repeated": payloads.page(
            [payloads.cluster(c, found.docs, partners) for c in repeated], found.repeated_total
        ),
        "once": payloads.page([payloads.quote(q, found.docs) for q in once], found.once_total),
    }
    if total == 0:
        return Reply(title=m.NO_STATEMENTS.format(speaker=speaker.name, filters=filters), data=data)
    sections = []
    if repeated:
        items = tuple(cluster_item(c, found.docs, partners) for c in repeated)
        sections.append(Section(heading=m.REPEATED_HEADING, items=items))
    if once:
        items = tuple(quote_item(q, found.docs, show_speaker=False) for q in once)
        sections.append(Section(heading=m.ONCE_HEADING, items=items))
    shown = len(repeated) + len(once)
    return Reply(
        title=m.STATEMENTS_TITLE.format(
            speaker=speaker.name, count=total, s=_plural(total), filters=filters
        ),
        sections=tuple(sections),
        footnote=m.SHOWING.format(shown=shown, total=total) if shown < total else "",
        data=data,
    )


def resolve_speaker(archive: Archive, query: str) -> tuple[Speaker | None, list[str]]:
    """The speaker meant, or None and the names to offer: only speakers with quotes."""
    book = archive.speaker_book()
    # A name first, then a role phrase: "the Kremlin spokesman" is Peskov, though it
    # holds the organisation's alias "Kremlin".
    exact = book.get(query) or book.by_role(query)
    if exact is not None:
        return exact, []
    speaker, suggestions = book.resolve(query)
    if speaker is not None:
        return speaker, []
    counts = archive.speaker_counts()
    return None, [s.name for s in suggestions if counts.get(s.name)]


def unknown_speaker(archive: Archive, query: str, suggestions: Sequence[str]) -> Reply:
    counts = archive.speaker_counts()
    title = m.UNKNOWN_SPEAKER.format(query=query)
    offered = list(suggestions) or _most_quoted(counts)[:SUGGESTIONS]
    data = {
        "query": query,
        "suggestions": [{"name": n, "quotes": counts.get(n, 0)} for n in offered],
    }
    if not offered:
        return Reply(
            title=title, sections=(Section(text=m.NO_SUGGESTIONS),), is_error=True, data=data
        )
    heading = m.DID_YOU_MEAN if suggestions else m.MOST_QUOTED
    items = tuple(Item(text=name, detail=_quote_count(counts.get(name, 0))) for name in offered)
    return Reply(
        title=title,
        sections=(Section(heading=heading, items=items),),
        footnote=m.NO_SUGGESTIONS,
        is_error=True,
        data=data,
    )


def cluster_item(cluster: ClusterRow, docs: Mapping[str, DocumentMeta], partners: Partners) -> Item:
    printed = _printed_by(cluster, docs)
    named = all(docs[x.doc_id].outlet for x in cluster.members if x.doc_id in docs)
    count = len(printed)
    names = {doc_id: document_name(meta) for doc_id, meta in docs.items()}
    parts = [
        attribution(cluster, names),
        (m.OUTLETS if named else m.SOURCES).format(count=count, s=_plural(count)),
    ]
    first = _first_seen(cluster, docs)
    if first:
        parts.append(first)
    return Item(
        text=cluster.canonical_text,
        detail=" · ".join(parts),
        links=tuple(Link(name, url) for name, url in printed),
        quoted=True,
        notes=variant_notes(cluster, names, partners),
    )


def _first_seen(cluster: ClusterRow, docs: Mapping[str, DocumentMeta]) -> str:
    earliest = docs.get(cluster.earliest_doc_id)
    where = f" ({document_name(earliest)})" if earliest else ""
    if cluster.first_seen is not None:
        return m.FIRST_SEEN.format(date=cluster.first_seen.date().isoformat()) + where
    # No printing is dated: say when the first one arrived, and that it is undated.
    metas = [docs[x.doc_id] for x in cluster.members if x.doc_id in docs]
    if not metas:
        return ""
    first = min(metas, key=lambda d: (d.ingested_at, d.id))
    return m.FIRST_INGESTED.format(date=first.ingested_at.date().isoformat()) + (
        f" ({document_name(first)})"
    )


def quote_item(quote: Quote, docs: Mapping[str, DocumentMeta], *, show_speaker: bool) -> Item:
    doc = docs.get(quote.doc_id)
    parts = []
    if show_speaker:
        parts.append(quote.speaker or m.UNATTRIBUTED)
    if quote.partial:
        parts.append(m.PARTIAL_NOTE)
    if doc is not None:
        parts.append(seen(doc.published, doc.ingested_at))
    links = (Link(document_name(doc), doc.url),) if doc is not None else ()
    return Item(text=quote.text, detail=" · ".join(parts), links=links, quoted=True)


def document_name(meta: DocumentMeta) -> str:
    """How a document is named among outlets: outlet, else short title, else file name."""
    return source_name(meta.outlet, meta.title, meta.source)


def _printed_by(
    cluster: ClusterRow, docs: Mapping[str, DocumentMeta]
) -> list[tuple[str, str | None]]:
    """(name, url) of each outlet printing the statement, earliest first; a document
    with no outlet named counts on its own."""
    printed: dict[str, tuple[str, str | None]] = {}
    ordered = sorted(
        (docs[x.doc_id] for x in cluster.members if x.doc_id in docs),
        key=lambda d: (d.first_seen, d.id),
    )
    for doc in ordered:
        printed.setdefault(doc.outlet or doc.id, (document_name(doc), doc.url))
    return list(printed.values())


# -- overlaps, summary, search, sources, speakers --------------------------------------


def overlaps_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    minimum = int(str(args.get("min_outlets", 2)))
    limit = int(str(args.get("limit", DEFAULT_LIMIT)))
    found = ctx.archive.overlaps(min_outlets=minimum, limit=limit)
    partners = merged_partners(ctx.archive.store, found.clusters)
    data = {
        "min_outlets": minimum,
        **payloads.page(
            [payloads.cluster(c, found.docs, partners) for c in found.clusters], found.total
        ),
    }
    if not found.clusters:
        return Reply(title=m.NO_OVERLAPS.format(minimum=minimum), data=data)
    items = tuple(cluster_item(c, found.docs, partners) for c in found.clusters)
    total = found.total
    return Reply(
        title=m.OVERLAPS_TITLE.format(count=total, s=_plural(total), minimum=minimum),
        sections=(Section(items=items),),
        footnote=(
            m.SHOWING_OVERLAPS.format(shown=len(items), total=total) if len(items) < total else ""
        ),
        data=data,
    )


def summary_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    query = str(args["document"])
    meta, suggestions = ctx.archive.find_document(query)
    if meta is None:
        items = tuple(document_item(d) for d in suggestions)
        offered = (Section(heading=m.DOCUMENT_SUGGESTIONS, items=items),) if items else ()
        return Reply(
            title=m.UNKNOWN_DOCUMENT.format(query=query),
            sections=offered,
            is_error=True,
            data={
                "query": query,
                "suggestions": [payloads.document(d) for d in suggestions],
            },
        )
    document = ctx.archive.document(meta.id)
    assert document is not None
    spans = ctx.archive.store.summary_spans(meta.id)
    sentences = [" ".join(document.text[a:b].split()) for a, b in spans]
    quotes = ctx.archive.store.quotes_by_documents([meta.id])
    docs = {meta.id: meta}
    sections = [Section(heading=m.SUMMARY_HEADING, text="\n\n".join(sentences))]
    if quotes:
        sections.append(
            Section(
                heading=m.QUOTES_HEADING,
                items=tuple(quote_item(q, docs, show_speaker=True) for q in quotes),
            )
        )
    return Reply(
        title=meta.title or document_name(meta),
        sections=(Section(text=_about(meta, document)), *sections),
        footnote=_cuts_note(document),
        data={
            "document": payloads.document(meta, byline=document.byline),
            "summary": sentences,
            "removed": [_cut_data(document, cut) for cut in document.cuts],
            "quotes": [payloads.quote(q, docs) for q in quotes],
        },
    )


def _about(meta: DocumentMeta, document: Document) -> str:
    """The line under a summary's title: who printed it, who wrote it, when, which file."""
    parts = [
        meta.outlet or "",
        m.BYLINE.format(byline=document.byline) if document.byline else "",
        seen(meta.published, meta.ingested_at),
        payloads.document(meta)["file"],
        m.DOCUMENT_ID.format(id=meta.id),
    ]
    return " · ".join(p for p in parts if p)


def _cuts_note(document: Document) -> str:
    """What was cut from the text and why, each as a short excerpt."""
    cuts = [
        m.CUT.format(
            reason=cut.reason.value,
            chars=cut.end - cut.start,
            text=excerpt(document.text[cut.start : cut.end]),
        )
        for cut in document.cuts[:CUTS_SHOWN]
    ]
    if len(document.cuts) > CUTS_SHOWN:
        cuts.append(m.CUTS_MORE.format(count=len(document.cuts) - CUTS_SHOWN))
    return m.CUTS_NOTE.format(cuts="; ".join(cuts)) if cuts else ""


def _cut_data(document: Document, cut: Cut) -> dict[str, object]:
    return {
        "reason": cut.reason.value,
        "start": cut.start,
        "end": cut.end,
        "text": document.text[cut.start : cut.end],
    }


def document_item(meta: DocumentMeta) -> Item:
    # A linked document shows its outlet as the link; an unlinked one in the detail.
    parts = [meta.outlet if not meta.url else "", seen(meta.published, meta.ingested_at), meta.id]
    return Item(
        text=meta.title or document_name(meta),
        detail=" · ".join(p for p in parts if p),
        links=(Link(document_name(meta), meta.url),) if meta.url else (),
    )


def search_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    query = " ".join(str(args["text"]).split())
    if len(query) < SEARCH_MIN_CHARS:
        raise CommandError(m.SEARCH_TOO_SHORT.format(minimum=SEARCH_MIN_CHARS))
    limit = int(str(args.get("limit", DEFAULT_LIMIT)))
    found_quotes, found_docs = ctx.archive.search(query, limit=limit)
    docs = ctx.archive.store.document_meta({q.doc_id for q in found_quotes})
    data = {
        "query": query,
        "quotes": [payloads.quote(q, docs) for q in found_quotes],
        "documents": [payloads.document(d) for d in found_docs],
    }
    if not found_quotes and not found_docs:
        return Reply(title=m.NO_RESULTS.format(query=query), data=data)
    sections = []
    if found_quotes:
        items = tuple(quote_item(q, docs, show_speaker=True) for q in found_quotes)
        sections.append(Section(heading=m.SEARCH_QUOTES, items=items))
    if found_docs:
        sections.append(
            Section(heading=m.SEARCH_DOCUMENTS, items=tuple(document_item(d) for d in found_docs))
        )
    return Reply(title=m.SEARCH_TITLE.format(query=query), sections=tuple(sections), data=data)


def sources_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    """Outlets with the most documents first, each one's newest documents first; the
    documents with no outlet named last. `limit` documents in all."""
    documents = ctx.archive.documents()
    if not documents:
        return Reply(title=m.EMPTY_ARCHIVE, data={"total": 0, "outlets": [], "documents": []})
    limit = int(str(args.get("limit", LIST_LIMIT)))
    by_outlet: dict[str, list[DocumentMeta]] = {}
    unnamed: list[DocumentMeta] = []
    for doc in documents:
        (by_outlet.setdefault(doc.outlet, []) if doc.outlet else unnamed).append(doc)
    groups: list[tuple[str | None, list[DocumentMeta]]] = sorted(
        by_outlet.items(), key=lambda kv: (-len(kv[1]), kv[0])
    )
    if unnamed:
        groups.append((None, unnamed))
    sections: list[Section] = []
    shown: list[DocumentMeta] = []
    for outlet, docs in groups:
        room = limit - len(shown)
        if room <= 0:
            break
        newest = sorted(docs, key=lambda d: (d.first_seen, d.id), reverse=True)[:room]
        shown.extend(newest)
        heading = m.OUTLET_HEADING.format(
            outlet=outlet or m.NO_OUTLET, count=len(docs), s=_plural(len(docs))
        )
        sections.append(Section(heading=heading, items=tuple(document_item(d) for d in newest)))
    counted = []
    if by_outlet:
        counted.append(m.OUTLETS.format(count=len(by_outlet), s=_plural(len(by_outlet))))
    if unnamed:
        counted.append(m.SOURCES_UNNAMED.format(count=len(unnamed)))
    total = len(documents)
    return Reply(
        title=m.SOURCES_TITLE.format(documents=total, s=_plural(total), parts=", ".join(counted)),
        sections=tuple(sections),
        footnote=_showing(len(shown), total),
        data={
            "total": total,
            "shown": len(shown),
            "outlets": [{"name": name, "documents": len(docs)} for name, docs in groups if name],
            "unnamed_documents": len(unnamed),
            "documents": [payloads.document(d) for d in shown],
        },
    )


def speakers_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    counts = ctx.archive.speaker_counts()
    if not counts:
        return Reply(title=m.EMPTY_ARCHIVE, data={"total": 0, "speakers": []})
    limit = int(str(args.get("limit", LIST_LIMIT)))
    book = ctx.archive.book
    ranked = _most_quoted(counts)[:limit]
    rows = [(name, counts[name], _roles(book.get(name))) for name in ranked]
    items = tuple(
        Item(text=name, detail=" · ".join(filter(None, [_quote_count(count), role])))
        for name, count, role in rows
    )
    return Reply(
        title=m.SPEAKERS_TITLE.format(count=len(counts), s=_plural(len(counts))),
        sections=(Section(items=items),),
        footnote=_showing(len(items), len(counts)),
        data={
            "total": len(counts),
            "shown": len(items),
            "speakers": [
                {"name": name, "quotes": count, "role": role or None} for name, count, role in rows
            ],
        },
    )


def _most_quoted(counts: Mapping[str, int]) -> list[str]:
    return sorted(counts, key=lambda name: (-counts[name], name))


def _quote_count(count: int) -> str:
    return f"{count} quote{_plural(count)}"


def _showing(shown: int, total: int) -> str:
    return (
        m.SHOWING_LIST.format(shown=shown, total=total, maximum=MAX_LIMIT) if shown < total else ""
    )


def _roles(speaker: object) -> str:
    roles = getattr(speaker, "roles", ())
    return roles[0] if roles else ""


def digest_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    since = _date(args.get("since"))
    start = (
        datetime(since.year, since.month, since.day, tzinfo=ctx.now.tzinfo)
        if since is not None
        else ctx.now - timedelta(days=DIGEST_DEFAULT_DAYS)
    )
    view = gather_digest(
        ctx.archive, window_start=start, window_end=ctx.now, speakers=ctx.tracked_speakers
    )
    return digest_reply(view)


# -- the registry ------------------------------------------------------------------------

_LIMIT = Param("limit", m.LIMIT_PARAM, ParamKind.INT, min_value=1, max_value=MAX_LIMIT)


def registry() -> Registry[BotContext]:
    commands: list[Command[BotContext]] = [
        Command(
            "quotes",
            m.QUOTES_HELP,
            quotes_command,
            (
                Param("speaker", m.SPEAKER_PARAM, required=True, completion=Completion.SPEAKERS),
                Param("since", m.SINCE_PARAM, ParamKind.DATE),
                Param("topic", m.TOPIC_PARAM),
                _LIMIT,
            ),
        ),
        Command(
            "overlaps",
            m.OVERLAPS_HELP,
            overlaps_command,
            (
                Param("min_outlets", m.MIN_OUTLETS_PARAM, ParamKind.INT, min_value=2, max_value=50),
                _LIMIT,
            ),
        ),
        Command(
            "summary",
            m.SUMMARY_HELP,
            summary_command,
            (Param("document", m.DOCUMENT_PARAM, required=True, completion=Completion.DOCUMENTS),),
        ),
        Command(
            "search",
            m.SEARCH_HELP,
            search_command,
            (Param("text", m.SEARCH_PARAM, required=True), _LIMIT),
        ),
        Command("sources", m.SOURCES_HELP, sources_command, (_LIMIT,)),
        Command("speakers", m.SPEAKERS_HELP, speakers_command, (_LIMIT,)),
        Command(
            "digest",
            m.DIGEST_HELP,
            digest_command,
            (Param("since", m.SINCE_PARAM, ParamKind.DATE),),
        ),
    ]
    holder: list[Registry[BotContext]] = []

    def help_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
        return help_reply(holder[0])

    built = Registry(tuple([*commands, Command("help", m.HELP_HELP, help_command)]))
    holder.append(built)
    return built


def complete(ctx: BotContext, kind: Completion, prefix: str) -> list[Suggestion]:
    """Suggestions for autocomplete: speakers by name; documents by title, picked by id."""
    wanted = prefix.casefold().strip()
    if kind is Completion.SPEAKERS:
        counts = ctx.archive.speaker_counts()
        names = _most_quoted(counts)
        if wanted:
            book = ctx.archive.speaker_book()
            hits = [n for n in names if wanted in n.casefold()]
            fuzzy = [s.name for s in book.suggest(prefix, limit=10) if s.name in counts]
            names = list(dict.fromkeys([*hits, *fuzzy]))
        return [Suggestion(name, name) for name in names]
    # The id, not the title, goes back as the value: a title may be too long for it.
    titled = [(d.title or d.label, d.id) for d in ctx.archive.documents()]
    return [Suggestion(t, i) for t, i in titled if not wanted or wanted in t.casefold()]


def dispatcher(context: Callable[[], BotContext]) -> Dispatcher[BotContext]:
    return Dispatcher(registry(), context, complete)


def _date(value: object) -> date | None:
    return value if isinstance(value, date) else None


def _filters(since: date | None, topic: str | None) -> str:
    parts = []
    if since is not None:
        parts.append(f"since {since.isoformat()}")
    if topic:
        parts.append(f"about {topic!r}")
    return f" ({', '.join(parts)})" if parts else ""


def _plural(count: int) -> str:
    return "" if count == 1 else "s"
