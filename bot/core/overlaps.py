"""Overlaps: the same statement printed by several outlets, grouped into clusters.

Quotes are normalised (`text`), candidates come from a shingle index (`overlap_index`),
never from all pairs, and each candidate pair is verified with rapidfuzz into a Link:
verbatim, edited (`fuzz.ratio`) or fragment (`fuzz.partial_ratio_alignment`). However
alike they score, `statement_rules` keeps apart a statement and its negation, a
"fragment" with words the longer quote lacks, and two people's words unless printed word
for word (the cluster then names both in `disputed_speakers`).

Clusters are built per connected component of links. Quotes joined by verbatim/edited
links form a *statement group*; fragment links say one group is contained in another.
A group inside no other (unmerged) group heads a cluster; the groups inside it are its
fragments. A quote holding two or more separate statements is judged by the support rule
(`is_merged`): if it is merged, each part heads its own cluster and the merged quote is a
member of each. A partial quote ("phenomenally close") only ever joins one cluster.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import ScoreAlignment

from bot.core.overlap_index import (
    InMemoryShingleIndex,
    ShingleIndex,
    shingles,
    stem,
    text_shingles,
)
from bot.core.quotes import Quote
from bot.core.statement_rules import is_cut_from, same_polarity, same_voice, same_wording, voices
from bot.core.text import Normalized, content_words, normalize, normalize_text


class Dated(Protocol):
    """What clustering needs of a document: when it was published and how to name it
    (a `Document`, or the store's metadata row, which spares reading the text)."""

    @property
    def published(self) -> datetime | None: ...

    @property
    def label(self) -> str: ...


class Relation(StrEnum):
    VERBATIM = "verbatim"  # identical after normalisation
    EDITED = "edited"  # the same statement with small wording changes
    FRAGMENT = "fragment"  # contained in the longer quote
    MERGED = "merged"  # contains the statement and at least one other


@dataclass(frozen=True)
class OverlapSettings:
    edited_min_ratio: float = 85.0  # fuzz.ratio of two whole quotes
    fragment_min_score: float = 90.0  # fuzz.partial_ratio of the shorter inside the longer
    near_min_score: float = 70.0  # a partial quote's near-match ("phenomenally close")
    min_content_words: int = 2  # fewer never link: "reset", "the US"
    min_shared_fraction: float = 0.3  # of the smaller quote's shingles, before rapidfuzz
    part_overlap_tolerance: float = 0.2  # how much two parts of a merged quote may overlap
    diff_context: int = 2  # unchanged words shown on each side of a change


DEFAULT_SETTINGS = OverlapSettings()


@dataclass(frozen=True)
class Link:
    """A verified overlap of two quotes (by Quote.id).

    For a FRAGMENT, `a` is the contained quote, `b` the longer one and `span` the part of
    `b`'s normalised text that `a` matches (`text.normalize(b.text).original_span(*span)`
    gives Quote.text offsets). Otherwise a < b and span is None."""

    a: str
    b: str
    relation: Relation  # VERBATIM, EDITED or FRAGMENT; MERGED exists only in clusters
    score: float
    near: bool = False  # a partial quote matching below fragment_min_score
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class Member:
    """One quote of a cluster and how it relates to the canonical quote."""

    quote_id: str
    doc_id: str
    text: str  # as printed (Quote.text)
    relation: Relation
    score: float  # 0-100 similarity to the canonical quote
    near: bool = False  # a partial quote that only nearly matches
    # Where the two align, in normalised text: in the canonical quote for a fragment, in
    # this member's text for a merged quote.
    normalized_span: tuple[int, int] | None = None
    canonical_text: str = field(default="", repr=False)
    diff_context: int = field(default=2, repr=False)
    speaker: str | None = None  # who this document says spoke (Quote.speaker)

    @cached_property
    def aligned_span(self) -> tuple[int, int] | None:
        """`normalized_span` in the longer quote's Quote.text offsets (canonical for a
        fragment, this member for a merged quote)."""
        if self.normalized_span is None:
            return None
        longer = self.text if self.relation is Relation.MERGED else self.canonical_text
        return normalize(longer).original_span(*self.normalized_span)

    @cached_property
    def diff(self) -> str | None:
        """The wording changes from the canonical quote, for edited and fragment members."""
        if self.relation is Relation.EDITED:
            return word_diff(self.canonical_text, self.text, context=self.diff_context)
        if self.relation is Relation.FRAGMENT:
            return word_diff(
                self.canonical_text,
                self.text,
                old_span=self.normalized_span,
                context=self.diff_context,
            )
        return None


@dataclass(frozen=True)
class Cluster:
    id: str  # from the canonical wording: the same statement gets the same id
    canonical_quote_id: str
    canonical_text: str  # as printed by the canonical quote
    # Who said it, when the documents agree; None when they name no one, or disagree.
    speaker: str | None
    members: tuple[Member, ...]  # the canonical quote first
    outlets: tuple[str, ...]  # Document.label, earliest first
    earliest_doc_id: str
    first_seen: datetime | None
    # The people the documents name for it when they disagree (most often named first);
    # empty when they agree. Never settled by a vote: a quote in the wrong mouth is worse
    # than a quote shown as disputed.
    disputed_speakers: tuple[str, ...] = ()

    @property
    def quote_ids(self) -> tuple[str, ...]:
        return tuple(member.quote_id for member in self.members)

    @property
    def doc_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(member.doc_id for member in self.members))

    @property
    def differences(self) -> tuple[tuple[str, str], ...]:
        """(quote id, diff) for each member worded differently from the canonical."""
        return tuple((m.quote_id, m.diff) for m in self.members if m.diff is not None)

    def member(self, quote_id: str) -> Member | None:
        return next((m for m in self.members if m.quote_id == quote_id), None)


