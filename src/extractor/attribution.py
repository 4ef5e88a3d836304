"""Give each quotation a speaker with parser-free rules: the offline half of quotation extraction.

`attribute` reads the words around each quotation `find_quotations` found and names who said it:

- a said-verb after the quote ("...," said Smith / "...," Smith said / "...," he told reporters),
- a said-verb before it in the same sentence (Smith said: "..." / Smith said the plan was "..."),
- "according to X", a colon introduction (X: "..."), a dash after the quote ("..." -- X),
- a transcript turn's label (TRUMP: ...),
- the paragraph's named speaker for its other quotes, and for a paragraph that continues the last
  one's quote,
- pronouns (he, she, they) to the speaker the article last named.

Speakers are names as the article gives them most fully ("Donald Trump" where the sentence says
"Trump"), with a role and organisation when the text puts them before the name ("White House
spokesman Josh Earnest"); one person keeps one name across the article. `offline_quotes` turns the
result into the library's `Quote` records. Nothing here loads openai or instructor.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from extractor.quotations import SAID_VERBS, MarkStyle, Quotation, find_quotations

if TYPE_CHECKING:
    from extractor.models import Quote

__all__ = ["Attribution", "attribute", "offline_quotes"]


@dataclass(frozen=True)
class Attribution:
    """Who said a quotation, by which rule, and how sure the rule is."""

    quotation: Quotation
    speaker: str | None  # the fullest name the article gives, or a nominal ("a campaign aide")
    role: str | None = None  # "spokesman"
    organization: str | None = None  # "White House"
    verb: str | None = None  # the cue as written: "said", "told", "according to"
    partial: bool = False  # a quoted fragment inside the writer's sentence
    rule: str = "none"  # which rule named the speaker (see module docstring)
    confidence: float = 0.0  # rough: 0.9 a cue next to the quote ... 0.4 carried from afar

    @property
    def kind(self) -> str:
        """'direct' or 'partial', as `extractor.models.QuoteKind` spells them."""
        return "partial" if self.partial else "direct"


def _word_set(spaced: str) -> frozenset[str]:
    """A set of the white-space separated words."""
    return frozenset(spaced.split())


# --- names -----------------------------------------------------------------------------------

_TITLES = {
    "mr.": None,
    "mrs.": None,
    "ms.": None,
    "miss": None,
    "dr.": "doctor",
    "sen.": "senator",
    "sens.": "senator",
    "reps.": "representative",
    "representative": "representative",
    "senator": "senator",
    "rep.": "representative",
    "gov.": "governor",
    "governor": "governor",
    "gen.": "general",
    "lt.": "lieutenant",
    "col.": "colonel",
    "sgt.": "sergeant",
    "adm.": "admiral",
    "prof.": "professor",
    "professor": "professor",
    "rev.": "reverend",
    "del.": "delegate",
    "president": "president",
    "vice": None,
    "secretary": "secretary",
    "mayor": "mayor",
    "judge": "judge",
    "justice": "justice",
    "chancellor": "chancellor",
    "minister": "minister",
    "prime": None,
    "speaker": "speaker",
    "pope": "pope",
    "king": "king",
    "queen": "queen",
    "prince": "prince",
    "ambassador": "ambassador",
    "attorney": None,
    "general": None,
    "former": None,
    "sheriff": "sheriff",
    "chief": None,
    "coach": "coach",
    "pres.": "president",
    **{
        word: word
        for word in _word_set(
            """anchor host moderator spokesman spokeswoman spokesperson chairman
        chairwoman chair director candidate nominee adviser advisor aide commissioner
        correspondent reporter columnist economist analyst strategist pollster
        congressman congresswoman councilman councilwoman superintendent"""
        )
    },
}
_STARTERS = _word_set(
    """a an the but and or so yet if when while after before as at in on of for from by with
    this that these those there here then now still also however meanwhile instead later
    earlier during since because though although despite unlike like asked told said says
    both either neither each every some many most more other another such what which who
    whose why how where it its it's he she they we i you his her their our my your
    according yes no not mostly"""
)
_NOT_NAMES = _word_set(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december today tonight yesterday
    tomorrow"""
)
_CAP = r"(?:(?:[A-Z]\.){1,3}|[A-Z][\w'\u2019\-]*\.?)"
_NAME_RUN = re.compile(
    rf"{_CAP}(?:[ \t\u00a0]+(?:{_CAP}|(?:de|la|van|von|del|der|bin|al|da|di|du|le)\b))*"
)
_POSSESSIVE = re.compile(r"['\u2019]s?\Z")
_PRONOUNS = {"he": "he", "she": "she", "they": "they", "i": "i", "we": "we", "him": "he"}


