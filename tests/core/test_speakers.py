"""Speakers: forgiving lookup of names, aliases, transliterations, typos and roles."""

from __future__ import annotations

import pickle

import pytest

from bot.core.speakers import Speaker, SpeakerBook, SpeakerKind, fold

SMALL = SpeakerBook(
    (
        Speaker("Dmitry Peskov", ("Peskov", "Песков"), ("Kremlin spokesman",)),
        Speaker("Sergei Lavrov", ("Lavrov",), ("Russian Foreign Minister",)),
        Speaker("Sergei Ryabkov", ("Ryabkov",)),
        Speaker("Kremlin", ("the Kremlin",), kind=SpeakerKind.ORGANISATION),
    )
)


def test_fold_ignores_case_accents_spacing_and_apostrophe_style() -> None:
    assert fold("  Zelenskyy’s   OFFICE ") == "zelenskyy's office"
    assert fold("Jérôme Cœur") == fold("jerome cœur")
    assert fold("ПЕСКОВ") == "песков"


@pytest.mark.parametrize(
    "spelling",
    [
        "peskov",
        "Песков",
        "Dmitri Peskov",
        "Peskof",
        "PESKOV",
        "песков",
        "dmitri peskov",
        "DMITRI PESKOV",
        "PESKOF",
        "Dmitriy  Peskov",
        "Dmitry Peskov",
    ],
)
def test_every_spelling_of_peskov_resolves(speaker_book: SpeakerBook, spelling: str) -> None:
    speaker, _ = speaker_book.resolve(spelling)
    assert speaker is not None and speaker.name == "Dmitry Peskov"


def test_an_ambiguous_first_name_gets_suggestions(speaker_book: SpeakerBook) -> None:
    speaker, suggestions = speaker_book.resolve("Sergei")
    assert speaker is None
    assert {"Sergei Lavrov", "Sergei Ryabkov"} <= {s.name for s in suggestions}
    assert len(suggestions) <= 5


def test_nonsense_gets_nothing(speaker_book: SpeakerBook) -> None:
    assert speaker_book.resolve("Xqzvw Blorptz") == (None, [])
    assert speaker_book.resolve("   ") == (None, [])


def test_typos_and_unique_beginnings_resolve_shared_names_do_not() -> None:
    assert SMALL.resolve("Lavrof")[0] == SMALL.get("Lavrov")
    assert SMALL.resolve("Peskv")[0] == SMALL.get("Peskov")
    assert SMALL.resolve("Ryab")[0] == SMALL.get("Ryabkov")
    speaker, suggestions = SMALL.resolve("Sergey")
    assert speaker is None
    assert [s.name for s in suggestions] == ["Sergei Lavrov", "Sergei Ryabkov"]


def test_get_and_roles() -> None:
    assert SMALL.get("the kremlin") == SMALL.get("Kremlin")
    assert SMALL.get("Lavrov") is SMALL.speakers[1]
    assert SMALL.get("Nobody") is None
    assert SMALL.by_role("the Kremlin spokesman") is SMALL.speakers[0]
    assert SMALL.by_role("a Russian foreign minister") is SMALL.speakers[1]
    assert SMALL.by_role("the spokesman") is None


def test_with_speaker_adds_once() -> None:
    weitz = Speaker("Richard Weitz")
    grown = SMALL.with_speaker(weitz)
    assert grown.get("richard weitz") == weitz
    assert grown.with_speaker(Speaker("Richard Weitz")) is grown
    assert SMALL.with_speaker(Speaker("Peskov")) is SMALL  # an alias of someone known
    assert SMALL.get("Richard Weitz") is None  # the book itself is unchanged


def test_suggest_ranks_similar_names() -> None:
    assert SMALL.suggest("Peskov") == [SMALL.get("Peskov")]
    assert [s.name for s in SMALL.suggest("Sergey", limit=2)] == ["Sergei Lavrov", "Sergei Ryabkov"]
    assert SMALL.suggest("") == []
    assert SMALL.suggest("Qqqq") == []


def test_names_and_surname() -> None:
    peskov = SMALL.speakers[0]
    assert peskov.names == ("Dmitry Peskov", "Peskov", "Песков")
    assert peskov.surname == "Peskov"
    assert peskov.kind is SpeakerKind.PERSON


def test_with_speakers_adds_only_names_the_book_does_not_know() -> None:
    book = SpeakerBook((Speaker("Dmitry Peskov", aliases=("Peskov",)),))
    grown = book.with_speakers([Speaker("peskov"), Speaker("Jane Roe"), Speaker("JANE ROE")])
    assert [s.name for s in grown.speakers] == ["Dmitry Peskov", "Jane Roe"]
    assert book.with_speakers([Speaker("Dmitry Peskov")]) is book
    assert grown.get("jane roe") == Speaker("Jane Roe")


def test_fold_strips_accents_of_every_script() -> None:
    assert fold("Nguyễn Phú Trọng") == "nguyen phu trong"
    assert fold("Σωκράτης") == fold("ΣΩΚΡΑΤΗΣ") == "σωκρατησ"  # casefold: one sigma
    assert fold("Erdog\u0306an") == fold("Erdoğan") == "erdogan"
    assert fold("Йосиф") == "иосиф"


def speaker_names(book: SpeakerBook) -> tuple[str, ...]:
    return tuple(s.name for s in book.speakers)


def test_an_index_of_the_book_is_built_once_and_again_for_another_book() -> None:
    built: list[SpeakerBook] = []

    def names(book: SpeakerBook) -> tuple[str, ...]:
        built.append(book)
        return speaker_names(book)

    book = SpeakerBook(SMALL.speakers)
    first = book.indexed(names)
    assert book.indexed(names) is first
    assert built == [book]
    bigger = book.with_speaker(Speaker("Anna Berg"))
    assert bigger.indexed(names) == (*first, "Anna Berg")
    assert built == [book, bigger]


def test_a_book_pickles_without_its_indexes_and_its_copy_builds_them_again() -> None:
    book = SpeakerBook(SMALL.speakers)
    index = book.indexed(lambda b: speaker_names(b))  # a lambda cannot be pickled
    copy = pickle.loads(pickle.dumps(book))  # the process pool sends the book to workers
    assert copy == book
    assert copy.get("Peskov") == book.get("Peskov")
    assert copy.indexed(speaker_names) == index
