"""Who a phrase refers to: a pronoun, a named person, a role, or an organisation.

Used on the few words around an attribution verb ("Kremlin spokesman Dmitry Peskov",
"he", "an official Kremlin statement", "The Kremlin spokesman"), never on quoted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache

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

_TITLE = r"(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Lt|Col|President|Minister|Senator|Ambassador)\.?"
_NAME_TOKEN = r"(?:[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)*|[A-Z]\.)"
# Up to six capitalised words: "Russian Deputy Foreign Minister Sergei Ryabkov".
CAPITALISED_RUN = re.compile(rf"(?<![\w.]){_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,5}}(?![\w])")
_TITLED = re.compile(rf"\b{_TITLE}\s+(?P<name>{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,2}})")
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
        return name in self.local_people

    @cached_property
    def _known_names(self) -> list[tuple[str, Speaker]]:
        pairs = [(n, s) for s in self.book.speakers for n in s.names]
        pairs += [(s.surname, s) for s in self.book.speakers if s.kind is SpeakerKind.PERSON]
        pairs += [(n, Speaker(n)) for n in self.local_names]
        pairs += [(n.split()[-1], Speaker(n)) for n in self.local_names]
        return sorted(pairs, key=lambda pair: -len(pair[0]))

    @cached_property
    def _known_pattern(self) -> re.Pattern[str]:
        names = "|".join(re.escape(name) for name, _ in self._known_names)
        return re.compile(rf"(?<![\w])(?:{names})(?![\w])") if names else re.compile(r"(?!)")

    @cached_property
    def _by_exact(self) -> dict[str, Speaker]:
        index: dict[str, Speaker] = {}
        for name, speaker in self._known_names:
            index.setdefault(name, speaker)
        return index

    def canonical(self, name: str) -> Speaker:
        """The speaker a printed name means: the book's, a full name printed earlier in
        the document for a bare surname, or a new speaker under the name as printed."""
        known = self.book.get(name) or self._by_exact.get(name)
        if known is not None:
            return known
        surname = name.split()[-1]
        for local in self.local_names:
            if local.split()[-1] == surname and len(local.split()) >= len(name.split()):
                return self.book.get(local) or Speaker(local)
        return Speaker(name)

    def role_holder(self, phrase: str) -> Speaker | None:
        holder = self.book.by_role(phrase)
        if holder is not None:
            return holder
        words = _role_words(phrase)
        if not words:
            return None
        for role, name in self.local_roles:
            role_words = _role_words(role)
            if len(role_words) >= 2 and role_words <= words:
                return self.canonical(name)
        for speaker in self.book.speakers:
            for role in speaker.roles:
                role_words = _role_words(role)
                if len(role_words) >= 2 and role_words <= words:
                    return speaker
        return None

    def find(self, phrase: str) -> list[Reference]:
        """Every reference in the phrase, in order of where it ends."""
        found: list[Reference] = []
        taken: list[tuple[int, int]] = []

        def add(ref: Reference) -> None:
            if any(ref.start < end and start < ref.end for start, end in taken):
                return
            found.append(ref)
            taken.append((ref.start, ref.end))

        for match in self._known_pattern.finditer(phrase):
            speaker = self._by_exact[match.group()]
            speaker = self.book.get(speaker.name) or self.canonical(speaker.name)
            kind = (
                RefKind.ORGANISATION if speaker.kind is SpeakerKind.ORGANISATION else RefKind.PERSON
            )
            role = _role_before(phrase, match.start()) if kind is RefKind.PERSON else None
            add(Reference(kind, match.start(), match.end(), speaker.name, role))
        for match in _TITLED.finditer(phrase):
            name = match.group("name")
            add(Reference(RefKind.PERSON, match.start(), match.end(), self.canonical(name).name))
        for match in CAPITALISED_RUN.finditer(phrase):
            ref = self._unknown_name(phrase, match)
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

    def _unknown_name(self, phrase: str, match: re.Match[str]) -> Reference | None:
        tokens = match.group().split()
        if tokens[-1].lower() in INSTITUTIONS:
            return self._institution(phrase, match, tokens)
        if _ARTICLE_BEFORE.search(phrase[: match.start()]):
            return None  # "the Turkish delegation", "a New York court": not a person
        kept = name_tail(tokens)
        if not kept:
            return None
        start = match.start() + match.group().rindex(" ".join(kept))
        name = _POSSESSIVE.sub("", " ".join(kept))
        if len(kept) == 1 and len(name) < 3:
            return None
        speaker = self.canonical(name)
        return Reference(
            RefKind.PERSON, start, match.end(), speaker.name, _role_before(phrase, start)
        )

    def _institution(
        self, phrase: str, match: re.Match[str], tokens: list[str]
    ) -> Reference | None:
        """ "the Foreign Ministry said": an organisation speaks, under the name printed."""
        words = [t for t in tokens if t not in ("The", "A", "An")]
        if len(words) < 2 and not _ARTICLE_BEFORE.search(phrase[: match.start()]):
            return None  # a lone "Ministry" is not a name
        name = " ".join(words)
        known = self.book.get(name)
        return Reference(
            RefKind.ORGANISATION, match.start(), match.end(), known.name if known else name
        )

    def _role_reference(self, phrase: str) -> Reference | None:
        words = phrase.strip()
        holder = self.role_holder(words)
        if holder is None:
            return None
        offset = phrase.find(words)
        role = _strip_articles(words)
        return Reference(RefKind.ROLE, offset, offset + len(words), holder.name, role)


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
        bare = _POSSESSIVE.sub("", token)
        if bare in NOT_NAMES or bare in DEMONYMS or fold(bare).rstrip(".") in ROLE_WORDS:
            cut = index + 1
    return tokens[cut:]


_ROLE_RUN = re.compile(r"((?:[A-Za-z.'’-]+\s+){1,5})$")


def _role_before(phrase: str, start: int) -> str | None:
    """The role words printed just before a name: "Kremlin spokesman Dmitry Peskov"."""
    match = _ROLE_RUN.search(phrase[:start])
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
    has_role_word = any(fold(w) in ROLE_WORDS - {"the", "a", "an"} for w in role.split())
    return role if role and has_role_word else None
