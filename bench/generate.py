"""A seeded synthetic news corpus whose re-quoting is known, for benchmarks at scale.

Material comes from the seed articles and the test articles: their sentences are
templates, and most content words of each template are swapped for other words of the
same texts, so every statement is new but reads like the news it came from. Each
generated article is a plain .txt file (title, date line, byline, dateline naming the
outlet, paragraphs) whose quotes use the attribution forms of the seeds. A quote either
states something new (an original statement) or re-quotes an earlier one from the last
few weeks, popular statements more often: verbatim, edited (a word or two changed),
a fragment (a sentence or a clause), or merged with another statement of the same
speaker into one quote. `truth.json` records, for every quote, the statements it holds
and how it was copied, so clustering can be scored at any size.

The same config and seed always give the same files. Run:
    python -m bench.generate --docs 1000 [--seed 1] --out DIR
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.config import load_speakers
from bot.core.speakers import SpeakerKind
from bot.core.statement_rules import negations
from bot.core.text import STOP_WORDS, content_words, normalize_text
from bot.sources.files import load_path

ROOT = Path(__file__).resolve().parent.parent
MATERIAL_FOLDERS = (ROOT / "seeds", ROOT / "tests" / "articles")
SPEAKERS_FILE = ROOT / "config" / "speakers.yaml"
ARTICLES = "articles"  # the folder of .txt files inside the output folder
TRUTH = "truth.json"
STAMP = "corpus.json"  # version and config only: tells whether a folder can be reused
VERSION = 3  # bump when the output for a given config changes


class CopyKind(StrEnum):
    ORIGINAL = "original"  # the first printing of a statement
    VERBATIM = "verbatim"  # the same words (marks and apostrophes may differ)
    EDITED = "edited"  # one or two words changed, dropped or added
    FRAGMENT = "fragment"  # one sentence or clause of the statement
    MERGED = "merged"  # two statements of one speaker printed as one quote


@dataclass(frozen=True)
class CorpusConfig:
    docs: int
    seed: int = 1
    copy_share: float = 0.45  # of quotes, re-quoting an earlier statement
    # The mix of copies (weights).
    verbatim: float = 0.45
    edited: float = 0.25
    fragment: float = 0.2
    merged: float = 0.1
    min_quotes: int = 2
    max_quotes: int = 6
    docs_per_day: float = 40.0  # hundreds of feeds: years of articles at 100k
    # Articles report stories (events): most re-quotes come from the same story's
    # statements; some from any statement of the last weeks, or of the whole history.
    new_story_share: float = 0.15  # of articles, starting a story
    story_days: int = 5  # a story takes articles for up to this many days
    cross_story_share: float = 0.01  # of re-quotes, from any recent statement
    recency_days: int = 14  # how recent those are
    old_copy_share: float = 0.02  # of re-quotes, from before old_days ago
    old_days: int = 60
    partial_fragment_share: float = 0.3  # fragments embedded in a sentence
    outlet_share: float = 0.85  # documents with a "CITY (Outlet) –" dateline
    start: date = date(2016, 1, 4)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "start": self.start.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CorpusConfig:
        return cls(**{**data, "start": date.fromisoformat(data["start"])})


@dataclass(frozen=True)
class Statement:
    speaker: str  # canonical name, as extraction should report it
    text: str


@dataclass(frozen=True)
class TruthQuote:
    text: str  # the quoted words as printed between the marks
    speaker: str
    copy: CopyKind
    statements: tuple[int, ...]  # two for a merged quote
    partial: bool = False


@dataclass(frozen=True)
class TruthDocument:
    file: str  # name inside the articles folder
    outlet: str | None
    published: date
    quotes: tuple[TruthQuote, ...]


@dataclass(frozen=True)
class GroundTruth:
    config: CorpusConfig
    statements: tuple[Statement, ...]  # a statement's id is its index
    documents: tuple[TruthDocument, ...]  # in file-name (and date) order
    version: int = VERSION

    def quotes(self) -> list[tuple[str, TruthQuote]]:
        """(file name, quote) for every quote of the corpus."""
        return [(d.file, q) for d in self.documents for q in d.quotes]

    def save(self, path: Path) -> None:
        data = {
            "version": self.version,
            "config": self.config.to_json(),
            "statements": [[s.speaker, s.text] for s in self.statements],
            "documents": [
                {
                    "file": d.file,
                    "outlet": d.outlet,
                    "published": d.published.isoformat(),
                    "quotes": [
                        [q.text, q.speaker, q.copy.value, list(q.statements), q.partial]
                        for q in d.quotes
                    ],
                }
                for d in self.documents
            ],
        }
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        data = json.loads(path.read_text("utf-8"))
        return cls(
            config=CorpusConfig.from_json(data["config"]),
            statements=tuple(Statement(speaker, text) for speaker, text in data["statements"]),
            documents=tuple(
                TruthDocument(
                    file=d["file"],
                    outlet=d["outlet"],
                    published=date.fromisoformat(d["published"]),
                    quotes=tuple(
                        TruthQuote(text, speaker, CopyKind(copy), tuple(ids), partial)
                        for text, speaker, copy, ids, partial in d["quotes"]
                    ),
                )
                for d in data["documents"]
            ),
            version=data["version"],
        )


def generate_corpus(config: CorpusConfig, out: Path) -> GroundTruth:
    """Write `out/articles/*.txt` and `out/truth.json`; returns the ground truth."""
    articles = out / ARTICLES
    articles.mkdir(parents=True, exist_ok=True)
    (out / STAMP).unlink(missing_ok=True)
    for stale in articles.glob("*.txt"):
        stale.unlink()
    generator = _Generator(config, Material.load())
    documents = []
    for index in range(config.docs):
        name = f"{index:06d}.txt"
        text, document = generator.document(index, name)
        (articles / name).write_text(text, "utf-8")
        documents.append(document)
    truth = GroundTruth(config, tuple(generator.statements), tuple(documents))
    truth.save(out / TRUTH)
    (out / STAMP).write_text(json.dumps(_stamp(config)), "utf-8")
    return truth


def is_generated(config: CorpusConfig, out: Path) -> bool:
    """Whether `out` already holds this corpus (same generator version and config)."""
    stamp = out / STAMP
    return stamp.exists() and json.loads(stamp.read_text("utf-8")) == _stamp(config)


def load_truth(out: Path) -> GroundTruth | None:
    path = out / TRUTH
    return GroundTruth.load(path) if path.exists() else None


def _stamp(config: CorpusConfig) -> dict[str, Any]:
    return {"version": VERSION, "config": config.to_json()}


# ---- material ------------------------------------------------------------------------

# Not after a title or an initialism: "Mr. Peskov", "the U.S. President".
_SENTENCE_END = re.compile(r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bDr\.)(?<!\.S\.)(?<=[.!?])\s+(?=[A-Z])")
_UNWANTED = re.compile(r"[\d\[\]()–—:/]|\b[A-Z]{4,}\b|http")  # datelines, numbers, asides
_LOWER_WORD = re.compile(r"[a-z][a-z'-]*[a-z]")
_CAPITAL_WORD = re.compile(r"[A-Z][a-z]+")
_MARKS = "“”\"«»‘'()[]"
_KEEP, _LOWER, _CAPITAL = 0, 1, 2


@dataclass(frozen=True)
class _Token:
    core: str
    trail: str
    kind: int  # _KEEP, or the kind of word that may replace it


@dataclass(frozen=True)
class Material:
    """Sentence templates and the words that may fill them."""

    templates: tuple[tuple[_Token, ...], ...]
    words: tuple[str, ...]  # lower-case content words
    capitals: tuple[str, ...]  # capitalised words (names, places)

    @classmethod
    def load(cls, folders: Sequence[Path] = MATERIAL_FOLDERS) -> Material:
        bodies = [d.body for folder in folders for d in load_path(folder).documents]
        templates: list[tuple[_Token, ...]] = []
        words: set[str] = set()
        capitals: set[str] = set()
        for body in bodies:
            for paragraph in body.split("\n"):
                for sentence in _SENTENCE_END.split(paragraph.replace("’", "'")):
                    tokens = _tokens(sentence)
                    if tokens is None:
                        continue
                    templates.append(tokens)
                    for t in tokens:
                        (words if t.kind == _LOWER else capitals).add(t.core)
        capitals.discard("")
        return cls(tuple(templates), tuple(sorted(words)), tuple(sorted(capitals)))

    def sentence(
        self,
        rng: random.Random,
        *,
        swap: float = 0.7,
        topic: Sequence[str] = (),
        topic_share: float = 0.0,
    ) -> str:
        """A template with most content words swapped (at least 60%, and three): a new
        sentence every time, never a near copy of another. A swapped word is one of the
        story's `topic` words `topic_share` of the time."""
        while True:
            template = self.templates[rng.randrange(len(self.templates))]
            out = []
            swapped = 0
            for t in template:
                core = t.core
                if t.kind == _LOWER and rng.random() < swap:
                    if topic and rng.random() < topic_share:
                        core = topic[rng.randrange(len(topic))]
                    else:
                        core = self.words[rng.randrange(len(self.words))]
                elif t.kind == _CAPITAL and rng.random() < swap:
                    core = self.capitals[rng.randrange(len(self.capitals))]
                swapped += core != t.core
                out.append(core + t.trail)
            if swapped >= max(3, 0.6 * sum(t.kind != _KEEP for t in template)):
                break
        text = " ".join(out)
        text = text[0].upper() + text[1:]
        return text if text[-1] in ".!?" else text.rstrip(",;:") + "."


