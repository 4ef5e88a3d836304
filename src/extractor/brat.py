"""brat standoff attributions (PolNeAR, PARC) read as gold quotes for `extractor eval`.

brat standoff keeps the text in ``NAME.txt`` and its annotations in ``NAME.ann``, one per line:

    T1<TAB>Source 0 5<TAB>Smith
    T2<TAB>Cue 6 10<TAB>said
    T3<TAB>Content 12 30;35 50<TAB>first piece second piece
    E1<TAB>Attribution:T4 Source:T1 Cue:T2 Content:T3

``T`` lines are text-bound spans (a discontinuous one lists its fragments with ``;``; its text is
the fragments joined by a space), ``E`` lines tie them into an attribution by role. PolNeAR's
attributions are ``E`` lines whose roles are ``Source``, ``Cue`` and ``Content`` (a second
content is ``Content2``; an attribution with no source has trigger ``Attribution-no-source``),
as its README and ``.ann`` files show. ``R``, ``A``, ``N`` and ``#`` lines are read and ignored.

`gold_quotes` turns each attribution into gold quotes, as the library's own quotes are cut:

- ``marked`` (the default): the passages between double quotation marks inside the Content.
  Content enclosed in marks gives `direct` quotes (its words inside the marks: two quoted
  pieces give two quotes); marks inside a paraphrase give `partial` quotes. Content with no
  marks gives none: the article is scored on the quotes its marks show.
- ``all``: as ``marked``, and the fragments of a Content that hold no mark are a `reported`
  quote, its fragments as annotated (decided per fragment: a discontinuous Content whose one
  fragment is quoted and whose other paraphrases gives a direct quote and a reported one).

The speaker is the Source's name (`source_name`): a Source that is a pronoun or a nominal ("he",
"a source", "the campaign") leaves the quote's speaker unnamed (PolNeAR does not resolve them),
kept in `speaker_mention`. Model-free: imports neither openai nor instructor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from extractor.errors import InputError
from extractor.gold import GoldArticle, GoldQuote, GoldSpan, LoadedGold
from extractor.models import QuoteKind

__all__ = [
    "Attribution",
    "BratDocument",
    "BratSpan",
    "QuoteMode",
    "attributions",
    "gold_quotes",
    "parse_standoff",
    "read_brat",
    "source_name",
    "text_mode",
]

QuoteMode = Literal["marked", "all"]
DOUBLE_MARKS = frozenset('"\u201c\u201d\u201e\u201f\u00ab\u00bb')
_TRAILING = ".,;:!?\u2014\u2013- \t\n"
_ROLE_NUMBER = re.compile(r"\d+$")


@dataclass(frozen=True)
class BratSpan:
    """A text-bound annotation (``T`` line): its label and fragments, end exclusive."""

    id: str
    label: str
    fragments: tuple[tuple[int, int], ...]
    text: str


@dataclass(frozen=True)
class BratEvent:
    """An ``E`` line: a trigger and its arguments, each a role and an annotation id."""

    id: str
    trigger_label: str
    trigger: str
    args: tuple[tuple[str, str], ...]


@dataclass
class BratDocument:
    """The text-bound spans and events of one ``.ann`` file."""

    spans: dict[str, BratSpan] = field(default_factory=dict)
    events: dict[str, BratEvent] = field(default_factory=dict)


def parse_standoff(ann: str, where: str = "<ann>") -> BratDocument:
    """The ``T`` and ``E`` lines of a brat ``.ann`` text; other lines are skipped."""
    doc = BratDocument()
    for number, line in enumerate(ann.splitlines(), 1):
        if not line.strip() or line[0] not in "TE":
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise InputError(f"{where}:{number}: expected tab-separated fields: {line[:60]!r}")
        ident, body = parts[0], parts[1]
        if ident.startswith("T"):
            label, _, offsets = body.partition(" ")
            try:
                pieces = [tuple(int(x) for x in f.split()) for f in offsets.split(";")]
                fragments = tuple((a, b) for a, b in pieces)
            except ValueError:
                raise InputError(
                    f"{where}:{number}: bad offsets {offsets!r} (expected 'START END;START END')"
                ) from None
            if any(b < a or a < 0 for a, b in fragments):
                raise InputError(f"{where}:{number}: a fragment ends before it starts")
            text = parts[2] if len(parts) > 2 else ""
            doc.spans[ident] = BratSpan(ident, label, fragments, text)
        else:
            args = [a.split(":", 1) for a in body.split()]
            if not args or any(len(a) != 2 for a in args):
                raise InputError(f"{where}:{number}: bad event arguments {body!r}")
            (trigger_label, trigger), *rest = args
            doc.events[ident] = BratEvent(
                ident, trigger_label, trigger, tuple((role, ref) for role, ref in rest)
            )
    return doc


@dataclass(frozen=True)
class Attribution:
    """Who (Source) said (Cue) what (Content), as one ``E`` line ties them."""

    id: str
    source: BratSpan | None
    cue: BratSpan | None
    contents: tuple[BratSpan, ...]


def attributions(doc: BratDocument) -> list[Attribution]:
    """Every event with a Content argument, roles read without their number (``Content2``)."""
    out: list[Attribution] = []
    for event in doc.events.values():
        roles: dict[str, list[BratSpan]] = {}
        for role, ref in event.args:
            span = doc.spans.get(ref)
            if span is not None:
                roles.setdefault(_ROLE_NUMBER.sub("", role).casefold(), []).append(span)
        contents = roles.get("content", [])
        if not contents:
            continue
        source = roles.get("source", [None])[0]
        cue = roles.get("cue", [None])[0]
        out.append(Attribution(event.id, source, cue, tuple(contents)))
    return out


_PRONOUN_SOURCES = frozenset(
    ["he", "she", "they", "i", "we", "it", "you", "him", "her", "them", "this", "that", "who"]
)
# Heads of nominal sources, capitalised only at a sentence's start ("Officials said").
_NOMINAL_SOURCES = frozenset(
    """officials official sources source aides aide critics experts analysts authorities
    police residents spokesman spokeswoman spokesperson observers people voters supporters
    opponents lawmakers administration campaign government reports report polls poll""".split()  # noqa: SIM905
)


def source_name(source: str) -> str | None:
    """The name a Source gives, or None when it is a pronoun or a nominal ("a source").

    Parenthesised tags, relative clauses (who/which/that ...) and "of PLACE" after a name are
    dropped; the name is the first comma-separated part that ends in a capitalised word:
    "Kenneth Baer, a former official who runs Crosscut Strategies" -> "Kenneth Baer";
    "Apple's chief executive, Tim Cook," -> "Tim Cook"; "he", "Officials", "a source" -> None
    (a last word that is a pronoun or a common source noun such as officials, aides, police).
    """
    source = re.sub(r"\([^)]*\)", " ", source)
    source = re.split(r"\s(?:who|which|that)\s", source)[0]
    source = re.sub(r"([A-Z][\w.]*) of [A-Z][\w ]*", r"\1", source)
    for part in source.split(","):
        words = [re.sub(r"['\u2019]s?$", "", w.strip(".;:")) for w in part.split()]
        words = [w for w in words if w]
        if not words:
            continue
        if words[-1].lower() in _PRONOUN_SOURCES or words[-1].lower() in _NOMINAL_SOURCES:
            return None
        if words[-1][0].isupper():
            return " ".join(words)
    return None


def _is_mark(text: str, pos: int) -> bool:
    return 0 <= pos < len(text) and (
        text[pos] in DOUBLE_MARKS or text[pos : pos + 2] == "''" or text[pos - 1 : pos + 1] == "''"
    )


def inner_quote(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The words inside the marks when text[start:end] is enclosed in double marks, else None.

    Enclosed: trimmed of white space and trailing punctuation, it begins with a mark (or directly
    follows one) and ends with one (or is directly followed by one, after punctuation); a
    paragraph left open counts as enclosed when the next paragraph opens with a mark.
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    if end <= start:
        return None
    if _is_mark(text, start):
        start += 2 if text[start : start + 2] == "''" else 1
    elif not _is_mark(text, start - 1):
        return None
    if _is_mark(text, end - 1):
        end -= 2 if text[end - 2 : end] == "''" else 1
    else:
        after = end
        while after < len(text) and text[after] in ".,;:!?":
            after += 1
        if not _is_mark(text, after):
            gap = after
            while gap < len(text) and text[gap].isspace():
                gap += 1
            if "\n" not in text[after:gap] or not _is_mark(text, gap):
                return None
    return _trimmed(text, start, end)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and (text[start].isspace() or text[start] in _TRAILING):
        start += 1
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return (start, end) if end > start and any(c.isalnum() for c in text[start:end]) else None


def split_quotes(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The quoted segments of enclosed words that hold further marks (``a" and "b`` -> a, b)."""
    segments: list[tuple[int, int]] = []
    seg_start, quoted = start, True
    pos = start
    while pos <= end:
        at_mark = (pos < end and text[pos] in DOUBLE_MARKS) or text[pos : pos + 2] == "''"
        if pos == end or at_mark:
            if quoted:
                piece = _trimmed(text, seg_start, pos)
                if piece:
                    segments.append(piece)
            if pos == end:
                break
            width = 2 if text[pos : pos + 2] == "''" else 1
            nxt = text[pos + width] if pos + width < len(text) else " "
            quoted = not (nxt.isspace() or nxt in _TRAILING)
            pos += width
            seg_start = pos
            continue
        pos += 1
    return segments


