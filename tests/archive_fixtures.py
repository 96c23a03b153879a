"""Helpers for the storage, archive, command and digest tests.

Fixtures stay in the test modules; this file holds what they share: real databases
(a SQLite file, and a fresh PostgreSQL database per module on the machine's server),
the seed corpus loaded with the project's config, a clock the tests move by hand,
articles written on the fly and the seed gold.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from sqlalchemy import create_engine, delete, inspect

from bot.archive import Archive
from bot.config import load_sources, load_speakers
from bot.core.analysis import Analysed, analyse
from bot.core.documents import Document
from bot.core.speakers import SpeakerBook, fold
from bot.sources.files import load_path
from bot.store import Store, metadata

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CONFIG = ROOT / "config"
ARTICLES = ROOT / "tests" / "articles"
SEED_GOLD = ROOT / "tests" / "gold" / "seeds.yaml"

BACKENDS = ("sqlite", "postgresql")
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


# -- databases ---------------------------------------------------------------------------


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'briefbot.db'}"


@contextmanager
def postgres_databases() -> Iterator[PostgresDatabases]:
    """A maker of fresh PostgreSQL databases, all dropped on exit; skips when the server
    is not there (CI runs on a machine where it is)."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {error}".strip())
    made = PostgresDatabases(admin)
    try:
        yield made
    finally:
        for name in made.names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass
class PostgresDatabases:
    admin: psycopg.Connection[Any]
    names: list[str] = field(default_factory=list)

    def create(self) -> str:
        name = f"briefbot_test_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        # A throwaway database need not wait for each commit to reach the disk.
        self.admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def open_empty_store(url: str) -> Store:
    """A store on an empty schema: whatever an earlier test left in the database is gone."""
    engine = create_engine(url)
    try:
        if set(inspect(engine).get_table_names()) == set(metadata.tables):
            with engine.begin() as conn:  # much faster than dropping the schema each time
                for table in reversed(metadata.sorted_tables):
                    conn.execute(delete(table))
        else:
            metadata.drop_all(engine)
    finally:
        engine.dispose()
    return Store.open(url)


# -- the seed corpus -----------------------------------------------------------------------


BOOK = load_speakers(CONFIG / "speakers.yaml")


def load_documents(path: Path) -> list[Document]:
    """Articles as `briefbot ingest` reads them, with config/sources.yaml applied."""
    rules = load_sources(CONFIG / "sources.yaml")
    report = load_path(path, known_for=rules.known_for)
    assert not report.problems, report.problems
    return list(report.documents)


_analysed: dict[tuple[Document, int], Analysed] = {}


def remembered_analysis(documents: Sequence[Document], book: SpeakerBook) -> list[Analysed]:
    """The archive's own analysis, done once per document and book for the whole run:
    the tests ingest the same seeds into many stores."""
    found = []
    for document in documents:
        key = (document, id(book))
        if key not in _analysed:
            _analysed[key] = analyse(document, book)
        found.append(_analysed[key])
    return found


def new_archive(url: str) -> Archive:
    """An archive on an empty store, with the configured speakers."""
    return Archive(open_empty_store(url), BOOK, analyser=remembered_analysis)


def seed_archive(url: str, *, now: datetime = T0) -> Archive:
    archive = new_archive(url)
    archive.ingest(load_documents(SEEDS), now=now)
    return archive


def file_name(document: Document) -> str:
    return Path(document.source).name


@dataclass
class Clock:
    """The time as the tests set it."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def write_article(
    folder: Path,
    name: str,
    *,
    title: str,
    outlet: str,
    date: str,
    url: str,
    paragraphs: Sequence[str],
) -> Path:
    """A Markdown article with front matter, as an outlet's feed would give it."""
    front = f"---\ntitle: {title}\noutlet: {outlet}\ndate: {date}\nurl: {url}\n---\n"
    path = folder / name
    path.write_text(front + f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


SANCTIONS = "The United States must understand that sanctions will not work"


def write_disputed_pair(folder: Path) -> list[Path]:
    """Two outlets printing the same words, Reuters as Peskov's and TASS as Lavrov's."""
    return [
        write_article(
            folder,
            "reuters_sanctions.md",
            title="Kremlin warns Washington over sanctions",
            outlet="Reuters",
            date="2024-03-01",
            url="https://example.org/reuters/sanctions",
            paragraphs=[
                "MOSCOW – The Kremlin warned Washington on Friday.",
                f"“{SANCTIONS},” Kremlin spokesman Dmitry Peskov told reporters.",
            ],
        ),
        write_article(
            folder,
            "tass_sanctions.md",
            title="Lavrov says pressure will not change Russia's course",
            outlet="TASS",
            date="2024-03-02",
            url="https://example.org/tass/sanctions",
            paragraphs=[
                "MOSCOW – Russia's top diplomat spoke to reporters on Saturday.",
                f"“{SANCTIONS},” Foreign Minister Sergei Lavrov said.",
            ],
        ),
    ]


# -- the gold --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldQuote:
    document: str  # file name
    text: str
    speaker: str | None
    partial: bool


def seed_gold() -> list[GoldQuote]:
    data = yaml.safe_load(SEED_GOLD.read_text(encoding="utf-8"))
    return [
        GoldQuote(name, q["text"], q.get("speaker"), bool(q.get("partial")))
        for name, entry in data["documents"].items()
        for q in entry.get("quotes", [])
    ]


def same_words(a: str, b: str) -> bool:
    """The same quote, blind to case, apostrophe style and closing punctuation."""
    return _words(a) == _words(b)


def _words(text: str) -> str:
    return " ".join(fold(text).strip(" .,;:").split())
