"""Score predicted records against gold: precision, recall and F1 per record type and overall.

    from extractor.evaluation import evaluate, evaluate_files
    report = evaluate(gold_articles, {"peacekeepers": result})
    report = evaluate_files("gold/gold.jsonl", "results.jsonl")
    report.types["quotes"].f1, report.overall.precision, report.speakers.named_accuracy

Matching rules (docs/eval.md has them with examples):

- a predicted record's span *covers* a gold record when it holds at least half of the gold
  span's characters (a discontinuous gold quote: half of its fragments' characters);
- a quote matches when its span covers the gold quote and the speakers agree (`same_actor`;
  a gold quote whose speaker the annotator could not name is matched on its span alone);
- a commitment matches on the covered evidence span, the same actor and the same polarity;
- an event matches on the covered evidence span, the same kind, and dates that agree: both
  undated, or both dated with overlapping ranges;
- matching is one-to-one and greedy: of all candidate pairs in an article, the one with the most
  overlapping characters is taken first (ties: earlier gold, then earlier prediction), and each
  gold and each prediction is used at most once.

Speaker accuracy is measured on quotes paired on their span alone (the same greedy pairing),
date accuracy on events paired on span and kind; `speaker_checked` says how many gold quotes
name their speaker (the others match on span alone). A predicted record with no span is
predicted, a false hit and not grounded; grounding counts every predicted record scored.
`evaluate_files` scores files as ``extractor eval`` does. Model-free: imports neither openai
nor instructor.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from extractor.articles import parse_article
from extractor.errors import InputError
from extractor.gold import (
    RECORD_TYPES,
    GoldArticle,
    GoldCommitment,
    GoldEvent,
    GoldQuote,
    GoldSpan,
    LoadedGold,
    RecordType,
    check_spans,
    pair_predictions,
    read_gold,
    read_predictions,
)
from extractor.models import (
    ArticleExtraction,
    Commitment,
    Event,
    Quote,
)
from extractor.render import against_source
from extractor.spans import Alignment, Span

__all__ = [
    "PRONOUNS",
    "Counts",
    "DateFigures",
    "EvalReport",
    "GroundingFigures",
    "Miss",
    "SpeakerFigures",
    "covered",
    "evaluate",
    "evaluate_files",
    "normalise_name",
    "offline_predictions",
    "same_actor",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PRONOUNS = _words("he she they i we it you him her them his their its this that who one someone")
"""Speaker mentions counted as pronoun sources (case ignored)."""

_TITLES = _words(
    """mr mrs ms miss dr prof sir dame lord lady president vice sen senator rep representative
    gov governor secretary minister prime chancellor premier mayor king queen prince pope
    gen general col colonel adm admiral lt sgt capt captain cmdr judge justice rev the"""
)
_SUFFIXES = _words("jr sr ii iii iv")
_NON_WORD = re.compile(r"[^\w]+")


def normalise_name(name: str) -> list[str]:
    """A name's words for comparison: accents and case folded, punctuation and titles dropped.

    ``"President Donald J. Trump Jr."`` -> ``["donald", "j", "trump"]``; ``"the Kremlin"`` ->
    ``["kremlin"]``. Titles are dropped only from the front, and never all the words.
    """
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    words = [w for w in _NON_WORD.sub(" ", folded.replace("'s ", " ")).split() if w]
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    start = 0
    while start < len(words) - 1 and words[start] in _TITLES:
        start += 1
    return words[start:]


def same_actor(gold: str, predicted: str) -> bool:
    """Whether two names denote the same actor, by `normalise_name` words.

    Equal words match; so does a shorter name whose words all appear, in order, in the longer
    one, ending on the same last word: a surname matches the full name ("Peskov" and "Dmitry
    Peskov", "Donald Trump" and "Donald J. Trump"), a first name does not ("Donald" and "Donald
    Trump"), nor a namesake ("Hillary Clinton" and "Bill Clinton").
    """
    a, b = normalise_name(gold), normalise_name(predicted)
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if short[-1] != long[-1]:
        return False
    it = iter(long)
    return all(word in it for word in short)


def _pieces(span: GoldSpan, fragments: Sequence[GoldSpan]) -> list[tuple[int, int]]:
    """The character ranges a gold record is made of (its fragments, or its span)."""
    return [(f.start, f.end) for f in fragments] if fragments else [(span.start, span.end)]


def covered(pieces: Sequence[tuple[int, int]], start: int, end: int) -> int:
    """How many characters of the gold pieces lie inside [start, end)."""
    return sum(max(0, min(b, end) - max(a, start)) for a, b in pieces)


class Counts(BaseModel):
    """Gold and predicted records of one type, and how many matched."""

    gold: int = 0
    predicted: int = 0
    matched: int = 0

    @property
    def precision(self) -> float | None:
        """Matched / predicted (None with nothing predicted)."""
        return self.matched / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        """Matched / gold (None with no gold record)."""
        return self.matched / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall (0 when either is 0; None if either is)."""
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Counts) -> Counts:
        """The sum of two counts."""
        return Counts(
            gold=self.gold + other.gold,
            predicted=self.predicted + other.predicted,
            matched=self.matched + other.matched,
        )

    def figures(self) -> dict[str, int | float | None]:
        """Counts with precision, recall and F1, for JSON."""
        return {
            "gold": self.gold,
            "predicted": self.predicted,
            "matched": self.matched,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


class SpeakerFigures(BaseModel):
    """Speakers of quotes paired on their span, by how the gold attributes the quote in place."""

    named: int = Field(default=0, description="Pairs whose gold names the speaker in place.")
    named_right: int = 0
    pronoun: int = Field(
        default=0, description="Pairs attributed in place by a pronoun ('he said', PRONOUNS)."
    )
    pronoun_resolved: int = Field(
        default=0, description="Of those, pairs whose gold gives the name the pronoun stands for."
    )
    pronoun_right: int = Field(default=0, description="Of those, predictions naming it.")
    pronoun_given: int = Field(
        default=0, description="Pronoun pairs whose prediction names some speaker."
    )
    unnamed: int = Field(
        default=0, description="Pairs whose gold names no one ('a source', 'officials')."
    )
    unnamed_given: int = Field(
        default=0, description="Of those, how many predictions name some speaker."
    )

    @property
    def named_accuracy(self) -> float | None:
        """Right speakers among quotes whose gold speaker is named in place."""
        return self.named_right / self.named if self.named else None

    @property
    def pronoun_accuracy(self) -> float | None:
        """Right speakers among pronoun-attributed quotes whose gold resolves the pronoun."""
        return self.pronoun_right / self.pronoun_resolved if self.pronoun_resolved else None


class DateFigures(BaseModel):
    """Dates of events paired on span and kind."""

    pairs: int = 0
    gold_dated: int = Field(default=0, description="Pairs whose gold event has a date.")
    exact: int = Field(default=0, description="Of those, predictions with the same range.")
    overlapping: int = Field(default=0, description="Of those, ranges that overlap at least.")
    undated_right: int = Field(
        default=0, description="Pairs whose gold is undated and whose prediction is too."
    )

    @property
    def accuracy(self) -> float | None:
        """Exact date ranges among pairs whose gold is dated."""
        return self.exact / self.gold_dated if self.gold_dated else None


class GroundingFigures(BaseModel):
    """How the predicted records scored were found in the text."""

    spans: int = Field(
        default=0, description="Predicted records scored, those without a span included."
    )
    exact: int = Field(default=0, description="Spans whose alignment is 'exact'.")
    no_span: int = Field(
        default=0, description="Predicted records with no span (`span: null`): never exact."
    )
    misplaced: int = Field(
        default=0,
        description="Spans whose text is not the gold text at their offsets (a prediction "
        "made on other text, or offsets into another copy of it).",
    )

    @property
    def exact_share(self) -> float | None:
        """Exact spans among all predicted records scored (a record without a span is not)."""
        return self.exact / self.spans if self.spans else None


class Miss(BaseModel):
    """A gold record no prediction matched, or a prediction no gold record matched."""

    article: str
    type: RecordType
    error: Literal["miss", "false hit"]
    start: int | None = Field(description="The span's start; None for a prediction with no span.")
    end: int | None
    text: str
    label: str = Field(description="The record's speaker, actor or kind, as it gives it.")
    why: str = Field(description="Why it did not match.")


class EvalReport(BaseModel):
    """Everything `evaluate` measures."""

    articles: int = 0
    types: dict[str, Counts] = Field(default_factory=dict)
    quote_spans: Counts = Field(
        default_factory=Counts, description="Quotes matched on their span alone."
    )
    quote_kinds: dict[str, Counts] = Field(
        default_factory=dict,
        description="Gold quotes by their kind (direct, partial, reported) and how many matched: "
        "recall by kind (`predicted` is not counted here).",
    )
    speaker_checked: Counts = Field(
        default_factory=Counts,
        description="Gold quotes that name their speaker (`gold`; the others match on span "
        "alone) and how many of them matched, speaker agreeing (`predicted` is not counted).",
    )
    speakers: SpeakerFigures = Field(default_factory=SpeakerFigures)
    dates: DateFigures = Field(default_factory=DateFigures)
    grounding: GroundingFigures = Field(default_factory=GroundingFigures)
    errors: list[Miss] = Field(default_factory=list)
    missing_predictions: list[str] = Field(
        default_factory=list,
        description="Gold articles with no prediction: all their records count as misses.",
    )
    failed_predictions: dict[str, str] = Field(
        default_factory=dict, description="Gold articles whose prediction is a batch error line."
    )

    @property
    def overall(self) -> Counts:
        """The counts of every scored type added together."""
        total = Counts()
        for counts in self.types.values():
            total = total.add(counts)
        return total

    def to_json_dict(self) -> dict[str, object]:
        """The report as plain JSON data, figures included."""
        return {
            "articles": self.articles,
            "overall": self.overall.figures(),
            "types": {name: c.figures() for name, c in self.types.items()},
            "quote_spans": self.quote_spans.figures(),
            "quote_kinds": {
                kind: {"gold": c.gold, "matched": c.matched, "recall": c.recall}
                for kind, c in sorted(self.quote_kinds.items())
            },
            "speaker_checked": {
                "gold": self.speaker_checked.gold,
                "matched": self.speaker_checked.matched,
                "recall": self.speaker_checked.recall,
            },
            "speakers": {
                **self.speakers.model_dump(),
                "named_accuracy": self.speakers.named_accuracy,
                "pronoun_accuracy": self.speakers.pronoun_accuracy,
            },
            "dates": {**self.dates.model_dump(), "accuracy": self.dates.accuracy},
            "grounding": {**self.grounding.model_dump(), "exact_share": self.grounding.exact_share},
            "missing_predictions": self.missing_predictions,
            "failed_predictions": self.failed_predictions,
            "errors": [e.model_dump() for e in self.errors],
        }


@dataclass(frozen=True)
class _Candidate:
    gold: int
    pred: int
    overlap: int


def _greedy(candidates: list[_Candidate]) -> dict[int, int]:
    """One-to-one pairs, most overlapping characters first: gold index -> prediction index."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for c in sorted(candidates, key=lambda c: (-c.overlap, c.gold, c.pred)):
        if c.gold not in pairs and c.pred not in used:
            pairs[c.gold] = c.pred
            used.add(c.pred)
    return pairs


def _pair(
    gold_pieces: Sequence[list[tuple[int, int]]],
    pred_spans: Sequence[Span | None],
    agrees: Callable[[int, int], bool],
) -> dict[int, int]:
    """Greedy one-to-one pairs of gold and predictions whose span covers it and that agree
    (a prediction with no span covers nothing)."""
    candidates = []
    for g, pieces in enumerate(gold_pieces):
        size = sum(b - a for a, b in pieces)
        for p, span in enumerate(pred_spans):
            if span is None:
                continue
            overlap = covered(pieces, span.start, span.end)
            if overlap > 0 and 2 * overlap >= size and agrees(g, p):
                candidates.append(_Candidate(g, p, overlap))
    return _greedy(candidates)


def _ranges_overlap(gold: GoldEvent, pred: Event) -> bool:
    if gold.date is None or pred.date is None:
        return gold.date is None and pred.date is None
    gold_end = gold.date_end or gold.date
    pred_end = pred.date_end or pred.date
    return gold.date <= pred_end and pred.date <= gold_end


def _is_pronoun(quote: GoldQuote) -> bool:
    mention = (quote.speaker_mention or "").strip().casefold()
    return mention in PRONOUNS


def _shift_onto(result: ArticleExtraction, text: str) -> ArticleExtraction:
    """`result`, its spans moved past the text's date line when they index the body only.

    A result from ``Extractor().extract(article.text)`` indexes the article without its date
    line; gold offsets index the whole file. When no span fits the text as given but every one
    fits after the date line, the spans are moved by its length.
    """
    records: list[Quote | Commitment | Event] = [
        *result.quotes,
        *result.commitments,
        *result.events,
    ]
    spans = [r.span for r in records if r.span is not None]
    if not spans or all(text[s.start : s.end] == s.text for s in spans):
        return result
    try:
        article = parse_article(text.encode("utf-8"), max_chars=len(text) + 1)
    except InputError:
        return result
    offset = article.offset
    if offset and all(text[s.start + offset : s.end + offset] == s.text for s in spans):
        return against_source(result, article).model_copy(update={"source": result.source})
    return result


def _label(record: Quote | Commitment | Event) -> str:
    if isinstance(record, Quote):
        return record.speaker.name
    if isinstance(record, Commitment):
        return f"{record.actor.name} ({record.polarity.value})"
    dates = f" {record.date}..{record.date_end}" if record.date else " undated"
    return f"{record.kind.value}{dates}"


def _gold_label(record: GoldQuote | GoldCommitment | GoldEvent) -> str:
    if isinstance(record, GoldQuote):
        return record.speaker or f"unnamed ({record.speaker_mention or 'no source'})"
    if isinstance(record, GoldCommitment):
        return f"{record.actor} ({record.polarity.value})"
    dates = f" {record.date}..{record.date_end}" if record.date else " undated"
    return f"{record.kind.value}{dates}"


@dataclass
class _Scored:
    counts: Counts
    misses: list[Miss]
    pairs: dict[int, int]


def _score_type(
    article: str,
    kind: RecordType,
    gold: Sequence[GoldQuote | GoldCommitment | GoldEvent],
    preds: Sequence[Quote | Commitment | Event],
    agrees: Callable[[int, int], bool],
    disagreement: Callable[[int, int], str],
) -> _Scored:
    """Count one record type in one article and list what did not match, and why.

    A prediction with no span matches nothing: a false hit ("no span"). `agrees(g, p)` and
    `disagreement(g, p)` take indices into `gold` and `preds`.
    """
    pieces = [_pieces(g.span, g.fragments if isinstance(g, GoldQuote) else []) for g in gold]
    spans = [p.span for p in preds]
    pairs = _pair(pieces, spans, agrees)
    loose = _pair(pieces, spans, lambda g, p: True)  # span only: to say why others missed
    matched_preds = set(pairs.values())
    misses: list[Miss] = []
    for g, wanted in enumerate(gold):
        if g in pairs:
            continue
        near = loose.get(g)
        why = (
            "no prediction covers half of it"
            if near is None
            else f"the prediction over it disagrees: {disagreement(g, near)}"
        )
        misses.append(
            Miss(
                article=article,
                type=kind,
                error="miss",
                start=wanted.span.start,
                end=wanted.span.end,
                text=wanted.span.text,
                label=_gold_label(wanted),
                why=why,
            )
        )
    inverse = {p: g for g, p in loose.items()}
    for p, got in enumerate(preds):
        if p in matched_preds:
            continue
        near_gold = inverse.get(p)
        span = spans[p]
        if span is None:
            why = "no span: the record is not grounded in the text"
        elif near_gold is None:
            why = "covers no gold record by half"
        else:
            why = f"the gold record under it disagrees: {disagreement(near_gold, p)}"
        misses.append(
            Miss(
                article=article,
                type=kind,
                error="false hit",
                start=span.start if span else None,
                end=span.end if span else None,
                text=span.text if span else _words_of(got),
                label=_label(got),
                why=why,
            )
        )
    counts = Counts(gold=len(gold), predicted=len(preds), matched=len(pairs))
    return _Scored(counts, misses, pairs)


def _words_of(record: Quote | Commitment | Event) -> str:
    """What a predicted record says it rests on: a quote's words, or the evidence."""
    return record.text if isinstance(record, Quote) else record.evidence


def evaluate(
    gold: Sequence[LoadedGold] | Sequence[GoldArticle],
    predictions: Mapping[str, ArticleExtraction | None],
    *,
    failed: Mapping[str, str] | None = None,
) -> EvalReport:
    """Score `predictions` (by gold article id) against `gold`; see the module's rules.

    `gold` is what `extractor.gold.read_gold` returns, or gold articles with inline text. A
    prediction's spans must index the same text as the gold's (a result whose spans index the
    article without its date line is moved onto the whole text). A gold article with no
    prediction (None, or absent) counts all its records as misses; `failed` names those whose
    prediction failed, and why.
    """
    loaded = [g if isinstance(g, LoadedGold) else _inline(g) for g in gold]
    report = EvalReport(articles=len(loaded), failed_predictions=dict(failed or {}))
    scored_types = [t for t in RECORD_TYPES if any(t in g.article.annotated for g in loaded)]
    report.types = {t: Counts() for t in scored_types}
    for item in loaded:
        article, text = item.article, item.text
        result = predictions.get(article.id)
        if result is None:
            result = ArticleExtraction()
            if article.id not in report.failed_predictions:
                report.missing_predictions.append(article.id)
        else:
            result = _shift_onto(result, text)
        _score_article(report, article, text, result)
    return report


def _inline(article: GoldArticle) -> LoadedGold:
    if article.text is None:
        raise InputError(
            f"gold article {article.id!r} names a file: read it with extractor.gold.read_gold"
        )
    check_spans(article, article.text)
    return LoadedGold(article, article.text)


def _score_article(
    report: EvalReport, article: GoldArticle, text: str, result: ArticleExtraction
) -> None:
    """Add one article's counts, figures and errors to `report`."""
    kinds = set(article.quote_kinds) if article.quote_kinds is not None else None
    quotes = [q for q in result.quotes if kinds is None or q.kind in kinds]
    annotated = set(article.annotated)
    scored: list[Quote | Commitment | Event] = []

    if "quotes" in annotated:
        gq = article.quotes
        scored.extend(quotes)

        def speaker_ok(g: int, p: int) -> bool:
            name = gq[g].speaker
            return name is None or same_actor(name, quotes[p].speaker.name)

        def speaker_why(g: int, p: int) -> str:
            return f"speaker {quotes[p].speaker.name!r}, gold {gq[g].speaker!r}"

        part = _score_type(article.id, "quotes", gq, quotes, speaker_ok, speaker_why)
        report.types["quotes"] = report.types["quotes"].add(part.counts)
        report.errors.extend(part.misses)
        for g, gold_quote in enumerate(gq):
            kind = gold_quote.kind.value if gold_quote.kind else "unspecified"
            found = report.quote_kinds.setdefault(kind, Counts())
            found.gold += 1
            found.matched += g in part.pairs
            if gold_quote.speaker is not None:
                report.speaker_checked.gold += 1
                report.speaker_checked.matched += g in part.pairs
        pieces = [_pieces(q.span, q.fragments) for q in gq]
        on_span = _pair(pieces, [q.span for q in quotes], lambda g, p: True)
        report.quote_spans = report.quote_spans.add(
            Counts(gold=len(gq), predicted=len(quotes), matched=len(on_span))
        )
        figures = report.speakers
        for g, p in on_span.items():
            gold_quote, predicted = gq[g], quotes[p]
            name = predicted.speaker.name.strip()
            gives = bool(name) and name.casefold() != "unknown"
            if _is_pronoun(gold_quote):
                figures.pronoun += 1
                figures.pronoun_given += gives
                if gold_quote.speaker is not None:
                    figures.pronoun_resolved += 1
                    figures.pronoun_right += same_actor(gold_quote.speaker, name)
            elif gold_quote.speaker is None:
                figures.unnamed += 1
                figures.unnamed_given += gives
            else:
                figures.named += 1
                figures.named_right += same_actor(gold_quote.speaker, name)

    if "commitments" in annotated:
        gc = article.commitments
        pc = list(result.commitments)
        scored.extend(pc)

        def commitment_ok(g: int, p: int) -> bool:
            return gc[g].polarity is pc[p].polarity and same_actor(gc[g].actor, pc[p].actor.name)

        def commitment_why(g: int, p: int) -> str:
            return (
                f"{pc[p].actor.name!r} {pc[p].polarity.value}, gold {gc[g].actor!r} "
                f"{gc[g].polarity.value}"
            )

        part = _score_type(article.id, "commitments", gc, pc, commitment_ok, commitment_why)
        report.types["commitments"] = report.types["commitments"].add(part.counts)
        report.errors.extend(part.misses)

    if "events" in annotated:
        ge = article.events
        pe = list(result.events)
        scored.extend(pe)

        def event_ok(g: int, p: int) -> bool:
            return ge[g].kind is pe[p].kind and _ranges_overlap(ge[g], pe[p])

        def event_why(g: int, p: int) -> str:
            return f"{_label(pe[p])}, gold {_gold_label(ge[g])}"

        part = _score_type(article.id, "events", ge, pe, event_ok, event_why)
        report.types["events"] = report.types["events"].add(part.counts)
        report.errors.extend(part.misses)
        pieces = [_pieces(e.span, []) for e in ge]
        on_kind = _pair(pieces, [e.span for e in pe], lambda g, p: ge[g].kind is pe[p].kind)
        dates = report.dates
        for g, p in on_kind.items():
            gold_event, predicted_event = ge[g], pe[p]
            dates.pairs += 1
            if gold_event.date is None:
                dates.undated_right += predicted_event.date is None
                continue
            dates.gold_dated += 1
            pred_range = (predicted_event.date, predicted_event.date_end or predicted_event.date)
            dates.exact += pred_range == (gold_event.date, gold_event.date_end)
            dates.overlapping += _ranges_overlap(gold_event, predicted_event)

    grounding = report.grounding
    for record in scored:
        span = record.span
        grounding.spans += 1
        if span is None:
            grounding.no_span += 1
            continue
        grounding.exact += span.alignment is Alignment.EXACT
        grounding.misplaced += text[span.start : span.end] != span.text


def offline_predictions(gold: Sequence[LoadedGold]) -> dict[str, ArticleExtraction]:
    """The offline path's result for each gold article, spans indexing the gold's text."""
    from extractor.offline import extract_offline

    out: dict[str, ArticleExtraction] = {}
    for item in gold:
        text = item.text
        article = parse_article(
            text.encode("utf-8"), max_chars=len(text) + 1, source=item.article.id
        )
        result = extract_offline(
            article.text,
            published=item.article.published or article.published,
            max_chars=len(text) + 1,
        )
        out[item.article.id] = against_source(result, article)
    return out


def evaluate_files(
    gold: str | Path,
    pred: str | Path | None = None,
    *,
    gold_format: Literal["jsonl", "brat"] = "jsonl",
    brat_quotes: Literal["marked", "all"] = "marked",
    offline: bool = False,
    paired_only: bool = False,
) -> EvalReport:
    """Score a prediction file (or folder) against a gold file, as ``extractor eval`` does.

    `gold` is a gold JSONL file, or with ``gold_format="brat"`` a brat standoff folder
    (`brat_quotes` as in `extractor.brat`); `pred` what ``extract --format json`` or ``batch``
    wrote (read by `extractor.result_files`), or with `offline` nothing: the rules-only path is
    scored on each gold text. `paired_only` scores only the gold articles that have a
    prediction. Bad files raise `InputError` naming the problem.
    """
    gold, pred = Path(gold), Path(pred) if pred is not None else None
    if (pred is None) == (not offline):
        raise InputError("give --pred PRED (a result or batch file) or --offline, not both")
    if gold_format == "brat":
        from extractor.brat import read_brat

        loaded = read_brat(gold, brat_quotes)
        base = None
    else:
        if gold.is_dir():
            raise InputError(f"{gold}: a folder; for brat standoff add --gold-format brat")
        loaded = read_gold(gold)
        base = gold.parent
    if offline:
        return evaluate(loaded, offline_predictions(loaded))
    assert pred is not None
    paired, _left = pair_predictions(loaded, read_predictions(pred), base=base)
    if paired_only:
        loaded = [g for g in loaded if g.article.id in paired]
        if not loaded:
            raise InputError(f"{pred}: no prediction belongs to any gold article in {gold}")
    results = {k: p.result for k, p in paired.items()}
    failed = {k: p.error for k, p in paired.items() if p.error is not None}
    return evaluate(loaded, results, failed=failed)