def _tokens(sentence: str) -> tuple[_Token, ...] | None:
    raw = sentence.split()
    if not 6 <= len(raw) <= 32 or _UNWANTED.search(sentence):
        return None
    tokens = []
    for position, word in enumerate(raw):
        bare = word.strip(_MARKS)
        core = bare.rstrip(".,;:!?").strip(_MARKS)
        if not core:
            continue
        trail = bare[len(bare.rstrip(".,;:!?")) :]
        kind = _KEEP
        if len(core) > 3 and core.casefold() not in STOP_WORDS:
            if _LOWER_WORD.fullmatch(core):
                kind = _LOWER
            elif _CAPITAL_WORD.fullmatch(core) and position > 0:
                kind = _CAPITAL
        tokens.append(_Token(core, trail, kind))
    if sum(t.kind != _KEEP for t in tokens) < 5:  # too few words to make it new
        return None
    return tuple(tokens)


# ---- people, outlets, places --------------------------------------------------------

_WOMEN = """Anna Maria Olena Halyna Marta Lena Sofia Ingrid Amara Chen Leila Aisha Yuki
    Priya Elena Irina Natalia Fatima Carmen Julia Hannah Zeynep Ewa Katarzyna Oksana Amina
    Rosa Claire Nadia Helga Mei Ana Lucia Sara Noor Tamara Vera Agnieszka Ines Astrid""".split()
