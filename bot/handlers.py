"""The chat commands: one registry, every platform.

Each handler reads the archive and returns a neutral Reply. Adapters never see the
archive; they call a Dispatcher built by `dispatcher()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot import messages as m
from bot.archive import Archive
from bot.commands import (
    Command,
    CommandError,
    Completion,
    Dispatcher,
    Param,
    ParamKind,
    Registry,
    help_reply,
)
from bot.core.quotes import Quote
from bot.digests import digest_reply, gather_digest
from bot.reply import Item, Link, Reply, Section
from bot.store import ClusterRow, DocumentMeta

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SEARCH_MIN_CHARS = 3
DIGEST_DEFAULT_DAYS = 1


@dataclass(frozen=True)
class BotContext:
    archive: Archive
    now: datetime
    tracked_speakers: frozenset[str] | None = None  # None: everyone in the speaker config


# -- quotes ----------------------------------------------------------------------------


def quotes_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    query = str(args["speaker"])
    speaker, suggestions = ctx.archive.speaker_book().resolve(query)
    if speaker is None:
        return unknown_speaker(query, [s.name for s in suggestions])
    since = _date(args.get("since"))
    topic = str(args["topic"]) if args.get("topic") else None
    limit = int(str(args.get("limit", DEFAULT_LIMIT)))
    found = ctx.archive.statements(speaker.name, since=since, topic=topic, limit=limit)
    filters = _filters(since, topic)
    total = found.repeated_total + found.once_total
    if total == 0:
        return Reply(title=m.NO_STATEMENTS.format(speaker=speaker.name, filters=filters))
    sections = []
    if found.repeated:
        items = tuple(cluster_item(c, found.docs) for c in found.repeated)
        sections.append(Section(heading=m.REPEATED_HEADING, items=items))
    if found.once:
        items = tuple(quote_item(q, found.docs, show_speaker=False) for q in found.once)
        sections.append(Section(heading=m.ONCE_HEADING, items=items))
    shown = len(found.repeated) + len(found.once)
    return Reply(
        title=m.STATEMENTS_TITLE.format(
            speaker=speaker.name, count=total, s=_plural(total), filters=filters
        ),
        sections=tuple(sections),
        footnote=m.SHOWING.format(shown=shown, total=total) if shown < total else "",
    )


def unknown_speaker(query: str, suggestions: list[str]) -> Reply:
    if suggestions:
        items = tuple(Item(text=name) for name in suggestions)
        section = Section(heading=m.DID_YOU_MEAN, items=items)
    else:
        section = Section(text=m.NO_SUGGESTIONS)
    return Reply(title=m.UNKNOWN_SPEAKER.format(query=query), sections=(section,), is_error=True)


def cluster_item(cluster: ClusterRow, docs: Mapping[str, DocumentMeta]) -> Item:
    outlets = _cluster_outlets(cluster, docs)
    seen = cluster.first_seen or min(
        (docs[x.doc_id].first_seen for x in cluster.members if x.doc_id in docs), default=None
    )
    earliest = docs.get(cluster.earliest_doc_id)
    parts = [
        cluster.speaker or m.UNATTRIBUTED,
        m.OUTLETS.format(count=len(outlets), s=_plural(len(outlets))),
    ]
    if seen is not None:
        first = m.FIRST_SEEN.format(date=seen.date().isoformat())
        parts.append(f"{first} ({earliest.label})" if earliest else first)
    variants = sorted({x.relation for x in cluster.members} - {"verbatim"})
    if variants:
        parts.append("also " + ", ".join(variants))
    return Item(
        text=cluster.canonical_text,
        detail=" · ".join(parts),
        links=tuple(Link(label, url) for label, url in outlets),
        quoted=True,
    )


def quote_item(quote: Quote, docs: Mapping[str, DocumentMeta], *, show_speaker: bool) -> Item:
    doc = docs.get(quote.doc_id)
    parts = []
    if show_speaker:
        parts.append(quote.speaker or m.UNATTRIBUTED)
    if quote.partial:
        parts.append(m.PARTIAL_NOTE)
    if doc is not None:
        parts.append(doc.first_seen.date().isoformat())
    links = (Link(doc.label, doc.url),) if doc is not None else ()
    return Item(text=quote.text, detail=" · ".join(parts), links=links, quoted=True)


def _cluster_outlets(
    cluster: ClusterRow, docs: Mapping[str, DocumentMeta]
) -> list[tuple[str, str | None]]:
    outlets: dict[str, str | None] = {}
    ordered = sorted(
        (docs[x.doc_id] for x in cluster.members if x.doc_id in docs),
        key=lambda d: (d.first_seen, d.id),
    )
    for doc in ordered:
        outlets.setdefault(doc.label, doc.url)
    return list(outlets.items())


# -- overlaps, summary, search, sources, speakers --------------------------------------


def overlaps_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    minimum = int(str(args.get("min_outlets", 2)))
    limit = int(str(args.get("limit", DEFAULT_LIMIT)))
    found = ctx.archive.overlaps(min_outlets=minimum, limit=limit)
    if not found.clusters:
        return Reply(title=m.NO_OVERLAPS.format(minimum=minimum))
    items = tuple(cluster_item(c, found.docs) for c in found.clusters)
    total = found.total
    return Reply(
        title=m.OVERLAPS_TITLE.format(count=total, s=_plural(total), minimum=minimum),
        sections=(Section(items=items),),
        footnote=m.SHOWING.format(shown=len(items), total=total) if len(items) < total else "",
    )


def summary_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    query = str(args["document"])
    meta, suggestions = ctx.archive.find_document(query)
    if meta is None:
        items = tuple(document_item(d) for d in suggestions)
        offered = (Section(heading=m.DOCUMENT_SUGGESTIONS, items=items),) if items else ()
        return Reply(title=m.UNKNOWN_DOCUMENT.format(query=query), sections=offered, is_error=True)
    document = ctx.archive.document(meta.id)
    assert document is not None
    spans = ctx.archive.store.summary_spans(meta.id)
    summary = "\n\n".join(" ".join(document.text[a:b].split()) for a, b in spans)
    quotes = ctx.archive.store.quotes_by_documents([meta.id])
    docs = {meta.id: meta}
    sections = [Section(heading=m.SUMMARY_HEADING, text=summary)]
    if quotes:
        sections.append(
            Section(
                heading=m.QUOTES_HEADING,
                items=tuple(quote_item(q, docs, show_speaker=True) for q in quotes),
            )
        )
    cuts = sorted({c.reason.value for c in document.cuts})
    about = document_item(meta)
    return Reply(
        title=meta.title or meta.label,
        sections=(Section(text=about.detail), *sections),
        footnote=m.CUTS_NOTE.format(cuts=", ".join(cuts)) if cuts else "",
    )


def document_item(meta: DocumentMeta) -> Item:
    parts = [
        meta.outlet or "",
        meta.published.date().isoformat() if meta.published else "",
        meta.id,
    ]
    return Item(
        text=meta.title or meta.label,
        detail=" · ".join(p for p in parts if p),
        links=(Link(meta.label, meta.url),) if meta.url else (),
    )


def search_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    query = " ".join(str(args["text"]).split())
    if len(query) < SEARCH_MIN_CHARS:
        raise CommandError(m.SEARCH_TOO_SHORT.format(minimum=SEARCH_MIN_CHARS))
    limit = int(str(args.get("limit", DEFAULT_LIMIT)))
    found_quotes, found_docs = ctx.archive.search(query, limit=limit)
    if not found_quotes and not found_docs:
        return Reply(title=m.NO_RESULTS.format(query=query))
    docs = ctx.archive.store.document_meta({q.doc_id for q in found_quotes})
    sections = []
    if found_quotes:
        items = tuple(quote_item(q, docs, show_speaker=True) for q in found_quotes)
        sections.append(Section(heading=m.SEARCH_QUOTES, items=items))
    if found_docs:
        sections.append(
            Section(heading=m.SEARCH_DOCUMENTS, items=tuple(document_item(d) for d in found_docs))
        )
    return Reply(title=m.SEARCH_TITLE.format(query=query), sections=tuple(sections))


def sources_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    documents = ctx.archive.documents()
    if not documents:
        return Reply(title=m.EMPTY_ARCHIVE)
    by_outlet: dict[str, list[DocumentMeta]] = {}
    for doc in documents:
        by_outlet.setdefault(doc.outlet or doc.label, []).append(doc)
    sections = tuple(
        Section(heading=outlet, items=tuple(document_item(d) for d in docs))
        for outlet, docs in sorted(by_outlet.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )
    return Reply(
        title=m.SOURCES_TITLE.format(
            documents=len(documents),
            s=_plural(len(documents)),
            outlets=len(by_outlet),
            os=_plural(len(by_outlet)),
        ),
        sections=sections,
    )


def speakers_command(ctx: BotContext, args: Mapping[str, object]) -> Reply:
    counts = ctx.archive.speaker_counts()
    if not counts:
        return Reply(title=m.EMPTY_ARCHIVE)
    book = ctx.archive.book
    items = tuple(
        Item(
            text=name,
            detail=" · ".join(
                filter(None, [f"{count} quote{_plural(count)}", _roles(book.get(name))])
            ),
        )
        for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return Reply(
        title=m.SPEAKERS_TITLE.format(count=len(counts), s=_plural(len(counts))),
        sections=(Section(items=items),),
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
    digest = gather_digest(
        ctx.archive, window_start=start, window_end=ctx.now, speakers=ctx.tracked_speakers
    )
    return digest_reply(digest)


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
        Command("sources", m.SOURCES_HELP, sources_command),
        Command("speakers", m.SPEAKERS_HELP, speakers_command),
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


def complete(ctx: BotContext, kind: Completion, prefix: str) -> list[str]:
    """Suggestions for autocomplete: speakers by name, documents by title."""
    wanted = prefix.casefold().strip()
    if kind is Completion.SPEAKERS:
        counts = ctx.archive.speaker_counts()
        names = sorted(counts, key=lambda n: (-counts[n], n))
        if not wanted:
            return names
        book = ctx.archive.speaker_book()
        hits = [n for n in names if wanted in n.casefold()]
        fuzzy = [s.name for s in book.suggest(prefix, limit=10) if s.name in counts]
        return list(dict.fromkeys([*hits, *fuzzy]))
    titles = [d.title or d.label for d in ctx.archive.documents()]
    return [t for t in titles if wanted in t.casefold()] if wanted else titles


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
