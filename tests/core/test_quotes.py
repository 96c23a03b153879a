"""The Quote value: its id and its defaults."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core.quotes import Attribution, Quote


def test_the_id_is_the_document_and_the_offset() -> None:
    quote = Quote("b3d443b8c6b7311e", 967, 1061, "They set out the same principles", "Peskov")
    assert quote.id == "b3d443b8c6b7311e:967"
    # Two quotes at one offset of one document are the same quote, whatever else differs.
    assert dataclasses.replace(quote, speaker=None).id == quote.id


def test_a_quote_with_no_attribution_has_no_speaker_role_or_cue() -> None:
    quote = Quote("d", 0, 5, "Hello", None)
    assert (quote.speaker_role, quote.cue, quote.partial) == (None, None, False)
    assert quote.attribution is Attribution.NONE


def test_quotes_are_immutable() -> None:
    quote = Quote("d", 0, 5, "Hello", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        quote.speaker = "Someone"  # type: ignore[misc]


def test_every_attribution_explains_itself() -> None:
    assert {a.value for a in Attribution} == {
        "named after the quote",
        "named before the quote",
        "pronoun",
        "role phrase",
        "continues the previous speaker",
        "according to",
        "unattributed",
    }
