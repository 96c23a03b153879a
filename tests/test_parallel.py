"""The process pool gives exactly what analysing in this process gives."""

from __future__ import annotations

from bot.archive import analyse_in_process
from bot.parallel import ProcessPoolAnalyser
from tests.archive_fixtures import ARTICLES, BOOK, SEEDS, load_documents


def test_a_pool_analyses_like_one_process_in_the_same_order() -> None:
    documents = [*load_documents(SEEDS), *load_documents(ARTICLES)]
    with ProcessPoolAnalyser(workers=2, chunk_size=3, min_batch=1) as pool:
        assert pool(documents, BOOK) == analyse_in_process(documents, BOOK)
        assert pool._pool is not None  # the batch really went through the pool


def test_small_batches_stay_in_this_process() -> None:
    documents = load_documents(SEEDS)
    pool = ProcessPoolAnalyser(workers=2, min_batch=len(documents) + 1)
    assert pool(documents, BOOK) == analyse_in_process(documents, BOOK)
    assert pool._pool is None  # never started
    pool.close()
