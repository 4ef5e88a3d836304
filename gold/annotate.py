"""The hand annotations of the shipped gold set, written as gold/gold.jsonl with exact offsets.

    python gold/annotate.py            # rewrites gold/gold.jsonl
    python gold/annotate.py --check    # exit 1 if gold/gold.jsonl differs from what this writes

Each record below was chosen by hand (rules: docs/eval.md#annotating); this script only finds
where its passage sits (the n-th occurrence of the quoted passage, offsets into the file as
``Path.read_text(encoding="utf-8")`` returns it, date line included) and checks every span:
``text[start:end] == span.text``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from extractor.gold import (
    GoldArticle,
    GoldCommitment,
    GoldEvent,
    GoldQuote,
    GoldSpan,
    check_spans,
    write_gold,
)
from extractor.models import CommitmentKind, EventKind, Polarity, QuoteKind

HERE = Path(__file__).resolve().parent
OUT = HERE / "gold.jsonl"

DIRECT, PARTIAL, REPORTED = QuoteKind.DIRECT, QuoteKind.PARTIAL, QuoteKind.REPORTED
WILL, WILL_NOT = Polarity.WILL, Polarity.WILL_NOT
PROMISE, REFUSAL, OFFER = CommitmentKind.PROMISE, CommitmentKind.REFUSAL, CommitmentKind.OFFER
CONDITIONAL = CommitmentKind.CONDITIONAL


def span(text: str, passage: str, nth: int = 0) -> GoldSpan:
    """The `nth` occurrence of `passage` in `text` (0: the first)."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(passage, start + 1)
    return GoldSpan(start=start, end=start + len(passage), text=passage)


def quote(
    text: str, passage: str, speaker: str | None, mention: str, kind: QuoteKind, nth: int = 0
) -> GoldQuote:
    """A gold quote: its words (inside the marks), who said it, how the article names them."""
    return GoldQuote(
        span=span(text, passage, nth), speaker=speaker, speaker_mention=mention, kind=kind
    )


def commitment(
    text: str, passage: str, actor: str, polarity: Polarity, kind: CommitmentKind, action: str
) -> GoldCommitment:
    """A gold commitment with its evidence passage."""
    return GoldCommitment(
        actor=actor, polarity=polarity, kind=kind, action=action, span=span(text, passage)
    )


def event(
    text: str,
    passage: str,
    kind: EventKind,
    summary: str,
    date: str | None = None,
    date_end: str | None = None,
) -> GoldEvent:
    """A gold event with its evidence passage and date range (ISO days)."""
    return GoldEvent(
        kind=kind,
        summary=summary,
        date=dt.date.fromisoformat(date) if date else None,
        date_end=dt.date.fromisoformat(date_end) if date_end else None,
        span=span(text, passage),
    )


