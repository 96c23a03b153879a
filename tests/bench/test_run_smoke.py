"""The benchmark harness end to end on a tiny corpus: every figure is written (no timing
assertions: speed is what the harness reports, not what unit tests check)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench.run import METRIC_KEYS, main

# Spelled out here, not only taken from the module, so that dropping a figure fails.
EXPECTED = (
    "ingest.docs_per_s",
    "ingest.peak_rss_mb",
    "ingest.analyse_wait_seconds",
    "incremental.p50_ms",
    "restart.first_ingest_ms",
    "latency.quotes.p50_ms",
    "latency.quotes.p95_ms",
    "latency.quotes.p99_ms",
    "latency.overlaps.p95_ms",
    "latency.search.p95_ms",
    "quality.overlap_precision",
    "quality.overlap_recall",
    "quality.extraction_recall",
    "baselines.sizes",
    "targets",
)
SIZE_KEYS = (
    "engine_seconds",
    "all_pairs_seconds",
    "minhash_seconds",
    "speedup_vs_all_pairs",
    "speedup_vs_minhash",
    "engine_recall_vs_all_pairs",
    "minhash_recall_vs_all_pairs",
)


def _get(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for key in dotted.split("."):
        value = value[key]
    return value


def test_the_harness_runs_end_to_end_and_writes_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--docs", "40", "--out", str(tmp_path), "--sizes", "60,120", "--runs", "4"]
    main([*arguments, "--workers", "2"])  # two: the process pool runs too
    printed = capsys.readouterr().out
    assert "overlap pairs" in printed and "targets" in printed
    written = json.loads((tmp_path / "bench-40-s1.json").read_text("utf-8"))
    for key in (*EXPECTED, *METRIC_KEYS):
        _get(written, key)
    assert written["ingest"]["documents"] == 40
    assert written["incremental"]["documents"] == 20  # the rest of the holdout restarts
    for name in ("quotes", "overlaps", "search"):
        assert written["latency"][name]["errors"] == 0
        assert not math.isnan(written["latency"][name]["p95_ms"])
    assert written["quality"]["extraction_recall"] > 0.9
    assert 0 < written["quality"]["overlap_recall"] <= 1
    sizes = written["baselines"]["sizes"]
    assert [row["quotes"] for row in sizes] == [60, 120]
    for row in sizes:
        for key in SIZE_KEYS:
            assert row[key] is not None, key
    assert not list(tmp_path.glob("run-*"))  # the archive database is removed
    assert (tmp_path / "corpus-61-s1" / "truth.json").exists()


def test_baselines_can_be_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "--docs",
            "20",
            "--out",
            str(tmp_path),
            "--skip-baselines",
            "--runs",
            "2",
            "--workers",
            "1",
        ]
    )
    written = json.loads((tmp_path / "bench-20-s1.json").read_text("utf-8"))
    assert written["baselines"] == {"sizes": [], "skipped": True}
    assert written["ingest"]["documents"] == 20
