"""Summary quality: our extractive summaries against the lead-3 baseline.

Both are scored with ROUGE-1 and ROUGE-2 F1 against hand-picked gold sentences
(tests/gold/summaries.yaml), per document and on average over the seeds and the test
articles. Run: `python -m bench.summary_quality`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from bot.config import load_sources
from bot.core.documents import Document
from bot.core.summaries import lead_summary, rouge_n_f1, summarise
from bot.sources.files import load_path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold" / "summaries.yaml"
CORPORA = {"seeds": ROOT / "seeds", "articles": ROOT / "tests" / "articles"}


@dataclass(frozen=True)
class DocumentScores:
    name: str
    ours_rouge1: float
    ours_rouge2: float
    lead_rouge1: float
    lead_rouge2: float


@dataclass(frozen=True)
class QualityReport:
    documents: tuple[DocumentScores, ...]

    def mean(self, field: str) -> float:
        values = [float(getattr(d, field)) for d in self.documents]
        return sum(values) / len(values)


def load_gold(path: Path = GOLD) -> dict[str, dict[str, list[str]]]:
    """Corpus name → file name → gold sentences."""
    data: dict[str, dict[str, list[str]]] = yaml.safe_load(path.read_text("utf-8"))
    return data


def load_corpus(name: str) -> dict[str, Document]:
    """Documents by file name; the seeds get their dates from config/sources.yaml."""
    known_for = (
        load_sources(ROOT / "config" / "sources.yaml").known_for if name == "seeds" else None
    )
    report = load_path(CORPORA[name], known_for=known_for)
    return {Path(d.source).name: d for d in report.documents}


def score_summaries(
    documents: Mapping[str, Document], gold: Mapping[str, Sequence[str]], *, max_sentences: int = 3
) -> QualityReport:
    rows = []
    for name, sentences in gold.items():
        document = documents[name]
        reference = " ".join(sentences)
        ours = summarise(document, max_sentences=max_sentences).text
        lead = lead_summary(document, count=max_sentences)
        rows.append(
            DocumentScores(
                name,
                rouge_n_f1(ours, reference, n=1),
                rouge_n_f1(ours, reference, n=2),
                rouge_n_f1(lead, reference, n=1),
                rouge_n_f1(lead, reference, n=2),
            )
        )
    return QualityReport(tuple(rows))


def full_report() -> QualityReport:
    gold = load_gold()
    rows: list[DocumentScores] = []
    for corpus, entries in gold.items():
        rows.extend(score_summaries(load_corpus(corpus), entries).documents)
    return QualityReport(tuple(rows))


def print_report(report: QualityReport, out: TextIO = sys.stdout) -> None:
    header = f"{'document':<28} {'ours R1':>8} {'lead R1':>8} {'ours R2':>8} {'lead R2':>8}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for row in report.documents:
        print(
            f"{row.name:<28} {row.ours_rouge1:>8.3f} {row.lead_rouge1:>8.3f} "
            f"{row.ours_rouge2:>8.3f} {row.lead_rouge2:>8.3f}",
            file=out,
        )
    print("-" * len(header), file=out)
    means = [report.mean(f) for f in ("ours_rouge1", "lead_rouge1", "ours_rouge2", "lead_rouge2")]
    print(f"{'mean':<28} " + " ".join(f"{m:>8.3f}" for m in means), file=out)


if __name__ == "__main__":
    print_report(full_report())
