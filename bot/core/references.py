"""Who a phrase refers to: a pronoun, a named person, a role, or an organisation.

Used on the few words around an attribution verb ("Kremlin spokesman Dmitry Peskov",
"he", "an official Kremlin statement", "The Kremlin spokesman"), never on quoted text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Generic, TypeVar

from bot.core.names import Run, capitalised_runs, run_at
from bot.core.speakers import Speaker, SpeakerBook, SpeakerKind, fold


class RefKind(StrEnum):
    PRONOUN = "pronoun"
    PERSON = "person"
    ROLE = "role"
    ORGANISATION = "organisation"


@dataclass(frozen=True)
class Reference:
    kind: RefKind
    start: int  # offsets within the phrase searched
    end: int
    name: str | None = None  # canonical speaker name; None for a pronoun
    role: str | None = None  # the role words printed with it: "Kremlin spokesman"
    # Set when the phrase names someone speaking for this one ("a spokesman for Putin",
    # "Ode's office"): the noun for that someone. Such a reference is never the speaker.
    through: str | None = None


PRONOUNS = {"he", "she", "they", "his", "her", "their"}

# Words that open or fill a capitalised run without being part of a person's name.
ROLE_WORDS = frozenset(
    """
    president president-elect minister secretary spokesman spokeswoman spokesperson
    deputy foreign prime chancellor senator sen rep representative governor gov
    ambassador general gen lt col colonel mp mr mrs ms dr prof professor chief leader
    director chairman chairwoman head envoy adviser advisor official mayor judge justice
    king queen prince pope press former acting vice defence defense interior state
    national security kremlin white house russian american ukrainian u.s. us russia's
    ukraine's america's the a an military top senior sources ministry department office
    government embassy agency commission council delegation parliament committee service
    """.split()
)
NOT_NAMES = frozenset(
    """
    The A An In On At For By With After Before During Meanwhile However But And Or Both
    This That These Those It Its He She They We I His Her Their Our Asked According
    Speaking Commenting Apart Although While When If As Adding Despite Since Then Now
    Later Earlier Also Still Russian Russians American Americans Ukrainian European
    Western Moscow Washington Kyiv Kiev London Russia Ukraine America Europe Syria Iran
    China Crimea NATO Sochi Valdai Thursday Monday Tuesday Wednesday Friday Saturday
    Sunday Reuters Interfax TASS Kremlin Foreign Ministry State Department White House
    Congress Senate Some Many Most Other Others Several One Two Three Regarding Compared
    Securing Deescalating January February March April May June July August September
    October November December Mid-East Middle East West Cold War United States Kingdom
    Union Nations Federation Republic Soviet Academy University Foundation Centre Center
    Institute Council Conference Games Olympic Channel Office Oval Street Party Army
    Court Supreme Air Base Sea Gulf North South Northern Southern Eastern Mid
    Championship Match World Cup League Agency News Analysts Officials Experts Critics
    Observers Diplomats Sources Residents Witnesses Protesters Lawmakers Investors
    Economists Commentators Skeptics Sceptics Supporters Opponents Authorities Police
    Reporters Journalists People Voters Leaders Ministers
    """.split()
)

# Titles before a surname: "Mr. Peskov", "Ms. Sánchez", "President Putin".
_TITLE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Lt|Col|President|Minister|Senator|Ambassador)"
    r"\.?\s+"
)
_TITLED_WORDS = 3
_WORD_CHARS = re.compile(r"\w+")
_LOOK_BACK = 120  # characters before a name that can hold its role or "a spokesman for"
_PRONOUN = re.compile(r"\b(?:[Hh]e|[Ss]he|[Tt]hey|[Hh]is|[Hh]er|[Tt]heir)\b")
_POSSESSIVE = re.compile(r"[’']s$")


@dataclass(frozen=True)
class People:
    """The people and organisations a document can refer to: the book's, plus full
    names printed in the document itself (for "Mr. Weitz" → "Richard Weitz")."""

    book: SpeakerBook
    local_names: tuple[str, ...] = ()
    local_roles: tuple[tuple[str, str], ...] = ()  # (role as printed, canonical name)
    local_people: tuple[str, ...] = ()  # local names known to be people (a role, a byline)

    def is_known(self, name: str | None) -> bool:
        """A person the book knows, or one the document shows to be a person."""
        if name is None:
            return False
        speaker = self.book.get(name)
        if speaker is not None:
            return speaker.kind is SpeakerKind.PERSON
        return name in self._people

    # The indexes below keep every lookup independent of how many people a document
    # names: a long file can name thousands, and scanning them all for each phrase was
    # quadratic. The book's part of each is built once per book (`_BookIndex`); a
    # document adds only its own names and roles, the book's winning every tie.

    @cached_property
    def _people(self) -> frozenset[str]:
        return frozenset(self.local_people)

    @cached_property
    def _book_index(self) -> _BookIndex:
        return self.book.indexed(_index_book)

    @cached_property
    def _local_index(self) -> _NameIndex:
        pairs = [(n, Speaker(n)) for n in self.local_names]
        pairs += [(n.split()[-1], Speaker(n)) for n in self.local_names]
        return _NameIndex.of(pairs)

    @cached_property
    def _names_by_first_word(self) -> dict[str, list[str]]:
        """Known names by their first word, longest first (the book's first among
        names as long), each once."""
        index = dict(self._book_index.names.by_first_word)
        for first, local in self._local_index.by_first_word.items():
            book = index.get(first, [])
            ours = [name for name in local if name not in book]
            # Stable on length: the book's names stay ahead of the document's.
            index[first] = sorted(book + ours, key=lambda name: -len(name))
        return index

    def _known_matches(self, phrase: str) -> list[tuple[int, int, str]]:
        """(start, end, name) of each known name printed as whole words, leftmost and
        longest first, never overlapping."""
        found: list[tuple[int, int, str]] = []
        after = 0
        for word in _WORD_CHARS.finditer(phrase):
            if word.start() < after:
                continue
            for name in self._names_by_first_word.get(word.group(), ()):
                end = word.start() + len(name)
                if phrase.startswith(name, word.start()) and not _WORD_CHARS.match(phrase, end):
                    found.append((word.start(), end, name))
                    after = end
                    break
        return found

    @cached_property
    def _locals_by_surname(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for local in self.local_names:  # "Martinez" is "José Martínez" printed earlier
            index.setdefault(fold(local.split()[-1]), []).append(local)
        return index

    @cached_property
    def _local_role_index(self) -> _RoleIndex[str]:
        return _RoleIndex.of([(_role_words(role), name) for role, name in self.local_roles])

    def _by_exact(self, name: str) -> Speaker | None:
        return self._book_index.names.by_exact.get(name) or self._local_index.by_exact.get(name)

    def canonical(self, name: str) -> Speaker:
        """The speaker a printed name means: the book's, a full name printed earlier in
        the document for a bare surname, or a new speaker under the name as printed."""
        known = self.book.get(name) or self._by_exact(name)
        if known is not None:
            return known
        for local in self._locals_by_surname.get(fold(name.split()[-1]), ()):
            if len(local.split()) >= len(name.split()):
                return self.book.get(local) or Speaker(local)
        return Speaker(name)

    def role_holder(self, phrase: str) -> Speaker | None:
        holder = self.book.by_role(phrase)
        if holder is not None:
            return holder
        words = _role_words(phrase)
        if not words:
            return None
        # The document's roles win over the book's.
        local = self._local_role_index.holder(words)
        if local is not None:
            return self.canonical(local)
        return self._book_index.roles.holder(words)

    @cached_property
    def _found(self) -> dict[str, tuple[Reference, ...]]:
        return {}  # phrases recur ("he said", "Peskov said"): each is read once

    def find(self, phrase: str) -> list[Reference]:
        """Every reference in the phrase, in order of where it ends."""
        known = self._found.get(phrase)
        if known is None:
            known = self._found[phrase] = tuple(self._find(phrase))
        return list(known)

    def _find(self, phrase: str) -> list[Reference]:
        found: list[Reference] = []
        taken: list[tuple[int, int]] = []

        def add(ref: Reference) -> None:
            if any(ref.start < end and start < ref.end for start, end in taken):
                return
            found.append(ref)
            taken.append((ref.start, ref.end))

        for start, end, name in self._known_matches(phrase):
            speaker = self._by_exact(name)
            assert speaker is not None  # every known match is indexed
            speaker = self.book.get(speaker.name) or self.canonical(speaker.name)
            kind = (
                RefKind.ORGANISATION if speaker.kind is SpeakerKind.ORGANISATION else RefKind.PERSON
            )
            role = _role_before(phrase, start) if kind is RefKind.PERSON else None
            through = speaking_for(phrase, start, end)
            add(Reference(kind, start, end, speaker.name, role, through))
        for title in _TITLE.finditer(phrase):
            titled = run_at(phrase, title.end(), longest=_TITLED_WORDS)
            if titled is not None:
                through = speaking_for(phrase, title.start(), titled.end)
                canonical = self.canonical(titled.text).name
                role = _role_before(phrase, titled.start)  # "Turkish President", not "Mr"
                add(Reference(RefKind.PERSON, title.start(), titled.end, canonical, role, through))
        for run in capitalised_runs(phrase):
            ref = self._unknown_name(phrase, run)
            if ref is not None:
                add(ref)
        for match in _PRONOUN.finditer(phrase):
            add(Reference(RefKind.PRONOUN, match.start(), match.end()))
        role_ref = self._role_reference(phrase)
        if role_ref is not None:
            # A role phrase outranks the bare organisation inside it ("the Kremlin spokesman").
            found = [r for r in found if r.kind is not RefKind.ORGANISATION]
            taken = [(r.start, r.end) for r in found]
            add(role_ref)
        return sorted(found, key=lambda r: (r.end, r.end - r.start))

    def _unknown_name(self, phrase: str, run: Run) -> Reference | None:
        tokens = run.text.split()
        if tokens[-1].lower() in INSTITUTIONS:
            return self._institution(phrase, run, tokens)
        if _article_before(phrase, run.start):
            return None  # "the Turkish delegation", "a New York court": not a person
        kept = name_tail(tokens)
        if not kept:
            return None
        start = run.start + run.text.rindex(" ".join(kept))
        name = _POSSESSIVE.sub("", " ".join(kept))
        if len(kept) == 1 and len(name) < 3:
            return None
        speaker = self.canonical(name)
        role = _role_before(phrase, start)
        through = speaking_for(phrase, start, run.end)
        return Reference(RefKind.PERSON, start, run.end, speaker.name, role, through)

    def _institution(self, phrase: str, run: Run, tokens: list[str]) -> Reference | None:
        """ "the Foreign Ministry said": an organisation speaks, under the name printed."""
        words = [t for t in tokens if t not in ("The", "A", "An")]
        if len(words) < 2 and not _article_before(phrase, run.start):
            return None  # a lone "Ministry" is not a name
        name = " ".join(words)
        known = self.book.get(name)
        return Reference(RefKind.ORGANISATION, run.start, run.end, known.name if known else name)

    def _role_reference(self, phrase: str) -> Reference | None:
        words = phrase.strip()
        holder = self.role_holder(words)
        if holder is None:
            return None
        offset = phrase.find(words)
        role = _strip_articles(words)
        return Reference(RefKind.ROLE, offset, offset + len(words), holder.name, role)


_Holder = TypeVar("_Holder")


@dataclass(frozen=True)
class _RoleIndex(Generic[_Holder]):
    """Role phrases, in the order they win, each as its words and who holds it."""

    roles: tuple[tuple[frozenset[str], _Holder], ...]
    by_word: dict[str, list[int]]  # word -> the roles that have it

    @classmethod
    def of(cls, roles: Sequence[tuple[frozenset[str], _Holder]]) -> _RoleIndex[_Holder]:
        by_word: dict[str, list[int]] = {}
        for order, (words, _) in enumerate(roles):
            for word in words:
                by_word.setdefault(word, []).append(order)
        return cls(tuple(roles), by_word)

    def holder(self, words: frozenset[str]) -> _Holder | None:
        """Who holds the first role that the phrase of these words names."""
        candidates = sorted({o for word in words & self.by_word.keys() for o in self.by_word[word]})
        for order in candidates:
            role_words, holder = self.roles[order]
            if _holds(role_words, words):
                return holder
        return None


@dataclass(frozen=True)
class _NameIndex:
    """Names to look for, each with the speaker it means."""

    by_first_word: dict[str, list[str]]  # longest first, each once
    by_exact: dict[str, Speaker]  # the first speaker of each name

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, Speaker]]) -> _NameIndex:
        by_first_word: dict[str, list[str]] = {}
        by_exact: dict[str, Speaker] = {}
        for name, speaker in sorted(pairs, key=lambda pair: -len(pair[0])):
            first = _WORD_CHARS.match(name)
            if (
                first is not None
                and first.start() == 0
                and name not in by_first_word.get(first.group(), ())
            ):
                by_first_word.setdefault(first.group(), []).append(name)
            by_exact.setdefault(name, speaker)
        return cls(by_first_word, by_exact)


@dataclass(frozen=True)
class _BookIndex:
    """What `People` needs of a speaker book, built once per book."""

    names: _NameIndex
    roles: _RoleIndex[Speaker]


def _index_book(book: SpeakerBook) -> _BookIndex:
    pairs = [(n, s) for s in book.speakers for n in s.names]
    pairs += [(s.surname, s) for s in book.speakers if s.kind is SpeakerKind.PERSON]
    roles = [(_role_words(r), s) for s in book.speakers for r in s.roles]
    return _BookIndex(_NameIndex.of(pairs), _RoleIndex.of(roles))


def _holds(role_words: frozenset[str], phrase_words: frozenset[str]) -> bool:
    """The phrase names the holder of the role, not someone beside them: "the prime
    minister" does, "a spokesman for the prime minister" and "the former president" do
    not."""
    if len(role_words) < 2 or not role_words <= phrase_words:
        return False
    return not (phrase_words - role_words) & _NOT_THE_HOLDER


# Nouns for someone who speaks for, works for or stands beside a person: "a spokesman for
# the prime minister", "an aide to Ode", "Ode's office".
PROXY_NOUNS = frozenset(
    """
    spokesman spokeswoman spokesperson spokespeople aide aides adviser advisers advisor
    advisors assistant assistants office lawyer lawyers attorney attorneys source sources
    official officials ally allies friend friends wife husband son daughter brother sister
    supporter supporters critic critics staff staffer staffers campaign team
    """.split()
)
# Words that make a role phrase someone else's: "the deputy foreign minister", "the former
# president" are not the foreign minister or the president.
_NOT_THE_HOLDER = PROXY_NOUNS | {"deputy", "vice", "former", "ex", "late"}
_PROXY = "|".join(sorted(PROXY_NOUNS, key=len, reverse=True))
# "a spokeswoman for President", "an aide to", "sources close to the": before a name.
_PROXY_BEFORE = re.compile(
    rf"\b(?P<noun>{_PROXY})\s+(?:close\s+to|for|to|of|at|in|with|from)\s+"
    r"(?P<between>(?:[\w.'’-]+\s+){0,4})$",
    re.IGNORECASE,
)
# "Ode's office", "Putin's chief spokesman": after a name.
_PROXY_AFTER = re.compile(
    rf"(?:[’']s)?\s+(?:(?:chief|senior|top|press|personal|former|longtime)\s+)*(?P<noun>{_PROXY})\b",
    re.IGNORECASE,
)


def _words_before(phrase: str, start: int) -> str:
    """The whole words in the last `_LOOK_BACK` characters before `start`."""
    if start <= _LOOK_BACK:
        return phrase[:start]
    return phrase[phrase.rfind(" ", 0, start - _LOOK_BACK) + 1 : start]


def speaking_for(phrase: str, start: int, end: int) -> str | None:
    """The noun of someone else when the name at [start, end) is only who they speak
    for: "a spokesman for [Putin]", "[Ode’s] office". None when the name is the subject."""
    words = _words_before(phrase, start)
    # A match spans at most 7 words ("spokesman close to" and 4 more): search only those.
    before = _PROXY_BEFORE.search(words, _last_words_start(words, 7))
    if before is not None and all(
        fold(w).removesuffix("'s") in ROLE_WORDS or w[0].isupper()
        for w in before.group("between").split()
    ):
        return before.group("noun").lower()
    possessive = phrase[:end].endswith(("’s", "'s"))
    after = _PROXY_AFTER.match(phrase, end)
    if after is not None and (possessive or phrase.startswith(("’s", "'s"), end)):
        return after.group("noun").lower()
    return None


@lru_cache(maxsize=1 << 14)
def _role_words(phrase: str) -> frozenset[str]:
    words = {w.removesuffix("'s") for w in fold(phrase).replace(",", " ").split()}
    return frozenset(
        words - {"the", "a", "an", "chief", "senior", "top", "official"}
        | ({"official"} & set(fold(phrase).split()))
    )


def _strip_articles(phrase: str) -> str:
    words = phrase.split()
    while words and words[0].lower() in {"the", "a", "an"}:
        words = words[1:]
    return " ".join(words)


_HONORIFICS = {"mr", "mrs", "ms", "dr", "prof"}
_ARTICLE_BEFORE = re.compile(r"(?:^|\s)(?:the|a|an|The|A|An)\s+$")


def _article_before(phrase: str, end: int) -> bool:
    """`_ARTICLE_BEFORE` in phrase[:end], searched only where it can match: the white
    space before `end` and the four characters before that."""
    space = end
    while space > 0 and phrase[space - 1].isspace():
        space -= 1
    return _ARTICLE_BEFORE.search(phrase, max(0, space - 4), end) is not None


def _last_words_start(text: str, count: int) -> int:
    """Where the last `count` white-space-separated words of `text` begin (0 when it has
    no more): a pattern anchored at the end that spans at most `count` words matches
    nowhere before."""
    parts = text.rsplit(None, count)
    if len(parts) <= count:
        return 0
    return text.index(parts[1], len(parts[0]))


# Nouns that end the name of a body that speaks for itself: "the Foreign Ministry said".
INSTITUTIONS = frozenset(
    """
    ministry department office government embassy agency commission council parliament
    committee service mission presidency administration cabinet secretariat command
    """.split()
)
# Words for nationalities: "Austrian Foreign Minister Katrin Moser" is Katrin Moser.
DEMONYMS = frozenset(
    """
    Afghan Albanian Algerian American Argentine Armenian Australian Austrian Azerbaijani
    Belarusian Belgian Brazilian British Bulgarian Canadian Chinese Croatian Czech Danish
    Dutch Egyptian English Estonian Finnish French Georgian German Greek Hungarian Indian
    Iranian Iraqi Irish Israeli Italian Japanese Jordanian Kazakh Korean Latvian Lebanese
    Libyan Lithuanian Mexican Moldovan Norwegian Pakistani Palestinian Polish Portuguese
    Romanian Russian Saudi Scottish Serbian Slovak Slovenian Spanish Swedish Swiss Syrian
    Turkish Ukrainian Uzbek Venezuelan Welsh Yemeni European Western Eastern Soviet
    """.split()
)


def name_tail(tokens: list[str]) -> list[str]:
    """The words of a capitalised run that can be a person's name: those after the last
    title, role word, demonym or non-name ("Russian Deputy Foreign Minister Sergei
    Ryabkov" → "Sergei Ryabkov"). Empty when the run ends with a non-name ("Cold War")."""
    cut = 0
    for index, token in enumerate(tokens):
        if _ends_no_name(token):
            cut = index + 1
    return tokens[cut:]


@lru_cache(maxsize=1 << 14)  # the same capitalised words, in every document
def _ends_no_name(token: str) -> bool:
    """A title, role word, demonym or non-name: no name goes on through it."""
    bare = _POSSESSIVE.sub("", token)
    return bare in NOT_NAMES or bare in DEMONYMS or fold(bare).rstrip(".") in ROLE_WORDS


_ROLE_NOT_ARTICLE = ROLE_WORDS - {"the", "a", "an"}
_ROLE_RUN = re.compile(r"((?:[\w.'’-]+\s+){1,5})$")


def _role_before(phrase: str, start: int) -> str | None:
    """The role words printed just before a name: "Kremlin spokesman Dmitry Peskov"."""
    before = _words_before(phrase, start)
    match = _ROLE_RUN.search(before, _last_words_start(before, 5))  # it spans 5 words at most
    if match is None:
        return None
    words = match.group(1).split()
    kept: list[str] = []
    for word in reversed(words):
        if fold(word).removesuffix("'s") not in ROLE_WORDS and not word[0].isupper():
            break
        if word in NOT_NAMES and fold(word) not in ROLE_WORDS:
            break
        kept.insert(0, word)
    while kept and fold(kept[0]).rstrip(".") in _HONORIFICS:
        kept = kept[1:]
    role = _strip_articles(" ".join(kept))
    has_role_word = any(fold(w) in _ROLE_NOT_ARTICLE for w in role.split())
    return role if role and has_role_word else None
