"""Extraction end to end on small articles: every attribution form in DESIGN.md, with the
speaker, the role as printed, the cue and the partial flag."""

from __future__ import annotations

import pytest

from bot.core.article import read_article
from bot.core.documents import Document
from bot.core.extraction import extract_quotes
from bot.core.layout import Span
from bot.core.quote_marks import find_marked_quotes
from bot.core.quotes import Attribution, Quote
from bot.core.speakers import SpeakerBook

PESKOV = "Dmitry Peskov"


def extract(text: str, book: SpeakerBook) -> dict[str, Quote]:
    document = read_article(f"A headline\n\n{text}", source="t")
    quotes = extract_quotes(document, book)
    for quote in quotes:  # every span indexes the document text
        assert document.text[quote.start : quote.end].startswith(quote.text.split()[0])
    return {q.text: q for q in quotes}


def who(text: str, book: SpeakerBook) -> dict[str, str | None]:
    return {words: quote.speaker for words, quote in extract(text, book).items()}


# --- the attribution forms --------------------------------------------------------------


def test_quote_then_name_and_verb(speaker_book: SpeakerBook) -> None:
    (quote,) = extract("“We are ready to talk,” Peskov said.", speaker_book).values()
    assert (quote.speaker, quote.attribution, quote.cue) == (PESKOV, Attribution.AFTER, "said")
    assert not quote.partial


def test_name_and_verb_then_quote(speaker_book: SpeakerBook) -> None:
    (quote,) = extract("Lavrov said: “Sanctions do not work.”", speaker_book).values()
    assert (quote.speaker, quote.attribution) == ("Sergei Lavrov", Attribution.BEFORE)


def test_quote_then_verb_then_titled_name(speaker_book: SpeakerBook) -> None:
    (quote,) = extract(
        "“Nobody is talking about concessions,” said Mr. Peskov.", speaker_book
    ).values()
    assert (quote.speaker, quote.attribution) == (PESKOV, Attribution.AFTER)


def test_he_said_is_the_last_person_named(speaker_book: SpeakerBook) -> None:
    text = (
        "Kremlin spokesman Dmitry Peskov cautioned against haste.\n\n"
        "“An atmosphere of mutual trust takes years to achieve,” he said."
    )
    (quote,) = extract(text, speaker_book).values()
    assert (quote.speaker, quote.attribution) == (PESKOV, Attribution.PRONOUN)


def test_he_said_prefers_the_person_named_in_its_own_sentence(speaker_book: SpeakerBook) -> None:
    text = (
        "Peskov spoke first.\n\n"
        "Asked about Lavrov, he said: “We are not in a hurry.”\n\n"
        "Later Putin, asked about the talks, said he was “cautiously optimistic” about them."
    )
    quotes = who(text, speaker_book)
    assert quotes["We are not in a hurry."] == PESKOV
    assert quotes["cautiously optimistic"] == "Vladimir Putin"


def test_a_bare_quote_paragraph_continues_the_speaker_before(speaker_book: SpeakerBook) -> None:
    text = (
        "“We will keep the pipes open,” said Halyna Bondar, the Ukrainian minister.\n\n"
        "“What we will not do is finance the war against us.”"
    )
    quotes = extract(text, speaker_book)
    continued = quotes["What we will not do is finance the war against us."]
    assert (continued.speaker, continued.attribution) == (
        "Halyna Bondar",
        Attribution.CONTINUATION,
    )


def test_according_to(speaker_book: SpeakerBook) -> None:
    text = "According to Lavrov, “the talks collapsed because one side walked away.”"
    (quote,) = extract(text, speaker_book).values()
    assert (quote.speaker, quote.attribution) == ("Sergei Lavrov", Attribution.ACCORDING_TO)
    assert quote.partial  # it opens in lower case inside a reported sentence


def test_a_role_phrase_resolves_to_the_person(speaker_book: SpeakerBook) -> None:
    (quote,) = extract(
        "“We are not in a hurry,” the Kremlin spokesman said.", speaker_book
    ).values()
    assert (quote.speaker, quote.attribution, quote.speaker_role) == (
        PESKOV,
        Attribution.ROLE,
        "Kremlin spokesman",
    )


def test_a_surname_resolves_to_the_full_name_printed_earlier(speaker_book: SpeakerBook) -> None:
    text = (
        "Richard Weitz, a senior fellow, spent weeks in Russia.\n\n"
        "“Moscow wants a deal,” Weitz said."
    )
    assert who(text, speaker_book) == {"Moscow wants a deal": "Richard Weitz"}


def test_the_speaker_is_who_says_it_not_a_name_inside_it(speaker_book: SpeakerBook) -> None:
    text = "“Trump said the US interests were the main priority,” Peskov said."
    assert who(text, speaker_book) == {"Trump said the US interests were the main priority": PESKOV}


def test_a_split_quote_is_two_quotes_of_one_speaker(speaker_book: SpeakerBook) -> None:
    text = "“We came here to find a solution,” Lavrov said, “but a solution needs two sides.”"
    assert who(text, speaker_book) == {
        "We came here to find a solution": "Sergei Lavrov",
        "but a solution needs two sides.": "Sergei Lavrov",
    }


def test_a_one_word_sentence_continues_the_quote_before_it(speaker_book: SpeakerBook) -> None:
    quotes = extract("“We will not pay,” Martínez said. “Never.”", speaker_book)
    assert quotes["Never."].speaker == "Martínez"
    assert not quotes["Never."].partial


# --- what is not a statement ----------------------------------------------------------