_MEN = """Tomasz Ibrahim Piotr Sergei Andrei Mikhail Jan Lars Kwame Hiroshi Rahul Carlos
    Ahmed Omar Pavel Dmitri Yusuf Marco Stefan Viktor Gabriel Felix Oleksandr Mateusz Jonas
    Henrik Kofi Arjun Wei Tariq Luis Nikolai Bogdan Emre Rafael Mehmet Ivan Kenji Simon""".split()
_SURNAMES = """Kowalczyk Brandt Okafor Vidal Hartmann Novak Zielinski Bondar Marchenko Osei
    Tanaka Sharma Haddad Lindqvist Moreau Rossi Petrenko Kuznetsova Horvath Dubois Nakamura
    Mensah Castillo Novotny Lewandowski Jovanovic Andersson Fischer Shevchenko Yilmaz Kaya
    Morozov Sokolov Kravets Rudenko Melnyk Tkachenko Kovalenko Lysenko Boyko Volkov Orlov
    Lebedev Popescu Ionescu Nowak Wojcik Kaminski Szabo Varga Nagy Kovacs Bauer Weber
    Becker Schulz Keller Richter Wolff Lambert Girard Bonnet Fontaine Mercier Ricci Bruno
    Greco Conti Esposito Romano Marino Ferreira Santos Oliveira Pereira Almeida Costa Silva
    Mendes Navarro Ortega Romero Herrera Molina Delgado Vargas Chavez Ramos Reyes Torres
    Abdullah Rahman Hussain Qureshi Siddiqui Malik Farouk Nasser Mansour Khalil Saleh
    Adeyemi Okonkwo Nwosu Boateng Asante Owusu Kamau Otieno Mwangi Njoroge Banda Phiri
    Nguyen Tran Pham Hoang Kimura Sato Suzuki Takahashi Watanabe Yamamoto Ishikawa Mori
    Gupta Iyer Reddy Nair Menon Kapoor Mehta Joshi Verma Bhatt Desai Patil Pillai Rao
    Eriksen Halvorsen Nieminen Virtanen Korhonen Laine Jensen Nielsen Hansen Larsen
    Petrov Ivanova Smirnov Fedorov Pavlov Semenov Egorov Vasiliev Zaitsev Belov Gusev
    Kozlov Stepanov Nikolaev Tarasov Belyaev Komarov Kiselev Makarov Antonov Gerasimov""".split()
