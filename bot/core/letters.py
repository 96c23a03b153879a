"""Letters in any script, for `re` patterns and word checks.

Python's `re` has no `\\p{Lu}`, and `[A-Z][a-z]+` cuts "Erdoğan" to "Erdo" and misses
"Çelik" altogether. Patterns use `LETTER` (any letter) and `CAPITAL` (a letter that is not
an ASCII small letter); whether a word is really capitalised is checked with `str`
methods, which know every script (see `names`).
"""

from __future__ import annotations

LETTER = r"[^\W\d_]"  # one letter of any script
# One letter that can open a sentence or a name: every capital, in any script. Small
# letters outside ASCII ("é") pass too; they almost never open a sentence in news copy,
# and a class of every capital in Unicode would cost a second to compile per pattern.
CAPITAL = r"(?![a-z])[^\W\d_]"


def is_capital(char: str) -> bool:
    return char.isupper() or char.istitle()  # "ǅ" is a titlecase letter


def is_capitalised(word: str) -> bool:
    """Opens with a capital and has small letters: "Çelik", "O'Brien", "McFaul"; not
    "NATO", "A" or "said"."""
    return bool(word) and is_capital(word[0]) and any(c.islower() for c in word[1:])
