"""Who a phrase refers to: pronouns, people (known, printed, titled), roles, bodies, and
those who only speak for someone."""

from __future__ import annotations

import pytest

from bot.core.references import People, Reference, RefKind, name_tail, speaking_for
from bot.core.speakers import Speaker, SpeakerBook

PESKOV = "Dmitry Peskov"


def refs(people: People, phrase: str) -> list[tuple[RefKind, str | None]]:
    return [(r.kind, r.name) for r in people.find(phrase)]


def last(people: People, phrase: str) -> Reference:
    return people.find(phrase)[-1]


def test_a_book_alias_and_a_surname_name_the_canonical_speaker(speaker_book: SpeakerBook) -> None:
    people = People(speaker_book)
    assert refs(people, "Dmitri Peskov") == [(RefKind.PERSON, PESKOV)]
    assert refs(people, "Mr. Peskov") == [(RefKind.PERSON, PESKOV)]
    assert refs(people, "Песков") == [(RefKind.PERSON, PESKOV)]


def test_the_kremlin_is_an_organisation(speaker_book: SpeakerBook) -> None:
    assert refs(People(speaker_book), "The Kremlin") == [(RefKind.ORGANISATION, "Kremlin")]


def test_a_role_phrase_names_its_holder(speaker_book: SpeakerBook) -> None:
    ref = last(People(speaker_book), "the Kremlin spokesman")
    assert (ref.kind, ref.name, ref.role) == (RefKind.ROLE, PESKOV, "Kremlin spokesman")


def test_a_role_printed_with_a_name_in_the_document_names_that_person() -> None:
    people = People(SpeakerBook(), ("Anna Berg",), (("Finance Minister", "Anna Berg"),))
    assert last(people, "the finance minister").name == "Anna Berg"


@pytest.mark.parametrize(
    "phrase",
    [
        "a spokesman for the finance minister",
        "the deputy finance minister",
        "the former finance minister",
    ],
)
def test_someone_beside_a_role_holder_is_not_the_holder(phrase: str) -> None:
    people = People(SpeakerBook(), ("Anna Berg",), (("Finance Minister", "Anna Berg"),))
    assert people.role_holder(phrase) is None
    assert all(r.name != "Anna Berg" for r in people.find(phrase))


def test_a_printed_name_is_a_new_speaker_under_that_name(speaker_book: SpeakerBook) -> None:
    people = People(speaker_book)
    assert refs(people, "Recep Tayyip Erdoğan") == [(RefKind.PERSON, "Recep Tayyip Erdoğan")]
    ref = last(people, "Turkish President Recep Tayyip Erdoğan")
    assert (ref.name, ref.role) == ("Recep Tayyip Erdoğan", "Turkish President")


def test_a_title_and_a_surname_in_any_script(speaker_book: SpeakerBook) -> None:
    assert refs(People(speaker_book), "Ms. Sánchez") == [(RefKind.PERSON, "Sánchez")]


def test_a_surname_links_to_the_full_name_printed_earlier() -> None:
    people = People(SpeakerBook(), ("Richard Weitz", "Jean-Yves Le Drian", "José Martínez"))
    assert refs(people, "Weitz") == [(RefKind.PERSON, "Richard Weitz")]
    assert refs(people, "Mr. Weitz") == [(RefKind.PERSON, "Richard Weitz")]
    assert last(people, "Le Drian").name == "Jean-Yves Le Drian"
    # Printed without its accents, it is still the same man.
    assert last(people, "Martinez").name == "José Martínez"


@pytest.mark.parametrize("pronoun", ["he", "She", "they"])
def test_pronouns(pronoun: str) -> None:
    assert refs(People(SpeakerBook()), pronoun) == [(RefKind.PRONOUN, None)]


def test_references_come_in_order_of_where_they_end(speaker_book: SpeakerBook) -> None:
    found = People(speaker_book).find("Putin's spokesman Dmitry Peskov")
    assert [r.name for r in found] == ["Vladimir Putin", PESKOV]


