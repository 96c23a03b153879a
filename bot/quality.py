"""Quality figures against the hand-made gold: what `briefbot eval` prints and what the
quality gate (tests/test_quality_gate.py) enforces.

Gold files live in tests/gold/: seeds.yaml (the seed articles) and articles.yaml (the
project's own test articles in tests/articles/).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config import load_sources
from bot.core.documents import Document
from bot.core.extraction import extract_quotes
from bot.core.overlaps import find_overlaps
from bot.core.quotes import Quote
from bot.core.speakers import SpeakerBook
from bot.evaluation import (
    GoldQuote,
    PairScores,
    QuoteScores,
    cluster_pairs,
    comparable,
    score_pairs,
    score_quotes,
)
from bot.sources.files import load_path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold"


@dataclass(frozen=True)
class Corpus:
    name: str
    gold: Mapping[str, Any]
    documents: Mapping[str, Document]  # by file name


def corpora(root: Path = ROOT) -> list[Corpus]:
    """seeds and articles (the gated sets) and heldout (measured, written after tuning)."""
    rules = load_sources(root / "config" / "sources.yaml")
    folders = {
        "seeds": root / "seeds",
        "articles": root / "tests" / "articles",
        "heldout": root / "tests" / "heldout",
    }
    found = []
    for name, folder in folders.items():
        report = load_path(folder, known_for=rules.known_for if name == "seeds" else None)
        documents = {Path(d.source).name: d for d in report.documents}
        found.append(Corpus(name, _gold(name), documents))
    return found


def _gold(name: str) -> Mapping[str, Any]:
    data: Mapping[str, Any] = yaml.safe_load((GOLD / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


def gold_quotes(gold: Mapping[str, Any]) -> list[GoldQuote]:
    return [
        GoldQuote(doc, q["text"], q["speaker"], bool(q["partial"]))
        for doc, entry in gold["documents"].items()
        for q in entry.get("quotes") or []
    ]


def extracted(corpus: Corpus, book: SpeakerBook) -> dict[str, tuple[Quote, ...]]:
    return {name: extract_quotes(doc, book) for name, doc in corpus.documents.items()}


def quote_scores(corpus: Corpus, book: SpeakerBook) -> QuoteScores:
    return score_quotes(gold_quotes(corpus.gold), extracted(corpus, book))


def overlap_scores(corpus: Corpus, book: SpeakerBook) -> PairScores:
    """Pairwise precision and recall of overlap clusters, members named as in the gold
    ("file name|start of text")."""
    found = extracted(corpus, book)
    by_id = {q.id: (name, q) for name, quotes in found.items() for q in quotes}
    documents = {doc.id: doc for doc in corpus.documents.values()}
    clusters = find_overlaps([q for _, q in by_id.values()], documents)

    def key(name: str, text: str) -> str:
        return f"{name}|{comparable(text)}"

    gold_keys: list[list[str]] = []
    for cluster in corpus.gold.get("clusters") or []:
        members = []
        for member in cluster["members"]:
            starts = comparable(member["starts"])
            printed = [q for q in found.get(member["doc"], ()) if comparable(q.text) == starts]
            # A quote printed whole wins over a longer one starting with the same words.
            quote = next(
                (
                    q
                    for q in printed or found.get(member["doc"], ())
                    if comparable(q.text).startswith(starts)
                ),
                None,
            )
            # A gold member the extractor missed still counts, so recall sees the miss.
            members.append(key(member["doc"], quote.text if quote else member["starts"]))
        gold_keys.append(members)
    found_keys = [
        [key(*_named(by_id[qid])) for qid in c.quote_ids if qid in by_id] for c in clusters
    ]
    return score_pairs(cluster_pairs(gold_keys), cluster_pairs(found_keys))


def _named(entry: tuple[str, Quote]) -> tuple[str, str]:
    name, quote = entry
    return name, quote.text


def report(book: SpeakerBook) -> str:
    lines = []
    for corpus in corpora():
        quotes = quote_scores(corpus, book)
        overlaps = overlap_scores(corpus, book)
        lines += [
            f"{corpus.name} ({len(corpus.documents)} documents, {quotes.recall.total} gold quotes)",
            f"  quotes: precision {quotes.precision}  recall {quotes.recall}  F1 {quotes.f1:.3f}",
            f"  speaker accuracy: full quotes {quotes.speaker_full}"
            f"  all quotes {quotes.speaker_all}",
            f"  partial flag accuracy: {quotes.partial_flag}",
            f"  overlap pairs: precision {overlaps.precision}  recall {overlaps.recall}",
        ]
        for missed in quotes.missed:
            lines.append(f"  missed: {missed.doc}: {missed.text[:60]!r}")
        for spurious in quotes.spurious:
            lines.append(f"  spurious: {spurious.doc_id}: {spurious.text[:60]!r}")
        for gold, got in quotes.wrong_speaker:
            lines.append(f"  speaker: {gold.text[:50]!r}: gold {gold.speaker}, got {got.speaker}")
    return "\n".join(lines)