def peacekeepers(path: str, text: str) -> dict[str, Any]:
    """The example article (examples/articles/)."""
    trump, peskov, lavrov = "Donald Trump", "Dmitry Peskov", "Sergei Lavrov"
    return {
        "quotes": [
            quote(
                text,
                "Russian President Vladimir Putin would agree to such a force as part of a peace "
                "deal",
                trump,
                "President Donald Trump",
                REPORTED,
            ),
            quote(text, "negative attitude", peskov, "Kremlin spokesman Dmitry Peskov", PARTIAL),
            quote(
                text, "one of the root causes", peskov, "Kremlin spokesman Dmitry Peskov", PARTIAL
            ),
            quote(
                text,
                "Putin was receptive to a European-led peacekeeping mission",
                trump,
                "Trump",
                REPORTED,
            ),
            quote(text, "specifically asked", trump, "Trump", PARTIAL),
            quote(text, "had no problem with it.", trump, "Trump", PARTIAL),
            quote(
                text,
                "his country should hold veto power over any military assistance provided to "
                "Ukraine if and when a peace agreement is reached",
                lavrov,
                "Russia's Foreign Minister Sergei Lavrov",
                REPORTED,
            ),
            quote(
                text,
                "raise the level of its representation at talks with Ukraine.",
                lavrov,
                "Lavrov",
                PARTIAL,
            ),
            quote(
                text,
                "he's willing to use U.S. airpower to support European forces in Ukraine",
                trump,
                "Trump",
                REPORTED,
            ),
            quote(text, "not to commit American boots on the ground", trump, "Trump", REPORTED),
            quote(text, "Europeans are willing to make that crucial step", trump, "He", REPORTED),
            quote(
                text,
                "When it comes to security, they are willing to put people on the ground,",
                trump,
                "Trump",
                DIRECT,
            ),
            quote(
                text,
                "We're willing to help them with things, especially, probably, if you talk about "
                "air support, because there is nobody who has the kind of stuff we have.",
                trump,
                "Trump",
                DIRECT,
            ),
        ],
        "commitments": [
            commitment(
                text,
                "Trump has indicated he's willing to use U.S. airpower to support European forces "
                "in Ukraine",
                trump,
                WILL,
                OFFER,
                "use U.S. airpower to support European forces in Ukraine",
            ),
            commitment(
                text,
                "promised not to commit American boots on the ground",
                trump,
                WILL_NOT,
                REFUSAL,
                "commit American boots on the ground",
            ),
            commitment(
                text,
                "He also indicated Europeans are willing to make that crucial step.",
                "Europeans",
                WILL,
                OFFER,
                "make that crucial step",
            ),
            commitment(
                text,
                "they are willing to put people on the ground",
                "Europeans",
                WILL,
                OFFER,
                "put people on the ground",
            ),
            commitment(
                text,
                "We're willing to help them with things, especially, probably, if you talk about "
                "air support",
                "United States",
                WILL,
                OFFER,
                "help the Europeans, especially with air support",
            ),
        ],
        "events": [
            event(
                text,
                "During a Wednesday press conference, Kremlin spokesman Dmitry Peskov said Moscow "
                'held a "negative attitude" toward proposals to send European troops as '
                "peacekeepers",
                EventKind.STATEMENT,
                "Peskov says Moscow opposes European peacekeepers in Ukraine.",
                "2025-08-27",
            ),
            event(
                text,
                "Russia's 2022 invasion of Ukraine",
                EventKind.MILITARY_ACTION,
                "Russia invaded Ukraine.",
                "2022-01-01",
                "2022-12-31",
            ),
            event(
                text,
                "While seated alongside French President Emmanuel Macron in Washington on Feb. 24",
                EventKind.MEETING,
                "Trump met Macron in Washington.",
                "2025-02-24",
            ),
            event(
                text,
                'Trump said he had "specifically asked" Putin about the matter',
                EventKind.STATEMENT,
                "Trump says he asked Putin about peacekeepers.",
                "2025-02-24",
            ),
            event(
                text,
                "Russia's Foreign Minister Sergei Lavrov cautioned last week that his country "
                "should hold veto power over any military assistance provided to Ukraine",
                EventKind.STATEMENT,
                "Lavrov demands a veto over military assistance to Ukraine.",
                "2025-08-18",
                "2025-08-24",
            ),
            event(
                text,
                "The summit in Alaska this month between Trump and Putin ended without any "
                "concrete pathway to peace.",
                EventKind.MEETING,
                "Trump and Putin met in Alaska.",
                "2025-08-01",
                "2025-08-31",
            ),
            event(
                text,
                "Trump is now seeking a formal meeting that includes Putin and Ukrainian President "
                "Volodymyr Zelenskyy",
                EventKind.MEETING,
                "Trump seeks a meeting with Putin and Zelenskyy.",
            ),
            event(
                text,
                "Lavrov dismissed the likelihood of any such peace summit occurring",
                EventKind.STATEMENT,
                "Lavrov doubts a peace summit will happen.",
            ),
            event(
                text,
                "Trump said in an interview last week",
                EventKind.STATEMENT,
                "Trump says Europeans will put people on the ground.",
                "2025-08-18",
                "2025-08-24",
            ),
        ],
    }


