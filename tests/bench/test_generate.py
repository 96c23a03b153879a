"""The benchmark's corpus generator: deterministic, the requested mix of copies, a
consistent ground truth, and articles the real pipeline reads as intended."""

from __future__ import annotations

import difflib
from collections import Counter
from pathlib import Path

import pytest

from bench.generate import (
    ARTICLES,
    CopyKind,
    CorpusConfig,
    GroundTruth,
    generate_corpus,
    is_generated,
    load_truth,
)
from bot.core.analysis import analyse
from bot.core.speakers import SpeakerBook
from bot.core.statement_rules import negations
from bot.core.text import normalize_text
from bot.evaluation import comparable
from bot.sources.files import load_path

DOCS = 150


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generate_corpus(CorpusConfig(docs=DOCS, seed=7), out)


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted((folder / ARTICLES).glob("*.txt"))}


def test_the_same_seed_gives_the_same_corpus(
    corpus: tuple[Path, GroundTruth], tmp_path: Path
) -> None:
    out, truth = corpus
    again = generate_corpus(CorpusConfig(docs=DOCS, seed=7), tmp_path / "again")
    assert _files(tmp_path / "again") == _files(out)
    assert again == truth
    other = generate_corpus(CorpusConfig(docs=DOCS, seed=8), tmp_path / "other")
    assert _files(tmp_path / "other") != _files(out)
    assert other != truth


def test_the_truth_round_trips_and_marks_the_folder_as_generated(
    corpus: tuple[Path, GroundTruth],
) -> None:
    out, truth = corpus
    assert load_truth(out) == truth
    assert is_generated(CorpusConfig(docs=DOCS, seed=7), out)
    assert not is_generated(CorpusConfig(docs=DOCS, seed=8), out)
    assert len(_files(out)) == DOCS == len(truth.documents)


def test_every_kind_of_copy_is_there_in_about_the_requested_mix(
    corpus: tuple[Path, GroundTruth],
) -> None:
    _, truth = corpus
    config = truth.config
    kinds = Counter(quote.copy for _, quote in truth.quotes())
    copies = sum(n for kind, n in kinds.items() if kind is not CopyKind.ORIGINAL)
    weights = {
        CopyKind.VERBATIM: config.verbatim,
        CopyKind.EDITED: config.edited,
        CopyKind.FRAGMENT: config.fragment,
        CopyKind.MERGED: config.merged,
    }
    for kind, weight in weights.items():
        share = kinds[kind] / copies
        assert abs(share - weight / sum(weights.values())) < 0.1, (kind, share)
    assert abs(copies / sum(kinds.values()) - config.copy_share) < 0.1
    assert any(q.partial for _, q in truth.quotes())  # fragments embedded in a sentence


def test_a_mix_without_merges_has_none(tmp_path: Path) -> None:
    truth = generate_corpus(CorpusConfig(docs=60, seed=3, merged=0.0), tmp_path)
    kinds = Counter(quote.copy for _, quote in truth.quotes())
    assert kinds[CopyKind.MERGED] == 0 and kinds[CopyKind.VERBATIM] > 0


def test_the_ground_truth_is_consistent(corpus: tuple[Path, GroundTruth]) -> None:
    out, truth = corpus
    files = _files(out)
    first_printed: dict[int, int] = {}
    for position, document in enumerate(truth.documents):
        text = comparable(files[document.file].replace("’", "'"))
        for quote in document.quotes:
            said = [truth.statements[s] for s in quote.statements]
            assert {s.speaker for s in said} == {quote.speaker}
            assert comparable(quote.text) in text  # the quote is printed in its file
            whole, words = normalize_text(said[0].text), normalize_text(quote.text)
            if quote.copy is CopyKind.ORIGINAL:
                assert quote.statements[0] not in first_printed
                first_printed[quote.statements[0]] = position
                continue
            for statement in quote.statements:  # a copy comes after the original
                assert first_printed[statement] < position
            if quote.copy is CopyKind.VERBATIM:
                assert words == whole
            elif quote.copy is CopyKind.EDITED:
                assert words != whole
                changes = difflib.SequenceMatcher(a=whole.split(), b=words.split()).ratio()
                assert changes >= 0.8, (whole, words)
                # A light edit never adds or drops a negation: that would be a misquote.
                assert negations(words.split()) == negations(whole.split()), (whole, words)
            elif quote.copy is CopyKind.FRAGMENT:
                assert words in whole and len(words) < len(whole)
                # Nor is a fragment cut just after one ("not | ready to talk").
                assert not negations(whole[: whole.index(words)].split()[-2:]), (whole, words)
            else:
                assert quote.copy is CopyKind.MERGED and len(said) == 2
                assert words == normalize_text(f"{said[0].text} {said[1].text}")


def test_documents_load_through_the_real_pipeline(
    corpus: tuple[Path, GroundTruth], speaker_book: SpeakerBook
) -> None:
    out, truth = corpus
    report = load_path(out / ARTICLES)
    assert not report.problems
    documents = {Path(d.source).name: d for d in report.documents}
    found = right_speaker = total = 0
    for expected in truth.documents:
        document = documents[expected.file]
        assert document.outlet == expected.outlet
        assert document.published is not None
        assert document.published.date() == expected.published
        extracted = {comparable(q.text): q for q in analyse(document, speaker_book).quotes}
        for quote in expected.quotes:
            total += 1
            match = extracted.get(comparable(quote.text))
            if match is not None:
                found += 1
                right_speaker += match.speaker == quote.speaker
                assert match.partial or not quote.partial
    assert found / total >= 0.98
    assert right_speaker / found >= 0.98
