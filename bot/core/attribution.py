"""Who said each quote.

The document is read in order. Attribution verbs ("said", "told", "pointed out",
"according to") outside the quotes are found first, and their subjects resolved, so that
"he" can point back to the last person who spoke. Then each quote takes its speaker from,
in order: an attribution right after it in the same sentence (“…,” Peskov said), one
before it in the same sentence (Peskov said: “…”), or the speaker it continues (a bare
quote paragraph, a second quote after "he said.").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.core.layout import Span
from bot.core.letters import CAPITAL
from bot.core.quote_marks import MarkedQuote
from bot.core.quotes import Attribution
from bot.core.references import PROXY_NOUNS, ROLE_WORDS, People, Reference, RefKind
from bot.core.speakers import fold

# Lowercase on purpose: "the United States" must not read as the verb "states".
_VERBS = (
    "went on to say|pointed out|points out|[Aa]ccording to|[Ii]n (?:his|her|their) "
    "(?:view|words)|told us|put it|"
    "said|says|saying|told|tells|telling|stated|states|stating|added|adds|adding|"
    "asserted|asserts|noted|notes|noting|explained|explains|insisted|insists|argued|argues|"
    "claimed|claims|declared|declares|warned|warns|warning|cautioned|cautions|"
    "emphasized|emphasised|emphasizes|emphasises|stressed|stresses|remarked|commented|"
    "commenting|continued|replied|answered|responded|recalled|recalls|admitted|admits|"
    "acknowledged|confirmed|denied|announced|wrote|writes|tweeted|suggested|predicted|"
    "complained|concluded|observed|praised|lauded|criticized|criticised|charged|accused|"
    "described|describing|called|calling|characterized|characterised|pledged|promised|"
    "vowed|regretted|urged|asked|cited|quipped|joked|spoke|speaking|echoed|lamented|hailed"
)
_CUE = re.compile(rf"(?<![\w’'-])(?:{_VERBS})(?![\w’'-])")
# Verbs that can come before their subject: “…,” said Mr. Peskov.
_INVERTIBLE = {
    "said",
    "says",
    "added",
    "asked",
    "continued",
    "wrote",
    "explained",
    "noted",
    "recalled",
    "stated",
    "insisted",
    "warned",
    "argued",
    "declared",
    "replied",
    "answered",
}
_FOOTNOTE = re.compile(r"\[\d+\]")
_PASSIVE_BEFORE = re.compile(r"\b(?:was|were|been|being|is|are)\s+$")
# Nouns for people or bodies the text does not name.
_UNNAMED_NOUNS = (
    frozenset(
        """
    spokesman spokeswoman spokesperson official officials source sources colleague
    colleagues aide aides adviser advisers advisor advisors diplomat diplomats envoy
    leader leaders minister ministers analyst analysts expert experts lawmaker lawmakers
    officer officers negotiator negotiators delegate delegates representative
    representatives commander insider insiders witness witnesses resident residents
    statement
    """.split()
    )
    | PROXY_NOUNS
)
_PARENTHETICAL = re.compile(r"\([^()]*\)")
_WORD_CHAR = re.compile(r"\w")
_TRAILING_FILLER = re.compile(
    r"(?:\s+(?:also|however|later|then|further|separately|repeatedly|formally|previously|"
    r"once|again|recently|publicly|reportedly|allegedly|has|have|had|would|will|has been|"
    r"had been|then|subsequently|simply|only|flatly|bluntly|firmly|quickly))+\s*$",
    re.IGNORECASE,
)
# Segments that cannot hold the subject: "in remarks reported by Reuters", "speaking in …".
_NOT_SUBJECT = re.compile(
    r"^\s*(?:in|on|at|after|before|during|with|without|for|from|by|as|while|who|which|"
    r"whose|where|although|though|despite|since|apart|given|amid|over|under|\w+ing)\b",
    re.IGNORECASE,
)
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gen",
    "lt",
    "col",
    "sen",
    "rep",
    "gov",
    "st",
    "jr",
    "sr",
    "inc",
    "corp",
    "co",
    "no",
    "vs",
    "etc",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "e.u",
    "d.c",
    "sgt",
}
# Quoted words are masked with NUL, so a sentence may also start with a masked quote.
_BOUNDARY = re.compile(rf"[.!?…][\"”’»)\]]*(?:\s+(?=[\"“‘'«(\[]?(?:{CAPITAL}|[0-9\x00]))|(?=[“«]))")


@dataclass(frozen=True)
class Speaking:
    """A resolved speaker: a canonical name, whether it is a person, and how we know."""

    name: str
    is_person: bool
    how: Attribution
    role: str | None = None


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    verb: str
    paragraph: int
    sentence: Span
    subject: Speaking | None
    unnamed: str | None = None  # the subject as printed when it names no one: "a senior official"


@dataclass(frozen=True)
class Attributed:
    quote: MarkedQuote
    speaker: Speaking | None
    cue: str | None
    direct: bool  # found in the quote's own sentence, not inherited
    partial: bool
    unnamed: str | None = None  # who said it, as printed, when the text names no one


@dataclass(frozen=True)
class _Mention:
    at: int
    name: str
    paragraph: int


class _Reader:
    """One pass over one document; holds the running "who spoke last" state."""

    def __init__(
        self, text: str, paragraphs: Sequence[Span], quotes: Sequence[MarkedQuote], people: People
    ):
        self.text = text
        self.paragraphs = paragraphs
        self.quotes = quotes
        self.people = people
        self.masked = _mask(text, quotes)
        # Sorted offsets, so that every lookup is a bisection and a long document is read
        # in near-linear time (scanning every quote or cue for each one was quadratic).
        self._outer_starts = sorted(q.outer_start for q in quotes)
        self._outer_ends = sorted(q.outer_end for q in quotes)
        self._closes = sorted(
            (q.close_mark, i) for i, q in enumerate(quotes) if q.close_mark is not None
        )
        close_marks = [at for at, _ in self._closes]
        self.sentences = [_sentences(self.masked, text, p, close_marks) for p in paragraphs]
        # People named, by paragraph: found only when a pronoun needs them, which most
        # paragraphs never do (reading a whole paragraph for names is the costly part).
        self._mentions: dict[int, list[_Mention]] = {}
        self._paragraph_starts = [p.start for p in paragraphs]
        # (offset, paragraph, speaker), in text order, with their offsets alone beside them.
        self.events: list[tuple[int, int, Speaking]] = []
        self._event_at: list[int] = []
        # Who each sentence is about, when it opens with a person: "he" usually means them.
        # By (paragraph, sentence), worked out only when a pronoun asks.
        self._subjects: dict[tuple[int, int], Speaking | None] = {}
        self.cues: list[Cue] = []
        self._cues_in_sentence: dict[Span, list[Cue]] = {}
        self._cues_in_paragraph: dict[int, list[Cue]] = {}
        self._spoken: dict[int, list[Speaking]] = {}  # paragraph -> speakers of quotes ending there

    # -- reading -----------------------------------------------------------------------

    def read(self) -> list[Attributed]:
        for index, sentences in enumerate(self.sentences):
            for sentence in sentences:
                for match in _CUE.finditer(self.masked, sentence.start, sentence.end):
                    cue = self._cue(match, index, sentence)
                    self.cues.append(cue)
                    self._cues_in_sentence.setdefault(sentence, []).append(cue)
                    self._cues_in_paragraph.setdefault(index, []).append(cue)
                    if cue.subject is not None:
                        self.events.append((cue.start, index, cue.subject))
                        self._event_at.append(cue.start)
        results: list[Attributed] = []
        for quote in self.quotes:
            result = self._attribute(quote)
            results.append(result)
            if result.speaker is not None:
                self._spoken.setdefault(quote.last_paragraph, []).append(result.speaker)
        return results

    def _cue(self, match: re.Match[str], paragraph: int, sentence: Span) -> Cue:
        verb = " ".join(match.group().lower().split())
        cue = Cue(match.start(), match.end(), verb, paragraph, sentence, None)
        if self._is_passive(cue):  # "she was told by a senior colleague that …"
            agent = self._agent(cue)
            return replace(
                cue,
                subject=self._first_reference(agent, cue.end, cue, Attribution.BEFORE),
                unnamed=_unnamed(agent),
            )
        subject = self._subject(cue)
        unnamed = None
        if subject is None and not verb.endswith("ing") and verb not in ("according to",):
            unnamed = _unnamed(self.masked[self._left_bound(cue) : cue.start]) or (
                _unnamed(self._phrase_after(cue)) if verb in _INVERTIBLE else None
            )
        return replace(cue, subject=subject, unnamed=unnamed)

    def _is_passive(self, cue: Cue) -> bool:
        return bool(_PASSIVE_BEFORE.search(self.masked[cue.sentence.start : cue.start]))

    def _agent(self, cue: Cue) -> str:
        """The speaker of a passive cue: the words after "by"."""
        match = re.match(
            r"\s+by\s+([^,.;:\x00“”\"]+?)(?:\s+(?:that|to|about|in|at|on)\b|[,.;:\x00“”\"]|$)",
            self.masked[cue.end : cue.sentence.end],
        )
        return match.group(1) if match else ""

    def _subject(self, cue: Cue) -> Speaking | None:
        if cue.verb == "according to":
            return self._first_reference(
                self._phrase_after(cue), cue.end, cue, Attribution.ACCORDING_TO
            )
        if cue.verb.startswith("in "):  # "in his view"
            return self._resolve_pronoun(cue.start, cue)
        left = self._left_bound(cue)
        before = self.masked[left : cue.start]
        if cue.verb in _INVERTIBLE and not before.strip(' ,\x00"”’»—–-'):
            return self._inverted_subject(cue)
        if cue.verb.endswith("ing"):
            earlier = [c for c in self._cues_in_sentence.get(cue.sentence, ()) if c.subject]
            if earlier:
                return earlier[-1].subject
            return self._main_clause_subject(cue)
        return self._subject_before(before, left, cue)

    def _left_bound(self, cue: Cue) -> int:
        """Subjects never reach back across a quote in the same sentence."""
        before = bisect_right(self._outer_ends, cue.start)
        last_end = self._outer_ends[before - 1] if before else -1
        return max(cue.sentence.start, last_end)

    def _subject_before(self, before: str, offset: int, cue: Cue) -> Speaking | None:
        cleaned = _PARENTHETICAL.sub(_blank, _FOOTNOTE.sub(_blank, before))
        cleaned = _TRAILING_FILLER.sub(_blank, cleaned)
        segments = _segments(cleaned)
        appositive: str | None = None
        for start, end in reversed(segments):
            segment = cleaned[start:end]
            if not segment.strip() or segment.strip().startswith("\x00"):
                continue
            if _NOT_SUBJECT.match(segment) and (start, end) != segments[0]:
                continue
            refs = self.people.find(segment)
            if refs:
                found = self._resolve(
                    refs[-1], offset + start + refs[-1].start, cue, Attribution.BEFORE
                )
                if found is not None and appositive and found.role is None:
                    found = replace(found, role=appositive)
                return found
            if appositive is None and (start, end) != segments[0] and _is_appositive(segment):
                # "Çelik, the Turkish trade minister, added": the subject is further back.
                appositive = _strip_article(segment)
                continue
            return None  # the subject is there but names no one we can know
        return None

    def _inverted_subject(self, cue: Cue) -> Speaking | None:
        phrase = self._phrase_after(cue)
        refs = self.people.find(phrase)
        # Only titles and role words may come between the verb and the name.
        if not refs or any(
            fold(w.rstrip(".")) not in ROLE_WORDS for w in phrase[: refs[0].start].split()
        ):
            return None
        found = self._resolve(refs[0], cue.end, cue, Attribution.AFTER)
        appositive = _ROLE_APPOSITIVE.match(self.masked, cue.end + len(phrase))
        if found is not None and appositive and found.role is None:
            role = appositive.group(1).strip()
            if self.people.role_holder(role) is not None or "spokes" in role:
                found = Speaking(found.name, found.is_person, found.how, role.removeprefix("the "))
        return found

    def _phrase_after(self, cue: Cue) -> str:
        tail = self.masked[cue.end : cue.sentence.end]
        stop = re.search(
            r"[,;:\x00“”\"]|(?<!Mr)(?<!Mrs)(?<!Ms)(?<!Dr)(?<!St)(?<!\b[A-Z])\."
            r"|\s(?:after|on|in|at|during|upon|when|to|about)\s",
            tail,
        )
        return tail[: stop.start()] if stop else tail

    def _first_reference(
        self, phrase: str, offset: int, cue: Cue, how: Attribution
    ) -> Speaking | None:
        refs = sorted(self.people.find(phrase), key=lambda r: r.start)
        if not refs:
            return None
        return self._resolve(refs[0], offset + refs[0].start, cue, how)

    def _main_clause_subject(self, cue: Cue) -> Speaking | None:
        text = self.masked[cue.sentence.start : cue.start]
        for start, end in _segments(text):
            segment = text[start:end]
            if _NOT_SUBJECT.match(segment):
                continue
            refs = sorted(self.people.find(segment), key=lambda r: r.start)
            if refs:
                at = cue.sentence.start + start + refs[0].start
                return self._resolve(refs[0], at, cue, Attribution.BEFORE)
        return None

    # -- resolution --------------------------------------------------------------------

    def _resolve(self, ref: Reference, at: int, cue: Cue, how: Attribution) -> Speaking | None:
        if ref.through is not None:
            return None  # "a spokesman for Putin" is not Putin
        if ref.kind is RefKind.PRONOUN:
            return self._resolve_pronoun(at, cue)
        assert ref.name is not None
        if ref.kind is RefKind.ORGANISATION:
            return Speaking(ref.name, False, how)
        return Speaking(
            ref.name, True, Attribution.ROLE if ref.kind is RefKind.ROLE else how, ref.role
        )

    def _resolve_pronoun(self, at: int, cue: Cue) -> Speaking | None:
        """ "he" is a person named earlier in the same sentence (not as the object of a
        preposition: in "Asked about Lavrov, he said" he is not Lavrov), else the last
        person who spoke in the last few paragraphs, else the last person mentioned."""
        # People named before the paragraph before this one cannot decide: they precede
        # the sentence, and the last resort below takes only a mention from there on.
        mentions = self._mentions_between(cue.paragraph - 1, at)
        last_mention = bisect_left([m.at for m in mentions], at) - 1
        mention = mentions[last_mention] if last_mention >= 0 else None
        earlier = last_mention
        while earlier >= 0 and mentions[earlier].at >= cue.sentence.start:
            if not _OBJECT_BEFORE.search(self.masked, cue.sentence.start, mentions[earlier].at):
                return Speaking(mentions[earlier].name, True, Attribution.PRONOUN)
            earlier -= 1
        salient = [
            found
            for found in (
                _last_person(self.events, self._event_at, at, cue.paragraph - 2),
                self._last_subject(at, cue.paragraph - 2),
            )
            if found is not None
        ]
        if salient:
            return Speaking(max(salient)[1], True, Attribution.PRONOUN)
        if mention is not None and mention.paragraph >= cue.paragraph - 1:
            return Speaking(mention.name, True, Attribution.PRONOUN)
        return None

    def _last_subject(self, before: int, floor: int) -> tuple[int, str] | None:
        """(offset, name) of the last sentence that starts before offset `before`, in a
        paragraph from `floor` on, and opens with a person. `before` lies in the sentence
        being read, so these are sentences read already."""
        last = bisect_left(self._paragraph_starts, before) - 1
        for index in range(last, max(floor, 0) - 1, -1):
            sentences = self.sentences[index]
            for number in range(len(sentences) - 1, -1, -1):
                if sentences[number].start >= before:
                    continue
                key = (index, number)
                if key not in self._subjects:
                    self._subjects[key] = self._sentence_subject(sentences[number])
                subject = self._subjects[key]
                if subject is not None and subject.is_person:
                    return sentences[number].start, subject.name
        return None

    def _sentence_subject(self, sentence: Span) -> Speaking | None:
        """The person a sentence opens with ("The Kremlin spokesman returned …")."""
        text = self.masked[sentence.start : sentence.end]
        for start, end in _segments(text):
            segment = text[start:end]
            if _NOT_SUBJECT.match(segment) or not segment.strip(' \x00"“”‘’«»'):
                continue
            if self._opens_with_no_one(segment):
                return None
            refs = sorted(self.people.find(segment), key=lambda r: r.start)
            if not refs or refs[0].kind in (RefKind.PRONOUN, RefKind.ORGANISATION):
                return None
            lead = segment[: refs[0].start].split()
            if any(fold(w) not in ROLE_WORDS for w in lead):
                return None
            name = refs[0].name
            return Speaking(name, True, Attribution.BEFORE) if name else None
        return None

    def _opens_with_no_one(self, segment: str) -> bool:
        """Whether the segment surely opens with no one, without reading it for names.

        So when its first word holds no letter or digit (a masked quote, mostly) and is
        no role word, and the segment is no role phrase: every other reference starts at
        a letter or digit, so after that word, and a reference after a word that is not a
        role word is no sentence subject."""
        first = segment.split(maxsplit=1)[0]
        return (
            _WORD_CHAR.search(first) is None
            and fold(first) not in ROLE_WORDS
            and self.people.role_holder(segment.strip()) is None
        )

    def _mentions_between(self, first: int, before: int) -> list[_Mention]:
        """The people named in paragraph `first` and the paragraphs after it that open
        before offset `before`, in text order."""
        last = bisect_left(self._paragraph_starts, before) - 1
        return [m for index in range(max(first, 0), last + 1) for m in self._mentions_in(index)]

    def _mentions_in(self, index: int) -> list[_Mention]:
        found = self._mentions.get(index)
        if found is None:
            paragraph = self.paragraphs[index]
            chunk = self.masked[paragraph.start : paragraph.end]
            found = self._mentions[index] = [
                _Mention(paragraph.start + ref.start, ref.name, index)
                for ref in self.people.find(chunk)
                if ref.name
                and ref.kind is not RefKind.ORGANISATION
                and ref.through is None
                and self.people.is_known(ref.name)
            ]
        return found

    # -- quotes ------------------------------------------------------------------------

    def _attribute(self, quote: MarkedQuote) -> Attributed:
        first, last = quote.first_paragraph, quote.last_paragraph
        open_sentence = _containing(self.sentences[first], quote.outer_start)
        close_sentence = _containing(self.sentences[last], max(quote.outer_end - 1, quote.start))
        partial = self._is_partial(quote, open_sentence)
        after = [
            c
            for c in self._cues_in_sentence.get(close_sentence, ())
            if c.start >= quote.outer_end
            and not self._quote_between(quote.outer_end, c.start)
            and len(self.masked[quote.outer_end : c.start].split()) <= 8
        ]
        if after and after[0].subject is not None:
            speaker = _placed(after[0].subject, Attribution.AFTER)
            return Attributed(quote, speaker, after[0].verb, True, partial)
        before = [
            c
            for c in self._cues_in_sentence.get(open_sentence, ())
            if c.end <= quote.outer_start and c.subject
        ]
        if before:
            cue = before[-1]
            return Attributed(
                quote, _placed(cue.subject, Attribution.BEFORE), cue.verb, True, partial
            )
        unnamed = self._unnamed_cue(quote, open_sentence, close_sentence, after)
        if unnamed is not None:
            return Attributed(quote, None, unnamed.verb, True, partial, unnamed.unnamed)
        if after and self._has_subject(after[0]):
            # “…,” it said / “…,” Ms. Someone told reporters: someone we cannot name said
            # it, which is no reason to hand it to the speaker before.
            return Attributed(quote, None, after[0].verb, True, partial)
        inherited = self._continued(quote)
        return Attributed(quote, inherited, None, False, partial)

    def _has_subject(self, cue: Cue) -> bool:
        """Words stand where the cue's subject goes, whether or not we could resolve them."""
        if cue.verb.endswith("ing") or cue.verb == "according to" or cue.verb.startswith("in "):
            return False
        before = self.masked[self._left_bound(cue) : cue.start]
        if any(c.isalpha() for c in before):
            return True
        return cue.verb in _INVERTIBLE and any(c.isalpha() for c in self._phrase_after(cue))

    def _unnamed_cue(
        self, quote: MarkedQuote, open_sentence: Span, close_sentence: Span, after: list[Cue]
    ) -> Cue | None:
        """A cue in the quote's own sentence whose subject names no one: the quote is
        theirs ("a spokesman for the delegation called it “…”"), not the last speaker's."""
        if after and after[0].unnamed:
            return after[0]
        before = [
            c
            for c in self._cues_in_sentence.get(open_sentence, ())
            if c.end <= quote.outer_start and c.unnamed
        ]
        return before[-1] if before else None

    def _continued(self, quote: MarkedQuote) -> Speaking | None:
        """The speaker a quote with no attribution of its own continues: the last quote's
        in this paragraph, a speaker named earlier in it, or the last one in the
        paragraph before."""
        index = quote.first_paragraph
        same_paragraph = self._spoken.get(index)
        if same_paragraph:
            return _continuing(same_paragraph[-1])
        paragraph = self.paragraphs[index]
        cues_here = [
            c
            for c in self._cues_in_paragraph.get(index, ())
            if c.end <= quote.outer_start and c.subject
        ]
        if cues_here:
            return _continuing(cues_here[-1].subject)
        previous = self._spoken.get(index - 1)
        if previous:
            return _continuing(previous[-1])
        if quote.outer_start == paragraph.start and index > 0:
            cues_before = [c for c in self._cues_in_paragraph.get(index - 1, ()) if c.subject]
            if cues_before:
                return _continuing(cues_before[-1].subject)
        return None

    def _quote_between(self, start: int, end: int) -> bool:
        first = bisect_left(self._outer_starts, start)
        return first < len(self._outer_starts) and self._outer_starts[first] < end

    def _is_partial(self, quote: MarkedQuote, sentence: Span) -> bool:
        words = self.text[quote.start : quote.end]
        first_letter = next((c for c in words if c.isalpha()), "")
        if first_letter.islower():
            first_half = self._split_quote_start(quote, sentence)
            # The second half of a split quote is as partial as the first half.
            return True if first_half is None else self._is_partial(first_half, sentence)
        lead_in = self.masked[sentence.start : quote.outer_start].rstrip()
        if not lead_in.strip('\x00"“”‘’ '):
            return False
        if lead_in.endswith((":", ",", "—", "–", "-")):
            return False
        # "Peskov said “…”" opens a full quote; "called it a “New Cold War”" does not.
        cues = list(_CUE.finditer(lead_in))
        return not (cues and cues[-1].end() >= len(lead_in) - 1)

    def _split_quote_start(self, quote: MarkedQuote, sentence: Span) -> MarkedQuote | None:
        """The first half when this quote continues one split by its attribution:
        “We came here to find a solution,” Moser said, “but a solution needs two…”."""
        last = bisect_left(self._closes, (quote.outer_start, -1)) - 1
        if last < 0 or self._closes[last][0] < sentence.start:
            return None
        close, which = self._closes[last]
        if self.text[close - 1] != ",":
            return None
        first_half = self.quotes[which]
        between = self.masked[first_half.outer_end : quote.outer_start].strip()
        splits = between.endswith(",") and _CUE.search(between) is not None and "." not in between
        return first_half if splits else None


