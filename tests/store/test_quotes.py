"""Quotes read back, and the search over quotes and documents."""

from __future__ import annotations

from datetime import timedelta

from bot.core.documents import Document
from bot.core.quotes import Quote
from bot.store import Store
from tests.archive_fixtures import T0
from tests.store.samples import article, quote_in


def test_quotes_come_back_as_they_went_in(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, second, quotes = stored
    assert store.quotes_by_documents([first.id, second.id]) == sorted(
        quotes, key=lambda q: (q.doc_id, q.start)
    )
    assert store.quotes_by_ids([quotes[0].id, "missing:1"]) == {quotes[0].id: quotes[0]}
    assert sorted(store.all_quotes(), key=lambda q: q.id) == sorted(quotes, key=lambda q: q.id)
    assert store.quotes_by_speaker("Dmitry Peskov") == [
        q for q in store.all_quotes() if q.speaker == "Dmitry Peskov"
    ]
    assert store.speaker_counts() == {"Dmitry Peskov": 3}  # the unattributed one is not counted


def test_search_ignores_case_in_any_script(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, second, quotes = stored
    # Both documents were stored at the same moment: either may come first.
    assert {q.id for q in store.search_quotes("MUTUAL TRUST", limit=10)} == {
        quotes[3].id,
        quotes[0].id,
    }
    assert [q.id for q in store.search_quotes("атмосфера ДОВЕРИЯ", limit=10)] == [quotes[2].id]
    assert store.search_documents("ПЕСКОВ", limit=10) == [second.id]
    assert store.search_documents("osborn", limit=10) == [first.id]
    assert len(store.search_quotes("trust", limit=1)) == 1


def test_search_matches_words_in_order_the_last_as_a_prefix(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    _, _, quotes = stored
    assert {q.id for q in store.search_quotes("mutual tru", limit=10)} == {
        quotes[3].id,
        quotes[0].id,
    }
    assert store.search_quotes("trust mutual", limit=10) == []  # the words' order counts
    assert store.search_quotes("utual", limit=10) == []  # a word's middle is no match
    assert {q.id for q in store.search_quotes("years, to achieve!", limit=10)} == {
        quotes[3].id,
        quotes[0].id,
    }


def test_search_treats_symbols_as_separators_never_as_syntax(
    store: Store, stored: tuple[Document, Document, list[Quote]]
) -> None:
    first, _, quotes = stored
    assert store.search_quotes("100%", limit=10) == [quotes[1]]
    assert store.search_quotes("1%0", limit=10) == []  # % is no wildcard
    assert store.search_quotes("snake_case", limit=10) == [quotes[1]]
    assert store.search_quotes('snake" OR "trust', limit=10) == []  # no FTS5 syntax
    assert store.search_quotes("NEAR(trust mutual)", limit=10) == []
    assert store.search_quotes("*", limit=10) == []
    assert store.search_documents("\\", limit=10) == []
    assert store.search_documents("snake_", limit=10) == [first.id]


def test_search_puts_newer_documents_first(store: Store) -> None:
    older = article("Older\n\n“Budget talks went well,” Peskov said.\n", name="older.txt")
    newer = article("Newer\n\n“Budget talks went badly,” Peskov said.\n", name="newer.txt")
    for at, document, words in ((T0, older, "well"), (T0 + timedelta(hours=1), newer, "badly")):
        quote = quote_in(document, f"Budget talks went {words}", "Dmitry Peskov")
        with store.transaction() as conn:
            store.add_documents(conn, [(document, [quote], [])], now=at)
    assert [q.doc_id for q in store.search_quotes("budget talks", limit=5)] == [
        newer.id,
        older.id,
    ]
    assert store.search_documents("budget talks", limit=5) == [newer.id, older.id]
    assert store.search_documents("budget talks", limit=1) == [newer.id]


def test_search_results_follow_the_text_order(store: Store) -> None:
    lines = [f"“Statement number {n} is about the budget,” Peskov said." for n in range(12)]
    document = article("Budget\n\n" + "\n\n".join(lines) + "\n", name="budget.txt")
    quotes = [
        quote_in(document, f"Statement number {n} is about the budget", "Dmitry Peskov")
        for n in range(12)
    ]
    with store.transaction() as conn:
        store.add_documents(conn, [(document, quotes, [])], now=T0)
    found = store.search_quotes("about the budget", limit=20)
    assert [q.start for q in found] == sorted(q.start for q in quotes)
