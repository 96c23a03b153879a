"""What keeps two different statements apart, however alike rapidfuzz scores them.

- A negation: "We are ready to talk…" and "We are not ready to talk…" say opposite things.
- Containment: a fragment is cut from the longer quote, so its content words are there.
- Voices: words printed under two different people's names link only when printed word
  for word; then the cluster shows both names rather than voting one away.

All functions take text already passed through `text.normalize_text`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.overlap_index import stem
from bot.core.speakers import fold
from bot.core.text import content_words

NEGATIONS = frozenset("not no never cannot nothing nobody none neither nor nowhere".split())
_LOOK_BEHIND = 2  # words before a fragment that can still negate it: "are [not] ready…"
_MISSING_CONTENT = 0.1  # of a fragment's content words that may be edited away


def negations(words: Iterable[str]) -> int:
    return sum(1 for word in words if word in NEGATIONS or word.endswith("n't"))


def same_polarity(a: str, b: str) -> bool:
    """As many negations in each: neither says the opposite of the other."""
    return negations(a.split()) == negations(b.split())


def is_cut_from(short: str, long: str, span: tuple[int, int]) -> bool:
    """`short` is a fragment of `long` at `span` (word-aligned offsets in `long`): the
    fragment's content words are inside the span, and no negation inside or just before
    the span is missing from the fragment (or added to it)."""
    window = long[span[0] : span[1]].split()
    stems = {stem(word) for word in window}
    wanted = content_words(short.split())
    missing = sum(1 for word in wanted if stem(word) not in stems)
    if missing > int(len(wanted) * _MISSING_CONTENT):
        return False
    before = long[: span[0]].split()[-_LOOK_BEHIND:]
    return negations(short.split()) == negations(window) and negations(before) == 0


def same_wording(a: str, b: str) -> bool:
    """Printed (nearly) word for word: the same content words in the same order, and the
    same negations ("It's" for "It is" is allowed; "never" for "not" is not)."""
    return content_words(a.split()) == content_words(b.split()) and same_polarity(a, b)


def same_voice(
    a: str | None, b: str | None, roles: Sequence[tuple[str | None, str | None]] = ()
) -> bool:
    """Whether two speakers can be one voice: either unknown, the same, or one speaks for
    the other by a role printed with it ("Kremlin" and Peskov, "Kremlin spokesman").

    `roles` are (speaker, role as printed) pairs known for the quotes concerned."""
    if a is None or b is None or a == b:
        return True
    return any(
        speaker in (a, b) and role is not None and _names_in(role, b if speaker == a else a)
        for speaker, role in roles
    )


def voices(
    speakers: Sequence[str | None], roles: Sequence[tuple[str | None, str | None]]
) -> tuple[str, ...]:
    """The distinct speakers, leaving out a body whose spokesperson is also among them
    (the Kremlin when Peskov is printed as "Kremlin spokesman"), in order of how often
    they were named, then by name."""
    counts: dict[str, int] = {}
    for speaker in speakers:
        if speaker is not None:
            counts[speaker] = counts.get(speaker, 0) + 1
    kept = [
        name
        for name in counts
        if not any(
            other != name and role is not None and _names_in(role, name)
            for other, role in roles
            if other in counts
        )
    ]
    return tuple(sorted(kept, key=lambda name: (-counts[name], name)))


def _names_in(role: str, name: str) -> bool:
    """The role phrase names this body: "Kremlin spokesman" names "Kremlin"."""
    role_words = fold(role).replace("'s", "").split()
    name_words = fold(name).removeprefix("the ").split()
    if not name_words:
        return False
    size = len(name_words)
    return any(role_words[i : i + size] == name_words for i in range(len(role_words)))