def attribute_quotes(
    text: str, paragraphs: Sequence[Span], quotes: Sequence[MarkedQuote], people: People
) -> list[Attributed]:
    return _Reader(text, paragraphs, quotes, people).read()


def _unnamed(phrase: str) -> str | None:
    """A subject that names no one but is someone: "A spokesman for the Turkish
    delegation", "a senior colleague", "The two leaders"."""
    cleaned = " ".join(
        _PARENTHETICAL.sub(" ", _FOOTNOTE.sub(" ", phrase)).replace("\x00", " ").split()
    )
    segment = cleaned.rsplit(",", 1)[-1].strip(' ,;:—–-"“”')
    words = segment.split()
    if not 1 < len(words) <= 8 or not any(w.lower().strip(".,") in _UNNAMED_NOUNS for w in words):
        return None
    return segment


# A preposition just before a name makes it an object: "asked about Lavrov", "with Trump".
_OBJECT_BEFORE = re.compile(
    r"\b(?i:about|with|to|for|of|on|at|from|by|against|toward|towards|asked|met|called)"
    r"\s+(?:(?:the|a|an|[A-Z][\w.’'-]*)\s+){0,3}$"
)
# ", a Kremlin spokesman" after "said Peskov".
_ROLE_APPOSITIVE = re.compile(r"\s*,\s*(?:a|an|the)\s+([^,.;]{3,60})")
_APPOSITIVE = re.compile(r"^\s*(?:the|a|an|then|now|former|his|her|their)\s+\S", re.IGNORECASE)