def _clean_tokens(run: str) -> list[str]:
    """The name's tokens: sentence starters, leading titles and possessives dropped."""
    tokens = run.split()
    while tokens and tokens[0].lower().rstrip(",") in _STARTERS:
        tokens.pop(0)
    if tokens:
        tokens[-1] = _POSSESSIVE.sub("", tokens[-1]).rstrip(".,") or tokens[-1]
        if tokens[-1].lower() in ("jr", "sr"):
            tokens[-1] += "."
    return [t for t in tokens if t]


def _split_title(tokens: list[str]) -> tuple[str | None, list[str]]:
    """A title before the name as a role ("Sen." -> senator, "Foreign Minister"), and the name."""
    role = None
    while len(tokens) > 1 and tokens[0].lower() in _TITLES:
        role = _TITLES[tokens[0].lower()] or role
        tokens = tokens[1:]
    titled = [i for i, t in enumerate(tokens[:-1]) if _TITLES.get(t.lower())]
    if titled:  # "Foreign Minister Ivo Brandt", "Press Secretary Josh Earnest"
        role = " ".join(tokens[: titled[-1] + 1])
        tokens = tokens[titled[-1] + 1 :]
    return role, tokens


class _Names:
    """Every capitalised name the article uses, so a surname maps to its fullest form."""

    def __init__(self, text: str) -> None:
        self.full: dict[str, str] = {}  # last token, lowercased -> fullest name
        counts: dict[str, dict[str, int]] = {}
        for m in _NAME_RUN.finditer(text):
            _, tokens = _split_title(_clean_tokens(m.group()))
            if len(tokens) < 2 or tokens[-1].lower() in _NOT_NAMES:
                continue
            name = " ".join(tokens)
            counts.setdefault(tokens[-1].lower(), {}).setdefault(name, 0)
            counts[tokens[-1].lower()][name] += 1
        for last, forms in counts.items():
            people = [f for f in forms if not any(t.lower() in _STARTERS for t in f.split())]
            if people:
                # the most used full form; among equals, the longest
                self.full[last] = max(people, key=lambda f: (forms[f], len(f.split())))

    def fullest(self, tokens: list[str]) -> str:
        """The article's fullest name for a mention ("Trump" -> "Donald Trump")."""
        if not tokens:
            return ""
        known = self.full.get(tokens[-1].lower())
        if known is None:
            return " ".join(tokens)
        if len(tokens) > 1 and tokens[0].lower() != known.split()[0].lower():
            return " ".join(tokens)  # another person of that surname: keep what the text says
        return known if len(known.split()) >= len(tokens) else " ".join(tokens)


@dataclass(frozen=True)
class _Who:
    """A speaker mention as parsed: a name, a pronoun, or a nominal like 'the senator'."""

    name: str | None = None
    role: str | None = None
    organization: str | None = None
    pronoun: str | None = None
    nominal: str | None = None


_NOMINAL_HEAD = re.compile(
    r"(?:the|a|an|one|another|two|three|several|some|many|other|his|her|their|its)\s+"
    r"(?:[\w\-'\u2019.]+\s+){0,4}?[a-z][\w\-]*\Z",
    re.IGNORECASE,
)


_CLAUSE_WORDS = _word_set("and or but was were is are be been being that which who whom")


def _parse_who(phrase: str, names: _Names) -> _Who | None:
    """Read a speaker phrase: 'White House spokesman Josh Earnest', 'he', 'the senator'."""
    phrase = phrase.strip(" ,\u2014\u2013-\t\n\u00a0")
    phrase = re.sub(r"\s*\([^)]*\)\s*", " ", phrase).strip()  # (D-Wis.)
    if not phrase:
        return None
    low = phrase.lower()
    if low in _PRONOUNS:
        return _Who(pronoun=_PRONOUNS[low])
    runs = list(_NAME_RUN.finditer(phrase))
    if runs:
        last = runs[-1]
        tokens = _clean_tokens(last.group())
        title_role, tokens = _split_title(tokens)
        if tokens and tokens[-1].lower() not in _NOT_NAMES and tokens[-1].lower() not in _STARTERS:
            before = phrase[: last.start()].strip()
            role = title_role
            organization = None
            lead = (
                re.fullmatch(r"(?:(.*?)\s+)?((?:[a-z][\w\-]*\s*){1,3})", before) if before else None
            )
            if lead and lead.group(2):
                role = lead.group(2).strip()
                org = (lead.group(1) or "").strip()
                org_tokens = _clean_tokens(_POSSESSIVE.sub("", org)) if org else []
                organization = " ".join(org_tokens) or None
            if len(tokens) >= 2 or tokens[-1][0].isupper():
                return _Who(name=names.fullest(tokens), role=role, organization=organization)
    words = phrase.lower().split()
    if _NOMINAL_HEAD.match(phrase) and len(words) <= 6 and not _CLAUSE_WORDS.intersection(words):
        return _Who(nominal=phrase)
    return None