@dataclass(frozen=True)
class Prepared:
    """What the engine derives from one quote's text alone. A store keeps it, so that a
    restarted engine need not derive it again (see `OverlapEngine.restore`)."""

    quote_id: str
    norm: str  # text.normalize_text of Quote.text
    content: int  # how many content words
    shingles: tuple[int, ...]


def find_overlaps(
    quotes: Sequence[Quote],
    documents: Mapping[str, Dated],
    *,
    settings: OverlapSettings = DEFAULT_SETTINGS,
) -> tuple[Cluster, ...]:
    """The clusters of a whole corpus; the order of `quotes` does not matter."""
    engine = OverlapEngine(settings=settings)
    engine.add(quotes)
    return engine.clusters(documents)


def compare_quotes(
    a: Quote, b: Quote, *, settings: OverlapSettings = DEFAULT_SETTINGS
) -> Link | None:
    """Verify one pair directly, without the index (for checks and benchmarks)."""
    short, long = _ordered(_record(a), _record(b))
    match = _verify(short, long, settings)
    return None if match is None else _link(short, long, match)


class OverlapEngine:
    """Incremental overlap detection for an archive.

    `add` indexes new quotes and returns the links they make; `clusters` builds clusters
    for every connected component of links, or only for those holding `touching`."""

    def __init__(
        self,
        *,
        settings: OverlapSettings = DEFAULT_SETTINGS,
        index: ShingleIndex | None = None,
    ) -> None:
        self._settings = settings
        self._index: ShingleIndex = index if index is not None else InMemoryShingleIndex()
        self._records: list[_Record] = []
        self._ordinals: dict[str, int] = {}
        # Verbatim copies under the same name link here directly (see `_reprint_key`).
        self._first_with_text: dict[tuple[str, str | None], int] = {}
        self._edges: dict[int, list[_Edge]] = {}
        self._parent: dict[int, int] = {}  # union-find over linked quotes
        self._component: dict[int, list[int]] = {}  # root -> its quotes

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, quote_id: object) -> bool:
        return quote_id in self._ordinals

    def add(
        self, quotes: Iterable[Quote], *, prepared: Mapping[str, Prepared] | None = None
    ) -> tuple[Link, ...]:
        """Index quotes (already known ids are skipped) and return the new links.

        `prepared`: what `prepare` gives for some of them, worked out elsewhere (the
        analysis workers do it, off the ingest's one writing process)."""
        found: list[Link] = []
        given = prepared or {}
        for quote_id, quote in sorted((q.id, q) for q in quotes):
            if quote_id not in self._ordinals:
                found.extend(self._add(quote_id, quote, given.get(quote_id)))
        return tuple(found)

    def prepared(self, quote_ids: Iterable[str]) -> list[Prepared]:
        """What `restore` needs of these (added) quotes, to be stored with them."""
        found = []
        for quote_id in quote_ids:
            record = self._records[self._ordinals[quote_id]]
            found.append(
                Prepared(quote_id, record.norm, record.content, text_shingles(record.norm))
            )
        return found

    def restore(self, quotes: Iterable[tuple[Quote, Prepared]], links: Iterable[Link]) -> None:
        """Put back quotes and the links `add` found among them (after a restart), as
        stored: nothing is derived or verified again. Adding quotes afterwards finds the
        same links, and `clusters` gives the same clusters, as if this engine had added
        every quote itself."""
        min_content = self._settings.min_content_words
        indexed: list[tuple[int, tuple[int, ...]]] = []
        for quote, prepared in sorted(quotes, key=lambda pair: pair[1].quote_id):
            quote_id = prepared.quote_id
            if quote_id in self._ordinals:
                continue
            ordinal = len(self._records)
            norm = prepared.norm
            self._records.append(
                _Record(quote_id, quote, norm, prepared.content, len(prepared.shingles))
            )
            self._ordinals[quote_id] = ordinal
            if prepared.content < min_content:
                continue  # as in `_add`: never a candidate
            key = _reprint_key(norm, quote)
            if not quote.partial and self._first_with_text.setdefault(key, ordinal) != ordinal:
                continue  # a reprint: found through its first copy, as in `_add`
            indexed.append((ordinal, prepared.shingles))
        add_many = getattr(self._index, "add_many", None)
        if add_many is not None:
            add_many(indexed)
        else:
            for ordinal, quote_shingles in indexed:
                self._index.add(ordinal, quote_shingles)
        for link in links:
            x, y = self._ordinals.get(link.a), self._ordinals.get(link.b)
            if x is None or y is None:
                continue  # a quote stored after the caller read the quotes
            short, _long = _ordered(self._records[x], self._records[y])
            short_ordinal, long_ordinal = (x, y) if short is self._records[x] else (y, x)
            match = _Match(link.relation, link.score, link.near, link.span)
            edge = _Edge(short_ordinal, long_ordinal, match)
            self._edges.setdefault(x, []).append(edge)
            self._edges.setdefault(y, []).append(edge)
            self._union(x, y)

    def links(self) -> tuple[Link, ...]:
        edges = (e for o, listed in self._edges.items() for e in listed if e.short == o)
        return tuple(sorted((self._edge_link(e) for e in edges), key=lambda k: (k.a, k.b)))

    def component(self, quote_id: str) -> frozenset[str]:
        """The ids of the quotes linked, directly or not, to this one (itself included)."""
        ordinal = self._ordinals.get(quote_id)
        if ordinal is None or ordinal not in self._parent:
            return frozenset({quote_id}) if ordinal is not None else frozenset()
        members = self._component[self._root(ordinal)]
        return frozenset(self._records[m].id for m in members)

    def clusters(
        self, documents: Mapping[str, Dated], *, touching: Iterable[str] | None = None
    ) -> tuple[Cluster, ...]:
        if touching is None:
            roots = set(self._component)
        else:
            linked = (self._ordinals.get(quote_id) for quote_id in touching)
            roots = {self._root(o) for o in linked if o is not None and o in self._parent}
        found: list[Cluster] = []
        for root in sorted(roots):
            members = sorted(self._component[root])
            records = {m: self._records[m] for m in members}
            edges = [e for m in members for e in self._edges[m] if e.short == m]
            found.extend(_component_clusters(records, edges, documents, self._settings))
        return tuple(sorted(found, key=lambda c: (_doc_key(c.earliest_doc_id, documents), c.id)))

    def _add(self, quote_id: str, quote: Quote, prepared: Prepared | None) -> list[Link]:
        if prepared is None:
            prepared = prepare(quote)
        record = _Record(quote_id, quote, prepared.norm, prepared.content, len(prepared.shingles))
        quote_shingles = prepared.shingles
        ordinal = len(self._records)
        self._records.append(record)
        self._ordinals[quote_id] = ordinal
        if record.content < self._settings.min_content_words:
            return []
        if not quote.partial:
            first = self._first_with_text.setdefault(_reprint_key(record.norm, quote), ordinal)
            if first != ordinal:  # a reprint: one link, and no need to index it again
                reprint = self._store(first, ordinal)
                return [reprint] if reprint is not None else []
        found: list[Link] = []
        shared = self._index.candidates(quote_shingles)
        fraction, own_count = self._settings.min_shared_fraction, record.shingle_count
        for other, count in sorted(shared.items()):
            other_count = self._records[other].shingle_count
            smaller = other_count if other_count < own_count else own_count
            if count >= fraction * smaller:
                link = self._store(other, ordinal)
                if link is not None:
                    found.append(link)
        self._index.add(ordinal, quote_shingles)
        return found

    def _store(self, x: int, y: int) -> Link | None:
        short, long = _ordered(self._records[x], self._records[y])
        match = _verify(short, long, self._settings)
        if match is None:
            return None
        short_ordinal, long_ordinal = (x, y) if short is self._records[x] else (y, x)
        edge = _Edge(short_ordinal, long_ordinal, match)
        self._edges.setdefault(x, []).append(edge)
        self._edges.setdefault(y, []).append(edge)
        self._union(x, y)
        return _link(short, long, match)

    def _edge_link(self, edge: _Edge) -> Link:
        return _link(self._records[edge.short], self._records[edge.long], edge.match)

    def _root(self, x: int) -> int:
        if x not in self._parent:
            self._parent[x] = x
            self._component[x] = [x]
            return x
        root = x
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[x] != root:
            self._parent[x], x = root, self._parent[x]
        return root

    def _union(self, x: int, y: int) -> None:
        rx, ry = self._root(x), self._root(y)
        if rx == ry:
            return
        if len(self._component[rx]) < len(self._component[ry]):
            rx, ry = ry, rx
        self._parent[ry] = rx
        self._component[rx].extend(self._component.pop(ry))