def _is_appositive(segment: str) -> bool:
    """A description set off by commas after a name: ", the Turkish trade minister,"."""
    words = segment.split()
    return bool(_APPOSITIVE.match(segment)) and len(words) <= 10 and "\x00" not in segment


def _strip_article(segment: str) -> str:
    words = segment.split()
    while words and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    return " ".join(words)


def _placed(speaker: Speaking | None, where: Attribution) -> Speaking | None:
    """Name the attribution by where it stands, unless a pronoun or role says more."""
    if speaker is None or speaker.how not in (Attribution.AFTER, Attribution.BEFORE):
        return speaker
    return Speaking(speaker.name, speaker.is_person, where, speaker.role)


def _continuing(speaker: Speaking | None) -> Speaking | None:
    if speaker is None:
        return None
    return Speaking(speaker.name, speaker.is_person, Attribution.CONTINUATION)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _segments(text: str) -> list[tuple[int, int]]:
    """Comma- and dash-separated stretches of a clause, as (start, end) offsets."""
    spans, start = [], 0
    for match in re.finditer(r"[,;:—–]", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [s for s in spans if text[s[0] : s[1]].strip()]


def _mask(text: str, quotes: Sequence[MarkedQuote]) -> str:
    chars = list(text)
    for quote in quotes:
        for segment in quote.segments:
            chars[segment.start : segment.end] = "\x00" * (segment.end - segment.start)
    return "".join(chars)


def _last_person(
    found: Sequence[tuple[int, int, Speaking]], offsets: Sequence[int], before: int, floor: int
) -> tuple[int, str] | None:
    """(offset, name) of the last person in `found` before an offset and in a paragraph
    from `floor` on."""
    index = bisect_left(offsets, before) - 1
    while index >= 0 and found[index][1] >= floor:
        at, _, speaking = found[index]
        if speaking.is_person:
            return at, speaking.name
        index -= 1
    return None


def _sentences(masked: str, text: str, paragraph: Span, closes: Sequence[int]) -> list[Span]:
    cuts = set()
    for match in _BOUNDARY.finditer(masked, paragraph.start, paragraph.end):
        word = re.search(
            r"([\w.]+)[.!?…]?$",
            masked[max(paragraph.start, match.start() - 12) : match.start() + 1],
        )
        token = word.group(1).lower().rstrip(".") if word else ""
        if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
            continue
        cuts.add(match.end())
    first = bisect_left(closes, paragraph.start)
    for close in closes[first : bisect_left(closes, paragraph.end)]:
        follows = masked[close + 1 : paragraph.end]
        next_sentence = _NOT_AN_INITIAL_STOP.split(follows)[0]
        ends_sentence = text[close - 1] in ".!?" and _OPENS_SENTENCE.match(follows)
        if ends_sentence and not _is_short_attribution(next_sentence):
            cuts.add(close + 1)
    bounds = [paragraph.start, *sorted(c for c in cuts if paragraph.start < c < paragraph.end)]
    return [Span(a, b) for a, b in zip(bounds, [*bounds[1:], paragraph.end], strict=True)]


# A full stop that ends a sentence, not an initial or "Mr" ("Mr. Peskov", "J. Smith").
_NOT_AN_INITIAL_STOP = re.compile(r"(?<![A-Z][a-z])(?<![A-Z])[.!?]")
_OPENS_SENTENCE = re.compile(rf"\s*[\"“‘«]?{CAPITAL}")


def _is_short_attribution(sentence: str) -> bool:
    """“…” Peskov said on Thursday. — a short sentence that only says who spoke."""
    words = sentence.split()
    cue = _CUE.search(sentence)
    return len(words) <= 8 and cue is not None and len(sentence[: cue.start()].split()) <= 4


def _containing(sentences: list[Span], offset: int) -> Span:
    for sentence in sentences:
        if sentence.start <= offset < sentence.end:
            return sentence
    return sentences[-1]
