"""Replies as data: the JSON-ready payloads that `briefbot … --json` prints.

Handlers attach one to each Reply (`Reply.data`). Keys are stable snake_case names,
dates are ISO 8601 strings (null when unknown), and every text is as printed, unescaped:
a program reading it does its own escaping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import PurePath
from typing import Any

from bot.core.quotes import Quote
from bot.presenting import Partners, merged_with
from bot.store import ClusterRow, DocumentMeta, MemberRow

Data = dict[str, Any]


def when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def document(meta: DocumentMeta, *, byline: str | None = None) -> Data:
    found: Data = {
        "id": meta.id,
        "title": meta.title,
        "outlet": meta.outlet,
        "url": meta.url,
        "file": PurePath(meta.source.replace("\\", "/")).name,
        "published": when(meta.published),
        "ingested_at": when(meta.ingested_at),
    }
    if byline is not None:
        found["byline"] = byline
    return found


def document_ref(doc_id: str, docs: Mapping[str, DocumentMeta]) -> Data:
    """What a quote or a cluster member says about its document."""
    meta = docs.get(doc_id)
    if meta is None:
        return {"id": doc_id}
    return {
        "id": doc_id,
        "outlet": meta.outlet,
        "title": meta.title,
        "file": PurePath(meta.source.replace("\\", "/")).name,
        "url": meta.url,
        "date": when(meta.published),
        "ingested_at": when(meta.ingested_at),
    }


def quote(found: Quote, docs: Mapping[str, DocumentMeta]) -> Data:
    return {
        "id": found.id,
        "text": found.text,
        "speaker": found.speaker,
        "role": found.speaker_role,
        "cue": found.cue,
        "partial": found.partial,
        "attribution": found.attribution.value,
        "start": found.start,
        "end": found.end,
        "document": document_ref(found.doc_id, docs),
    }


def member(
    found: MemberRow, cluster_id: str, docs: Mapping[str, DocumentMeta], partners: Partners
) -> Data:
    data: Data = {
        "quote_id": found.quote_id,
        "document": document_ref(found.doc_id, docs),
        "relation": found.relation,
        "near": found.near,
        "score": found.score,
        "text": found.text,
        "diff": found.diff,
        "speaker": found.speaker,
    }
    if found.relation == "merged":
        data["merged_with"] = merged_with(found, cluster_id, partners)
    return data


def cluster(found: ClusterRow, docs: Mapping[str, DocumentMeta], partners: Partners) -> Data:
    return {
        "id": found.id,
        "canonical_text": found.canonical_text,
        "speaker": found.speaker,
        # Who the outlets name when they disagree (speaker is then null); else [].
        "disputed_speakers": list(found.disputed_speakers),
        "outlets": list(found.outlets),
        "first_seen": when(found.first_seen),
        "earliest_document": document_ref(found.earliest_doc_id, docs),
        "members": [member(x, found.id, docs, partners) for x in found.members],
    }


def page(items: Sequence[Data], total: int) -> Data:
    return {"total": total, "shown": len(items), "items": list(items)}
