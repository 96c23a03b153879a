"""Document analysis spread over processes, for large ingests.

`analyse` is pure and independent per document (see `bot.core.analysis`), so a batch can
be split across cores. `ProcessPoolAnalyser` plugs into `Archive(store, book,
analyser=...)`. Workers send back only quotes, summary spans and term vectors, not the documents,
which the parent already holds.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

from bot.core.analysis import Analysed, analyse
from bot.core.documents import Document
from bot.core.overlaps import Prepared
from bot.core.quotes import Quote
from bot.core.speakers import SpeakerBook
from bot.core.stories import TermVector
from bot.sources.files import LoadReport

# An Analysed without its document (the caller has it: no need to send it back).
_Result = tuple[
    tuple[Quote, ...], tuple[tuple[int, int], ...], TermVector | None, tuple[Prepared, ...]
]


class ProcessPoolAnalyser:
    """An Archive analyser over a pool of `workers` processes (default: one per core).

    Batches smaller than `min_batch` are analysed in this process: a pool round trip
    costs more than one document. The pool starts on first use; `close()` (or a `with`
    block) stops it."""

    def __init__(self, *, workers: int | None = None, chunk_size: int = 8, min_batch: int = 4):
        self.workers = workers or os.cpu_count() or 1
        self._chunk_size = chunk_size
        self._min_batch = min_batch
        self._pool: ProcessPoolExecutor | None = None

    def __call__(self, documents: Sequence[Document], book: SpeakerBook) -> list[Analysed]:
        return self.start(documents, book)()

    def start(
        self, documents: Sequence[Document], book: SpeakerBook
    ) -> Callable[[], list[Analysed]]:
        """Send the batch to the pool now; the returned function waits for the results
        (so that the caller can do other work meanwhile)."""
        if self.workers < 2 or len(documents) < self._min_batch:
            return lambda: [analyse(document, book) for document in documents]
        size = max(1, min(self._chunk_size, len(documents) // self.workers))
        chunks = [documents[i : i + size] for i in range(0, len(documents), size)]
        executor = self._executor()
        futures = [executor.submit(_analyse_chunk, chunk, book) for chunk in chunks]

        def results() -> list[Analysed]:
            found = [result for future in futures for result in future.result()]
            return [
                Analysed(document, quotes, summary, terms, prepared)
                for document, (quotes, summary, terms, prepared) in zip(
                    documents, found, strict=True
                )
            ]

        return results

    def load_batches(
        self, files: Sequence[Path], *, batch: int, loader: Callable[[Path], LoadReport]
    ) -> Iterator[list[LoadReport]]:
        """Read the files in batches on the pool, one batch ahead of the caller: while
        the caller ingests a batch, the next one is read (and, through `start`,
        analysed) on the other processes. `loader` must be picklable (a module-level
        function or a functools.partial of one)."""
        slices = [files[i : i + batch] for i in range(0, len(files), batch)]
        if self.workers < 2 or len(files) < self._min_batch:
            for part in slices:
                yield [loader(file) for file in part]
            return
        executor = self._executor()

        def submit(part: Sequence[Path]) -> list[Future[list[LoadReport]]]:
            size = self._chunk_size * 2
            chunks = [part[i : i + size] for i in range(0, len(part), size)]
            return [executor.submit(_load_chunk, loader, chunk) for chunk in chunks]

        ahead = submit(slices[0]) if slices else []
        for following in [*slices[1:], None]:
            current = ahead
            ahead = submit(following) if following is not None else []
            yield [report for future in current for report in future.result()]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> ProcessPoolAnalyser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: workers never inherit the parent's open database connections or threads.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool


def _analyse_chunk(documents: Sequence[Document], book: SpeakerBook) -> list[_Result]:
    found = []
    for document in documents:
        analysed = analyse(document, book)
        found.append((analysed.quotes, analysed.summary, analysed.terms, analysed.prepared))
    return found


def _load_chunk(loader: Callable[[Path], LoadReport], files: Sequence[Path]) -> list[LoadReport]:
    return [loader(file) for file in files]
