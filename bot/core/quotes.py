"""Direct quotes and who said them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Attribution(StrEnum):
    """How the speaker was found; shown to users who ask "why him?"."""

    AFTER = "named after the quote"  # “…,” Peskov said.
    BEFORE = "named before the quote"  # Peskov said: “…”
    PRONOUN = "pronoun"  # “…,” he said.
    ROLE = "role phrase"  # “…,” the Kremlin spokesman said.
    CONTINUATION = "continues the previous speaker"  # a bare quote paragraph
    ACCORDING_TO = "according to"
    NONE = "unattributed"


@dataclass(frozen=True)
class Quote:
    doc_id: str
    start: int  # first character inside the opening mark, in Document.text
    end: int  # just before the closing mark
    text: str  # the quoted words, marks removed, paragraphs joined by one space
    speaker: str | None  # canonical name; None when no one in the article said it
    speaker_role: str | None = None  # as printed: "Kremlin spokesman"
    cue: str | None = None  # the attribution verb: "said", "told", "pointed out"
    partial: bool = False  # a phrase inside a reported sentence, not a whole statement
    attribution: Attribution = Attribution.NONE

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.start}"
