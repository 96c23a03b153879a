"""What keeps different statements apart: negation, containment and voices."""

from __future__ import annotations

import pytest

from bot.core.statement_rules import (
    is_cut_from,
    negations,
    same_polarity,
    same_voice,
    same_wording,
    voices,
)
from bot.core.text import normalize_text as norm

READY = norm("We are ready to talk to the United States about strategic stability")


def span_of(long: str, short: str) -> tuple[int, int]:
    start = long.index(short)
    return start, start + len(short)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("We are ready", 0),
        ("We are not ready", 1),
        ("We will never pay and won't sign", 2),
        ("Nobody has seen nothing", 2),
        ("It's not possible, it cannot be done", 2),
    ],
)
def test_negations(text: str, count: int) -> None:
    assert negations(norm(text).split()) == count


def test_not_and_never_are_the_same_polarity_ready_and_not_ready_are_not() -> None:
    assert same_polarity(norm("sanctions will not work"), norm("sanctions will never work"))
    assert not same_polarity(norm("We are ready"), norm("We are not ready"))


def test_a_fragment_is_cut_from_the_long_quote() -> None:
    short = norm("We are ready to talk to the United States")
    assert is_cut_from(short, READY, span_of(READY, short))


def test_a_fragment_needs_its_content_words_inside() -> None:
    long = norm("We are ready to talk to the United States about strategic stability")
    other = norm("We are ready to talk to the United States about Ukraine")
    # Aligned on the shared words, "Ukraine" is still missing from the long quote.
    assert not is_cut_from(other, long, (0, len(long)))


def test_a_negation_inside_or_just_before_breaks_a_fragment() -> None:
    long = norm("We are not ready to talk to the United States")
    short = norm("ready to talk to the United States")
    assert not is_cut_from(short, long, span_of(long, short))
    negated = norm("We are not ready to talk")
    assert not is_cut_from(negated, READY, (0, len(norm("We are ready to talk"))))


def test_same_wording_allows_stop_word_edits_only() -> None:
    assert same_wording(
        norm("It's not possible to declare trust"), norm("It is not possible to declare trust")
    )
    assert not same_wording(norm("sanctions will not work"), norm("sanctions will never work"))
    assert not same_wording(norm("trust takes years"), norm("trust takes months"))


def test_voices() -> None:
    assert same_voice(None, "Sergei Lavrov")
    assert same_voice("Dmitry Peskov", "Dmitry Peskov")
    assert not same_voice("Dmitry Peskov", "Sergei Lavrov")
    roles = [("Dmitry Peskov", "Kremlin spokesman")]
    assert same_voice("Kremlin", "Dmitry Peskov", roles)
    assert not same_voice("Foreign Ministry", "Dmitry Peskov", roles)


def test_voices_leave_out_a_body_its_spokesman_speaks_for() -> None:
    roles = [("Dmitry Peskov", "Kremlin spokesman"), ("Kremlin", None)]
    assert voices(["Kremlin", "Dmitry Peskov", None], roles) == ("Dmitry Peskov",)
    assert voices(["Sergei Lavrov", "Dmitry Peskov", "Dmitry Peskov"], []) == (
        "Dmitry Peskov",
        "Sergei Lavrov",
    )
    assert voices([None, None], []) == ()
