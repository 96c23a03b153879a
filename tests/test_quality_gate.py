"""The quality gate: extraction and attribution against hand-made gold.

Two gold files: the seed articles (tests/gold/seeds.yaml) and the project's own test
articles (tests/gold/articles.yaml), which cover the attribution forms, quote-mark styles
and file formats the seeds do not. CI fails when quote recall, precision or speaker
accuracy drops below the bar. `briefbot eval` prints the same figures.
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
from bot.sources.files import load_path

GOLD = Path(__file__).parent / "gold"
ARTICLES = Path(__file__).parent / "articles"


@pytest.fixture(scope="module")
def article_documents() -> dict[str, Document]:
    report = load_path(ARTICLES)
    assert not report.problems, report.problems
    return {Path(d.source).name: d for d in report.documents}


@pytest.fixture(scope="module", params=["seeds", "articles"])
def corpus(
    request: pytest.FixtureRequest,
    seed_documents: dict[str, Document],
    article_documents: dict[str, Document],
) -> tuple[dict[str, Any], dict[str, Document]]:
    gold: dict[str, Any] = yaml.safe_load((GOLD / f"{request.param}.yaml").read_text("utf-8"))
    documents = seed_documents if request.param == "seeds" else article_documents
    return gold, documents


def gold_quotes(gold: dict[str, Any]) -> list[GoldQuote]:
    return [
        GoldQuote(doc, q["text"], q["speaker"], bool(q["partial"]))
        for doc, entry in gold["documents"].items()
        for q in entry.get("quotes") or []
    ]


def test_every_document_is_annotated(corpus: tuple[dict[str, Any], dict[str, Document]]) -> None:
    gold, documents = corpus
    assert set(gold["documents"]) == set(documents)


def test_quote_extraction_and_attribution_meet_the_bar(
    corpus: tuple[dict[str, Any], dict[str, Document]], speaker_book: SpeakerBook
) -> None:
    gold, documents = corpus
    found = {name: extract_quotes(doc, speaker_book) for name, doc in documents.items()}
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
    corpus: tuple[dict[str, Any], dict[str, Document]], speaker_book: SpeakerBook
) -> None:
    gold, documents = corpus
    for name, entry in gold["documents"].items():
        found = [comparable(q.text) for q in extract_quotes(documents[name], speaker_book)]
        for not_quote in entry.get("not_quotes", []):
            assert not any(comparable(not_quote) in text for text in found), (name, not_quote)


def test_header_fields_match_the_gold(corpus: tuple[dict[str, Any], dict[str, Document]]) -> None:
    gold, documents = corpus
    for name, entry in gold["documents"].items():
        document = documents[name]
        for field in ("title", "outlet", "byline"):
            if field in entry:
                assert getattr(document, field) == entry[field], (name, field)
        if "published" in entry:
            assert document.published is not None
            assert document.published.date() == entry["published"]
        if "cuts" in entry:
            assert sorted(c.reason.value for c in document.cuts) == sorted(entry["cuts"]), name