def is_merged(whole_support: int, part_supports: Sequence[int]) -> bool:
    """The support rule, for a quote that contains two or more separate statements.

    Support is the number of documents printing a statement as a quote of its own. The
    whole is a merge of its parts when its support is not greater than that of its
    best-supported part (so a tie goes to the parts: each keeps its own cluster and the
    whole joins each as MERGED). Otherwise the whole is the statement and the parts are
    its fragments."""
    return whole_support <= max(part_supports)


@lru_cache(maxsize=1 << 15)  # a cluster touched again diffs the same members again
def word_diff(
    old: str, new: str, *, old_span: tuple[int, int] | None = None, context: int = 2
) -> str | None:
    """Word-level changes from `old` to `new`: `... trust takes [-years-]{+months+} to achieve`.

    Words are compared normalised (case, quote marks and punctuation don't count) and
    shown as printed. `old_span` (normalised offsets) limits `old` to the part a fragment
    matched. None when the wording is the same."""
    old_words = _printed_words(_normalized(old), old_span)
    new_words = _printed_words(_normalized(new), None)
    matcher = difflib.SequenceMatcher(
        a=[w for w, _ in old_words], b=[w for w, _ in new_words], autojunk=False
    )
    opcodes = matcher.get_opcodes()
    if all(tag == "equal" for tag, *_ in opcodes):
        return None
    pieces: list[str] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        printed_old = [printed for _, printed in old_words[i1:i2]]
        if tag == "equal":
            head = 0 if k == 0 else context
            tail = 0 if k == len(opcodes) - 1 else context
            if len(printed_old) > head + tail + 1:
                printed_old = [*printed_old[:head], "...", *printed_old[len(printed_old) - tail :]]
            pieces.extend(printed_old)
            continue
        removed = "[-" + " ".join(printed_old) + "-]" if printed_old else ""
        added = [printed for _, printed in new_words[j1:j2]]
        pieces.append(removed + ("{+" + " ".join(added) + "+}" if added else ""))
    return " ".join(pieces)