def hagel(path: str, text: str) -> dict[str, Any]:
    """American Forces Press Service, 2014-05-27."""
    hagel = "Chuck Hagel"
    return {
        "quotes": [
            quote(
                text,
                "he strongly supports President Barack Obama\u2019s decision to maintain a limited "
                "U.S. troop presence in Afghanistan after the combat mission ends there later "
                "this year",
                hagel,
                "Defense Secretary Chuck Hagel",
                REPORTED,
            ),
            quote(
                text,
                "This presence, which is contingent on a signed bilateral security agreement, "
                "will help ensure that al-Qaida cannot reconstitute itself in Afghanistan,",
                hagel,
                "the secretary",
                DIRECT,
            ),
            quote(
                text,
                "and it will help us sustain the significant progress we have made in training "
                "and equipping the Afghan national security forces.",
                hagel,
                "the secretary",
                PARTIAL,
            ),
            quote(
                text,
                "for his exceptional leadership of this mission, which he has kept on a path to "
                "success in the face of many challenges.",
                hagel,
                "The secretary",
                PARTIAL,
            ),
            quote(
                text,
                "The United States also appreciates the continued contributions of its "
                "International Security Assistance Force partners",
                hagel,
                "Hagel",
                REPORTED,
            ),
            quote(
                text,
                "And as we bring America's longest war to a responsible end this year, all "
                "Americans are grateful for the sacrifice and service of the men and women who "
                "deployed there over the past 13 years,",
                hagel,
                "Hagel",
                DIRECT,
            ),
            quote(
                text,
                "Everyone who has served in Afghanistan should be proud of what they "
                "accomplished, and the Afghan people should be confident of America's enduring "
                "support for them.",
                hagel,
                "Hagel",
                DIRECT,
            ),
        ],
        "commitments": [
            commitment(
                text,
                "President Barack Obama\u2019s decision to maintain a limited U.S. troop "
                "presence in "
                "Afghanistan after the combat mission ends there later this year",
                "Barack Obama",
                WILL,
                CONDITIONAL,
                "maintain a limited U.S. troop presence in Afghanistan",
            ),
            commitment(
                text,
                "he will meet them with next week at NATO headquarters in Brussels",
                hagel,
                WILL,
                PROMISE,
                "meet ISAF partners at NATO headquarters",
            ),
            commitment(
                text,
                "the Afghan people should be confident of America's enduring support for them",
                "United States",
                WILL,
                PROMISE,
                "support the Afghan people",
            ),
        ],
        "events": [
            event(
                text,
                "Defense Secretary Chuck Hagel today said he strongly supports President Barack "
                "Obama\u2019s decision",
                EventKind.STATEMENT,
                "Hagel backs Obama's decision on troops in Afghanistan.",
                "2014-05-27",
            ),
            event(
                text,
                "President Barack Obama\u2019s decision to maintain a limited U.S. troop "
                "presence in "
                "Afghanistan",
                EventKind.DECISION,
                "Obama decides to keep a limited troop presence in Afghanistan.",
            ),
            event(
                text,
                "the combat mission ends there later this year",
                EventKind.MILITARY_ACTION,
                "The combat mission in Afghanistan ends.",
                "2014-05-27",  # 'later this year', said on 27 May 2014: the rest of the year
                "2014-12-31",
            ),
            event(
                text,
                "he will meet them with next week at NATO headquarters in Brussels",
                EventKind.MEETING,
                "Hagel meets ISAF partners at NATO headquarters.",
                "2014-06-02",
                "2014-06-08",
            ),
        ],
    }


def holdren(path: str, text: str) -> dict[str, Any]:
    """NASA news release 12-164, 2012-05-22."""
    statement = text[text.index('"Congratulations') + 1 : text.rindex('"')]
    return {
        "quotes": [
            quote(
                text,
                statement,
                "John P. Holdren",
                "John P. Holdren, Assistant to the President for Science and Technology",
                DIRECT,
            )
        ],
        "commitments": [],
        "events": [
            event(
                text,
                "Tuesday's launch of SpaceX's Falcon 9 rocket and Dragon spacecraft",
                EventKind.OTHER,
                "SpaceX launches Falcon 9 and Dragon.",
                "2012-05-22",
            ),
            event(
                text,
                "John P. Holdren, Assistant to the President for Science and Technology, issued "
                "the following statement",
                EventKind.STATEMENT,
                "Holdren congratulates SpaceX and NASA.",
                "2012-05-22",  # issued the day of the launch, as the release's date says
            ),
        ],
    }


