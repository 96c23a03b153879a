"""Stories: documents grouped by the event they report.

Two documents belong to one story when they quote the same statement (they share an
overlap cluster) within a month of each other, or when their body texts are very similar
and their dates close. A story is a connected component of that relation.

Whether two documents are related depends on those two documents alone: the text
similarity uses no corpus-wide statistics such as IDF. That is what lets the running bot
add documents one at a time (`StoryIndex`) and still get exactly the stories a batch run
over the same documents (`group_stories`) gives, whatever the arrival order.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import combinations, pairwise

import numpy as np
import numpy.typing as npt

from bot.core.day_blocks import DayBlocks
from bot.core.documents import Document
from bot.core.summaries import content_terms, summarise

STORY_ID_PREFIX = "story-"


@dataclass(frozen=True)
class Story:
    id: str  # "story-" + the earliest document's id, so re-runs give the same id
    doc_ids: tuple[str, ...]  # by date, undated last, then by id
    headline: str  # the earliest title, else the earliest document's best summary sentence
    first_seen: datetime | None  # the earliest date; None when no document has one
    outlets: tuple[str, ...]  # Document.label of each document, distinct, earliest first


@dataclass(frozen=True)
class StorySettings:
    # Cosine of body-text term vectors (words and word pairs). Calibrated on the seeds:
    # unrelated Russia-US articles score at most 0.23, the same event told by another
    # outlet (000 and 002) 0.49, another outlet's rewrite of one article about 0.7.
    similar_text: float = 0.4
    similar_text_undated: float = 0.8  # when a date is unknown: near-duplicates only
    max_days_apart: float = 3.0  # for a link by text similarity
    # A statement re-quoted months later (a retrospective) does not make one story.
    shared_quote_max_days_apart: float = 30.0


DEFAULT_STORY_SETTINGS = StorySettings()


def group_stories(
    documents: Sequence[Document],
    clusters: Mapping[str, Collection[str]] | None = None,
    *,
    settings: StorySettings = DEFAULT_STORY_SETTINGS,
) -> tuple[Story, ...]:
    """All stories among `documents`, earliest first.

    `clusters` gives, for each document id, the ids of the overlap clusters its quotes
    belong to (build it from whatever cluster objects exist: for each cluster, for each
    member, add the cluster id under the member's document id)."""
    profiles: dict[str, _Profile] = {}
    vectors: dict[str, TermVector] = {}
    for document in documents:
        if document.id not in profiles:
            profiles[document.id] = _Profile.of(document)
            vectors[document.id] = TermVector.of(document.body)
    forest = _Forest(profiles)
    for a_id, b_id in _shared_quote_pairs(clusters or {}, profiles):
        if _may_share_story(profiles[a_id], profiles[b_id], settings):
            forest.union(a_id, b_id)
    for a, b in _text_candidate_pairs(profiles.values(), settings):
        score = _similarities(vectors[a.doc_id], [vectors[b.doc_id]])[0]
        if _similar_enough(a, b, score, settings):
            forest.union(a.doc_id, b.doc_id)
    return _stories(forest.groups(), profiles)


def sharing_documents(doc_id: str, clusters: Mapping[str, Collection[str]]) -> set[str]:
    """The other documents that share an overlap cluster with `doc_id`, given the same
    document id → cluster ids mapping as `group_stories`."""
    own = set(clusters.get(doc_id, ()))
    return {other for other, ids in clusters.items() if other != doc_id and own & set(ids)}


DocumentLoader = Callable[[Collection[str]], Mapping[str, Document]]


class StoryIndex:
    """Stories kept up to date one document at a time, for the running bot.

    Adding a document compares it only with the documents dated within the similarity
    window (and with undated ones), then joins the stories it links to. The stories are
    always the same as `group_stories` over the documents added so far.

    Memory stays bounded at archive scale: every document keeps only its date, label
    and title; the term vectors the text comparison needs are cached for the last
    `cache_size` documents used, and `load_documents` (given) reads the others again
    from the archive, which happens when a document far back in time arrives."""

    def __init__(
        self,
        *,
        settings: StorySettings = DEFAULT_STORY_SETTINGS,
        load_documents: DocumentLoader | None = None,
        cache_size: int = 10_000,  # ~5-10 KB each: weeks of a few hundred feeds
    ) -> None:
        self._settings = settings
        self._profiles: dict[str, _Profile] = {}
        self._forest = _Forest({})
        self._days = DayBlocks(self._vectors_of, _similarities)  # dated, for the date window
        self._undated: list[str] = []
        self._vectors: OrderedDict[str, TermVector] = OrderedDict()  # least recently used first
        self._load = load_documents
        self._cache_size = cache_size
        self._restored: dict[str, str] = {}  # story key -> first document restored under it

    def __len__(self) -> int:
        return len(self._profiles)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._profiles

    def add(
        self,
        document: Document,
        *,
        shared_with: Collection[str] = (),
        vector: TermVector | None = None,
    ) -> Story:
        """Place `document` in its story and return that story.

        `shared_with`: ids of documents that share an overlap cluster with this one; ids
        not added yet are ignored (they link when they arrive, naming this one). Adding a
        document again only records new `shared_with` links. `vector`: the document's
        `TermVector`, when analysis already worked it out."""
        if document.id not in self._profiles:
            profile = _Profile.of(document)
            vector = vector if vector is not None else TermVector.of(document.body)
            # Most candidates score far below either threshold: check dates only for the rest.
            floor = min(self._settings.similar_text, self._settings.similar_text_undated)
            similar = [
                doc_id
                for doc_id, score in self._text_scores(profile, vector)
                if score >= floor
                and _similar_enough(profile, self._profiles[doc_id], score, self._settings)
            ]
            self._remember(profile)
            self._cache(profile.doc_id, vector)
            for other_id in similar:
                self._forest.union(profile.doc_id, other_id)
        self._link_shared(document.id, shared_with)
        return self.story_of(document.id)

    def restore(self, member: StoryMember, story_key: str | None) -> None:
        """Put back a document placed before (after a restart), in the story it was in:
        every document restored with the same `story_key` is one story. No text is
        compared: the stored stories already hold those links."""
        if member.doc_id in self._profiles:
            return
        self._remember(member.profile)
        if story_key is not None:
            first = self._restored.setdefault(story_key, member.doc_id)
            self._forest.union(first, member.doc_id)

    def story_of(self, doc_id: str) -> Story:
        return _story([self._profiles[d] for d in self._forest.group_of(doc_id)])

    def stories(self) -> tuple[Story, ...]:
        return _stories(self._forest.groups(), self._profiles)

    def _link_shared(self, doc_id: str, shared_with: Collection[str]) -> None:
        profile = self._profiles[doc_id]
        for other_id in shared_with:
            other = self._profiles.get(other_id)
            if other is not None and _may_share_story(profile, other, self._settings):
                self._forest.union(doc_id, other_id)

    def _remember(self, profile: _Profile) -> None:
        self._profiles[profile.doc_id] = profile
        self._forest.add(profile.doc_id)
        if profile.published is None:
            self._undated.append(profile.doc_id)
        else:
            self._days.add(profile.published.date(), profile.doc_id)

    def _cache(self, doc_id: str, vector: TermVector) -> None:
        self._vectors[doc_id] = vector
        self._vectors.move_to_end(doc_id)
        if self._load is not None:
            while len(self._vectors) > self._cache_size:
                self._vectors.popitem(last=False)

    def _vectors_of(self, doc_ids: Sequence[str]) -> dict[str, TermVector]:
        found: dict[str, TermVector] = {}
        missing = []
        for doc_id in doc_ids:
            vector = self._vectors.get(doc_id)
            if vector is None:
                missing.append(doc_id)
            else:
                self._vectors.move_to_end(doc_id)
                found[doc_id] = vector
        if missing:
            if self._load is None:
                raise KeyError(f"no term vector for {missing[0]} and no way to load it")
            for doc_id, document in self._load(missing).items():
                found[doc_id] = TermVector.of(document.body)
                self._cache(doc_id, found[doc_id])
        return found

    def _text_scores(self, profile: _Profile, vector: TermVector) -> Iterator[tuple[str, float]]:
        """(document id, cosine) for the documents dated within the similarity window of
        this one (a day either side more: `_similar_enough` checks the exact time), and
        for the undated ones; for an undated document, for every document."""
        if profile.published is None:
            everyone = list(self._profiles)
        else:
            reach = timedelta(days=self._settings.max_days_apart)
            first, last = (profile.published - reach).date(), (profile.published + reach).date()
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            yield from self._days.scores(vector, days)
            everyone = list(self._undated)
        vectors = self._vectors_of(everyone)
        yield from zip(everyone, _similarities(vector, [vectors[d] for d in everyone]), strict=True)


# --- what one document contributes --------------------------------------------------------


@dataclass(frozen=True)
class _Profile:
    """What a story needs to know of a member document: no text."""

    doc_id: str
    published: datetime | None
    label: str
    title: str | None
    best_sentence: str | None  # only worked out when there is no title

    @classmethod
    def of(cls, document: Document) -> _Profile:
        best = None
        if not document.title:
            sentences = summarise(document, max_sentences=2).sentences
            best = sentences[0].text if sentences else None
        return cls(
            doc_id=document.id,
            published=document.published,
            label=document.label,
            title=document.title,
            best_sentence=best,
        )

    @property
    def order(self) -> tuple[tuple[bool, float], str]:
        """Dated before undated, then by date, then by id."""
        return (_sort_date(self.published), self.doc_id)


@dataclass(frozen=True)
class StoryMember:
    """A document as stored, to restore a StoryIndex without re-reading its text."""

    profile: _Profile

    @property
    def doc_id(self) -> str:
        return self.profile.doc_id

    @classmethod
    def of(cls, document: Document) -> StoryMember:
        return cls(_Profile.of(document))

    @classmethod
    def titled(
        cls, doc_id: str, *, published: datetime | None, label: str, title: str
    ) -> StoryMember:
        """A document with a title: the headline needs nothing from its text."""
        return cls(_Profile(doc_id, published, label, title, None))


# Term weights are kept as integers (thousandths): dot products are then exact whatever
# the order of the sum, so one document against many gives what it gives pair by pair.
_WEIGHT_SCALE = 1000


@dataclass(frozen=True, eq=False)
class TermVector:
    """A document's body-text term weights, for the text similarity: terms by a stable
    64-bit hash (the same in every process, so workers can compute it), sorted, in numpy
    arrays (a tenth of the memory of a dict, and compared in C)."""

    ids: npt.NDArray[np.int64] = field(repr=False)
    weights: npt.NDArray[np.int64] = field(repr=False)
    norm: float

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TermVector)
            and np.array_equal(self.ids, other.ids)
            and np.array_equal(self.weights, other.weights)
        )

    def __hash__(self) -> int:
        return hash(self.ids.tobytes())

    @classmethod
    def of(cls, body: str) -> TermVector:
        return cls.of_terms(content_terms(body))

    @classmethod
    def of_terms(cls, words: Sequence[str]) -> TermVector:
        """The vector of a body given as its `content_terms`, in text order (analysis
        has them already: `BodyTerms.words`)."""
        counts = _term_counts(words)
        hashes = map(_term_hash, counts)
        by_hash = dict(zip(hashes, map(_scaled_weight, counts.values()), strict=True))
        ids = np.fromiter(by_hash, dtype=np.int64, count=len(by_hash))
        weights = np.fromiter(by_hash.values(), dtype=np.int64, count=len(by_hash))
        order = np.argsort(ids)  # the ids are distinct: any sort gives the same arrays
        ids, weights = ids[order], weights[order]
        return cls(ids, weights, math.sqrt(int(weights @ weights)))


