"""Loading articles from files and folders, and every kind of bad input."""

from __future__ import annotations

import codecs
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import SourceRule, SourceRules
from bot.core.article import KnownFields
from bot.core.documents import Document, ParagraphKind
from bot.sources.files import LoadReport, Problem, load_path

ARTICLE = (
    "Kremlin hails Trump's approach\n\n"
    "By Andrew Osborn\n\n"
    "MOSCOW (Reuters) – The Kremlin said on Thursday it saw a basis for dialogue.\n\n"
    "“It is phenomenal how close they are,” Peskov said.\n"
)

HTML = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Peskov sees basis for dialogue | Moscow Ledger</title>
<meta property="og:site_name" content="Moscow Ledger">
<meta property="og:title" content="Peskov sees basis for dialogue">
<meta name="author" content="Irina Petrova">
<meta property="article:published_time" content="2016-11-10T08:00:00Z">
<link rel="canonical" href="https://example.org/moscow-ledger/peskov-dialogue">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/login">Sign in</a></nav>
<article>
<h1>Peskov sees basis for dialogue</h1>
<p>MOSCOW – The Kremlin said on Thursday that the foreign policy approach of the U.S.
president-elect was close to that of President Vladimir Putin, giving Moscow hope.</p>
<p>“It is phenomenal how close they are to one another when it comes to their conceptual
approach to foreign policy,” Kremlin spokesman Dmitry Peskov said on Thursday evening.</p>
<p>Peskov cautioned that it would take a long time before relations could return to a high
level, because of how far they had been allowed to deteriorate in recent years.</p>
</article>
<section class="comments"><h3>2 Comments</h3>
<div class="comment"><p>ivan_k November 11, 2016</p><p>Nonsense from start to finish.</p></div>
</section>
<footer>Copyright © 2016 Moscow Ledger. All rights reserved. Subscribe to our newsletter.</footer>
</body></html>
"""


def names(report: LoadReport) -> list[str]:
    return [Path(d.source).name for d in report.documents]


def problems_by_name(report: LoadReport) -> dict[str, str]:
    return {Path(p.path).name: p.reason for p in report.problems}


def only(report: LoadReport) -> Document:
    assert report.problems == ()
    [document] = report.documents
    return document


# --- formats ---------------------------------------------------------------------------


def test_a_text_file_loads_with_its_header(tmp_path: Path) -> None:
    (tmp_path / "wire.txt").write_text(ARTICLE, encoding="utf-8")
    document = only(load_path(tmp_path / "wire.txt"))
    assert document.source == str(tmp_path / "wire.txt")
    assert document.title == "Kremlin hails Trump's approach"
    assert document.outlet == "Reuters"
    assert document.byline == "Andrew Osborn"
    assert "“It is phenomenal how close they are,” Peskov said." in document.body


def test_markdown_front_matter_gives_title_outlet_date_and_url(tmp_path: Path) -> None:
    (tmp_path / "lavrov.md").write_text(
        "---\n"
        "title: Lavrov sets out terms\n"
        "outlet: Europe Daily Wire\n"
        "date: 2024-02-14\n"
        "url: https://example.org/lavrov\n"
        "tags: [russia, diplomacy]\n"
        "---\n"
        "# Lavrov sets out terms\n\n"
        "Russia's foreign minister spoke on **Wednesday**, according to a "
        "[transcript](https://example.org/transcript).\n\n"
        "> «We are ready for a dialogue», Lavrov said.\n",
        encoding="utf-8",
    )
    document = only(load_path(tmp_path / "lavrov.md"))
    assert document.title == "Lavrov sets out terms"
    assert document.outlet == "Europe Daily Wire"
    assert document.published == datetime(2024, 2, 14, tzinfo=UTC)
    assert document.url == "https://example.org/lavrov"
    assert "---" not in document.text and "tags:" not in document.text
    # Markup is gone, the words stay: headings, emphasis, links and block quotes.
    assert document.body == (
        "Russia's foreign minister spoke on Wednesday, according to a transcript.\n\n"
        "«We are ready for a dialogue», Lavrov said."
    )


def test_markdown_without_front_matter_reads_its_header_from_the_text(tmp_path: Path) -> None:
    (tmp_path / "plain.md").write_text("# Kremlin hails Trump\n\nBy Jane Doe\n\nBody text.\n")
    document = only(load_path(tmp_path / "plain.md"))
    assert document.title == "Kremlin hails Trump"
    assert document.byline == "Jane Doe"
    assert document.body == "Body text."


def test_markdown_front_matter_saved_with_windows_line_endings(tmp_path: Path) -> None:
    (tmp_path / "windows.md").write_bytes(
        b"---\r\ntitle: Windows title\r\noutlet: Win Wire\r\n---\r\n"
        b"# Windows title\r\n\r\nBody text, he said.\r\n"
    )
    document = only(load_path(tmp_path / "windows.md"))
    assert (document.title, document.outlet) == ("Windows title", "Win Wire")
    assert "title:" not in document.text
    assert document.body == "Body text, he said."


def test_html_main_text_and_metadata_come_from_trafilatura(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(HTML, encoding="utf-8")
    document = only(load_path(tmp_path / "page.html"))
    assert document.title == "Peskov sees basis for dialogue"
    assert document.outlet == "Moscow Ledger"
    assert document.byline == "Irina Petrova"
    assert document.published is not None
    assert document.published.date() == datetime(2016, 11, 10).date()
    assert document.url == "https://example.org/moscow-ledger/peskov-dialogue"
    assert document.paragraphs[0].kind is ParagraphKind.TITLE
    body = document.body
    assert "“It is phenomenal how close they are to one another" in body
    assert body.rstrip().endswith("allowed to deteriorate in recent years.")
    for chrome in ("Sign in", "Nonsense from start to finish", "ivan_k", "All rights reserved"):
        assert chrome not in document.text


@pytest.mark.parametrize("name", ["UPPER.TXT", "page.htm", "notes.markdown", "wire.text"])
def test_every_supported_extension_loads(tmp_path: Path, name: str) -> None:
    content = HTML if name.endswith(".htm") else ARTICLE
    (tmp_path / name).write_text(content, encoding="utf-8")
    document = only(load_path(tmp_path / name))
    assert "phenomenal" in document.body


def test_a_folder_loads_every_article_below_it_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text(ARTICLE.replace("Thursday", "Friday"))
    (tmp_path / "a.md").write_text(ARTICLE.replace("Thursday", "Monday"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.html").write_text(HTML)
    report = load_path(tmp_path)
    assert report.problems == ()
    assert [Path(d.source).relative_to(tmp_path).as_posix() for d in report.documents] == [
        "a.md",
        "b.txt",
        "sub/c.html",
    ]


def test_the_same_article_under_two_names_gets_one_id(tmp_path: Path) -> None:
    (tmp_path / "first.txt").write_text(ARTICLE)
    (tmp_path / "second.txt").write_bytes((ARTICLE.replace("\n", "  \r\n")).encode("utf-8"))
    (tmp_path / "other.txt").write_text(ARTICLE.replace("Thursday", "Friday"))
    by_name = {Path(d.source).name: d.id for d in load_path(tmp_path).documents}
    assert by_name["first.txt"] == by_name["second.txt"] != by_name["other.txt"]


# --- encodings -------------------------------------------------------------------------


def test_a_windows_1252_file_decodes(tmp_path: Path) -> None:
    text = "Café talks\n\nThe naïve minister said the café would “stay open”, he said.\n"
    (tmp_path / "cp1252.txt").write_bytes(text.encode("cp1252"))
    assert only(load_path(tmp_path / "cp1252.txt")).text == text


def test_a_latin_1_file_decodes(tmp_path: Path) -> None:
    text = "Le café est fermé\n\nLe ministre naïf a parlé à Noël, dit-il.\n"
    (tmp_path / "latin1.txt").write_bytes(text.encode("latin-1"))
    assert only(load_path(tmp_path / "latin1.txt")).text == text


def test_a_windows_1252_html_page_decodes(tmp_path: Path) -> None:
    page = HTML.replace('charset="utf-8"', 'charset="windows-1252"').replace(
        "giving Moscow hope", "giving the café owners “naïve” hope"
    )
    (tmp_path / "page.html").write_bytes(page.encode("cp1252"))
    assert "giving the café owners “naïve” hope" in only(load_path(tmp_path)).body


def test_a_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes(codecs.BOM_UTF8 + ARTICLE.encode("utf-8"))
    document = only(load_path(tmp_path / "bom.txt"))
    assert "\ufeff" not in document.text
    assert document.title == "Kremlin hails Trump's approach"
    assert document.id == only(load_path(_write(tmp_path / "plain.txt", ARTICLE))).id


def test_a_utf8_bom_before_front_matter_is_dropped(tmp_path: Path) -> None:
    data = codecs.BOM_UTF8 + b"---\ntitle: With a BOM\n---\nBody text.\n"
    (tmp_path / "bom.md").write_bytes(data)
    assert only(load_path(tmp_path / "bom.md")).title == "With a BOM"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_file_with_a_byte_order_mark_decodes(tmp_path: Path, encoding: str) -> None:
    data = ARTICLE.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    (tmp_path / "notepad.txt").write_bytes(data)
    assert only(load_path(tmp_path / "notepad.txt")).text == ARTICLE


def test_utf8_with_a_few_damaged_bytes_stays_utf8_with_a_warning(tmp_path: Path) -> None:
    text = "Talks resume\n\n“Good words are spoken here,” said Tom Hall of the café.\n"
    damaged = text.encode("utf-8") + b"\xff\xfe bad bytes \x80\x81\n"
    (tmp_path / "damaged.txt").write_bytes(damaged)
    (tmp_path / "clean.txt").write_text(ARTICLE, encoding="utf-8")
    report = load_path(tmp_path)
    assert report.problems == ()
    by_name = {Path(d.source).name: d for d in report.documents}
    document = by_name["damaged.txt"]
    # Read as UTF-8, not guessed as a Cyrillic code page ("тАЬGood words…тАЭ").
    assert document.text.startswith(text)
    assert document.text.count("\ufffd") == 4
    (warning,) = report.warnings
    assert Path(warning.path).name == "damaged.txt"
    assert warning.reason.startswith("4 stretch(es) of bytes are not valid UTF-8")


def test_a_clean_file_has_no_warning(tmp_path: Path) -> None:
    (tmp_path / "clean.txt").write_text(ARTICLE, encoding="utf-8")
    assert load_path(tmp_path).warnings == ()


def test_windows_1252_smart_quotes_are_not_taken_for_damaged_utf8(tmp_path: Path) -> None:
    text = "Headline here\n\n“We will stay,” said Maria López, the mayor. “Always.”\n"
    (tmp_path / "cp1252.txt").write_bytes(text.encode("cp1252"))
    report = load_path(tmp_path)
    assert only(report).text == text
    assert report.warnings == ()


# --- bad input -------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bad_folder(root: Path) -> None:
    (root / "good-1.txt").write_text(ARTICLE)
    (root / "good-2.md").write_text("---\ntitle: Second\n---\nAnother article, he said.\n")
    (root / "good-3.html").write_text(HTML)
    (root / "no-quotes.txt").write_text(
        "Markets steady\n\nStock markets traded in a narrow range on Wednesday.\n"
    )
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_bytes(b"  \n\t\n \r\n")
    (root / "nul.txt").write_bytes(b"Kremlin\x00said\x00" * 50)
    (root / "image.txt").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06"
    )
    noise = random.Random(7).randbytes(4096)
    (root / "noise.md").write_bytes(noise.replace(b"\x00", b"\x01"))
    with (root / "huge.txt").open("wb") as huge:
        huge.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing written
    (root / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    (root / "README").write_text("Notes about this folder.\n")
    (root / "shell.html").write_text("<html><head><title></title></head><body></body></html>")
    (root / "bad-front-matter.md").write_text("---\ntitle: [unclosed\n---\nBody text.\n")
    (root / "list-front-matter.md").write_text("---\n- a\n- b\n---\nBody text.\n")
    (root / "bad-date.md").write_text("---\ndate: someday\n---\nBody text.\n")
    (root / "impossible-date.md").write_text("---\ndate: 2016-13-45\n---\nBody text.\n")
    (root / ".hidden.txt").write_text(ARTICLE)
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".git" / "description.txt").write_text("Unnamed repository.\n")


EXPECTED_PROBLEMS = {
    "empty.txt": "the file is empty",
    "blank.md": "the file is empty",
    "nul.txt": "binary data, not text",
    "image.txt": "binary data, not text",
    "noise.md": "not text in any encoding we recognise",
    "report.pdf": ".pdf files are not articles",
    "README": "files without an extension are not articles",
    "shell.html": "no article text in it",
    "list-front-matter.md": "front matter must be a mapping of field: value",
    "bad-date.md": "date 'someday' is not a date like 2016-11-10",
    "impossible-date.md": "date '2016-13-45' is not a date like 2016-11-10",
}


def test_a_folder_of_bad_files_loads_every_good_one_and_says_what_is_wrong(
    tmp_path: Path,
) -> None:
    _bad_folder(tmp_path)
    report = load_path(tmp_path)  # must not raise
    assert names(report) == ["good-1.txt", "good-2.md", "good-3.html", "no-quotes.txt"]
    problems = problems_by_name(report)
    assert set(problems) == set(EXPECTED_PROBLEMS) | {"huge.txt", "bad-front-matter.md"}
    for name, reason in EXPECTED_PROBLEMS.items():
        assert problems[name] == reason, name
    assert problems["huge.txt"].startswith("50.0 MB is over the 5.0 MB limit for one article")
    assert problems["bad-front-matter.md"].startswith("front matter is not valid YAML")
    assert all(str(p) == f"{p.path}: {p.reason}" for p in report.problems)


def test_hidden_files_and_folders_are_neither_loaded_nor_reported(tmp_path: Path) -> None:
    _bad_folder(tmp_path)
    report = load_path(tmp_path)
    seen = [d.source for d in report.documents] + [p.path for p in report.problems]
    assert not any("/." in path for path in seen)


def test_an_article_without_quotes_is_a_normal_document(tmp_path: Path) -> None:
    _bad_folder(tmp_path)
    [document] = [d for d in load_path(tmp_path).documents if d.source.endswith("no-quotes.txt")]
    assert document.title == "Markets steady"
    assert document.body == "Stock markets traded in a narrow range on Wednesday."


def test_a_missing_path_is_a_problem_not_an_error(tmp_path: Path) -> None:
    report = load_path(tmp_path / "nowhere")
    assert report == LoadReport((), (Problem(str(tmp_path / "nowhere"), "no such file or folder"),))


def test_an_unsupported_file_named_directly_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n")
    report = load_path(tmp_path / "report.pdf")
    assert report.documents == ()
    [problem] = report.problems
    assert problem.reason == "unsupported file type '.pdf'; use .txt, .md or .html"


def test_a_file_over_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    [problem] = load_path(big).problems
    assert "50.0 MB is over the 5.0 MB limit" in problem.reason
    assert "split it or raise corpus.max_file_mb in config/bot.yaml" in problem.reason


def test_the_size_limit_can_be_set(tmp_path: Path) -> None:
    path = _write(tmp_path / "wire.txt", ARTICLE)
    assert load_path(path, max_bytes=len(ARTICLE.encode()) + 1).problems == ()
    [problem] = load_path(path, max_bytes=100).problems
    assert "over the" in problem.reason and "limit" in problem.reason


def test_an_empty_folder_loads_nothing_and_reports_nothing(tmp_path: Path) -> None:
    assert load_path(tmp_path) == LoadReport((), ())


def test_a_symlink_loop_does_not_stop_the_load(tmp_path: Path) -> None:
    _write(tmp_path / "good.txt", ARTICLE)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    assert names(load_path(tmp_path)) == ["good.txt"]


# --- metadata from config --------------------------------------------------------------


def _rules(*rules: tuple[str, KnownFields]) -> SourceRules:
    return SourceRules(tuple(SourceRule(match, fields) for match, fields in rules))


def test_config_fields_win_over_front_matter_and_fill_its_gaps(tmp_path: Path) -> None:
    (tmp_path / "story.md").write_text(
        "---\ntitle: From front matter\noutlet: Front Outlet\n---\nBody text, he said.\n"
    )
    rules = _rules(("story.md", KnownFields(outlet="Config Outlet", url="https://x.test/s")))
    document = only(load_path(tmp_path, known_for=rules.known_for))
    assert document.title == "From front matter"
    assert document.outlet == "Config Outlet"
    assert document.url == "https://x.test/s"


def test_config_matches_by_name_glob_and_id_and_later_rules_win(tmp_path: Path) -> None:
    _write(tmp_path / "reuters-1.txt", ARTICLE)
    _write(tmp_path / "ap-1.txt", ARTICLE.replace("Thursday", "Friday"))
    ap_id = only(load_path(tmp_path / "ap-1.txt")).id
    rules = _rules(
        ("*.txt", KnownFields(outlet="Any", byline="Desk")),
        ("reuters-*.txt", KnownFields(outlet="Reuters Wire")),
        (ap_id, KnownFields(outlet="AP", published=datetime(2016, 11, 11, tzinfo=UTC))),
    )
    by_name = {
        Path(d.source).name: d for d in load_path(tmp_path, known_for=rules.known_for).documents
    }
    assert by_name["reuters-1.txt"].outlet == "Reuters Wire"
    assert by_name["ap-1.txt"].outlet == "AP"
    assert by_name["ap-1.txt"].published == datetime(2016, 11, 11, tzinfo=UTC)
    assert by_name["reuters-1.txt"].published is None
    assert {d.byline for d in by_name.values()} == {"Desk"}