# --- rules -----------------------------------------------------------------------------------

_SAID_WORDS = SAID_VERBS - {"according", "call", "calls", "called", "calling", "reports"}
_EXTRA_VERBS = ("put it", "shot back", "fired back", "call", "attacked", "criticized", "concluded")
_VERBS = sorted(
    [*(v for v in SAID_VERBS if v != "according"), *_EXTRA_VERBS], key=len, reverse=True
)
_VERB = r"(?:" + "|".join(_VERBS) + r")"
_ADVERB = r"(?:\w+ly\s+|also\s+|later\s+|then\s+|once\s+|has\s+|had\s+|have\s+|would\s+|will\s+)*"
_NAME_PHRASE = (
    rf"(?:(?:[A-Z0-9][\w./'\u2019&\-]*|[a-z][\w\-]*)[ \t\u00a0]+){{0,5}}?"
    rf"{_CAP}(?:[ \t\u00a0]+(?:{_CAP}|de|la|van|von|del|bin|al))*(?:\s*\([^)]{{1,30}}\))?"
)
_SUBJECT = (
    rf"(?P<who>he|she|they|I|we|{_NAME_PHRASE}|"
    r"(?:the|a|an|one|another|his|her|their)\s+(?:[\w\-'\u2019.]+\s+){0,4}?[a-z][\w\-]*)"
)
_APPOSITIVE = r"(?:,\s*(?P<appos>[^,\"\u201c\u201d]{1,160}(?:,[^,\"\u201c\u201d]{1,60})?),)?"
_STOP = (
    r"(?=\s*(?:[,.;:!?]|$|\s(?:who|which|in|on|at|after|during|before|when|while|as|to|of|"
    r"about|for|from|with|that|last|this|earlier|later|Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday|yesterday|today|tonight)\b))"
)
# after the quote: "...," said Smith / "...," Smith said / "..." -- Smith
_VERB_THEN_WHO = re.compile(
    rf"[\s,]*(?P<verb>{_VERB})\s+(?:\w+day\s+)?(?P<who>{_NAME_PHRASE}|"
    rf"(?:the|a|an|one|another)\s+(?:[\w\-'\u2019.]+\s+){{0,5}}?[a-z][\w\-]*){_STOP}"
    r"(?:,\s*(?P<appos>(?:the|a|an)\s[^,.;\"\u201c\u201d]{1,120}))?"
)
_WHO_THEN_VERB = re.compile(rf"[\s,]*{_SUBJECT}{_APPOSITIVE}\s+{_ADVERB}(?P<verb>{_VERB})\b")
_DASH_WHO = re.compile(rf"\s*[\u2015\u2014\u2013-]+[\s\u00a0]*(?P<who>{_NAME_PHRASE})")
# before the quote: Smith said: "..." / Smith said the plan was "..."
_WHO_VERB_ANY = re.compile(rf"\b{_SUBJECT}{_APPOSITIVE}\s+{_ADVERB}(?P<verb>{_VERB})\b")
_COLON_WHO = re.compile(rf"(?P<who>{_NAME_PHRASE})\s*:\s*\Z")
_ACCORDING = re.compile(rf"\b[Aa]ccording to\s+(?P<who>{_NAME_PHRASE}|he|she|they){_STOP}")
_BREAK = re.compile(r"[.!?][\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018A-Z])")
_ABBREVIATIONS = _word_set(
    """mr mrs ms dr st jr sr sen sens rep reps gov gen gens lt col sgt adm prof rev del no mt
    ft inc co corp ltd jan feb aug sept sep oct nov dec vs pres gov govs maj capt cmdr"""
)


