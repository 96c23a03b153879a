"""Fixtures shared across the suite: the project's own config and seed corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_sources, load_speakers
from bot.core.documents import Document
from bot.core.speakers import SpeakerBook
from bot.sources.files import load_path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CONFIG = ROOT / "config"


@pytest.fixture(scope="session")
def speaker_book() -> SpeakerBook:
    return load_speakers(CONFIG / "speakers.yaml")


@pytest.fixture(scope="session")
def seed_documents() -> dict[str, Document]:
    """The seed articles by file name, with config/sources.yaml applied."""
    rules = load_sources(CONFIG / "sources.yaml")
    report = load_path(SEEDS, known_for=rules.known_for)
    assert not report.problems, report.problems
    return {Path(d.source).name: d for d in report.documents}