def marked_passages(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Passages between double marks inside text[start:end], marks paired in order."""
    marks: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        if text[pos : pos + 2] == "''":
            marks.append((pos, 2))
            pos += 2
        elif text[pos] in DOUBLE_MARKS:
            marks.append((pos, 1))
            pos += 1
        else:
            pos += 1
    out = []
    for (open_at, width), (close_at, _) in zip(marks[::2], marks[1::2], strict=False):
        piece = _trimmed(text, open_at + width, close_at)
        if piece:
            out.append(piece)
    return out


def _span(text: str, start: int, end: int) -> GoldSpan:
    return GoldSpan(start=start, end=end, text=text[start:end])


def gold_quotes(text: str, found: list[Attribution], mode: QuoteMode = "marked") -> list[GoldQuote]:
    """Gold quotes from attributions (see the module's rules), in text order, each once."""
    quotes: dict[tuple[int, int], GoldQuote] = {}
    for attribution in found:
        source = attribution.source
        joined = " ".join(text[a:b] for a, b in source.fragments) if source else ""
        mention = joined.strip() or None
        speaker = source_name(mention) if mention else None
        fragments = sorted(f for c in attribution.contents for f in c.fragments)
        unmarked: list[tuple[int, int]] = []  # fragments with no mark: reported speech in 'all'
        for a, b in fragments:
            inner = inner_quote(text, a, b)
            if inner is not None:
                pieces, kind = split_quotes(text, *inner), QuoteKind.DIRECT
            else:
                pieces, kind = marked_passages(text, a, b), QuoteKind.PARTIAL
            if not pieces and not any(text[i] in DOUBLE_MARKS for i in range(a, b)):
                unmarked.append((a, b))
            for start, end in pieces:
                quotes.setdefault(
                    (start, end),
                    GoldQuote(
                        span=_span(text, start, end),
                        speaker=speaker,
                        speaker_mention=mention,
                        kind=kind,
                    ),
                )
        if mode == "all" and unmarked:
            trimmed = [t for t in (_stripped(text, a, b) for a, b in unmarked) if t]
            if not trimmed:
                continue
            first, last = trimmed[0][0], max(b for _, b in trimmed)
            quotes.setdefault(
                (first, last),
                GoldQuote(
                    span=_span(text, first, last),
                    fragments=[_span(text, a, b) for a, b in trimmed] if len(trimmed) > 1 else [],
                    speaker=speaker,
                    speaker_mention=mention,
                    kind=QuoteKind.REPORTED,
                ),
            )
    return [quotes[k] for k in sorted(quotes)]


def _stripped(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _text_for(ann: Path) -> Path | None:
    """The ``.txt`` an ``.ann`` annotates: beside it, or in a sibling ``text`` folder; a name
    suffix after the last ``_`` (PolNeAR's annotator) may be left off."""
    stems = [ann.stem]
    if "_" in ann.stem:
        stems.append(ann.stem.rsplit("_", 1)[0])
    for folder in (ann.parent, ann.parent.parent / "text"):
        for stem in stems:
            candidate = folder / f"{stem}.txt"
            if candidate.is_file():
                return candidate
    return None


def text_mode(raw: str) -> tuple[str, list[int]]:
    """`raw` as Python's text mode reads it (``\\r\\n`` and a lone ``\\r`` each one ``\\n``),
    and where each raw offset (0 to ``len(raw)`` included) lands in it."""
    offsets = [0] * (len(raw) + 1)
    removed = 0
    for i, char in enumerate(raw):
        offsets[i] = i - removed
        if char == "\r" and raw[i + 1 : i + 2] == "\n":
            removed += 1
    offsets[len(raw)] = len(raw) - removed
    return raw.replace("\r\n", "\n").replace("\r", "\n"), offsets


def _moved(doc: BratDocument, offsets: list[int]) -> BratDocument:
    """`doc` with every fragment's offsets moved by `offsets` (raw -> text mode)."""
    moved = BratDocument(events=doc.events)
    for ident, span in doc.spans.items():
        fragments = tuple((offsets[a], offsets[b]) for a, b in span.fragments)
        moved.spans[ident] = BratSpan(span.id, span.label, fragments, span.text)
    return moved


def read_brat(folder: str | Path, mode: QuoteMode = "marked") -> list[LoadedGold]:
    """Gold articles from every ``.ann`` file under `folder` and the ``.txt`` each annotates.

    brat offsets index the ``.txt`` file as it is (UTF-8, code points, each ``\\r`` counted);
    each ``T`` line's text is checked against that. The gold's text is then the file as Python's
    text mode reads it (``Path.read_text``: each line end one ``\\n``), the text ``extract``
    and ``batch`` index, and every offset is moved onto it. A text annotated more than once
    (PolNeAR's ``_annotator`` suffixes) is read from its first annotation file by name; texts
    of the same name in different subfolders are each read (the later ones' ids are their paths
    under `folder`, ``b/ferry``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of brat .ann and .txt files")
    anns = sorted(folder.rglob("*.ann"))
    if not anns:
        raise InputError(f"{folder}: no .ann file under it")
    out: dict[Path, LoadedGold] = {}
    ids: set[str] = set()
    for ann in anns:
        txt = _text_for(ann)
        if txt is None:
            raise InputError(f"{ann}: no .txt beside it (or in a sibling 'text' folder)")
        if txt in out:  # a second annotator's file for the same text
            continue
        try:
            with txt.open(encoding="utf-8", newline="") as handle:
                text = handle.read()
            doc = parse_standoff(ann.read_text(encoding="utf-8"), str(ann))
        except UnicodeDecodeError:
            raise InputError(f"{ann} or {txt}: not UTF-8") from None
        for span in doc.spans.values():
            if any(b > len(text) for _, b in span.fragments):
                raise InputError(
                    f"{ann}: {span.id} ends past the end of {txt.name} ({len(text)} characters)"
                )
            if span.text and " ".join(text[a:b] for a, b in span.fragments) != span.text:
                raise InputError(
                    f"{ann}: {span.id} says {span.text[:40]!r} but {txt.name} has "
                    f"{' '.join(text[a:b] for a, b in span.fragments)[:40]!r} there"
                )
        if "\r" in text:
            text, offsets = text_mode(text)
            doc = _moved(doc, offsets)
        quotes = gold_quotes(text, attributions(doc), mode)
        ident = txt.stem  # the text's name; its path under the folder when another has it
        if ident in ids:
            ident = txt.relative_to(folder).with_suffix("").as_posix()
        ids.add(ident)
        article = GoldArticle(
            id=ident,
            path=str(txt),
            source=f"brat: {ann}",
            annotated=["quotes"],
            quote_kinds=None if mode == "all" else [QuoteKind.DIRECT, QuoteKind.PARTIAL],
            quotes=quotes,
        )
        out[txt] = LoadedGold(article, text)
    return list(out.values())
