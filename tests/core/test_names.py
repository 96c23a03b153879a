"""Runs of capitalised words that can be names, in any script."""

from __future__ import annotations

import pytest

from bot.core.letters import is_capitalised
from bot.core.names import capitalised_runs, is_name_word, run_at


def runs(text: str) -> list[str]:
    return [run.text for run in capitalised_runs(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Recep Tayyip Erdoğan said", ["Recep Tayyip Erdoğan"]),
        ("said Olaf Müller, a German diplomat", ["Olaf Müller", "German"]),
        ("Çelik added", ["Çelik"]),
        ("French envoy Jean-Yves Le Drian was hopeful", ["French", "Jean-Yves Le Drian"]),
        ("said Ursula von der Leyen, the president", ["Ursula von der Leyen"]),
        ("Crown Prince Mohammed bin Salman said", ["Crown Prince Mohammed bin Salman"]),
        ("said Siobhán O'Brien.", ["Siobhán O'Brien"]),
        ("President Bashar al-Assad said", ["President Bashar al-Assad"]),
        ("Donald J. Trump said", ["Donald J. Trump"]),
        ("Senator John McCain said", ["Senator John McCain"]),
        ("Дмитрий Песков сказал", ["Дмитрий Песков"]),
    ],
)
def test_names_in_any_script_come_out_whole(text: str, expected: list[str]) -> None:
    assert runs(text) == expected


def test_offsets_index_the_text() -> None:
    text = "“we will not pay,” Martínez said."
    (run,) = capitalised_runs(text)
    assert text[run.start : run.end] == "Martínez" == run.text


@pytest.mark.parametrize(
    "text",
    [
        "the NATO summit",  # all capitals: an acronym, not a name
        "von der and bin",  # particles alone
        "U.S. officials",  # initials glued together
        "talks in 2022",
    ],
)
def test_what_is_not_a_name(text: str) -> None:
    assert runs(text) == []


def test_particles_only_inside_a_name() -> None:
    # "von" after the last capitalised word is not part of the run.
    assert runs("Ursula von") == ["Ursula"]
    assert runs("met Putin and Trump") == ["Putin", "Trump"]  # "and" is no particle


def test_a_run_stops_at_six_words() -> None:
    words = "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel"
    assert runs(words) == ["Alpha Bravo Charlie Delta Echo Foxtrot", "Golf Hotel"]


def test_punctuation_breaks_a_run() -> None:
    assert runs("Peskov, Lavrov") == ["Peskov", "Lavrov"]


def test_run_at_reads_a_name_where_it_starts() -> None:
    text = "Ms. Sánchez told reporters"
    run = run_at(text, text.index("Sánchez"), longest=3)
    assert run is not None and run.text == "Sánchez"
    assert (run.start, run.end) == (4, 11)
    assert run_at(text, text.index("told"), longest=3) is None


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Çelik", True),
        ("O'Brien", True),
        ("McFaul", True),
        ("J.", True),
        ("al-Assad", True),
        ("NATO", False),
        ("A", False),
        ("said", False),
        ("al-qaeda", False),
    ],
)
def test_is_name_word(word: str, expected: bool) -> None:
    assert is_name_word(word) is expected


def test_is_capitalised_knows_every_script() -> None:
    assert is_capitalised("Ægir") and is_capitalised("Σωκράτης") and is_capitalised("Песков")
    assert not is_capitalised("ægir") and not is_capitalised("ПЕСКОВ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the post-Cold War order", ["War"]),
        ("U.S.-Russia relations", ["Russia"]),
        ("a pre-Revolutionary model", []),
    ],
)
def test_words_joined_by_a_hyphen_are_one_word(text: str, expected: list[str]) -> None:
    assert runs(text) == expected