# ---- verification -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    id: str  # Quote.id, computed once
    quote: Quote
    norm: str
    content: int  # content words
    shingle_count: int


@dataclass(frozen=True, slots=True)
class _Match:
    relation: Relation
    score: float
    near: bool = False
    span: tuple[int, int] | None = None  # in the longer quote's normalised text


@dataclass(frozen=True, slots=True)
class _Edge:
    short: int  # ordinals; for a fragment, the contained quote
    long: int
    match: _Match


def prepare(quote: Quote) -> Prepared:
    """What the engine derives from a quote's text alone (pure: any process can do it)."""
    norm = normalize_text(quote.text)
    content = content_words(norm.split())
    return Prepared(quote.id, norm, len(content), shingles(content))


def _record(quote: Quote) -> _Record:
    prepared = prepare(quote)
    return _Record(quote.id, quote, prepared.norm, prepared.content, len(prepared.shingles))


def _ordered(x: _Record, y: _Record) -> tuple[_Record, _Record]:
    """Shorter first; the id breaks ties so that the order of arrival does not matter."""
    return (x, y) if (len(x.norm), x.id) <= (len(y.norm), y.id) else (y, x)


_EXTRA_CHARS_WORTH_CHECKING = 10  # fewer extra characters cannot hold two more words


def _verify(short: _Record, long: _Record, settings: OverlapSettings) -> _Match | None:
    if short.quote.partial and long.quote.partial:
        return None  # partial quotes attach to statements, never to each other
    if min(short.content, long.content) < settings.min_content_words:
        return None
    if short.norm == long.norm:
        return _Match(Relation.VERBATIM, 100.0)
    one_partial = short.quote.partial or long.quote.partial  # its voice is checked on joining
    if not one_partial and not same_voice(short.quote.speaker, long.quote.speaker):
        # Words printed under two people's names are one statement only word for word.
        if same_wording(short.norm, long.norm):
            return _Match(Relation.EDITED, round(fuzz.ratio(short.norm, long.norm), 1))
        return None
    ratio = round(fuzz.ratio(short.norm, long.norm, score_cutoff=settings.edited_min_ratio), 1)
    if not same_polarity(short.norm, long.norm):
        ratio = 0.0  # "We are not ready" is no edit of "We are ready"
    if ratio and len(long.norm) - len(short.norm) < _EXTRA_CHARS_WORTH_CHECKING:
        return _Match(Relation.EDITED, ratio)
    cutoff = settings.near_min_score if short.quote.partial else settings.fragment_min_score
    found = fuzz.partial_ratio_alignment(short.norm, long.norm, score_cutoff=cutoff)
    span = None if found is None else _word_span(long.norm, found.dest_start, found.dest_end)
    if span is None or found is None or not is_cut_from(short.norm, long.norm, span):
        return _Match(Relation.EDITED, ratio) if ratio else None
    if found.score >= settings.fragment_min_score and _covers(found, short.norm):
        # A long quote plus a short one can pass `ratio` too: it is a fragment when the
        # longer one holds further content words around the shorter one.
        around = (long.norm[: span[0]] + " " + long.norm[span[1] :]).split()
        if not ratio or len(content_words(around)) >= settings.min_content_words:
            return _Match(Relation.FRAGMENT, round(found.score, 1), span=span)
    if ratio:
        return _Match(Relation.EDITED, ratio)
    # A partial quote's near-match must still carry every content word: "phenomenally
    # close" inside "phenomenal how close", not any phrase that happens to score 70.
    window = {stem(word) for word in long.norm[span[0] : span[1]].split()}
    if all(stem(word) in window for word in content_words(short.norm.split())):
        return _Match(Relation.FRAGMENT, round(found.score, 1), near=True, span=span)
    return None


