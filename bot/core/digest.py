"""What a digest says: what is new in a time window, chosen from plain facts.

The caller gathers the facts (documents that arrived in the window, their quotes, the
overlap clusters and stories they touch); this module only decides what goes in and in
which order. Rendering it as a Reply happens outside the core.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.quotes import Quote
from bot.core.speakers import fold

# Letters and digits, as the word index behind `/quotes … topic:` splits them.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class DocFacts:
    id: str
    label: str  # outlet, else title
    url: str | None
    title: str | None
    ingested_at: datetime
    published: datetime | None
    story_id: str | None
    summary: str
    searchable: str  # title and body, for topic filters


@dataclass(frozen=True)
class Sighting:
    """One printing of a clustered statement, and when the bot received it."""

    quote_id: str
    doc_id: str
    outlet: str
    seen_at: datetime


@dataclass(frozen=True)
class ClusterFacts:
    id: str
    canonical_text: str
    speaker: str | None
    first_seen: datetime | None
    sightings: tuple[Sighting, ...]
    disputed_speakers: tuple[str, ...] = ()  # who the documents name, when they disagree

    def spoken_by_any(self, speakers: frozenset[str]) -> bool:
        """Theirs, or attributed to one of them by some outlet and to someone else by another."""
        return self.speaker in speakers or not speakers.isdisjoint(self.disputed_speakers)


@dataclass(frozen=True)
class StoryFacts:
    id: str
    headline: str
    doc_ids: tuple[str, ...]  # every document of the story, oldest first


@dataclass(frozen=True)
class StoryNews:
    story: StoryFacts
    is_new: bool  # the story's first document arrived in this window
    new_doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class Repeated:
    cluster: ClusterFacts
    outlets_before: tuple[str, ...]
    outlets_now: tuple[str, ...]


@dataclass(frozen=True)
class Digest:
    window_start: datetime | None
    window_end: datetime
    stories: tuple[StoryNews, ...]
    repeated: tuple[Repeated, ...]  # statements newly printed by more outlets
    quotes: tuple[Quote, ...]  # new quotes by tracked speakers, not already in `repeated`

    @property
    def is_empty(self) -> bool:
        return not (self.stories or self.repeated or self.quotes)


def select_digest(
    *,
    window_start: datetime | None,
    window_end: datetime,
    new_docs: Mapping[str, DocFacts],
    new_quotes: Sequence[Quote],
    clusters: Sequence[ClusterFacts],
    stories: Sequence[StoryFacts],
    docs_by_id: Mapping[str, DocFacts],
    speakers: frozenset[str] | None,
    topics: Sequence[str] = (),
) -> Digest:
    """`new_docs` arrived in (window_start, window_end]; `docs_by_id` also holds the older
    documents of the stories and clusters involved. `speakers=None` tracks everyone."""
    wanted_topics = [words for words in (_words(t) for t in topics) if words]

    def on_topic(text: str) -> bool:
        return not wanted_topics or matches_topic(text, wanted_topics)

    story_news = []
    for story in stories:
        arrived = tuple(d for d in story.doc_ids if d in new_docs)
        if not arrived:
            continue
        if not any(on_topic(new_docs[d].searchable) for d in arrived):
            continue
        # New when nothing of it came before the window; a document that arrived after
        # the window (an earlier window digested late) does not make it old.
        earlier = [
            d
            for d in story.doc_ids
            if d not in new_docs
            and (d not in docs_by_id or docs_by_id[d].ingested_at <= window_end)
        ]
        story_news.append(StoryNews(story, is_new=not earlier, new_doc_ids=arrived))

    repeated = []
    for cluster in clusters:
        if speakers is not None and not cluster.spoken_by_any(speakers):
            continue
        # Statements, repeated or new, match a topic by their own words and the titles of
        # the articles printing them; stories (above) match by their whole text.
        if not on_topic(cluster.canonical_text + " " + _titles(cluster, docs_by_id)):
            continue
        seen_before = [s for s in cluster.sightings if window_start and s.seen_at <= window_start]
        before = _outlets(seen_before)
        now = _outlets([s for s in cluster.sightings if s.seen_at <= window_end])
        if len(now) > len(before) and len(now) >= 2:
            repeated.append(Repeated(cluster, before, now))

    # A statement shown as repeated is not listed again among the new quotes.
    shown = {s.quote_id for r in repeated for s in r.cluster.sightings}
    quotes = tuple(
        q
        for q in new_quotes
        if q.speaker is not None
        and (speakers is None or q.speaker in speakers)
        and q.id not in shown
        and on_topic(
            q.text + " " + (new_docs[q.doc_id].title or "" if q.doc_id in new_docs else "")
        )
    )
    return Digest(
        window_start=window_start,
        window_end=window_end,
        stories=tuple(sorted(story_news, key=_story_order)),
        repeated=tuple(sorted(repeated, key=lambda r: (-len(r.outlets_now), r.cluster.id))),
        quotes=tuple(sorted(quotes, key=lambda q: (q.speaker or "", q.doc_id, q.start))),
    )


def matches_topic(text: str, topics: Sequence[Sequence[str]]) -> bool:
    """Whether any topic (its folded words) is in the text: each of its words the start
    of a word there, as `/quotes … topic:` matches. "war" finds "war" and "wartime",
    never "towards" or "aware"."""
    words = set(_words(text))
    return any(all(any(w.startswith(t) for w in words) for t in topic) for topic in topics)


def _words(text: str) -> list[str]:
    return [fold(word) for word in _WORD.findall(text)]


def _story_order(news: StoryNews) -> tuple[bool, int, str]:
    """New stories first, the most widely covered first."""
    return (not news.is_new, -len(news.story.doc_ids), news.story.id)


def _outlets(sightings: Sequence[Sighting]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.outlet for s in sorted(sightings, key=lambda s: s.seen_at)))


def _titles(cluster: ClusterFacts, docs: Mapping[str, DocFacts]) -> str:
    return " ".join(docs[s.doc_id].title or "" for s in cluster.sightings if s.doc_id in docs)
