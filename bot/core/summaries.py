"""Extractive summaries: the two to four body sentences that best say what an article is.

Unsupervised and deterministic. Sentences are scored by TF-IDF centrality (TextRank over
the sentence similarity graph), closeness to the headline, a lead-position prior and
whether they report who said something; then picked by maximal marginal relevance, so a
second sentence that repeats the first loses to one that adds something.

Only body paragraphs are read, so titles, headings, bylines and cuts (comments, CAPTCHA
lines, captions, editing credits) can never appear in a summary.
"""

from __future__ import annotations

import itertools
import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import mul, sub

from bot.core.documents import Document
from bot.core.layout import Span
from bot.core.quote_marks import MarkedQuote, find_marked_quotes

MIN_SENTENCES = 2
MAX_SENTENCES = 4
# Sentences scored, from the top: scoring compares every pair, so a book-length input
# must not be scored whole. News puts the point first, and the lead-position prior
# leaves sentence 200 of an article with a fraction of the first one's weight.
MAX_SCORED = 200


@dataclass(frozen=True)
class Sentence:
    """A body sentence; `start`/`end` index Document.text, `text` is that slice with
    whitespace runs collapsed to one space (and a leading dateline left out)."""

    start: int
    end: int
    text: str
    position: int  # 0 for the first body sentence


@dataclass(frozen=True)
class SummarySentence:
    start: int
    end: int
    text: str
    score: float  # its marginal relevance when picked; non-increasing within a summary


@dataclass(frozen=True)
class Summary:
    doc_id: str
    sentences: tuple[SummarySentence, ...]  # best first

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    def in_text_order(self) -> tuple[SummarySentence, ...]:
        """The same sentences as they stand in the article, which reads more naturally."""
        return tuple(sorted(self.sentences, key=lambda s: s.start))


@dataclass(frozen=True)
class SummaryWeights:
    # Relative weights. For news the lead position is the strongest single signal, then
    # whether a sentence reports who said what, then centrality and the headline.
    centrality: float = 0.25
    headline: float = 0.15
    position: float = 0.4
    attribution: float = 0.2
    mmr_lambda: float = 0.7  # relevance against novelty when picking the next sentence


DEFAULT_WEIGHTS = SummaryWeights()


def summarise(
    document: Document,
    *,
    max_sentences: int = 3,
    weights: SummaryWeights = DEFAULT_WEIGHTS,
    marked: Sequence[MarkedQuote] | None = None,
    terms: BodyTerms | None = None,
) -> Summary:
    """The best `max_sentences` (2 to 4) body sentences, best first; fewer only when the
    body has fewer sentences worth showing.

    `marked` (`find_marked_quotes` over the body paragraphs) and `terms` (`body_terms`)
    spare the work when the caller has already done it for the same document."""
    if not MIN_SENTENCES <= max_sentences <= MAX_SENTENCES:
        raise ValueError(f"max_sentences must be {MIN_SENTENCES} to {MAX_SENTENCES}")
    sentences, quoted = _sentences_and_quotes(document, marked)
    candidates = [s for s in sentences if _is_summary_worthy(s.text)][:MAX_SCORED]
    if not candidates:
        return Summary(document.id, ())
    terms = terms if terms is not None else body_terms(document)
    vectors = _tfidf_vectors(
        [terms.within(s.start, s.end) for s in candidates],
        headline=content_terms(document.title or ""),
    )
    sentence_vectors, headline_vector = vectors[:-1], vectors[-1]
    similarity = _similarity_matrix(sentence_vectors)
    centrality = _textrank(similarity)
    relevance = [
        _penalty(sentence.text)
        * (
            weights.centrality * centrality[i]
            + weights.headline * cosine(sentence_vectors[i], headline_vector)
            + weights.position * _position_prior(sentence.position)
            + weights.attribution * _attribution(document.text, sentence, quoted.within(sentence))
        )
        for i, sentence in enumerate(candidates)
    ]
    picked = _maximal_marginal_relevance(relevance, similarity, max_sentences, weights.mmr_lambda)
    return Summary(
        document.id,
        tuple(
            SummarySentence(candidates[i].start, candidates[i].end, candidates[i].text, score)
            for i, score in picked
        ),
    )


# --- sentences ---------------------------------------------------------------------------

