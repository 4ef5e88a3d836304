"""Measure the quotation finder and the offline speaker rules on the PolNeAR development split.

    python benchmarks/quotation_finder.py [--show N] [DATA_DIR]

DATA_DIR defaults to ``../shared/data/polnear-dev/`` beside the repository. The corpus is read
in place (brat standoff: ``data/dev/text/*.txt`` and ``data/dev/attributions/*.ann``) and never
copied. Prints the definitions used, the figures, and with ``--show N`` up to N misses of each kind.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from extractor.attribution import attribute
from extractor.brat import attributions, inner_quote, parse_standoff, split_quotes
from extractor.quotations import Quotation, find_quotations

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "polnear-dev"

DEFINITION = """\
Direct quote (gold): a fragment of an annotated Content span whose text, white space trimmed, is
  enclosed in double quotation marks (" \u201c \u201d \u201e \u00ab \u00bb or ''): it begins
  with a mark or directly follows one, and ends with a mark (before trailing punctuation) or is
  directly followed by one. Its words are the fragment inside those marks. Annotations of every
  annotator of an article are pooled (a quote annotated twice counts once).
  A fragment whose words hold further marks is split there into the quoted segments (an opening
  mark starts one, a mark followed by white space ends it): "a" and "b" gives two gold quotes.
  An unclosed paragraph counts as enclosed when the next paragraph opens with a mark.
Recall: a gold direct quote is found when one quotation's content covers at least 90 % of its
  characters and at least 60 % of that quotation's characters lie in annotated Content (so one
  quotation may cover the several paragraphs of a multi-paragraph quote, annotated apart).
Precision: a found quotation hinted as speech is right when at least half its characters lie in
  some annotated Content span (so partial quotes inside annotated reported speech count). Found
  quotations hinted title/name/scare/term are reported apart, with how many of them were speech.