_MIN_COVERAGE = 0.9  # of the shorter quote's characters inside the alignment


def _covers(found: ScoreAlignment, short: str) -> bool:
    return found.src_end - found.src_start >= _MIN_COVERAGE * len(short)


def _roles(records: Iterable[_Record]) -> tuple[tuple[str | None, str | None], ...]:
    return tuple((r.quote.speaker, r.quote.speaker_role) for r in records)


def _reprint_key(norm: str, quote: Quote) -> tuple[str, str | None]:
    """Copies with this key verify alike against any other quote, so only the first is
    indexed. The speaker is part of it: the same words under another name link only
    word for word (`_verify`), so they must be compared on their own."""
    return norm, quote.speaker


def _link(short: _Record, long: _Record, match: _Match) -> Link:
    if match.relation is Relation.FRAGMENT:
        a, b = short.id, long.id
    else:
        a, b = sorted((short.id, long.id))
    return Link(a, b, match.relation, match.score, match.near, match.span)


def _word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole words and drop the spaces at its edges."""
    start = text.rfind(" ", 0, start) + 1 if start > 0 and text[start - 1] != " " else start
    if end < len(text) and text[end - 1] != " " and text[end] != " ":
        following = text.find(" ", end)
        end = len(text) if following < 0 else following
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return start, end


# A canonical quote is diffed against each of its cluster's members, again whenever the
# cluster is touched: normalise each text once.
_normalized = lru_cache(maxsize=1 << 14)(normalize)


def _printed_words(normalized: Normalized, span: tuple[int, int] | None) -> list[tuple[str, str]]:
    """(normalised word, word as printed) pairs, optionally only those inside span."""
    pairs = []
    for start, end in normalized.word_spans():
        if span is None or (start >= span[0] and end <= span[1]):
            printed_start, printed_end = normalized.original_span(start, end)
            pairs.append(
                (normalized.text[start:end], normalized.original[printed_start:printed_end])
            )
    return pairs


# ---- clusters -----------------------------------------------------------------------


@dataclass(eq=False)
class _Group:
    """Quotes of one statement (verbatim/edited links), with its containment relations.

    Deliberately not frozen: a group is scaffolding for one `_component_clusters` call,
    which fills in `children`, `parents`, `parts` and `merged` as the containment graph is
    built, and groups point at each other, so they could not be built frozen in one go.
    `eq=False` makes groups hash by identity, which is what the memos and the sets of
    groups key on. None escapes this module: clusters are built from them, frozen.
    """

    records: list[_Record]
    docs: frozenset[str]
    canonical: _Record
    id: str
    children: set[_Group] = field(default_factory=set)  # statements contained in this one
    parents: set[_Group] = field(default_factory=set)
    parts: list[_Group] = field(default_factory=list)  # separate statements it contains
    merged: bool = False

    @property
    def size_key(self) -> tuple[int, str]:
        return len(self.canonical.norm), self.id


def _component_clusters(
    records: Mapping[int, _Record],
    edges: Sequence[_Edge],
    documents: Mapping[str, Dated],
    settings: OverlapSettings,
) -> list[Cluster]:
    partial = {o for o, r in records.items() if r.quote.partial}
    group_of = _statement_groups(records, edges, partial, documents)
    for edge in edges:
        if edge.match.relation is Relation.FRAGMENT and not {edge.short, edge.long} & partial:
            inner, outer = group_of[edge.short], group_of[edge.long]
            if inner.size_key < outer.size_key:  # also keeps containment free of cycles
                outer.children.add(inner)
                inner.parents.add(outer)
    groups = sorted(set(group_of.values()), key=lambda g: g.size_key)
    for group in groups:
        group.parts = _separate_parts(group, settings)
        if group.parts:
            group.merged = is_merged(len(group.docs), [len(part.docs) for part in group.parts])
    memberships: dict[int, dict[_Group, Relation]] = {}
    heads_memo: dict[int, frozenset[_Group]] = {}
    members_of: dict[_Group, list[tuple[_Record, Relation, _Match | None]]] = {}
    for group in groups:
        for head, relation in _membership(group, memberships, heads_memo).items():
            entries = members_of.setdefault(head, [])
            entries.extend((record, relation, None) for record in group.records)
    # A statement printed by one document is not an overlap.
    overlaps = {head for head, entries in members_of.items() if len(_printing_docs(entries)) >= 2}
    linked: dict[int, set[_Group]] = {}  # partial quote -> the statements it matched
    for edge in edges:
        for mine, other in ((edge.short, edge.long), (edge.long, edge.short)):
            if mine in partial and other in group_of:
                linked.setdefault(mine, set()).add(group_of[other])
    for ordinal in sorted(linked):
        heads = set().union(*(_membership(g, memberships, heads_memo) for g in linked[ordinal]))
        voiced = {h for h in heads if _may_join(records[ordinal], members_of[h])}
        attached = _attach_partial(records[ordinal], voiced, overlaps, settings)
        if attached is None:
            continue
        head, match = attached
        members_of[head].append((records[ordinal], match.relation, match))
        # A statement printed in full once is still repeated when another document
        # quotes part of it word for word (a near match is not enough for that).
        if not match.near and len(_printing_docs(members_of[head])) >= 2:
            overlaps.add(head)
    return [
        _cluster(head, members_of[head], documents, settings)
        for head in sorted(overlaps, key=lambda h: h.id)
    ]


def _statement_groups(
    records: Mapping[int, _Record],
    edges: Sequence[_Edge],
    partial: set[int],
    documents: Mapping[str, Dated],
) -> dict[int, _Group]:
    parent = {o: o for o in records if o not in partial}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for edge in edges:
        same_statement = edge.match.relation in (Relation.VERBATIM, Relation.EDITED)
        if same_statement and edge.short in parent and edge.long in parent:
            parent[root(edge.short)] = root(edge.long)
    by_root: dict[int, list[int]] = {}
    for o in parent:
        by_root.setdefault(root(o), []).append(o)
    group_of: dict[int, _Group] = {}
    for ordinals in by_root.values():
        group_records = [records[o] for o in ordinals]
        canonical = _canonical(group_records, documents)
        group = _Group(
            records=group_records,
            docs=frozenset(r.quote.doc_id for r in group_records),
            canonical=canonical,
            id=hashlib.sha256(canonical.norm.encode("utf-8")).hexdigest()[:16],
        )
        group_of.update(dict.fromkeys(ordinals, group))
    return group_of


def _canonical(group_records: Sequence[_Record], documents: Mapping[str, Dated]) -> _Record:
    """The wording most documents printed (then the longest), earliest printed copy."""
    docs_by_wording: dict[str, set[str]] = {}
    for record in group_records:
        docs_by_wording.setdefault(record.norm, set()).add(record.quote.doc_id)
    wording = min(docs_by_wording, key=lambda w: (-len(docs_by_wording[w]), -len(w), w))
    return min(
        (r for r in group_records if r.norm == wording),
        key=lambda r: (_doc_key(r.quote.doc_id, documents), r.id),
    )


def _separate_parts(group: _Group, settings: OverlapSettings) -> list[_Group]:
    """Two or more contained statements that do not overlap inside this one, else []."""
    maximal = [child for child in group.children if not child.parents & group.children]
    if len(maximal) < 2:
        return []
    placed = []
    for child in maximal:
        found = _align(child.canonical.norm, group.canonical.norm)
        placed.append((found.dest_start, found.dest_end, child))
    placed.sort(key=lambda p: (p[0], p[0] - p[1], p[2].id))
    chosen: list[tuple[int, int, _Group]] = []
    for start, end, child in placed:
        if all(
            min(end, e) - max(start, s) <= settings.part_overlap_tolerance * min(end - start, e - s)
            for s, e, _ in chosen
        ):
            chosen.append((start, end, child))
    return [child for *_, child in chosen] if len(chosen) >= 2 else []


def _heads_above(group: _Group, memo: dict[int, frozenset[_Group]]) -> frozenset[_Group]:
    """The heads (statements not inside another unmerged one) whose cluster holds this
    group as itself or as a fragment."""
    known = memo.get(id(group))
    if known is not None:
        return known
    carriers = sorted((p for p in group.parents if not p.merged), key=lambda p: p.id)
    if carriers:
        heads = frozenset().union(*(_heads_above(p, memo) for p in carriers))
    else:
        heads = frozenset() if group.merged else frozenset({group})
    memo[id(group)] = heads
    return heads


def _membership(
    group: _Group,
    memo: dict[int, dict[_Group, Relation]],
    heads_memo: dict[int, frozenset[_Group]],
) -> dict[_Group, Relation]:
    """Each cluster (by head) this group belongs to, with its relation there. The
    group's own records use VERBATIM as a placeholder for "same statement"."""
    known = memo.get(id(group))
    if known is not None:
        return known
    found: dict[_Group, Relation] = {}
    for head in _heads_above(group, heads_memo):
        found[head] = Relation.VERBATIM if head is group else Relation.FRAGMENT
    if group.merged:
        for part in group.parts:
            for head in _membership(part, memo, heads_memo):
                found.setdefault(head, Relation.MERGED)
    memo[id(group)] = found
    return found