# A full stop, "!", "?" or "…", any closing marks, then a space and something that can open
# a sentence, or straight into an opening quote ("…election.“And that…").
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[A-Z0-9]|[“«])")
_TITLES = frozenset(
    "mr mrs ms dr prof gen lt col maj capt cmdr adm sgt cpl sen rep gov pres supt rev hon st "
    "no nos vol fig jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# After "U.S." or "Jr." only a word that usually opens a sentence starts a new one.
_SENTENCE_OPENERS = frozenset(
    "the a an he she it they we i you his her its their our this that these those there "
    "but and in on at as after for while when if meanwhile however".split()
)
_DATELINE = re.compile(
    r"^(?:[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}"  # MOSCOW, Washington, NEW YORK
    r"(?:,[^()\n–—]{1,30}?)?"  # , Nov 10
    r"(?:\s*\([^()\n]{1,40}\)\s*|\s+)"  # (Reuters)
    r"[-–—]{1,2}\s+)"
)
_LEADING_DATE = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]{2,8} \d{4})"
    r"\s*[-–—:]?\s+"
)


def body_sentences(document: Document) -> tuple[Sentence, ...]:
    """Every sentence of the body paragraphs in text order, a leading dateline left out.

    Abbreviations (Mr., Lt. Gen., U.S.) end no sentence, and nothing inside quote marks
    is split: a quoted statement stays with its attribution."""
    return _sentences_and_quotes(document, None)[0]


def _sentences_and_quotes(
    document: Document, marked: Sequence[MarkedQuote] | None
) -> tuple[tuple[Sentence, ...], _Segments]:
    paragraphs = [Span(p.start, p.end) for p in document.body_paragraphs()]
    if marked is None:
        marked = find_marked_quotes(document.text, paragraphs)
    quoted = _Segments([segment for quote in marked for segment in quote.segments])
    sentences: list[Sentence] = []
    for index, paragraph in enumerate(paragraphs):
        start = paragraph.start
        if index == 0:
            start = _after_dateline(document.text, start, paragraph.end)
        inside = quoted.within(paragraph)
        for span in _split(document.text, Span(start, paragraph.end), inside):
            text = " ".join(document.text[span.start : span.end].split())
            sentences.append(Sentence(span.start, span.end, text, len(sentences)))
    return tuple(sentences), quoted


class _Segments:
    """Quoted spans in text order (they never overlap), found by bisection."""

    def __init__(self, spans: list[Span]) -> None:
        self.spans = sorted(spans, key=lambda s: s.start)
        self._starts = [s.start for s in self.spans]
        self._ends = [s.end for s in self.spans]

    def within(self, span: Span | Sentence) -> list[Span]:
        """The spans that overlap `span`."""
        first = bisect_right(self._ends, span.start)
        return self.spans[first : bisect_left(self._starts, span.end, lo=first)]


def _after_dateline(text: str, start: int, end: int) -> int:
    for pattern in (_LEADING_DATE, _DATELINE):
        match = pattern.match(text[start:end])  # `^` would not anchor at a `pos`
        if match and start + match.end() < end:
            start += match.end()
    return start


def _split(text: str, paragraph: Span, quoted: Sequence[Span]) -> list[Span]:
    cuts = [
        match.end()
        for match in _BOUNDARY.finditer(text, paragraph.start, paragraph.end)
        if not any(q.start < match.end() < q.end for q in quoted)
        and not _is_abbreviation(text, paragraph.start, match.start(), match.end())
    ]
    bounds = [paragraph.start, *cuts, paragraph.end]
    spans = (_trimmed(text, a, b) for a, b in itertools.pairwise(bounds))
    return [s for s in spans if s is not None]


def _is_abbreviation(text: str, floor: int, stop: int, cut: int) -> bool:
    if text[stop] != ".":
        return False
    word = re.search(r"[\w.]+$", text[max(floor, stop - 20) : stop])
    token = word.group(0).lower() if word else ""
    if token in _TITLES or (len(token) == 1 and token.isalpha()):
        return True
    if "." in token or token in ("jr", "sr", "inc", "corp", "co", "ltd"):
        following = re.match(r"\s*[\"'“‘«(\[]?(\w+)", text[cut : cut + 40])
        return following is None or following.group(1).lower() not in _SENTENCE_OPENERS
    return False


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


# --- what may be in a summary --------------------------------------------------------------

MIN_WORDS = 6  # shorter is a fragment: "Next Steps", "Putin said so."
_TERMINAL = (".", "!", "?", "…", ":", "”", '"', "’", "'", "»", ")")
_BOILERPLATE = re.compile(
    r"time limit is exhausted|reload the captcha|\((?:editing|reporting|writing) by|"
    r"^(?:editing|reporting|writing|additional reporting) by\b|all rights reserved|"
    r"copyright ©|click here|(?:sign up|subscribe) (?:for|to) (?:our|the) newsletter|"
    r"read more:|follow us on|"
    r"^(?:image|photo|picture|video|file photo)\s*:",
    re.IGNORECASE,
)