@lru_cache(maxsize=1 << 16)  # words and common pairs recur in every article
def _term_hash(term: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(term.encode(), digest_size=8).digest(), "little", signed=True
    )


@lru_cache(maxsize=1 << 10)
def _scaled_weight(count: int) -> int:
    """The sublinear term frequency, in thousandths."""
    return round((1 + math.log(count)) * _WEIGHT_SCALE)


def _sort_date(published: datetime | None) -> tuple[bool, float]:
    return (published is None, published.timestamp() if published else 0.0)


def _term_counts(words: Sequence[str]) -> Counter[str]:
    """Counts of content words and of adjacent content-word pairs (weighted sublinearly
    by `_scaled_weight`); the pairs make a rewrite of the same article stand out from an
    article on the same topic."""
    counts = Counter(words)
    counts.update(f"{a} {b}" for a, b in pairwise(words))  # a pair never equals a word
    return counts


def _similarities(vector: TermVector, others: Sequence[TermVector]) -> list[float]:
    """Cosine of `vector` with each of `others`, all at once."""
    if not others or not len(vector.ids):
        return [0.0] * len(others)
    ids = np.concatenate([other.ids for other in others])
    weights = np.concatenate([other.weights for other in others])
    at = np.searchsorted(vector.ids, ids)
    at[at == len(vector.ids)] = 0
    products = np.where(vector.ids[at] == ids, vector.weights[at] * weights, 0)
    ends = np.cumsum(np.fromiter((len(other.ids) for other in others), np.int64, len(others)))
    totals = np.concatenate([[0], np.cumsum(products)])
    dots = totals[ends] - totals[np.concatenate([[0], ends[:-1]])]
    norms = np.fromiter((other.norm for other in others), np.float64, len(others)) * vector.norm
    # Integer dot products are exact, so the division gives what one pair alone gives.
    return [
        float(dot) / norm if norm else 0.0
        for dot, norm in zip(dots.tolist(), norms.tolist(), strict=True)
    ]


