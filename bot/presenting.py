"""How documents, dates and the variants of a repeated statement are named to a reader.

Shared by the command handlers and the digests. Everything returned is plain text;
the renderers escape it (much of it comes from articles).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import PurePath

from bot import messages as m
from bot.store import ClusterRow, MemberRow, Store

TITLE_CHARS = 40  # a title standing in for an outlet is cut to about this, at a word
EXCERPT_WORDS = (8, 4)  # words kept from the start and the end of a long excerpt


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    """A title short enough to stand in a list of outlets: cut at a word, with "…"."""
    words = " ".join(title.split())
    if len(words) <= limit:
        return words
    cut = words[: limit + 1].rsplit(" ", 1)[0] if " " in words[:limit] else words[:limit]
    return cut.rstrip(" ,;:–—-") + "…"


def source_name(outlet: str | None, title: str | None, source: str) -> str:
    """How to name a document among outlets: its outlet, else its (short) title, else
    its file name."""
    if outlet:
        return outlet
    if title and title.strip():
        return short_title(title)
    return PurePath(source.replace("\\", "/")).name or source


def excerpt(text: str, words: tuple[int, int] = EXCERPT_WORDS) -> str:
    """A long quote shortened in the middle: its first and last words around "…"."""
    parts = text.split()
    head, tail = words
    if len(parts) <= head + tail + 2:
        return " ".join(parts)
    return " ".join(parts[:head]) + " … " + " ".join(parts[-tail:])


def seen(published: datetime | None, ingested_at: datetime) -> str:
    """A document's date for a reader: when it was published, or, when the article
    gives no date, when briefbot ingested it, saying so."""
    if published is not None:
        return published.date().isoformat()
    return m.INGESTED.format(date=ingested_at.date().isoformat())


_ADJACENT = re.compile(r"-\]\{\+")  # "[-a-]{+b+}": a replacement reads better spaced


def readable_diff(diff: str) -> str:
    """A stored word diff (`… [-years-]{+months+} …`) as a reader sees it."""
    words = ["…" if word == "..." else word for word in _ADJACENT.sub("-] {+", diff).split(" ")]
    shown = " ".join(words)
    # An elision at either end leans on the word next to it: "…takes", "years…".
    if shown.startswith("… "):
        shown = "…" + shown[2:]
    if shown.endswith(" …"):
        shown = shown[:-2] + "…"
    return shown


def attribution(cluster: ClusterRow, names: Mapping[str, str]) -> str:
    """Who said a repeated statement: its speaker; when the outlets disagree, each person
    named with the outlets naming them ("attributed differently: Dmitry Peskov (Reuters),
    Sergei Lavrov (TASS)"); else "unattributed". `names`: document id -> outlet name."""
    if cluster.speaker is not None:
        return cluster.speaker
    if not cluster.disputed_speakers:
        return m.UNATTRIBUTED
    each = []
    for speaker in cluster.disputed_speakers:
        outlets = dict.fromkeys(
            names.get(x.doc_id, x.doc_id) for x in cluster.members if x.speaker == speaker
        )
        shown = m.DISPUTED_SPEAKER.format(speaker=speaker, outlets=", ".join(outlets))
        each.append(shown if outlets else speaker)
    return m.DISPUTED.format(speakers=", ".join(each))


# A merged quote's id: (cluster id, canonical text) of every statement it holds.
Partners = Mapping[str, Sequence[tuple[str, str]]]


def merged_partners(store: Store, clusters: Iterable[ClusterRow]) -> Partners:
    """For each merged member of these clusters, every statement it holds (one read for
    them all), so that each cluster can name the others it was merged with."""
    merged = {x.quote_id for c in clusters for x in c.members if x.relation == "merged"}
    if not merged:
        return {}
    homes = store.cluster_ids_of_quotes(merged)
    ids = {cid for found in homes.values() for cid in found}
    texts = {c.id: c.canonical_text for c in store.clusters(ids=ids, min_outlets=0)}
    return {
        quote_id: sorted((cid, texts[cid]) for cid in homes.get(quote_id, set()) if cid in texts)
        for quote_id in merged
    }


def merged_with(member: MemberRow, cluster_id: str, partners: Partners) -> list[str]:
    """The canonical texts of the other statements a merged quote holds."""
    return [text for cid, text in partners.get(member.quote_id, ()) if cid != cluster_id]


def variant_notes(
    cluster: ClusterRow, names: Mapping[str, str], partners: Partners
) -> tuple[str, ...]:
    """One line for each printing that is not verbatim: who printed it and how it
    differs (`Press TV — edited: …takes [-years-] {+many years+} to achieve`)."""
    return tuple(
        note
        for x in cluster.members
        if (
            note := variant_note(
                x, names.get(x.doc_id, x.doc_id), merged_with(x, cluster.id, partners)
            )
        )
        is not None
    )


def variant_note(member: MemberRow, name: str, others: Sequence[str]) -> str | None:
    """How one printing differs from the canonical one; None when it is verbatim.
    `others`: for a merged quote, the other statements it holds."""
    if member.relation == "edited":
        return m.VARIANT_EDITED.format(source=name, diff=readable_diff(member.diff or ""))
    if member.relation == "fragment" and member.near:
        return m.VARIANT_NEAR.format(source=name, text=excerpt(member.text))
    if member.relation == "fragment" and member.diff:
        return m.VARIANT_FRAGMENT_EDITED.format(source=name, diff=readable_diff(member.diff))
    if member.relation == "fragment":
        return m.VARIANT_FRAGMENT.format(source=name, text=excerpt(member.text))
    if member.relation == "merged":
        if not others:
            return m.VARIANT_MERGED_ALONE.format(source=name, text=excerpt(member.text))
        quoted = m.AND.join(f"“{excerpt(text)}”" for text in others)
        return m.VARIANT_MERGED.format(source=name, others=quoted)
    return None