@pytest.mark.parametrize(
    ("phrase", "name", "through"),
    [
        ("a spokesman for the Kremlin leader Vladimir Putin", "Vladimir Putin", "spokesman"),
        ("A spokeswoman for President Vladimir Putin", "Vladimir Putin", "spokeswoman"),
        ("an aide to Ode", "Ode", "aide"),
        ("sources close to Lavrov", "Lavrov", "sources"),
        ("Ode’s office", "Ode", "office"),
        ("Putin's spokesman Dmitry Peskov", "Putin", "spokesman"),
        ("Putin's spokesman Dmitry Peskov", "Dmitry Peskov", None),
        ("Kremlin spokesman Dmitry Peskov", "Dmitry Peskov", None),
        ("U.S. Secretary of State Antony Blinken", "Antony Blinken", None),
        # Four words between "close to" and the name: the most there may be, at the end
        # of a long phrase; with five, the aide is no longer who the name is read through.
        (
            "After talks in Geneva on Monday, an aide close to the Russian Foreign Minister "
            "Sergei Lavrov",
            "Sergei Lavrov",
            "aide",
        ),
        (
            "an aide close to the acting Russian Foreign Minister Sergei Lavrov",
            "Sergei Lavrov",
            None,
        ),
    ],
)
def test_speaking_for(phrase: str, name: str, through: str | None) -> None:
    start = phrase.index(name)
    assert speaking_for(phrase, start, start + len(name)) == through


def test_a_name_someone_speaks_for_is_marked(speaker_book: SpeakerBook) -> None:
    people = People(speaker_book, ("Sam Ode",))
    (aide,) = [r for r in people.find("an aide to Ode") if r.name == "Sam Ode"]
    assert aide.through == "aide"
    (peskov,) = [r for r in people.find("Putin's spokesman Dmitry Peskov") if r.name == PESKOV]
    assert peskov.through is None


def test_name_tail_drops_titles_roles_and_nationalities() -> None:
    assert name_tail("Russian Deputy Foreign Minister Sergei Ryabkov".split()) == [
        "Sergei",
        "Ryabkov",
    ]
    assert name_tail("Austrian Foreign Minister Katrin Moser".split()) == ["Katrin", "Moser"]
    assert name_tail("New Cold War".split()) == []


def test_is_known(speaker_book: SpeakerBook) -> None:
    people = People(speaker_book, ("Tom Hall", "Sao Paulo"), (), ("Tom Hall",))
    assert people.is_known(PESKOV) and people.is_known("Tom Hall")
    assert not people.is_known("Kremlin")  # an organisation
    assert not people.is_known("Sao Paulo")  # printed, but never shown to be a person
    assert not people.is_known(None)


# The book's names and roles are indexed once per book, the document's on top of them.
BERG_BOOK = SpeakerBook(
    (Speaker("Anna Berg", ("Berg",)), Speaker("Olav Dahl", roles=("Finance Minister",)))
)


def test_the_longest_name_printed_wins_whether_the_book_or_the_document_knows_it() -> None:
    people = People(BERG_BOOK, ("Anna Berg Larsen", "Nils Berg"))
    assert refs(people, "Anna Berg Larsen said") == [(RefKind.PERSON, "Anna Berg Larsen")]
    assert refs(people, "Anna Berg said") == [(RefKind.PERSON, "Anna Berg")]
    assert refs(people, "Nils Berg said") == [(RefKind.PERSON, "Nils Berg")]


def test_a_name_both_know_is_the_books() -> None:
    # "Berg" is the book's Anna Berg, though the document printed a Nils Berg too.
    people = People(BERG_BOOK, ("Nils Berg",))
    assert refs(people, "Berg said") == [(RefKind.PERSON, "Anna Berg")]
    assert refs(People(SpeakerBook(), ("Nils Berg",)), "Berg said") == [
        (RefKind.PERSON, "Nils Berg")
    ]


def test_a_role_printed_in_the_document_wins_over_the_books() -> None:
    phrase = "the acting finance minister"
    assert People(BERG_BOOK).role_holder(phrase) == BERG_BOOK.speakers[1]
    people = People(BERG_BOOK, ("Kari Holm",), (("Finance Minister", "Kari Holm"),))
    holder = people.role_holder(phrase)
    assert holder is not None and holder.name == "Kari Holm"


def test_the_role_printed_before_a_name_at_the_end_of_a_long_phrase(
    speaker_book: SpeakerBook,
) -> None:
    phrase = (
        "After a long day of talks in Geneva on Monday, Russian Deputy Foreign Minister "
        "Sergei Ryabkov"
    )
    ref = last(People(speaker_book), phrase)
    assert (ref.name, ref.role) == ("Sergei Ryabkov", "Russian Deputy Foreign Minister")
    # Only an article just before a run makes it no person: "the Turkish delegation".
    assert refs(People(speaker_book), "Officials met the Turkish Delegation") == []
    assert refs(People(speaker_book), "Officials met the\n  Tom Hall") == []
    assert refs(People(speaker_book), "Officials met Tom Hall") == [(RefKind.PERSON, "Tom Hall")]