def _breaks(window: str) -> list[re.Match[str]]:
    """Sentence ends in the window: not after an abbreviation or an initial."""
    out = []
    for m in _BREAK.finditer(window):
        head = window[max(0, m.start() - 6) : m.start()]
        word = re.split(r"[\s(\"'\u201c]", head)[-1].lower()
        initials = re.fullmatch(r"(?:\w\.)*\w", word) is not None and "." in word
        short = len(word.rstrip(".")) == 1 or initials
        if window[m.start()] == "." and (word in _ABBREVIATIONS or short):
            continue
        out.append(m)
    return out


def _sentence_before(text: str, lo: int, pos: int) -> str:
    """The text of the sentence before pos, from its start (within the paragraph)."""
    window = text[max(lo, pos - 300) : pos]
    breaks = _breaks(window)
    return window[breaks[-1].end() :] if breaks else window


def _sentence_after(text: str, pos: int, hi: int) -> str:
    """The rest of the sentence after pos (within the paragraph)."""
    window = text[pos : min(hi, pos + 250)]
    breaks = _breaks(window)
    return window[: breaks[0].start() + 1] if breaks else window


class _Lines:
    """Line starts and ends of a text, for paragraph bounds in logarithmic time."""

    def __init__(self, text: str) -> None:
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.length = len(text)

    def bounds(self, pos: int) -> tuple[int, int]:
        """(start, end) of the line holding pos."""
        i = bisect.bisect_left(self.newlines, pos)
        lo = self.newlines[i - 1] + 1 if i > 0 else 0
        hi = self.newlines[i] if i < len(self.newlines) else self.length
        return lo, hi


@dataclass
class _Found:
    who: _Who
    verb: str | None
    rule: str
    confidence: float


def _try(match: re.Match[str] | None, names: _Names, rule: str, conf: float) -> _Found | None:
    if match is None:
        return None
    who = _parse_who(match.group("who"), names)
    if who is None:
        return None
    groups = match.groupdict()
    verb = groups.get("verb")
    if who.name and groups.get("appos") and not who.role:
        appos = groups["appos"].strip()
        appos = re.sub(r"^(?:the|a|an)\s+", "", appos)
        if appos and (appos[0].islower() or appos.split(" ")[0].lower() == "former"):
            who = _Who(name=who.name, role=appos, organization=who.organization)
    return _Found(who, verb, rule, conf)


def _masked(text: str, quotations: list[Quotation]) -> str:
    """The text with quoted words hidden, offsets kept, for reading sentences around quotes.

    A quote's letters and digits become 'x' (marks and punctuation kept), so an earlier quote in
    the same sentence neither hides the sentence's subject nor lends its words as one: 'Peskov
    said Moscow held a "xxxxxxxx xxxxxxxx", adding ... "..."'. A quotation that is not speech (a
    nickname, a title) becomes blanks, marks and all, so 'Marcia "Cia" Price' reads as a name.
    """
    chars = list(text)
    for q in quotations:
        if q.likely_speech:
            for i in range(q.start, q.end):
                if chars[i].isalnum():
                    chars[i] = "x"
        elif q.style is not MarkStyle.TRANSCRIPT:
            for i in range(q.outer_start, q.outer_end):
                if chars[i].isalnum() or not (chars[i].isspace() or chars[i] in ",.;:!?"):
                    chars[i] = " "
    return "".join(chars)


def _rules(
    text: str,
    masked: str,
    q: Quotation,
    names: _Names,
    lines: _Lines,
    within: Quotation | None = None,
) -> _Found | None:
    """The first rule that names a speaker next to this quotation (inside `within`, if nested)."""
    lo, _ = lines.bounds(q.outer_start)
    _, hi = lines.bounds(max(q.outer_start, q.outer_end - 1))
    if within is not None:  # a quote inside a longer one: its sentence is the outer's words
        lo, hi = max(lo, within.start), min(hi, within.end)
    after = _sentence_after(text, q.outer_end, hi)
    before = _sentence_before(masked, lo, q.outer_start)
    if q.speaker_label:
        tokens = _clean_tokens(q.speaker_label.title())
        role, tokens = _split_title(tokens)
        name = names.fullest(tokens) if tokens else q.speaker_label.title()
        return _Found(_Who(name=name, role=role), None, "transcript", 0.9)
    for found in (
        _try(_VERB_THEN_WHO.match(after), names, "said X after", 0.9),
        _try(_WHO_THEN_VERB.match(after), names, "X said after", 0.9),
        _try(_DASH_WHO.match(after), names, "dash after", 0.8),
    ):
        if found:
            return found
    stripped = before.rstrip()
    if stripped.endswith((":", ",")) or not stripped:
        m = _COLON_WHO.search(stripped)
        if m and not stripped.endswith(","):
            found = _try(m, names, "colon", 0.8)
            if found and found.who.name:
                return found
    for match in reversed(list(_WHO_VERB_ANY.finditer(before))):
        found = _try(match, names, "X said before", 0.8)
        if found and not found.who.name and match.group("verb").endswith("ing"):
            found = _first_name(before, names, found.verb)  # X did this, saying "..."
        if found:
            return found
    cue = next((w for w in re.findall(r"[a-z]+", before) if w in _SAID_WORDS), None)
    if cue:  # X dismissed it and indicated that "..."
        found = _first_name(before, names, cue)
        if found:
            return found
    for where in (before, after):
        found = _try(_ACCORDING.search(where), names, "according to", 0.8)
        if found:
            return _Found(found.who, "according to", found.rule, found.confidence)
    return None


