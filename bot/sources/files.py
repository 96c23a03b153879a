"""Loading .txt, .md and .html articles from a file or a folder.

A bad file never stops a load: it becomes a Problem naming the file and the reason, and
every good file in the same folder is still read. A file read, but not faithfully, comes
with a warning. Both are returned, not logged: loading may run on worker processes,
whose log records never reach the bot's log, so the caller reports them.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import trafilatura
import yaml

from bot.core.article import KnownFields, read_article, with_known
from bot.core.documents import Document
from bot.core.metadata import parse_date

SUFFIXES = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown"} | {
    ".html": "html",
    ".htm": "html",
}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # far beyond any article; larger files are refused unread
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?\n)---[ \t]*\r?\n", re.DOTALL)


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class LoadReport:
    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]  # files skipped, with the reason
    warnings: tuple[Problem, ...] = ()  # files read, but not all of them faithfully


class _DatesAsText(yaml.SafeLoader):
    """YAML that reads dates as text: an impossible one ("2016-13-45") then gets our own
    message naming its key instead of crashing the YAML parser."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_DatesAsText)  # a SafeLoader: builds no objects


class UnreadableFile(Exception):
    """A file that is not an article we can read; the message says why."""


# Returns what a config file knows about a document, given its path and content id.
KnownFor = Callable[[Path, str], KnownFields]


def load_path(
    path: Path,
    *,
    known_for: KnownFor | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> LoadReport:
    """Load one file, or every supported file below a folder, in name order."""
    documents: list[Document] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if not path.exists():
        return LoadReport((), (Problem(str(path), "no such file or folder"),))
    for file in _article_files(path, problems):
        try:
            document, warning = _read_file(file, max_bytes=max_bytes)
        except UnreadableFile as error:
            problems.append(Problem(str(file), str(error)))
            continue
        if warning is not None:
            warnings.append(Problem(str(file), warning))
        if known_for is not None:
            document = with_known(document, known_for(file, document.id))
        documents.append(document)
    return LoadReport(tuple(documents), tuple(problems), tuple(warnings))


def article_files(path: Path) -> tuple[list[Path], list[Problem]]:
    """The files `load_path` would read below `path`, and those it would skip, so that a
    caller can spread the reading over processes (`load_path` on each file)."""
    problems: list[Problem] = []
    if not path.exists():
        return [], [Problem(str(path), "no such file or folder")]
    return list(_article_files(path, problems)), problems


def _article_files(path: Path, problems: list[Problem]) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in file.relative_to(path).parts):
            continue  # hidden files and folders (.git, .DS_Store) are never articles
        if file.suffix.lower() in SUFFIXES:
            yield file
        else:
            kind = f"{file.suffix} files" if file.suffix else "files without an extension"
            problems.append(Problem(str(file), f"{kind} are not articles"))


def load_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    return _read_file(path, max_bytes=max_bytes)[0]


def _read_file(path: Path, *, max_bytes: int) -> tuple[Document, str | None]:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UnreadableFile(f"unsupported file type {path.suffix!r}; use .txt, .md or .html")
    size = path.stat().st_size
    if size > max_bytes:
        raise UnreadableFile(
            f"{size / 1_048_576:.1f} MB is over the {max_bytes / 1_048_576:.1f} MB limit "
            "for one article; split it or raise corpus.max_file_mb in config/bot.yaml"
        )
    text, warning = decode_text(path.read_bytes())
    known = KnownFields()
    if kind == "markdown":
        text, known = _split_front_matter(text)
        text = _markdown_to_text(text)
    elif kind == "html":
        text, known = _html_to_text(text)
    if not text.strip():
        raise UnreadableFile("no article text in it")
    return read_article(text, source=str(path), known=known), warning