def _may_join(record: _Record, entries: Sequence[tuple[_Record, Relation, _Match | None]]) -> bool:
    """A partial quote joins a cluster only in the voice of someone the cluster already
    names: the same person, or a body one of them speaks for ("The Kremlin said … was
    “phenomenally close”" and Peskov, printed elsewhere as "Kremlin spokesman")."""
    roles = _roles([record, *(other for other, _, _ in entries)])
    speaker = record.quote.speaker
    return all(same_voice(speaker, other.quote.speaker, roles) for other, _, _ in entries)


def _attach_partial(
    record: _Record,
    heads: Iterable[_Group],
    repeated: Collection[_Group],
    settings: OverlapSettings,
) -> tuple[_Group, _Match] | None:
    """The one cluster a partial quote joins: the best match among the clusters of the
    statements it matched, statements already repeated first. Never two, so it never
    pulls clusters together."""
    best: tuple[bool, float, int, str, _Group, _Match] | None = None
    for head in heads:
        short, long = _ordered(record, head.canonical)
        match = _verify(short, long, settings)
        if match is None or (match.relation is Relation.FRAGMENT and short is not record):
            continue
        key = (head not in repeated, -match.score, -len(head.docs), head.id, head, match)
        if best is None or key[:4] < best[:4]:
            best = key
    return None if best is None else (best[4], best[5])