def _previous_paragraph(text: str, lo: int) -> int:
    """Where the paragraph before the one starting at lo starts."""
    end = lo
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return text.rfind("\n", 0, end) + 1


def _first_name(sentence: str, names: _Names, verb: str | None) -> _Found | None:
    """The sentence's first name, taken as its subject."""
    for m in _NAME_RUN.finditer(sentence):
        if _POSSESSIVE.search(m.group()):  # "Scott's niece, Del. Marcia Price": not the subject
            continue
        who = _parse_who(m.group(), names)
        if who is not None and who.name:
            return _Found(who, verb, "sentence subject", 0.6)
    return None


def _named_before(text: str, lo: int, pos: int, names: _Names) -> _Who | None:
    """The named subject of a said-verb earlier in the paragraph (Sen. X scolded him: "...")."""
    matches = list(_WHO_VERB_ANY.finditer(text, max(lo, pos - 600), pos))
    for m in reversed(matches):
        who = _parse_who(m.group("who"), names)
        if who is not None and who.name:
            return who
    return None


def _enclosing(quotations: list[Quotation]) -> list[Quotation | None]:
    """For each quotation, the one it is nested in (a double quote inside a longer one), if any."""
    out: list[Quotation | None] = []
    top: Quotation | None = None
    for q in quotations:
        inside = top is not None and top.start <= q.outer_start and q.outer_end <= top.end
        out.append(top if inside else None)
        if not inside:
            top = q
    return out


def attribute(text: str, quotations: list[Quotation]) -> list[Attribution]:
    """A speaker for each quotation (None when no rule applies), in the order given.

    A quotation nested in a longer one (an excerpt quoting others) is read within the outer
    quote's words; it takes no speaker from its paragraph and names none for the others.
    """
    names = _Names(text)
    lines = _Lines(text)
    enclosing = _enclosing(quotations)
    masked = _masked(text, [q for q, e in zip(quotations, enclosing, strict=True) if e is None])
    nested = [q for q, e in zip(quotations, enclosing, strict=True) if e is not None]
    masked_nested = _masked(text, nested) if nested else text
    out: list[Attribution] = []
    last_named: _Who | None = None  # the speaker the article named last
    paragraph_speaker: dict[int, Attribution] = {}  # paragraph start -> its named speaker
    previous: Attribution | None = None
    for q, within in zip(quotations, enclosing, strict=True):
        if within is not None:
            out.append(_nested(text, masked_nested, q, within, names, lines, last_named))
            continue
        lo, _ = lines.bounds(q.outer_start)
        floor = previous.quotation.outer_end if previous is not None else 0
        found = _rules(text, masked, q, names, lines)
        verb, rule, conf = (found.verb, found.rule, found.confidence) if found else (None, "", 0)
        who = found.who if found else None
        if who is not None and who.pronoun:
            here = _named_before(text, max(lo, floor), q.outer_start, names)
            sentence = _sentence_before(text, max(lo, floor), q.outer_start).rstrip()
            if here is None and sentence.endswith(":"):  # Sen. X pressed him: "..." she said
                first = _first_name(sentence, names, None)
                here = first.who if first else None
            if here is not None:
                who, rule = here, rule + ", pronoun to the paragraph's named subject"
            elif last_named is not None:
                who, rule, conf = last_named, rule + ", pronoun to last named speaker", conf - 0.2
            else:
                who = None
        if who is not None and who.nominal and last_named is not None and last_named.role:
            head = who.nominal.split()[-1].lower()
            if head in last_named.role.lower().split():
                who, rule = last_named, rule + ", nominal to last named speaker"
        attribution: Attribution | None = None
        if who is not None and (who.name or who.nominal):
            attribution = Attribution(
                q,
                who.name or who.nominal,
                who.role,
                who.organization,
                verb,
                q.partial,
                rule,
                round(conf, 2),
            )
        elif lo in paragraph_speaker:  # "We are ready," she said. "The talks start Friday."
            carried = paragraph_speaker[lo]
            attribution = _carry(q, carried, "paragraph's speaker", 0.7)
        elif (
            previous is not None
            and previous.speaker
            and q.outer_start == lo
            and _previous_paragraph(text, lo) <= previous.quotation.outer_start
        ):  # a paragraph that opens with a quote, after a paragraph quoting someone
            attribution = _carry(q, previous, "continues the last paragraph's quote", 0.6)
        if attribution is None:
            attribution = Attribution(q, None, partial=q.partial)
        if attribution.speaker and attribution.rule.split(",")[0] in _NAMING_RULES:
            paragraph_speaker.setdefault(lo, attribution)
            if who is not None and who.name:
                last_named = who
        out.append(attribution)
        previous = attribution
    return _one_name_each(out)