_ORGANISATIONS = """Lagos Institute|Prague Institute for Security Studies|Warsaw School of
    Economics|Baltic Policy Centre|Kyiv School of Economics|Geneva Graduate Institute|Nordic
    Energy Forum|Carnegie Centre|Danube Research Group|Atlantic Council|Caspian Studies
    Institute|Black Sea Trade Council""".replace("\n    ", " ").split("|")
_APPOSITIVES = (
    "an economist at the {org}",
    "a senior fellow at the {org}",
    "a spokeswoman for the {org}",
    "a spokesman for the {org}",
    "a director at the {org}",
    "a member of parliament",
    "a former diplomat",
)
_PLACES = """MOSCOW KYIV WASHINGTON LONDON BRUSSELS BERLIN PARIS WARSAW GENEVA VIENNA
    BEIJING ANKARA TBILISI MINSK RIGA VILNIUS TALLINN HELSINKI STOCKHOLM PRAGUE BUDAPEST
    BUCHAREST SOFIA BELGRADE ISTANBUL DUBAI DOHA TOKYO DELHI NAIROBI LAGOS ROME MADRID
    LISBON OSLO COPENHAGEN ODESA KHARKIV GDANSK""".split()
_OUTLET_HEADS = """Northern Baltic Eastern Western Atlantic Continental Danube Nordic Capital
    Coastal Central Alpine Harbour Metropolitan Evening Morning National Global Pacific
    Southern Highland Riverside Civic Union Federal Meridian Liberty Summit Horizon""".split()
_OUTLET_TAILS = """Wire Times Post Herald Ledger Gazette Tribune Observer Courier Chronicle
    Monitor Dispatch Journal Review Standard Telegraph Press Sentinel Bulletin""".split()
_WIRES = ("Reuters", "AP", "AFP", "Interfax", "TASS", "Bloomberg", "Europe Daily Wire")
_MONTHS = """January February March April May June July August September October November
    December""".split()
_INTENSIFIERS = ("very", "really", "also", "certainly", "now", "still", "clearly")
_CONTRACTIONS = (
    ("it is", "it's"),
    ("do not", "don't"),
    ("does not", "doesn't"),
    ("will not", "won't"),
    ("can not", "can't"),
    ("cannot", "can't"),
    ("is not", "isn't"),
    ("we are", "we're"),
    ("we will", "we'll"),
    ("they are", "they're"),
    ("that is", "that's"),
)
_SPELLINGS = (("ize", "ise"), ("yze", "yse"), ("or", "our"), ("er", "re"))


@dataclass(frozen=True)
class _Speaker:
    name: str  # canonical: what extraction reports
    first: str  # as named at the first mention in an article
    later: str  # as named afterwards in the same article
    pronoun: str
    roles: tuple[str, ...]  # role phrases the speaker book knows ("Kremlin spokesman")
    appositive: str  # "an economist at the Lagos Institute"