def test_scare_quotes_are_not_statements(speaker_book: SpeakerBook) -> None:
    text = (
        "Analysts called it a “reset” of relations, or even a “New Cold War”.\n\n"
        "“We are ready to talk,” Peskov said."
    )
    assert list(extract(text, speaker_book)) == ["We are ready to talk"]


def test_a_short_phrase_someone_is_said_to_have_said_is_a_partial_quote(
    speaker_book: SpeakerBook,
) -> None:
    text = "The Kremlin said Trump's approach was “phenomenally close” to Putin's."
    (quote,) = extract(text, speaker_book).values()
    assert (quote.speaker, quote.partial) == ("Kremlin", True)


# --- who is not the speaker -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "role"),
    [
        ("“Voters will judge us,” a spokesman for the prime minister said.", None),
        ("“He has full confidence in her,” an aide to Prime Minister Sam Ode said.", None),
        ("A spokeswoman for President Vladimir Putin said: “Moscow is watching.”", None),
    ],
)
def test_someone_speaking_for_a_person_is_not_that_person(
    speaker_book: SpeakerBook, sentence: str, role: str | None
) -> None:
    (quote,) = extract(sentence, speaker_book).values()
    assert quote.speaker is None
    assert quote.attribution is Attribution.NONE
    assert quote.speaker_role is not None and quote.speaker_role.split()[0] in ("a", "an", "A")


def test_unnamed_sources_keep_their_role(speaker_book: SpeakerBook) -> None:
    (quote,) = extract(
        "“We will vote against it,” a senior opposition lawmaker said.", speaker_book
    ).values()
    assert (quote.speaker, quote.speaker_role, quote.cue) == (
        None,
        "a senior opposition lawmaker",
        "said",
    )


def test_an_unresolved_subject_is_not_handed_to_the_speaker_before(
    speaker_book: SpeakerBook,
) -> None:
    text = "“We are ready,” Peskov said.\n\n“The statement speaks for itself,” it said."
    quotes = who(text, speaker_book)
    assert quotes == {"We are ready": PESKOV, "The statement speaks for itself": None}


# --- names in any script --------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("“We will not accept this deal,” Recep Tayyip Erdoğan said.", "Recep Tayyip Erdoğan"),
        ("“The talks are going well,” said Olaf Müller, a German diplomat.", "Olaf Müller"),
        ("“Nothing has been agreed yet,” Ms. Sánchez told reporters.", "Sánchez"),
        ("“Europe stands ready,” said Ursula von der Leyen.", "Ursula von der Leyen"),
        ("Mohammed bin Salman said: “Our ports stay open.”", "Mohammed bin Salman"),
        ("“It is a question of trust,” said Siobhán O'Brien.", "Siobhán O'Brien"),
        ("Çelik, the Turkish trade minister, added: “Our ships are ready.”", "Çelik"),
    ],
)
def test_names_with_any_letters(speaker_book: SpeakerBook, sentence: str, speaker: str) -> None:
    (quote,) = extract(sentence, speaker_book).values()
    assert quote.speaker == speaker


def test_the_next_speaker_with_an_accented_name_is_not_the_one_before(
    speaker_book: SpeakerBook,
) -> None:
    text = (
        "“The talks are going well,” said Olaf Müller.\n\n"
        "“Nothing has been agreed yet by anyone,” Ms. Sánchez told reporters."
    )
    assert who(text, speaker_book) == {
        "The talks are going well": "Olaf Müller",
        "Nothing has been agreed yet by anyone": "Sánchez",
    }


def test_an_appositive_gives_the_role(speaker_book: SpeakerBook) -> None:
    (quote,) = extract(
        "Çelik, the Turkish trade minister, added: “Our ships are ready.”", speaker_book
    ).values()
    assert quote.speaker_role == "Turkish trade minister"


# --- comments and size ----------------------------------------------------------------


def test_quotes_in_reader_comments_belong_to_no_one(speaker_book: SpeakerBook) -> None:
    text = (
        "“We are ready,” Peskov said.\n\n"
        "14 Comments\n\n"
        "markus_77 says:\nMarch 6, 2025 at 9:14 am\n\n"
        "“Talks are pointless,” Lavrov said last year.\n\nReply"
    )
    assert who(text, speaker_book) == {"We are ready": PESKOV}


def test_a_long_input_still_yields_every_quote_with_its_speaker(
    speaker_book: SpeakerBook,
) -> None:
    block = (
        "The minister said on Monday that talks number {n} would resume soon.\n\n"
        "“We are ready to talk about item {n} and everything else,” said Jane Doe.\n\n"
        "“It is not for us to say,” Peskov said of round {n}. “Ask Kyiv.”\n\n"
    )
    text = "".join(block.format(n=n) for n in range(2_000))  # about 400 KB
    quotes = list(extract(text, speaker_book).values())
    assert len(quotes) == 2_000 + 2  # the repeated Peskov quotes share their text
    by_text = {q.text: q.speaker for q in quotes}
    assert by_text["We are ready to talk about item 1999 and everything else"] == "Jane Doe"
    assert by_text["It is not for us to say"] == PESKOV
    assert by_text["Ask Kyiv."] == PESKOV


def test_quote_marks_found_before_give_the_same_quotes(
    seed_documents: dict[str, Document], speaker_book: SpeakerBook
) -> None:
    for document in seed_documents.values():
        body = [Span(p.start, p.end) for p in document.body_paragraphs()]
        marked = find_marked_quotes(document.text, body)
        shared = extract_quotes(document, speaker_book, marked=marked)
        assert shared == extract_quotes(document, speaker_book)