def decode_text(data: bytes) -> tuple[str, str | None]:
    """UTF-8 when it is, else the best guess; refuse binaries rather than produce noise.
    Returns the text, and a warning when some of it could not be decoded faithfully."""
    if not data.strip():
        raise UnreadableFile("the file is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows "Unicode"
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            raise UnreadableFile("broken UTF-16 text") from None
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary data, not text")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    damaged = _mostly_utf8(data)
    if damaged is not None:
        return damaged
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise UnreadableFile("not text in any encoding we recognise")
    # Short Western text is ambiguous between code pages; news in English is cp1252 more
    # often than anything else, so it wins whenever it reads about as cleanly as the best.
    best = matches[0]
    western = next((m for m in matches if m.encoding in ("cp1252", "latin_1")), None)
    if western is not None and western.chaos <= best.chaos + 0.05:
        best = western
    return str(best), None


_FEW_BAD_SEQUENCES = 16
_NON_ASCII = re.compile("[^\x00-\x7f]")
_THREE_BYTES_OR_MORE = re.compile("[\u0800-\ufffc\ufffe-\U0010ffff]")  # “ — € Д…


def _mostly_utf8(data: bytes) -> tuple[str, str] | None:
    """UTF-8 with a few damaged bytes, each bad sequence replaced by U+FFFD, when the rest
    is UTF-8.

    Text in a legacy code page (cp1252 “smart quotes”, Cyrillic) almost never holds a
    valid multi-byte UTF-8 sequence, so a file that holds several, or one of three bytes
    or more (“, —, €), is UTF-8 that was damaged, not another encoding: guessing a code
    page for it would turn every “ into тАЬ."""
    text = data.decode("utf-8-sig", errors="replace")
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    decoded = len(_NON_ASCII.findall(text)) - replaced  # from valid multi-byte sequences
    if decoded < 2 and not _THREE_BYTES_OR_MORE.search(text.replace("\ufffd", "")):
        return None
    if replaced > max(_FEW_BAD_SEQUENCES, decoded):
        return None
    warning = (
        f"{replaced} stretch(es) of bytes are not valid UTF-8 and were replaced with "
        "\ufffd; the rest of the file is UTF-8"
    )
    return text, warning


def _split_front_matter(text: str) -> tuple[str, KnownFields]:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text, KnownFields()
    try:
        data = parse_yaml(match.group("yaml"))
    except yaml.YAMLError as error:
        raise UnreadableFile(f"front matter is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise UnreadableFile("front matter must be a mapping of field: value")
    return text[match.end() :], known_fields(data)


def known_fields(data: dict[str, object]) -> KnownFields:
    """Fields from front matter or config; unknown keys are ignored, bad dates refused."""
    published = None
    raw_date = data.get("date") or data.get("published")
    if raw_date is not None:
        published = parse_date(str(raw_date))
        if published is None:
            raise UnreadableFile(f"date {raw_date!r} is not a date like 2016-11-10")

    def text_field(name: str) -> str | None:
        value = data.get(name)
        return str(value).strip() if value is not None and str(value).strip() else None

    return KnownFields(
        title=text_field("title"),
        outlet=text_field("outlet"),
        byline=text_field("byline") or text_field("author"),
        published=published,
        url=text_field("url"),
    )


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+", re.MULTILINE)
_MD_QUOTE = re.compile(r"^>[ \t]?", re.MULTILINE)


def _markdown_to_text(text: str) -> str:
    """Plain prose from Markdown: the quote extractor reads words, not markup."""
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_QUOTE.sub("", text)
    return _MD_EMPHASIS.sub(r"\2", text)


def _html_to_text(html: str) -> tuple[str, KnownFields]:
    result = trafilatura.bare_extraction(
        html, include_comments=False, include_tables=False, with_metadata=True
    )
    if result is None:
        return "", KnownFields()
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    body = str(data.get("text") or "")
    title = data.get("title")
    # Put the headline back on top, as in a text article, so every format reads alike.
    text = f"{title}\n\n{body}" if title and not body.startswith(str(title)) else body
    fields: dict[str, object] = {
        "title": title,
        "outlet": data.get("sitename"),
        "author": data.get("author"),
        "url": data.get("url"),
    }
    if data.get("date"):
        fields["date"] = data["date"]
    return text, known_fields(fields)