def _speakers(rng: random.Random, count: int) -> list[_Speaker]:
    """The configured people first (the most quoted), then generated names."""
    found: list[_Speaker] = []
    configured = load_speakers(SPEAKERS_FILE).speakers
    for speaker in configured:
        if speaker.kind is not SpeakerKind.PERSON:
            continue
        surname = speaker.surname
        later = surname if surname in speaker.aliases else speaker.name
        pronoun = "she" if speaker.name.split()[0] in [*_WOMEN, "Hillary"] else "he"
        # A role naming someone else ("spokesman for ... Vladimir Putin") is left out: the
        # extractor files such quotes under the name inside the role.
        others = [s.surname for s in configured if s is not speaker]
        roles = tuple(r for r in speaker.roles if not any(o in r for o in others))
        found.append(_Speaker(speaker.name, speaker.name, later, pronoun, roles, ""))
    people = [(f, "she") for f in _WOMEN] + [(m, "he") for m in _MEN]
    pairs = list(itertools.product(range(len(people)), range(len(_SURNAMES))))
    rng.shuffle(pairs)
    for person, surname_at in pairs[: max(0, count - len(found))]:
        first, pronoun = people[person]
        surname = _SURNAMES[surname_at]
        appositive = rng.choice(_APPOSITIVES).format(org=rng.choice(_ORGANISATIONS))
        found.append(
            _Speaker(f"{first} {surname}", f"{first} {surname}", surname, pronoun, (), appositive)
        )
    return found


def _outlets(rng: random.Random, count: int) -> list[str]:
    names = [f"{a} {b}" for a in _OUTLET_HEADS for b in _OUTLET_TAILS]
    rng.shuffle(names)
    return [*_WIRES, *names[: max(0, count - len(_WIRES))]]


def _zipf_weights(count: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(count)))


# ---- the generator -------------------------------------------------------------------


@dataclass
class _Story:
    """An event several articles report: its voices, its words, what was said in it."""

    last_day: int  # the last day it takes articles
    voices: list[int]  # the speakers (indexes) quoted first-hand in it
    topic: list[str]  # words its articles keep using
    printed: list[int] = field(default_factory=list)  # statements, once per printing
    articles: int = 0


@dataclass
class _Plan:
    """One quote of an article before it is written out."""

    truth: TruthQuote
    speaker: _Speaker
    embedded: bool = False  # a partial quote inside a reported sentence


