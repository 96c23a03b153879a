"""Quoted spans found by their marks: every mark style, reopened paragraphs, unbalanced
marks, apostrophes."""

from __future__ import annotations

import pytest

from bot.core.layout import Span, find_paragraphs
from bot.core.quote_marks import MarkedQuote, Style, document_style, find_marked_quotes


def marked(text: str) -> tuple[list[MarkedQuote], list[Span]]:
    paragraphs = list(find_paragraphs(text))
    return find_marked_quotes(text, paragraphs), paragraphs


def quoted(text: str) -> list[str]:
    """Each quote's words, paragraphs joined by " | "."""
    quotes, _ = marked(text)
    return [" | ".join(text[s.start : s.end] for s in q.segments) for q in quotes]


def test_curly_straight_and_german_double_marks() -> None:
    assert quoted("“We are ready,” he said.") == ["We are ready,"]
    assert quoted('"We are ready," he said.') == ["We are ready,"]
    assert quoted("„Wir sind bereit“, sagte er.") == ["Wir sind bereit"]


def test_guillemets() -> None:
    assert quoted("« Nous sommes prêts », a dit le ministre.") == [" Nous sommes prêts "]
    assert quoted("Lavrov said: «We want a dialogue of equals».") == [
        "We want a dialogue of equals"
    ]


def test_british_single_marks_are_the_main_marks_when_more_common() -> None:
    text = "‘We are not naive,’ Mr Peskov said. ‘Relations were damaged.’"
    paragraphs = list(find_paragraphs(text))
    assert document_style(text, paragraphs) is Style.SINGLE
    assert quoted(text) == ["We are not naive,", "Relations were damaged."]


@pytest.mark.parametrize(
    ("text", "style"),
    [
        # Opening marks count at the start, after a space, a bracket or a dash ...
        ("‘One.’ ‘Two.’ “Three.”", Style.SINGLE),
        ("A\n‘One two.’ (‘Three’) —‘Four’ “Five.”", Style.SINGLE),
        ('"One." "Two." ‘Three.’', Style.DOUBLE),
        ('(“One.”) -"Two." ‘Three.’ ‘Four.’', Style.DOUBLE),  # two each: double
        # ... not after a letter or a digit: "rock'n'roll", 1990s' "hits"
        ("Rock'n'Roll and O'Brien's ‘Three.’ “One.”", Style.DOUBLE),
        ('The 5"7" man said ‘Ok.’', Style.SINGLE),
    ],
)
def test_the_main_marks_are_those_that_open_more_quotes(text: str, style: Style) -> None:
    assert document_style(text, list(find_paragraphs(text))) is style


def test_a_single_quote_at_the_start_of_a_later_paragraph_is_found() -> None:
    text = "“It is a long road,” Peskov said.\n\n'We have seen this film before,' Fox said."
    assert quoted(text) == ["It is a long road,", "We have seen this film before,"]


def test_apostrophes_are_not_marks() -> None:
    text = "‘The leaders’ summit is Putin’s idea, and it won't move,’ he said."
    assert quoted(text) == ["The leaders’ summit is Putin’s idea, and it won't move,"]


def test_single_marks_in_a_double_mark_article_are_quotes_of_two_words_or_more() -> None:
    text = (
        "“It is a long road,” Peskov said.\n\n"
        "Labour leader Kim Fox said 'We have seen this film before' on Monday.\n\n"
        "Another called it 'frosty'."
    )
    assert quoted(text) == ["It is a long road,", "We have seen this film before"]


def test_a_long_quote_reopened_on_each_paragraph_is_one_quote() -> None:
    text = (
        "Zelenskyy said: “We want peace more than anyone.\n\n"
        "“But a pause that lets the aggressor regroup is not peace.\n\n"
        "“Ukraine will not give away its land.”\n\n"
        "The talks resume on Friday."
    )
    quotes, _ = marked(text)
    (quote,) = quotes
    assert (quote.first_paragraph, quote.last_paragraph) == (0, 2)
    assert [text[s.start : s.end] for s in quote.segments] == [
        "We want peace more than anyone.",
        "But a pause that lets the aggressor regroup is not peace.",
        "Ukraine will not give away its land.",
    ]
    assert quote.open_mark == text.index("“")
    assert quote.close_mark == text.index("”")


def test_a_quote_never_closed_ends_with_its_paragraph() -> None:
    text = "“We will not sign this, Berg said.\n\nThe talks resume on Friday."
    (quote,) = marked(text)[0]
    assert text[quote.start : quote.end] == "We will not sign this, Berg said."
    assert quote.close_mark is None


def test_a_second_opener_closes_the_quote_the_outlet_forgot_to_close() -> None:
    text = "“We will not sign, she said. “The deadline is Friday.”"
    assert quoted(text) == ["We will not sign, she said. ", "The deadline is Friday."]


def test_a_closing_mark_with_no_opener_quotes_its_sentence() -> None:
    text = "The talks failed. We will not sign this budget,” Berg said."
    (quote,) = marked(text)[0]
    assert text[quote.start : quote.end] == "We will not sign this budget,"
    assert quote.open_mark is None and quote.close_mark == text.index("”")


def test_outer_offsets_include_the_marks() -> None:
    text = "He said “yes” twice."
    (quote,) = marked(text)[0]
    assert text[quote.outer_start : quote.outer_end] == "“yes”"
    assert text[quote.start : quote.end] == "yes"


def test_quotes_come_in_text_order() -> None:
    text = "'Not now,' one aide said, and “We will see,” said another. 'Later,' said a third."
    quotes, _ = marked(text)
    assert [q.outer_start for q in quotes] == sorted(q.outer_start for q in quotes)