def _printing_docs(entries: Iterable[tuple[_Record, Relation, _Match | None]]) -> set[str]:
    """The documents printing a statement: in full, or in part word for word."""
    return {record.quote.doc_id for record, _, match in entries if match is None or not match.near}


def _cluster(
    head: _Group,
    entries: Sequence[tuple[_Record, Relation, _Match | None]],
    documents: Mapping[str, Dated],
    settings: OverlapSettings,
) -> Cluster:
    canonical = head.canonical
    members = [
        _member(record, relation, match, canonical, settings) for record, relation, match in entries
    ]
    rank = {Relation.VERBATIM: 0, Relation.EDITED: 1, Relation.FRAGMENT: 2, Relation.MERGED: 3}
    members.sort(
        key=lambda m: (
            m.quote_id != canonical.id,
            rank[m.relation],
            m.near,
            _doc_key(m.doc_id, documents),
            m.quote_id,
        )
    )
    doc_ids = sorted({m.doc_id for m in members}, key=lambda d: _doc_key(d, documents))
    earliest = documents.get(doc_ids[0])
    named = voices(
        [record.quote.speaker for record, _, _ in entries],
        _roles(record for record, _, _ in entries),
    )
    return Cluster(
        id=head.id,
        canonical_quote_id=canonical.id,
        canonical_text=canonical.quote.text,
        speaker=named[0] if len(named) == 1 else None,
        members=tuple(members),
        outlets=tuple(dict.fromkeys(_label(d, documents) for d in doc_ids)),
        earliest_doc_id=doc_ids[0],
        first_seen=earliest.published if earliest is not None else None,
        disputed_speakers=named if len(named) > 1 else (),
    )