class _Generator:
    def __init__(self, config: CorpusConfig, material: Material) -> None:
        self.config = config
        self.material = material
        self.rng = random.Random(config.seed)
        self.statements: list[Statement] = []
        self._speaker_of: list[int] = []  # statement -> speaker index
        self._by_speaker: dict[int, list[int]] = {}
        self._printed_days: list[int] = []  # one entry per statement printed, by date
        self._printed: list[int] = []  # its statement: a random entry is a preferential pick
        self._stories: list[_Story] = []  # those still taking articles
        self.speakers = _speakers(self.rng, max(60, config.docs // 15))
        self._speaker_weights = _zipf_weights(len(self.speakers), 0.9)
        self.outlets = _outlets(self.rng, max(12, min(500, config.docs // 100)))
        self._outlet_weights = _zipf_weights(len(self.outlets), 0.8)
        self._copy_kinds = [CopyKind.VERBATIM, CopyKind.EDITED, CopyKind.FRAGMENT, CopyKind.MERGED]
        weights = (config.verbatim, config.edited, config.fragment, config.merged)
        self._copy_weights = list(itertools.accumulate(weights))

    def document(self, index: int, name: str) -> tuple[str, TruthDocument]:
        rng, config = self.rng, self.config
        day = int(index / config.docs_per_day)
        published = config.start + timedelta(days=day)
        outlet = (
            self._pick(self.outlets, self._outlet_weights)
            if rng.random() < config.outlet_share
            else None
        )
        story = self._story(day)
        voices = rng.sample(story.voices, rng.randint(1, len(story.voices)))
        used: set[int] = set()
        plans: list[_Plan] = []
        # A story's first article has nothing to re-quote: the others make up for it.
        copy_share = min(0.95, config.copy_share / (1 - config.new_story_share))
        for _ in range(rng.randint(config.min_quotes, config.max_quotes)):
            plan = None
            if story.printed and rng.random() < copy_share:
                for _attempt in range(3):  # a fragment or a merge is not always possible
                    plan = plan or self._copy(day, story, used)
            if plan is None:
                plan = self._original(rng.choice(voices), story)
            used.update(plan.truth.statements)
            plans.append(plan)
        for plan in plans:
            for statement in plan.truth.statements:
                self._printed_days.append(day)
                self._printed.append(statement)
                story.printed.append(statement)
        text = self._write(published, outlet, plans, story)
        return text, TruthDocument(name, outlet, published, tuple(p.truth for p in plans))

    # -- choosing quotes ---------------------------------------------------------------

    def _pick(self, items: Sequence[str], weights: list[float]) -> str:
        return items[bisect.bisect(weights, self.rng.random() * weights[-1])]

    def _pick_speaker(self) -> int:
        return bisect.bisect(self._speaker_weights, self.rng.random() * self._speaker_weights[-1])

    def _story(self, day: int) -> _Story:
        """The story an article reports: a new one, or a running one (big ones more often)."""
        rng = self.rng
        self._stories = [s for s in self._stories if s.last_day >= day]
        if not self._stories or rng.random() < self.config.new_story_share:
            story = _Story(
                last_day=day + rng.randrange(self.config.story_days),
                voices=[self._pick_speaker() for _ in range(rng.randint(2, 4))],
                topic=rng.sample(self.material.words, 8),
            )
            self._stories.append(story)
        else:
            sizes = list(itertools.accumulate(s.articles + 1 for s in self._stories))
            story = self._stories[bisect.bisect(sizes, rng.random() * sizes[-1])]
        story.articles += 1
        return story

    def _original(self, speaker_at: int, story: _Story) -> _Plan:
        rng = self.rng
        sentences = rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0]
        text = " ".join(
            self.material.sentence(rng, topic=story.topic, topic_share=0.15)
            for _ in range(sentences)
        )
        statement = self._new_statement(speaker_at, text)
        speaker = self.speakers[speaker_at]
        return _Plan(TruthQuote(text, speaker.name, CopyKind.ORIGINAL, (statement,)), speaker)

    def _new_statement(self, speaker_at: int, text: str) -> int:
        statement = len(self.statements)
        self.statements.append(Statement(self.speakers[speaker_at].name, text))
        self._speaker_of.append(speaker_at)
        self._by_speaker.setdefault(speaker_at, []).append(statement)
        return statement

    def _earlier_statement(self, day: int, story: _Story, used: set[int]) -> int | None:
        """A statement printed before: mostly in this story, else recently or at any
        time. Popular ones come up more often: a random earlier printing picks each
        statement in proportion to how often it was printed."""
        rng, config = self.rng, self.config
        chance = rng.random()
        printed, low, high = story.printed, 0, len(story.printed)
        if chance < config.old_copy_share:
            printed = self._printed
            high = bisect.bisect_left(self._printed_days, day - config.old_days)
        elif chance < config.old_copy_share + config.cross_story_share:
            printed, high = self._printed, len(self._printed)
            low = bisect.bisect_left(self._printed_days, day - config.recency_days)
        if low >= high:
            return None
        for _ in range(4):
            statement = printed[rng.randrange(low, high)]
            if statement not in used:
                return statement
        return None

    def _copy(self, day: int, story: _Story, used: set[int]) -> _Plan | None:
        rng = self.rng
        kind = self._copy_kinds[
            bisect.bisect(self._copy_weights, rng.random() * self._copy_weights[-1])
        ]
        source = self._earlier_statement(day, story, used)
        if source is None:
            return None
        speaker = self.speakers[self._speaker_of[source]]
        original = self.statements[source].text
        if kind is CopyKind.VERBATIM:
            return _Plan(TruthQuote(original, speaker.name, kind, (source,)), speaker)
        if kind is CopyKind.EDITED:
            edited = _edit(original, rng, self.material)
            if edited is None:
                return None
            return _Plan(TruthQuote(edited, speaker.name, kind, (source,)), speaker)
        if kind is CopyKind.FRAGMENT:
            fragment = _fragment(original, rng)
            if fragment is None:
                return None
            embedded = (
                rng.random() < self.config.partial_fragment_share and len(fragment.split()) <= 12
            )
            truth = TruthQuote(fragment, speaker.name, kind, (source,), partial=embedded)
            return _Plan(truth, speaker, embedded=embedded)
        # Another statement of the same speaker in the same story (or, for a re-quote
        # from outside the story, one of the speaker's latest).
        speaker_at = self._speaker_of[source]
        pool = story.printed if source in story.printed else self._by_speaker[speaker_at][-20:]
        others = sorted(
            {s for s in pool if self._speaker_of[s] == speaker_at and s != source and s not in used}
        )
        if not others:
            return None
        second = rng.choice(others)
        first, second = sorted((source, second))  # in the order they were first said
        text = f"{self.statements[first].text} {self.statements[second].text}"
        return _Plan(TruthQuote(text, speaker.name, kind, (first, second)), speaker)

    # -- writing -----------------------------------------------------------------------

    def _write(self, published: date, outlet: str | None, plans: list[_Plan], story: _Story) -> str:
        rng, material = self.rng, self.material

        def sentence() -> str:
            return material.sentence(rng, topic=story.topic, topic_share=0.3)

        style = rng.choices(("curly", "straight", "guillemets"), weights=(0.75, 0.2, 0.05))[0]
        opening, closing = {"curly": ("“", "”"), "straight": ('"', '"'), "guillemets": ("«", "»")}[
            style
        ]
        title = " ".join(sentence().split()[: rng.randint(5, 11)]).rstrip(".,;:!?–—-")
        title = title.replace("–", "").replace("—", "").replace(" - ", " ")
        paragraphs = [title, f"{_MONTHS[published.month - 1]} {published.day}, {published.year}"]
        speakers = {plan.speaker.name: plan.speaker for plan in plans}
        surnames = Counter(s.later for s in speakers.values())
        if rng.random() < 0.7:
            # Not a speaker's surname: the extractor would read "Mori said" as the byline's.
            reporter = rng.choice([s for s in _SURNAMES[:40] if s not in surnames])
            paragraphs.append(f"By {rng.choice(_WOMEN + _MEN)} {reporter}")
        place = rng.choice(_PLACES)
        dateline = f"{place} ({outlet}) –" if outlet else f"{place} –"
        paragraphs.append(f"{dateline} {sentence()} {sentence()}")
        named: set[str] = set()  # speakers already named in this article
        previous: _Speaker | None = None  # the speaker of the paragraph just before
        speakers = {plan.speaker.name: plan.speaker for plan in plans}
        # Two people with one surname in an article: always named in full.
        shared = {
            later for later, n in Counter(s.later for s in speakers.values()).items() if n > 1
        }
        for plan in plans:
            if rng.random() < 0.4:
                paragraphs.append(" ".join(sentence() for _ in range(rng.randint(1, 2))))
                previous = None
            full = plan.speaker.name not in named or plan.speaker.later in shared
            paragraphs.append(self._quote_paragraph(plan, opening, closing, full, previous))
            previous = plan.speaker
            named.add(plan.speaker.name)
        paragraphs.append(sentence())
        text = "\n\n".join(paragraphs) + "\n"
        return text.replace("'", "’") if style == "curly" else text

    def _quote_paragraph(
        self,
        plan: _Plan,
        opening: str,
        closing: str,
        full: bool,
        previous: _Speaker | None,
    ) -> str:
        """The quote in one of the attribution forms; `full`: name the speaker in full."""
        rng, speaker, words = self.rng, plan.speaker, plan.truth.text
        who = speaker.first if full else speaker.later
        if plan.embedded:
            lead = words[0].lower() + words[1:] if words.split()[0].lower() in STOP_WORDS else words
            noun = self.material.words[rng.randrange(len(self.material.words))]
            return f"{who} said the {noun} was {opening}{lead}{closing}."
        if words[-1] == ".":
            trailing = words[:-1] + ","
        else:
            trailing = words if words[-1] in "!?," else words + ","
        if opening == "«":
            trailing = trailing.rstrip(",")
            quoted = f"{opening}{trailing}{closing},"
        else:
            quoted = f"{opening}{trailing}{closing}"
        # The extractor reads «…» only before the attribution, as the test article has it.
        forms = ["after", "after", "inverted"] + (["before", "told"] if opening != "«" else [])
        if previous is speaker:
            forms += ["pronoun", "pronoun", "pronoun"]
        if speaker.roles and not full:
            forms.append("role")
        form = rng.choice(forms)
        if form == "pronoun":
            return f"{quoted} {speaker.pronoun} said."
        if form == "role":
            return f"{quoted} the {rng.choice(speaker.roles)} said."
        if form == "inverted" and speaker.appositive and full:
            return f"{quoted} said {who}, {speaker.appositive}."
        if form in ("before", "told"):
            verb = "said" if form == "before" else "told reporters"
            return f"{who} {verb}: {opening}{words}{closing}"
        return f"{quoted} {who} said."


def _edit(text: str, rng: random.Random, material: Material) -> str | None:
    """One small change per 15 words (at most two): a contraction, a changed, dropped or
    added word, or a spelling. None if no change took."""
    words = text.split()
    changes = 1 if len(words) <= 15 else 2
    for _ in range(changes):
        for _attempt in range(6):
            changed = _one_edit(words, rng, material)
            if changed is not None:
                words = changed
                break
    edited = " ".join(words)
    return edited if normalize_text(edited) != normalize_text(text) else None


def _one_edit(words: list[str], rng: random.Random, material: Material) -> list[str] | None:
    operation = rng.randrange(5)
    at = rng.randrange(1, len(words)) if len(words) > 1 else 0
    if operation == 0:  # a contraction, or its expansion
        joined = " ".join(words)
        for long, short in rng.sample(_CONTRACTIONS, len(_CONTRACTIONS)):
            for a, b in ((long, short), (short, long)):
                hit = re.search(rf"\b{re.escape(a)}\b", joined, flags=re.IGNORECASE)
                if hit:
                    found = hit.group()
                    replacement = b[0].upper() + b[1:] if found[0].isupper() else b
                    joined = joined[: hit.start()] + replacement + joined[hit.end() :]
                    return joined.split()
        return None
    core = words[at].rstrip(".,;:!?")
    tail = words[at][len(core) :]
    if operation in (1, 2) and negations([core.lower()]):
        return None  # dropping "not" or "never" is a misquote, not a light edit
    if operation == 1 and core.isalpha() and core.lower() not in STOP_WORDS:
        replacement = material.words[rng.randrange(len(material.words))]
        if negations([replacement.lower()]):
            return None  # nor is putting one in
        return [*words[:at], replacement + tail, *words[at + 1 :]]
    if operation == 2 and not tail and len(words) > 6:  # drop a word inside a sentence
        return [*words[:at], *words[at + 1 :]]
    if operation == 3:
        return [*words[:at], rng.choice(_INTENSIFIERS), *words[at:]]
    if operation == 4:
        for us, uk in _SPELLINGS:
            if core.endswith(us) and len(core) > 5:
                return [*words[:at], core[: -len(us)] + uk + tail, *words[at + 1 :]]
    return None


def _fragment(text: str, rng: random.Random) -> str | None:
    """One sentence of a longer statement, or a run of about half its words; either
    with four content words at least, so that it still says something of its own, and
    never cut just after a negation ("not | ready to talk" prints the opposite: a
    misquote, which the overlap engine keeps apart on purpose)."""
    sentences = _SENTENCE_END.split(text)
    piece = None
    if len(sentences) > 1 and rng.random() < 0.5:
        piece = rng.choice(sentences)
    else:
        words = text.split()
        if len(words) >= 10:
            size = max(6, int(len(words) * rng.uniform(0.45, 0.75)))
            start = rng.randrange(0, len(words) - size + 1)
            piece = " ".join(words[start : start + size]).strip(".,;:!?–—- ")
    if piece is None or len(content_words(normalize_text(piece).split())) < 4:
        return None
    before = normalize_text(text[: text.find(piece)]).split()[-2:]
    if negations(before):
        return None
    return piece[0].upper() + piece[1:]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    truth = generate_corpus(CorpusConfig(docs=args.docs, seed=args.seed), args.out)
    quotes = sum(len(d.quotes) for d in truth.documents)
    print(f"{len(truth.documents)} documents, {quotes} quotes, {len(truth.statements)} statements")


if __name__ == "__main__":
    main()