def reznikov(path: str, text: str) -> dict[str, Any]:
    """U.S. Department of Defense readout, undated."""
    austin, reznikov = "Lloyd J. Austin III", "Oleksii Reznikov"
    together = (
        "Secretary Austin and Minister Reznikov committed to continuing their close coordination "
        "during this conflict that Russia alone has created."
    )
    return {
        "quotes": [
            quote(
                text,
                "the United States' support for Ukraine's sovereignty and territorial integrity is "
                "unwavering and that the United States will continue to provide defensive "
                "assistance to Ukraine",
                austin,
                "Secretary Austin",
                REPORTED,
            ),
        ],
        "commitments": [
            commitment(
                text,
                "the United States will continue to provide defensive assistance to Ukraine",
                "United States",
                WILL,
                PROMISE,
                "provide defensive assistance to Ukraine",
            ),
            commitment(text, together, austin, WILL, PROMISE, "continue close coordination"),
            commitment(text, together, reznikov, WILL, PROMISE, "continue close coordination"),
        ],
        "events": [
            event(
                text,
                "Secretary of Defense Lloyd J. Austin III spoke with his Ukrainian counterpart, "
                "Minister of Defence Oleksii Reznikov",
                EventKind.MEETING,
                "Austin and Reznikov speak about the war.",
            ),
            event(
                text,
                "Russia's unfounded and unprovoked war against Ukraine",
                EventKind.MILITARY_ACTION,
                "Russia wages war on Ukraine.",
            ),
        ],
    }


def ministers(path: str, text: str) -> dict[str, Any]:
    """U.S. Department of Defense readout, 2023-06-24."""
    return {
        "quotes": [
            quote(
                text,
                "support by the United States for Ukraine will not change",
                "Lloyd J. Austin III",
                "Secretary Austin",
                REPORTED,
            ),
        ],
        "commitments": [
            commitment(
                text,
                "The United States will stay in close coordination with Allies and partners as "
                "the situation continues to develop.",
                "United States",
                WILL,
                PROMISE,
                "stay in close coordination with Allies and partners",
            ),
            commitment(
                text,
                "support by the United States for Ukraine will not change",
                "United States",
                WILL,
                PROMISE,
                "keep supporting Ukraine",
            ),
        ],
        "events": [
            event(
                text,
                "Secretary of Defense Lloyd J. Austin III spoke today with Defense Ministers from "
                "Canada, France, Germany, Poland, and the United Kingdom",
                EventKind.MEETING,
                "Austin calls five allied defence ministers about Russia.",
                "2023-06-24",
            ),
        ],
    }


ARTICLES = [
    (
        "peacekeepers-2025-08-27",
        "../examples/articles/peacekeepers-2025-08-27.txt",
        "2025-08-27",
        "the project's given example article (a Newsmax article of 2025-08-27, copyrighted, "
        "not public domain); see README",
        peacekeepers,
    ),
    (
        "hagel-afghanistan-2014-05-27",
        "articles/hagel-afghanistan-2014-05-27.txt",
        "2014-05-27",
        "American Forces Press Service (U.S. Department of Defense), public domain; see README",
        hagel,
    ),
    (
        "nasa-holdren-falcon9-2012-05-22",
        "articles/nasa-holdren-falcon9-2012-05-22.txt",
        "2012-05-22",
        "NASA news release 12-164, public domain; see README",
        holdren,
    ),
    (
        "dod-austin-reznikov-call",
        "articles/dod-austin-reznikov-call.txt",
        None,
        "U.S. Department of Defense readout, public domain; see README",
        reznikov,
    ),
    (
        "dod-austin-calls-2023-06-24",
        "articles/dod-austin-calls-2023-06-24.txt",
        "2023-06-24",
        "U.S. Department of Defense readout, public domain; see README",
        ministers,
    ),
]


def build() -> list[GoldArticle]:
    """Every gold article, spans found and checked."""
    out = []
    for ident, path, published, source, records in ARTICLES:
        text = (HERE / path).read_text(encoding="utf-8")
        article = GoldArticle(
            id=ident,
            path=path,
            published=dt.date.fromisoformat(published) if published else None,
            source=source,
            **records(path, text),
        )
        check_spans(article, text)
        out.append(article)
    return out


def main() -> int:
    """Write gold/gold.jsonl, or with --check say whether it is current."""
    articles = build()
    if "--check" in sys.argv[1:]:
        scratch = OUT.with_suffix(".check")
        write_gold(articles, scratch)
        same = scratch.read_text(encoding="utf-8") == OUT.read_text(encoding="utf-8")
        scratch.unlink()
        print("gold/gold.jsonl is current" if same else "gold/gold.jsonl is stale: rerun")
        return 0 if same else 1
    write_gold(articles, OUT)
    counts = [(len(a.quotes), len(a.commitments), len(a.events)) for a in articles]
    print(f"wrote {OUT}: {len(articles)} articles, (quotes, commitments, events) {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