def _member(
    record: _Record,
    relation: Relation,
    match: _Match | None,
    canonical: _Record,
    settings: OverlapSettings,
) -> Member:
    quote = record.quote
    score, near, span = 100.0, False, None
    if match is not None:  # a partial quote, already compared with the canonical
        relation, score, near, span = match.relation, match.score, match.near, match.span
    elif relation is Relation.VERBATIM and record.norm != canonical.norm:
        relation, score = Relation.EDITED, round(fuzz.ratio(record.norm, canonical.norm), 1)
    elif relation is Relation.FRAGMENT:
        score, span = _aligned(record.norm, canonical.norm)
    elif relation is Relation.MERGED:
        score, span = _aligned(canonical.norm, record.norm)
    return Member(
        quote_id=record.id,
        doc_id=quote.doc_id,
        text=quote.text,
        relation=relation,
        score=score,
        near=near,
        normalized_span=span,
        canonical_text=canonical.quote.text,
        diff_context=settings.diff_context,
        speaker=quote.speaker,
    )


def _align(inner: str, outer: str) -> ScoreAlignment:
    found = fuzz.partial_ratio_alignment(inner, outer)
    assert found is not None  # only a score_cutoff can make it None
    return found


def _aligned(inner: str, outer: str) -> tuple[float, tuple[int, int] | None]:
    found = _align(inner, outer)
    if len(inner) > len(outer):  # rapidfuzz aligned them the other way round
        return round(found.score, 1), None
    return round(found.score, 1), _word_span(outer, found.dest_start, found.dest_end)


def _doc_key(doc_id: str, documents: Mapping[str, Dated]) -> tuple[int, float, str]:
    """Earliest first, unknown dates last, then by id."""
    document = documents.get(doc_id)
    if document is None or document.published is None:
        return 1, 0.0, doc_id
    return 0, document.published.timestamp(), doc_id


def _label(doc_id: str, documents: Mapping[str, Dated]) -> str:
    document = documents.get(doc_id)
    return document.label if document is not None else doc_id
