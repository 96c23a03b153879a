"""The Document value: its body, its label and its content id."""

from __future__ import annotations

from bot.core.documents import (
    Cut,
    CutReason,
    Document,
    Paragraph,
    ParagraphKind,
    document_id,
)

TEXT = "Headline\n\nBy Jo Writer\n\nFirst paragraph.\n\nSection\n\nSecond paragraph.\n\nIMAGE: x"


def document(*, outlet: str | None = None, title: str | None = None) -> Document:
    spans = []
    for kind, words in [
        (ParagraphKind.TITLE, "Headline"),
        (ParagraphKind.BYLINE, "By Jo Writer"),
        (ParagraphKind.BODY, "First paragraph."),
        (ParagraphKind.HEADING, "Section"),
        (ParagraphKind.BODY, "Second paragraph."),
    ]:
        start = TEXT.index(words)
        spans.append(Paragraph(start, start + len(words), kind))
    caption = Cut(TEXT.index("IMAGE"), len(TEXT), CutReason.CAPTION)
    return Document(
        "id", "folder/wire.txt", TEXT, tuple(spans), (caption,), title=title, outlet=outlet
    )


def test_body_is_the_body_paragraphs_only() -> None:
    assert document().body == "First paragraph.\n\nSecond paragraph."
    assert [document().paragraph_text(p) for p in document().body_paragraphs()] == [
        "First paragraph.",
        "Second paragraph.",
    ]


def test_label_is_the_outlet_else_the_title_else_the_file_name() -> None:
    assert document(outlet="Reuters", title="Headline").label == "Reuters"
    assert document(title="Headline").label == "Headline"
    assert document().label == "wire.txt"
    windows = Document("id", "C:\\news\\wire.txt", "x", ())
    assert windows.label == "wire.txt"


def test_cut_text_stays_in_the_document() -> None:
    (cut,) = document().cuts
    assert document().text[cut.start : cut.end] == "IMAGE: x"
    assert cut.reason.value == "image caption"


def test_the_id_ignores_layout_and_unicode_form_only() -> None:
    assert document_id("Café  talks\n\nin Paris") == document_id("Cafe\u0301 talks in Paris")
    assert document_id("Café talks") != document_id("Cafe talks")
    assert len(document_id("x")) == 16
