"""How documents, dates and the variants of a repeated statement are named to a reader."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import messages as m
from bot.core.overlaps import word_diff
from bot.presenting import (
    attribution,
    excerpt,
    readable_diff,
    seen,
    short_title,
    source_name,
    variant_note,
    variant_notes,
)
from bot.store import ClusterRow, MemberRow

CANONICAL = "An atmosphere of mutual trust takes years to achieve"


def member(relation: str, text: str, *, diff: str | None = None, near: bool = False) -> MemberRow:
    return MemberRow(f"d:{len(text)}", "d", text, relation, 90.0, near, diff)


def test_a_document_is_named_by_outlet_then_short_title_then_file_name() -> None:
    assert source_name("Reuters", "A title", "seeds/a.txt") == "Reuters"
    assert source_name(None, "Trump: Russia’s Chance for Friendship?", "x.txt") == (
        "Trump: Russia’s Chance for Friendship?"
    )
    long = "Kremlin Hails Trump’s Foreign Policy Shift, Citing Alignment with Russian Interests"
    assert source_name(None, long, "x.txt") == "Kremlin Hails Trump’s Foreign Policy…"
    assert source_name(None, None, "seeds/002_ae0362d15ddcecd9.txt") == "002_ae0362d15ddcecd9.txt"
    assert source_name(None, "  ", "C:\\news\\b.txt") == "b.txt"


def test_short_title_cuts_at_a_word_and_never_lengthens() -> None:
    assert short_title("Short") == "Short"
    assert short_title("word " * 20, limit=12) == "word word…"
    assert short_title("x" * 50, limit=10) == "x" * 10 + "…"
    assert short_title("Talks, day two of a long, long account", limit=14) == "Talks, day two…"


def test_excerpt_keeps_the_start_and_the_end() -> None:
    words = " ".join(f"w{n}" for n in range(30))
    assert excerpt(words) == "w0 w1 w2 w3 w4 w5 w6 w7 … w26 w27 w28 w29"
    assert excerpt("a  short\nquote") == "a short quote"


def test_a_date_says_when_it_is_only_the_ingest_date() -> None:
    published = datetime(2016, 11, 10, tzinfo=UTC)
    ingested = datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert seen(published, ingested) == "2016-11-10"
    assert seen(None, ingested) == "undated, ingested 2024-01-01"


@pytest.mark.parametrize(
    ("new", "shown"),
    [
        (
            "An atmosphere of mutual trust takes many years to achieve",
            "…trust takes {+many+} years to achieve",
        ),
        (
            "An atmosphere of mutual trust takes months to achieve, he said to them",
            "…trust takes [-years-] {+months+} to achieve {+he said to them+}",
        ),
        (
            "An atmosphere of trust takes years to achieve",
            "An atmosphere of [-mutual-] trust takes…",
        ),
    ],
)
def test_a_word_diff_reads_as_a_sentence(new: str, shown: str) -> None:
    diff = word_diff(CANONICAL, new)
    assert diff is not None
    assert readable_diff(diff) == shown


def test_each_relation_gets_its_own_line() -> None:
    edited = member("edited", "…", diff="... trust takes [-years-]{+months+} to achieve")
    assert variant_note(edited, "Press TV", ()) == (
        "Press TV — edited: …trust takes [-years-] {+months+} to achieve"
    )
    part = member("fragment", "An atmosphere of mutual trust")
    assert (
        variant_note(part, "TASS", ())
        == "TASS — printed only part: “An atmosphere of mutual trust”"
    )
    changed = member("fragment", "x", diff="[-mutual-]{+real+} trust")
    assert variant_note(changed, "TASS", ()) == (
        "TASS — printed only part, edited: [-mutual-] {+real+} trust"
    )
    near = member("fragment", "phenomenally close", near=True, diff="[-a-]{+b+}")
    assert variant_note(near, "Reuters", ()) == (
        "Reuters — a partial quote close to it: “phenomenally close”"
    )
    merged = member("merged", CANONICAL + " It's not possible to just declare it.")
    assert variant_note(merged, "RT", ["It's not possible to just declare it."]) == (
        "RT — merged into one quote with “It's not possible to just declare it.”"
    )
    assert variant_note(merged, "RT", ["One", "Two"]) == (
        "RT — merged into one quote with “One” and “Two”"
    )
    alone = variant_note(merged, "RT", ())
    assert alone is not None and alone.startswith("RT — merged with another statement: “An")
    assert variant_note(member("verbatim", CANONICAL), "AP", ()) is None


def test_a_merged_quote_names_only_the_other_statements() -> None:
    merged = MemberRow("m:1", "m", "A. B.", "merged", 100.0, False, None)
    cluster = ClusterRow(
        "a", "x:1", "A.", "Peskov", "x", None, ("X",), (member("verbatim", "A."), merged)
    )
    partners = {"m:1": [("a", "A."), ("b", "B.")]}
    assert variant_notes(cluster, {"m": "Mirror"}, partners) == (
        "Mirror — merged into one quote with “B.”",
    )


def test_a_cluster_names_its_speaker_or_who_each_outlet_names() -> None:
    def printed(doc_id: str, speaker: str | None) -> MemberRow:
        return MemberRow(f"{doc_id}:0", doc_id, "A.", "verbatim", 100.0, False, None, speaker)

    members = (
        printed("r", "Dmitry Peskov"),
        printed("t", "Sergei Lavrov"),
        printed("i", "Dmitry Peskov"),
        printed("u", None),  # names no one: not among the attributions
    )
    names = {"r": "Reuters", "t": "TASS", "i": "Interfax", "u": "Blog"}
    agreed = ClusterRow("a", "r:0", "A.", "Dmitry Peskov", "r", None, ("Reuters",), members)
    assert attribution(agreed, names) == "Dmitry Peskov"
    disputed = ClusterRow(
        "a", "r:0", "A.", None, "r", None, (), members, ("Dmitry Peskov", "Sergei Lavrov")
    )
    assert attribution(disputed, names) == (
        "attributed differently: Dmitry Peskov (Reuters, Interfax), Sergei Lavrov (TASS)"
    )
    nobody = ClusterRow("a", "r:0", "A.", None, "r", None, (), (printed("u", None),))
    assert attribution(nobody, names) == m.UNATTRIBUTED