def _days_apart(a: _Profile, b: _Profile) -> float | None:
    if a.published is None or b.published is None:
        return None
    return abs((a.published - b.published).total_seconds()) / 86_400


def _similar_enough(a: _Profile, b: _Profile, similarity: float, settings: StorySettings) -> bool:
    if a.doc_id == b.doc_id:
        return False
    days = _days_apart(a, b)
    if days is None:
        return similarity >= settings.similar_text_undated
    return days <= settings.max_days_apart and similarity >= settings.similar_text


def _may_share_story(a: _Profile, b: _Profile, settings: StorySettings) -> bool:
    """Two documents quoting the same statement: one story unless far apart in time."""
    days = _days_apart(a, b)
    return a.doc_id != b.doc_id and (days is None or days <= settings.shared_quote_max_days_apart)


def _shared_quote_pairs(
    clusters: Mapping[str, Collection[str]], known: Collection[str]
) -> Iterator[tuple[str, str]]:
    members: dict[str, list[str]] = {}
    for doc_id in sorted(clusters):
        if doc_id in known:
            for cluster_id in clusters[doc_id]:
                members.setdefault(cluster_id, []).append(doc_id)
    for doc_ids in members.values():
        yield from combinations(doc_ids, 2)


def _text_candidate_pairs(
    profiles: Iterable[_Profile], settings: StorySettings
) -> Iterator[tuple[_Profile, _Profile]]:
    """Pairs dated within the window (found by a sweep over the dates), and every pair
    with an undated document; never all pairs of a large dated archive."""
    profiles = list(profiles)
    dated = sorted(
        ((p.published, p) for p in profiles if p.published is not None), key=lambda d: d[1].order
    )
    undated = [p for p in profiles if p.published is None]
    window = timedelta(days=settings.max_days_apart)
    for i, (a_date, a) in enumerate(dated):
        for b_date, b in dated[i + 1 :]:
            if b_date - a_date > window:
                break
            yield a, b
    for i, a in enumerate(undated):
        for _, b in dated:
            yield a, b
        for b in undated[i + 1 :]:
            yield a, b