def _nested(
    text: str,
    masked: str,
    q: Quotation,
    within: Quotation,
    names: _Names,
    lines: _Lines,
    last_named: _Who | None,
) -> Attribution:
    """The speaker of a quotation nested in `within`, from the outer quote's own words."""
    found = _rules(text, masked, q, names, lines, within)
    if found is None:
        return Attribution(q, None, partial=q.partial)
    who, rule, conf = found.who, found.rule, found.confidence
    if who.pronoun:
        here = _named_before(masked, within.start, q.outer_start, names)
        if here is not None:
            who, rule = here, rule + ", pronoun to the paragraph's named subject"
        elif last_named is not None:
            who, rule, conf = last_named, rule + ", pronoun to last named speaker", conf - 0.2
        else:
            return Attribution(q, None, partial=q.partial)
    speaker = who.name or who.nominal
    if speaker is None:
        return Attribution(q, None, partial=q.partial)
    return Attribution(
        q, speaker, who.role, who.organization, found.verb, q.partial, rule, round(conf, 2)
    )


_NAMING_RULES = frozenset(
    {"said X after", "X said after", "dash after", "colon", "X said before", "according to"}
    | {"transcript"}
)


def _carry(q: Quotation, source: Attribution, rule: str, confidence: float) -> Attribution:
    return Attribution(
        q,
        source.speaker,
        source.role,
        source.organization,
        source.verb,
        q.partial,
        rule,
        confidence,
    )


def _one_name_each(attributions: list[Attribution]) -> list[Attribution]:
    """One person, one name: a shorter name a fuller one ends with takes it, role and all."""
    fullest: dict[str, Attribution] = {}
    for a in attributions:
        if a.speaker and a.speaker[0].isupper():
            last = a.speaker.split()[-1].lower()
            known = fullest.get(last)
            longer = known is None or len(a.speaker) > len(known.speaker or "")
            with_role = known is not None and a.speaker == known.speaker and a.role
            if longer or (with_role and known is not None and not known.role):
                fullest[last] = a
    out = []
    for a in attributions:
        if a.speaker and a.speaker[0].isupper():
            full = fullest[a.speaker.split()[-1].lower()]
            if full.speaker and full.speaker.endswith(a.speaker):
                a = replace(
                    a,
                    speaker=full.speaker,
                    role=a.role or full.role,
                    organization=a.organization or full.organization,
                )
        out.append(a)
    return out


def offline_quotes(text: str) -> list[Quote]:
    """The article's marked quotes as `Quote` records, speakers from the rules, no model."""
    from extractor.models import Actor, Quote, QuoteKind
    from extractor.spans import Span

    quotes: list[Quote] = []
    for a in attribute(text, find_quotations(text)):  # titles and names, too, read as such
        q = a.quotation
        if not q.likely_speech:
            continue
        quotes.append(
            Quote(
                text=text[q.start : q.end],
                speaker=Actor(
                    name=a.speaker or "unknown", role=a.role, organization=a.organization
                ),
                kind=QuoteKind.PARTIAL if a.partial else QuoteKind.DIRECT,
                verb=a.verb,
                span=Span(start=q.start, end=q.end, text=text[q.start : q.end]),
            )
        )
    return quotes
