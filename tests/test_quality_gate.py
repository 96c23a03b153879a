"""The quality gate: extraction, attribution and overlap clustering against hand-made gold.

Three gold files: the seed articles (tests/gold/seeds.yaml), the project's own test
articles (tests/gold/articles.yaml), which cover the attribution forms, quote-mark styles
and file formats the seeds do not, and held-out articles written after the extractor was
tuned (tests/gold/heldout.yaml; its first measurement is recorded in its header). CI fails
when a figure drops below the bar.
`briefbot eval` prints the same figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.overlaps import find_overlaps
from bot.core.speakers import SpeakerBook
from bot.evaluation import comparable
from bot.quality import Corpus, corpora, extracted, overlap_scores, quote_scores


@pytest.fixture(scope="module", params=["seeds", "articles", "heldout"])
def corpus(request: pytest.FixtureRequest) -> Corpus:
    return next(c for c in corpora() if c.name == request.param)


def test_every_document_is_annotated(corpus: Corpus) -> None:
    assert set(corpus.gold["documents"]) == set(corpus.documents)
    assert all(Path(d.source).exists() for d in corpus.documents.values())


def test_quote_extraction_and_attribution_meet_the_bar(
    corpus: Corpus, speaker_book: SpeakerBook
) -> None:
    scores = quote_scores(corpus, speaker_book)
    report = (
        f"missed={[g.text[:40] for g in scores.missed]} "
        f"spurious={[q.text[:40] for q in scores.spurious]} "
        f"wrong={[(g.text[:30], g.speaker, q.speaker) for g, q in scores.wrong_speaker]}"
    )
    assert scores.recall.value == 1.0, report
    assert scores.precision.value >= 0.95, report
    assert scores.speaker_full.value == 1.0, report


def test_overlap_clusters_meet_the_bar(corpus: Corpus, speaker_book: SpeakerBook) -> None:
    scores = overlap_scores(corpus, speaker_book)
    assert scores.precision.value == 1.0, scores.spurious
    assert scores.recall.value >= 0.95, scores.missed


def test_each_cluster_names_the_gold_speaker_or_shows_the_dispute(
    corpus: Corpus, speaker_book: SpeakerBook
) -> None:
    found = extracted(corpus, speaker_book)
    documents = {d.id: d for d in corpus.documents.values()}
    clusters = find_overlaps([q for quotes in found.values() for q in quotes], documents)
    for gold in corpus.gold.get("clusters") or []:
        first = gold["members"][0]
        starts = comparable(first["starts"])
        (quote, *_) = [q for q in found[first["doc"]] if comparable(q.text).startswith(starts)]
        (cluster,) = [c for c in clusters if quote.id in c.quote_ids]
        assert cluster.speaker == gold["speaker"], gold["name"]
        assert list(cluster.disputed_speakers) == gold.get("disputed_speakers", []), gold["name"]


def test_the_seed_gold_has_overlaps_to_find(corpus: Corpus) -> None:
    # Guards the gate above against passing on an empty gold.
    if corpus.name == "seeds":
        assert len(corpus.gold["clusters"]) == 3


def test_scare_quotes_and_comment_quotes_are_not_statements(
    corpus: Corpus, speaker_book: SpeakerBook
) -> None:
    found = extracted(corpus, speaker_book)
    for name, entry in corpus.gold["documents"].items():
        texts = [comparable(q.text) for q in found[name]]
        for not_quote in entry.get("not_quotes", []):
            assert not any(comparable(not_quote) in text for text in texts), (name, not_quote)


def test_header_fields_match_the_gold(corpus: Corpus) -> None:
    for name, entry in corpus.gold["documents"].items():
        document = corpus.documents[name]
        for field in ("title", "outlet", "byline"):
            if field in entry:
                assert getattr(document, field) == entry[field], (name, field)
        if "published" in entry:
            assert document.published is not None
            assert document.published.date() == entry["published"]
        if "cuts" in entry:
            assert sorted(c.reason.value for c in document.cuts) == sorted(entry["cuts"]), name
