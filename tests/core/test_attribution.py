"""Who said each quote, read from marked quotes and the people a document names: the
cue found, whether it was direct or inherited, and unnamed sources."""

from __future__ import annotations

from bot.core.attribution import Attributed, attribute_quotes
from bot.core.layout import find_paragraphs
from bot.core.quote_marks import find_marked_quotes
from bot.core.quotes import Attribution
from bot.core.references import People
from bot.core.speakers import SpeakerBook

PESKOV = "Dmitry Peskov"


def attribute(text: str, people: People) -> dict[str, Attributed]:
    paragraphs = list(find_paragraphs(text))
    marked = find_marked_quotes(text, paragraphs)
    found = attribute_quotes(text, paragraphs, marked, people)
    assert [a.quote for a in found] == marked  # one answer per quote, in order
    return {text[a.quote.start : a.quote.end].rstrip(","): a for a in found}


def test_a_cue_after_the_quote_is_direct(speaker_book: SpeakerBook) -> None:
    (found,) = attribute("“We are ready,” Peskov said.", People(speaker_book)).values()
    assert found.speaker is not None
    assert (found.speaker.name, found.speaker.how, found.cue) == (
        PESKOV,
        Attribution.AFTER,
        "said",
    )
    assert found.direct and not found.partial


def test_a_cue_before_the_quote_is_direct(speaker_book: SpeakerBook) -> None:
    (found,) = attribute("Peskov told reporters: “We are ready.”", People(speaker_book)).values()
    assert found.speaker is not None and found.speaker.how is Attribution.BEFORE
    assert (found.cue, found.direct) == ("told", True)


def test_an_inherited_speaker_is_not_direct(speaker_book: SpeakerBook) -> None:
    text = "“We are ready,” Peskov said.\n\n“The ball is in Washington's court.”"
    found = attribute(text, People(speaker_book))["The ball is in Washington's court."]
    assert found.speaker is not None and found.speaker.name == PESKOV
    assert found.speaker.how is Attribution.CONTINUATION
    assert (found.cue, found.direct) == (None, False)


def test_a_continuation_does_not_reach_past_the_paragraph_before(
    speaker_book: SpeakerBook,
) -> None:
    text = (
        "“We are ready,” Peskov said.\n\n"
        "Talks are due in Geneva next week.\n\n"
        "“Nobody should expect miracles.”"
    )
    assert attribute(text, People(speaker_book))["Nobody should expect miracles."].speaker is None


def test_a_pronoun_resolves_to_the_last_speaker_within_two_paragraphs(
    speaker_book: SpeakerBook,
) -> None:
    text = (
        "“We are ready,” Lavrov said.\n\n"
        "The two ministers meet on Friday in Geneva.\n\n"
        "“It will not be easy,” he added."
    )
    found = attribute(text, People(speaker_book))["It will not be easy"]
    assert found.speaker is not None
    assert (found.speaker.name, found.speaker.how) == ("Sergei Lavrov", Attribution.PRONOUN)


def test_the_subject_of_a_sentence_is_who_he_means(speaker_book: SpeakerBook) -> None:
    text = (
        "“We are ready,” Lavrov said.\n\n"
        "The Kremlin spokesman returned to the subject in the evening.\n\n"
        "“We are not in a hurry,” he said."
    )
    found = attribute(text, People(speaker_book))["We are not in a hurry"]
    assert found.speaker is not None and found.speaker.name == PESKOV


def test_a_passive_cue_takes_its_agent(speaker_book: SpeakerBook) -> None:
    text = "She was told by Lavrov that “nothing has changed in substance”."
    (found,) = attribute(text, People(speaker_book)).values()
    assert found.speaker is not None and found.speaker.name == "Sergei Lavrov"
    assert found.partial


def test_an_unnamed_subject_is_kept_as_printed(speaker_book: SpeakerBook) -> None:
    text = "“Talks will resume,” a senior official in the delegation said."
    (found,) = attribute(text, People(speaker_book)).values()
    assert found.speaker is None
    assert found.unnamed == "a senior official in the delegation"
    assert (found.cue, found.direct) == ("said", True)


def test_a_spokesman_for_a_known_person_is_unnamed(speaker_book: SpeakerBook) -> None:
    people = People(speaker_book, ("Sam Ode",), (("Prime Minister", "Sam Ode"),), ("Sam Ode",))
    text = "“Voters will judge us,” a spokesman for the prime minister said."
    (found,) = attribute(text, people).values()
    assert found.speaker is None
    assert found.unnamed == "a spokesman for the prime minister"


def test_an_organisation_speaks_for_itself(speaker_book: SpeakerBook) -> None:
    (found,) = attribute(
        "“The talks were useful,” the Foreign Ministry said.", People(speaker_book)
    ).values()
    assert found.speaker is not None
    assert (found.speaker.name, found.speaker.is_person) == ("Foreign Ministry", False)


def test_the_second_half_of_a_split_quote_is_as_partial_as_the_first(
    speaker_book: SpeakerBook,
) -> None:
    text = "“We came here to find a solution,” Moser said, “but a solution needs two.”"
    found = attribute(text, People(speaker_book, ("Katrin Moser",)))
    second = found["but a solution needs two."]
    assert not found["We came here to find a solution"].partial
    assert not second.partial
    assert second.speaker is not None and second.speaker.name == "Katrin Moser"


def test_he_is_the_person_mentioned_in_this_paragraph_or_the_one_before(
    speaker_book: SpeakerBook,
) -> None:
    mentioned = "Reporters waited while talks with Sergei Lavrov went on.\n\n"
    quote = "“We are ready,” he said."
    found = attribute(mentioned + quote, People(speaker_book))["We are ready"]
    assert found.speaker is not None
    assert (found.speaker.name, found.speaker.how) == ("Sergei Lavrov", Attribution.PRONOUN)
    # Two paragraphs back, a mention (and no one who spoke) is too far to say who "he" is.
    far = attribute(mentioned + "The weather was cold.\n\n" + quote, People(speaker_book))
    assert far["We are ready"].speaker is None


def test_a_sentence_that_opens_with_a_quote_then_a_role_phrase_has_that_subject(
    speaker_book: SpeakerBook,
) -> None:
    # The second sentence opens with a quote; the role phrase after it says whose words
    # "he" continues in the next paragraph.
    text = (
        "Lavrov spoke first.\n\n"
        "“Nothing is settled.” the Kremlin spokesman, for his part\n\n"
        "“We will see,” he said."
    )
    found = attribute(text, People(speaker_book))["We will see"]
    assert found.speaker is not None and found.speaker.name == PESKOV