"""


@dataclass
class Article:
    """One text with the pooled annotations of its annotators."""

    name: str
    text: str
    contents: list[tuple[int, int]] = field(default_factory=list)
    gold: dict[tuple[int, int], str] = field(default_factory=dict)  # inner span -> source text
    gold_source_span: dict[tuple[int, int], tuple[int, int] | None] = field(default_factory=dict)


def load(data: Path) -> list[Article]:
    """Every development article with pooled Content spans and gold direct quotes."""
    text_dir = data / "data" / "dev" / "text"
    ann_dir = data / "data" / "dev" / "attributions"
    articles: dict[str, Article] = {}
    for path in sorted(text_dir.glob("*.txt")):
        articles[path.stem] = Article(path.stem, path.read_text(encoding="utf-8"))
    for ann in sorted(ann_dir.glob("*.ann")):
        stem = ann.stem.rsplit("_", 1)[0]
        article = articles.get(stem)
        if article is None:
            continue
        doc = parse_standoff(ann.read_text(encoding="utf-8"), str(ann))
        for span in doc.spans.values():
            if span.label == "Content":
                article.contents.extend(span.fragments)
        for attribution in attributions(doc):
            source = attribution.source
            src_text = " ".join(article.text[a:b] for a, b in source.fragments) if source else ""
            src_span = (source.fragments[0][0], source.fragments[-1][1]) if source else None
            for content in attribution.contents:
                for a, b in content.fragments:
                    inner = inner_quote(article.text, a, b)
                    for gold in split_quotes(article.text, *inner) if inner else []:
                        if gold not in article.gold:
                            article.gold[gold] = src_text
                            article.gold_source_span[gold] = src_span
    return list(articles.values())


def _covered(intervals: list[tuple[int, int]], start: int, end: int) -> int:
    """Characters of [start, end) inside the union of intervals."""
    marks = [0] * (end - start + 1)
    for a, b in intervals:
        a, b = max(a, start), min(b, end)
        if a < b:
            marks[a - start] += 1
            marks[b - start] -= 1
    total = depth = 0
    for i in range(end - start):
        depth += marks[i]
        total += depth > 0
    return total


def match_gold(article: Article, found: list[Quotation]) -> dict[tuple[int, int], Quotation]:
    """Each gold direct quote with the quotation that finds it."""
    matched: dict[tuple[int, int], Quotation] = {}
    golds = sorted(article.gold)
    for q in found:
        hits = [g for g in golds if min(g[1], q.end) - max(g[0], q.start) > 0]
        if not hits:
            continue
        annotated = _covered(article.contents, q.start, q.end)
        for g in hits:
            overlap = min(g[1], q.end) - max(g[0], q.start)
            if overlap >= 0.9 * (g[1] - g[0]) and annotated >= 0.6 * (q.end - q.start):
                matched.setdefault(g, q)
    return matched


def finder_figures(articles: list[Article], show: int) -> None:
    """Print recall, precision and speed of `find_quotations`."""
    total_gold = found_gold = speech_gold = nested_found = 0
    speech = speech_right = 0
    non_speech: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[str] = []
    false: list[str] = []
    hinted_speech_wrong: list[str] = []
    elapsed = 0.0
    for article in articles:
        begin = time.perf_counter()
        found = find_quotations(article.text)
        elapsed += time.perf_counter() - begin
        matched = match_gold(article, found)
        nested_found += sum(
            1
            for g in article.gold
            if g not in matched and any(a <= g[0] and g[1] <= b for q in found for a, b in q.nested)
        )
        total_gold += len(article.gold)
        found_gold += len(matched)
        speech_gold += sum(1 for q in matched.values() if q.likely_speech)
        for g in article.gold:
            if g not in matched:
                misses.append(f"{article.name}: {article.text[g[0] - 30 : g[1] + 10]!r}")
        for q in found:
            inside = _covered(article.contents, q.start, q.end) >= 0.5 * max(1, q.end - q.start)
            around = article.text[q.outer_start - 40 : q.outer_end + 25]
            snippet = f"{article.name}: [{q.hint.value}/{q.reason}] {around!r}"
            if q.likely_speech:
                speech += 1
                speech_right += inside
                if not inside:
                    false.append(snippet)
            else:
                non_speech[q.hint.value][0] += 1
                non_speech[q.hint.value][1] += inside
                if inside:
                    hinted_speech_wrong.append(snippet)
    print(DEFINITION)
    print(f"articles: {len(articles)}, gold direct quotes: {total_gold}")
    print(f"finder recall (any hint): {found_gold}/{total_gold} = {found_gold / total_gold:.2%}")
    with_nested = found_gold + nested_found
    print(
        f"finder recall, also counting quotes listed only in another's `nested` (single marks):"
        f" {with_nested}/"
        f"{total_gold} = {with_nested / total_gold:.2%}"
    )
    print(
        f"finder recall (hinted speech): {speech_gold}/{total_gold} = "
        f"{speech_gold / total_gold:.2%}"
    )
    print(
        f"precision of speech-hinted quotations: {speech_right}/{speech} = "
        f"{speech_right / speech:.2%}"
    )
    for hint, (count, inside) in sorted(non_speech.items()):
        print(f"hinted {hint}: {count}, of which inside annotated Content: {inside}")
    chars = sum(len(a.text) for a in articles)
    print(
        f"time: {elapsed * 1000 / len(articles):.2f} ms per article "
        f"(mean {chars // len(articles)} characters), {chars / elapsed / 1e6:.1f} M chars/s"
    )
    for title, rows in (
        ("missed gold", misses),
        ("speech-hinted outside Content", false),
        ("non-speech-hinted inside Content", hinted_speech_wrong),
    ):
        if show and rows:
            print(f"\n-- {title} ({len(rows)}):")
            for row in rows[:show]:
                print("  ", row)


SPEAKER_RULE = """\
Offline speakers: every gold direct quote found by the finder whose annotated Source is a name:
  parenthesised tags, possessives and relative clauses (who/which/that ...) dropped, the first
  comma-separated part of the Source ending in a capitalised word that is not a pronoun ("Donald
  Trump", "The New York Post", "Rep. Gwen Moore (D-Wis.)", "Kenneth Baer, a former official" ->
  "Kenneth Baer", "Apple's chief executive, Tim Cook" -> "Tim Cook", "Rep. Elijah Cummings of
  Maryland" -> "Elijah Cummings"). The predicted speaker is right when its last word equals that
  part's last word, ignoring case ("Trump" in the Source, "Donald Trump" predicted). Quotes whose
  Source is a pronoun or a nominal ("he", "a source") are counted apart: the share given any
  speaker (PolNeAR does not resolve them, so their accuracy is not measured).
"""
_PRONOUN_SOURCES = frozenset(
    ["he", "she", "they", "i", "we", "it", "you", "him", "her", "them", "this", "that", "who"]
)


def source_last_name(source: str) -> str | None:
    """The Source's name's last word when the Source is a name, else None.

    The name is the first comma-separated part of the Source that ends in a capitalised word
    ("Kenneth Baer, a former official who runs Crosscut Strategies" -> "Kenneth Baer";
    "Apple's chief executive, Tim Cook," -> "Tim Cook"); relative clauses are cut at "who".
    """
    source = re.sub(r"\([^)]*\)", " ", source)
    source = re.split(r"\s(?:who|which|that)\s", source)[0]
    source = re.sub(r"([A-Z][\w.]*) of [A-Z][\w ]*", r"\1", source)  # Rangel of New York
    for part in source.split(","):
        words = [re.sub(r"['\u2019]s?$", "", w.strip(".;:")) for w in part.split()]
        words = [w for w in words if w]
        if not words:
            continue
        if words[-1].lower() in _PRONOUN_SOURCES:
            return None
        if words[-1][0].isupper():
            return words[-1].lower()
    return None


def speaker_figures(articles: list[Article], show: int) -> None:
    """Print how often the offline rules name the annotated speaker."""
    named = right = other = other_given = 0
    elapsed = 0.0
    wrong: list[str] = []
    for article in articles:
        found = find_quotations(article.text)
        matched = match_gold(article, found)
        begin = time.perf_counter()
        attributed = attribute(article.text, found)
        elapsed += time.perf_counter() - begin
        by_quote = {id(a.quotation): a for a in attributed}
        for gold, q in matched.items():
            source = article.gold[gold]
            a = by_quote[id(q)]
            last = source_last_name(source)
            if last is None:
                other += 1
                other_given += a.speaker is not None
                continue
            named += 1
            predicted = (a.speaker or "").split()
            if predicted and predicted[-1].lower().strip(".,") == last:
                right += 1
            else:
                context = article.text[max(0, q.outer_start - 60) : q.outer_end + 60]
                wrong.append(f"gold={source!r} got={a.speaker!r} [{a.rule}] {context!r}")
    print()
    print(SPEAKER_RULE)
    print(f"offline speaker accuracy (named Source): {right}/{named} = {right / named:.2%}")
    print(f"quotes with a pronoun or nominal Source given a speaker: {other_given}/{other}")
    print(f"attribution time: {elapsed * 1000 / len(articles):.2f} ms per article")
    if show and wrong:
        print(f"\n-- wrong speakers ({len(wrong)}):")
        for row in wrong[:show]:
            print("  ", row)


def scaling_figures(articles: list[Article]) -> None:
    """Print finder and attribution time on all articles as one text, and as one paragraph."""
    print()
    whole = "\n\n".join(a.text for a in articles)
    for label, text in (("paragraphs kept", whole), ("one paragraph", whole.replace("\n", " "))):
        for copies in (1, 2, 4):
            long_text = (text + " ") * copies
            begin = time.perf_counter()
            found = find_quotations(long_text)
            middle = time.perf_counter()
            attribute(long_text, found)
            end = time.perf_counter()
            print(
                f"{label}, {len(long_text.split()):,} words: {len(found)} quotations, "
                f"finder {middle - begin:.2f} s, attribution {end - middle:.2f} s"
            )


def main() -> int:
    """Run the measurements, or say why they are skipped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", type=int, default=0, help="print up to N misses of each kind")
    args = parser.parse_args()
    if not (args.data / "data" / "dev" / "text").is_dir():
        print(f"skipped: PolNeAR development split not found at {args.data}")
        return 0
    articles = load(args.data)
    finder_figures(articles, args.show)
    speaker_figures(articles, args.show)
    scaling_figures(articles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
