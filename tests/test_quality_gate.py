"""The quality gate: extraction and attribution against the hand-made seed gold.

Fails CI when quote recall, precision or speaker accuracy drops below the bar the
project set itself. `briefbot eval` prints the same figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.documents import Document
from bot.core.extraction import extract_quotes
from bot.core.speakers import SpeakerBook
from bot.evaluation import GoldQuote, comparable, score_quotes

GOLD = Path(__file__).parent / "gold" / "seeds.yaml"


@pytest.fixture(scope="module")
def gold() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    return data


def gold_quotes(gold: dict[str, Any]) -> list[GoldQuote]:
    return [
        GoldQuote(doc, q["text"], q["speaker"], bool(q["partial"]))
        for doc, entry in gold["documents"].items()
        for q in entry.get("quotes", [])
    ]


def test_every_seed_is_annotated(gold: dict[str, Any], seed_documents: dict[str, Document]) -> None:
    assert set(gold["documents"]) == set(seed_documents)


def test_quote_extraction_and_attribution_meet_the_bar(
    gold: dict[str, Any], seed_documents: dict[str, Document], speaker_book: SpeakerBook
) -> None:
    found = {name: extract_quotes(doc, speaker_book) for name, doc in seed_documents.items()}
    scores = score_quotes(gold_quotes(gold), found)
    report = (
        f"missed={[g.text[:40] for g in scores.missed]} "
        f"spurious={[q.text[:40] for q in scores.spurious]} "
        f"wrong={[(g.text[:30], g.speaker, q.speaker) for g, q in scores.wrong_speaker]}"
    )
    assert scores.recall.value == 1.0, report
    assert scores.precision.value >= 0.95, report
    assert scores.speaker_full.value == 1.0, report


def test_scare_quotes_and_comment_quotes_are_not_statements(
    gold: dict[str, Any], seed_documents: dict[str, Document], speaker_book: SpeakerBook
) -> None:
    for name, entry in gold["documents"].items():
        found = [comparable(q.text) for q in extract_quotes(seed_documents[name], speaker_book)]
        for not_quote in entry.get("not_quotes", []):
            assert not any(comparable(not_quote) in text for text in found), (name, not_quote)


def test_header_fields_match_the_gold(
    gold: dict[str, Any], seed_documents: dict[str, Document]
) -> None:
    for name, entry in gold["documents"].items():
        document = seed_documents[name]
        for field in ("title", "outlet", "byline"):
            if field in entry:
                assert getattr(document, field) == entry[field], (name, field)
        if "published" in entry:
            assert document.published is not None
            assert document.published.date() == entry["published"]
        if "cuts" in entry:
            assert sorted(c.reason.value for c in document.cuts) == sorted(entry["cuts"]), name
