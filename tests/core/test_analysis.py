"""Everything learnt from one document alone, as one value a worker process can return."""

from __future__ import annotations

import pickle

from bot.core.analysis import analyse
from bot.core.documents import Document
from bot.core.extraction import extract_quotes
from bot.core.speakers import SpeakerBook
from bot.core.stories import TermVector
from bot.core.summaries import summarise


def test_analyse_gathers_quotes_summary_and_terms(
    seed_documents: dict[str, Document], speaker_book: SpeakerBook
) -> None:
    document = seed_documents["000_9400752ccb8fb0fa.txt"]
    analysed = analyse(document, speaker_book)
    assert analysed.document is document
    assert analysed.quotes == extract_quotes(document, speaker_book)
    assert analysed.summary == tuple((s.start, s.end) for s in summarise(document).sentences)
    assert analysed.terms == TermVector.of(document.body)


def test_summary_spans_index_whole_body_sentences(
    seed_documents: dict[str, Document], speaker_book: SpeakerBook
) -> None:
    for document in seed_documents.values():
        analysed = analyse(document, speaker_book)
        assert 2 <= len(analysed.summary) <= 4
        body = document.body
        for start, end in analysed.summary:
            sentence = " ".join(document.text[start:end].split())
            assert sentence in " ".join(body.split())


def test_the_same_document_is_analysed_alike_and_survives_pickling(
    seed_documents: dict[str, Document], speaker_book: SpeakerBook
) -> None:
    document = seed_documents["001_824f32114a763518.txt"]
    first, second = analyse(document, speaker_book), analyse(document, speaker_book)
    assert first == second
    assert pickle.loads(pickle.dumps(first)) == first  # the process pool sends it back