def _is_summary_worthy(text: str) -> bool:
    # A line without an ending is a heading or a label; tested before the costlier pattern.
    if len(text.split()) < MIN_WORDS or not text.endswith(_TERMINAL):
        return False
    return not _BOILERPLATE.search(text)


_REPORTING = re.compile(
    r"\b(?:said|says|told|tells|stated|states|added|adds|warned|cautioned|admitted|"
    r"insisted|argued|announced|described|wrote|pointed out|according to|indicated|"
    r"pledged|praised|lauded|critici[sz]ed|accused|urged|claimed|declared|noted|stressed|"
    r"emphasi[sz]ed|asserted|rejected|denied|acknowledged|confirmed|welcomed|dismissed)\b"
)
MIN_QUOTED_WORDS = 4  # "taken note" is a phrase, not a statement


def _attribution(text: str, sentence: Sentence, quoted: Sequence[Span]) -> float:
    """1 for a quoted statement with its speaker, ½ for reported speech, else 0: the
    sentences that say who said what are what a briefing is for."""
    inside = [
        (max(q.start, sentence.start), min(q.end, sentence.end))
        for q in quoted
        if q.start < sentence.end and q.end > sentence.start
    ]
    narrative = text[sentence.start : sentence.end]
    for a, b in inside:  # the reporting verb must be the writer's, not the speaker's
        a, b = a - sentence.start, b - sentence.start
        narrative = narrative[:a] + " " * (b - a) + narrative[b:]
    if not _REPORTING.search(narrative):
        return 0.0
    quoted_words = sum(len(text[a:b].split()) for a, b in inside)
    return 1.0 if quoted_words >= MIN_QUOTED_WORDS else 0.5


# A sentence that opens by pointing back ("He added…", "But…") leans on what it follows.
_DANGLING_START = re.compile(r"^(?:He|She|It|They|This|These|That|Those|And|But|So)\b")


def _penalty(text: str) -> float:
    factor = 1.0
    if text.rstrip("\"'”’»)").endswith("?"):
        factor *= 0.5  # a rhetorical question says nothing by itself
    if _DANGLING_START.match(text):
        factor *= 0.85
    return factor


def _position_prior(position: int) -> float:
    """News puts the point first: 1 for the first sentence, decaying gently after."""
    return 1.0 / math.sqrt(1 + position)


# --- similarity ------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    even ever every few for from further had has have having he her here hers him his how
    i if in into is it its itself just may me might more most much must my no nor not now
    of off on once only or other our ours out over own same she should so some such than
    that the their theirs them then there these they this those through to too under until
    up upon us very was we were what when where which while who whom why will with would
    yet you your mr mrs ms said says say told""".split()
)


def content_terms(text: str) -> list[str]:
    """The words that carry meaning, lower-cased and lightly stemmed, in text order."""
    return [term for term in map(_term, _WORD.findall(text)) if term is not None]


@dataclass(frozen=True)
class BodyTerms:
    """`content_terms` of a document's body paragraphs, each with the offset in
    Document.text of the word it comes from. Tokenised once, it serves both the summary
    (the terms of each sentence) and the story term vector (all of them, in order)."""

    starts: tuple[int, ...]
    words: tuple[str, ...]  # the terms of `Document.body`, in text order

    def within(self, start: int, end: int) -> list[str]:
        """The terms of the words that start in [start, end): `content_terms` of that
        slice when it cuts no word in two (a sentence never does)."""
        return list(self.words[bisect_left(self.starts, start) : bisect_left(self.starts, end)])


def body_terms(document: Document) -> BodyTerms:
    starts: list[int] = []
    words: list[str] = []
    for paragraph in document.body_paragraphs():
        for match in _WORD.finditer(document.text, paragraph.start, paragraph.end):
            term = _term(match.group())
            if term is not None:
                starts.append(match.start())
                words.append(term)
    return BodyTerms(tuple(starts), tuple(words))


@lru_cache(maxsize=1 << 16)  # a word recurs in every article: fold and stem it once
def _term(word: str) -> str | None:
    word = word.lower().replace("’", "'")
    return _stem(word) if word not in _STOP_WORDS and len(word) > 1 else None


def _stem(word: str) -> str:
    """Just enough folding to match "relations" with "relation" and "Russia's" with "Russia"."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


Vector = dict[str, float]