# --- components -----------------------------------------------------------------------------


class _Forest:
    """Union-find over document ids."""

    def __init__(self, ids: Iterable[str]) -> None:
        self._parent = {doc_id: doc_id for doc_id in ids}
        self._members = {doc_id: [doc_id] for doc_id in self._parent}  # by root

    def add(self, doc_id: str) -> None:
        if doc_id not in self._parent:
            self._parent[doc_id] = doc_id
            self._members[doc_id] = [doc_id]

    def find(self, doc_id: str) -> str:
        root = doc_id
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[doc_id] != root:  # path compression
            self._parent[doc_id], doc_id = root, self._parent[doc_id]
        return root

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            root, child = min(root_a, root_b), max(root_a, root_b)
            self._parent[child] = root
            self._members[root].extend(self._members.pop(child))

    def group_of(self, doc_id: str) -> list[str]:
        return self._members[self.find(doc_id)]

    def groups(self) -> list[list[str]]:
        return list(self._members.values())


def _stories(
    groups: Iterable[Sequence[str]], profiles: Mapping[str, _Profile]
) -> tuple[Story, ...]:
    stories = [_story([profiles[d] for d in group]) for group in groups]
    return tuple(sorted(stories, key=lambda s: (_sort_date(s.first_seen), s.id)))


def _story(members: Sequence[_Profile]) -> Story:
    ordered = sorted(members, key=lambda p: p.order)
    earliest = ordered[0]
    titled = next((p for p in ordered if p.title), None)
    headline = titled.title if titled and titled.title else earliest.best_sentence
    return Story(
        id=STORY_ID_PREFIX + earliest.doc_id,
        doc_ids=tuple(p.doc_id for p in ordered),
        headline=headline or earliest.label,
        first_seen=earliest.published,
        outlets=tuple(dict.fromkeys(p.label for p in ordered)),
    )