def _tfidf_vectors(texts: Sequence[Sequence[str]], *, headline: Sequence[str]) -> list[Vector]:
    """TF-IDF vectors of the sentences, then of the headline, with sentence-level IDF;
    each given as its content terms."""
    bags = [Counter(t) for t in texts]
    frequency = Counter(itertools.chain.from_iterable(bags))
    count = len(bags)
    # Each term's IDF once, not once per sentence holding it.
    idf = {term: math.log((1 + count) / (1 + n)) + 1 for term, n in frequency.items()}
    unseen = math.log((1 + count) / (1 + 0)) + 1  # a headline word in no sentence

    def vector(bag: Counter[str]) -> Vector:
        return {term: (1 + math.log(tf)) * idf.get(term, unseen) for term, tf in bag.items()}

    return [vector(bag) for bag in bags] + [vector(Counter(headline))]


def _similarity_matrix(vectors: Sequence[Vector]) -> list[list[float]]:
    """`cosine` of every pair, each vector's norm worked out once."""
    size = len(vectors)
    matrix = [[1.0 if i == j else 0.0 for j in range(size)] for i in range(size)]
    norms = [math.sqrt(sum(w * w for w in v.values())) for v in vectors]
    for i in range(size):
        for j in range(i + 1, size):
            a, b = vectors[i], vectors[j]
            if len(a) > len(b):
                a, b = b, a
            dot = _dot(a, b)
            if dot:
                matrix[i][j] = matrix[j][i] = dot / (norms[i] * norms[j])
    return matrix


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity of two sparse term vectors."""
    if len(a) > len(b):
        a, b = b, a
    dot = _dot(a, b)
    if not dot:
        return 0.0
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm


def _dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Summed in the order of `a`'s terms, so that a pair always gives the same float."""
    shared = [term for term in a if term in b]
    dot: float = sum(map(mul, map(a.__getitem__, shared), map(b.__getitem__, shared)))
    return dot


def _textrank(similarity: Sequence[Sequence[float]], *, damping: float = 0.85) -> list[float]:
    """Weighted PageRank over the sentence graph, scaled so the most central scores 1."""
    size = len(similarity)
    out_sums = [sum(row) - row[i] for i, row in enumerate(similarity)]
    # Each sentence's in-links (senders, and the share of the sender's weight they carry).
    senders = [
        [j for j in range(size) if j != i and similarity[j][i] and out_sums[j]] for i in range(size)
    ]
    shares = [[similarity[j][i] / out_sums[j] for j in links] for i, links in enumerate(senders)]
    base = (1 - damping) / size
    rank = [1.0 / size] * size
    for _ in range(100):
        at = rank.__getitem__
        # Summed in C, term by term in the same order as a plain loop: the same floats.
        new = [
            base + damping * sum(map(mul, weights, map(at, links)))
            for links, weights in zip(senders, shares, strict=True)
        ]
        converged = max(map(abs, map(sub, new, rank))) < 1e-9
        rank = new
        if converged:
            break
    top = max(rank)
    return [r / top for r in rank]


def _maximal_marginal_relevance(
    relevance: Sequence[float],
    similarity: Sequence[Sequence[float]],
    count: int,
    balance: float,
) -> list[tuple[int, float]]:
    """Indexes picked one at a time, each with its marginal relevance at the time."""
    picked: list[tuple[int, float]] = []
    remaining = list(range(len(relevance)))
    while remaining and len(picked) < count:
        gains = {
            i: balance * relevance[i]
            - (1 - balance) * max((similarity[i][j] for j, _ in picked), default=0.0)
            for i in remaining
        }
        best = max(remaining, key=lambda i: (gains[i], -i))  # ties go to the earlier one
        picked.append((best, gains[best]))
        remaining.remove(best)
    return picked


# --- measuring -------------------------------------------------------------------------------
# Kept here, next to what they measure, so the tests and bench/summary_quality.py share them.


def lead_summary(document: Document, *, count: int = 3) -> str:
    """The lead-N baseline: the first `count` body sentences, dateline left out."""
    return " ".join(s.text for s in body_sentences(document)[:count])


_ROUGE_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def rouge_n_f1(candidate: str, reference: str, *, n: int) -> float:
    """ROUGE-N F1 of a summary against a reference: the harmonic mean of n-gram precision
    and recall, counts clipped; words lower-cased, punctuation and quote marks dropped."""

    def grams(text: str) -> Counter[tuple[str, ...]]:
        words = [w.replace("’", "'") for w in _ROUGE_WORD.findall(text.casefold())]
        return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))

    ours, theirs = grams(candidate), grams(reference)
    overlap = sum((ours & theirs).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(ours.values())
    recall = overlap / sum(theirs.values())
    return 2 * precision * recall / (precision + recall)
