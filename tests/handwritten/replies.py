"""HAND-WRITTEN model replies. No hosted model can be reached from where these were made, so the
tool-call arguments below were written by a developer to stand in for what a capable model
(gpt-4o-mini class) returns for the shared article. `record.py` sends the library's real requests
to a scripted server that answers with these, and vcrpy records the exchange as cassettes.
"""

from __future__ import annotations

from typing import Any

TRUMP = {"name": "Donald Trump", "role": "President", "country": "United States"}
PUTIN = {"name": "Vladimir Putin", "role": "President", "country": "Russia"}
PESKOV = {
    "name": "Dmitry Peskov",
    "role": "spokesman",
    "organization": "Kremlin",
    "country": "Russia",
}
LAVROV = {"name": "Sergei Lavrov", "role": "Foreign Minister", "country": "Russia"}
MACRON = {"name": "Emmanuel Macron", "role": "President", "country": "France"}
ZELENSKYY = {"name": "Volodymyr Zelenskyy", "role": "President", "country": "Ukraine"}

# The older shape: quotations answered by number, speech without marks and evidence copied.
QUOTES: list[dict[str, Any]] = [
    {"n": 1, "speaker": PESKOV, "kind": "partial", "verb": "said"},
    {"n": 2, "speaker": PESKOV, "kind": "partial", "verb": "adding"},
    {"n": 3, "speaker": TRUMP, "kind": "partial", "verb": "said"},
    {"n": 4, "speaker": TRUMP, "kind": "partial", "verb": "assured"},
    {
        "text": "his country should hold veto power over any military assistance provided to "
        "Ukraine if and when a peace agreement is reached",
        "speaker": LAVROV,
        "kind": "reported",
        "verb": "cautioned",
    },
    {"n": 5, "speaker": LAVROV, "kind": "partial", "verb": "indicated"},
    {"n": 6, "speaker": TRUMP, "kind": "direct", "verb": "said"},
    {"n": 7, "speaker": TRUMP, "kind": "direct", "verb": "said"},
]

COMMITMENTS: list[dict[str, Any]] = [
    {
        "actor": TRUMP,
        "polarity": "will_not",
        "kind": "refusal",
        "action": "commit American ground troops to Ukraine",
        "beneficiary": "Ukraine",
        "evidence": "promised not to commit American boots on the ground",
    },
    {
        "actor": TRUMP,
        "polarity": "will",
        "kind": "offer",
        "action": "use U.S. airpower to support European forces in Ukraine",
        "beneficiary": "European forces in Ukraine",
        "evidence": "Trump has indicated he's willing to use U.S. airpower to support European "
        "forces in Ukraine",
    },
    {
        "actor": {"name": "Europeans", "country": None},
        "polarity": "will",
        "kind": "offer",
        "action": "put their own troops on the ground in Ukraine for security",
        "evidence": "they are willing to put people on the ground",
    },
]

EVENTS: list[dict[str, Any]] = [
    {
        "kind": "statement",
        "summary": "Kremlin spokesman Dmitry Peskov rejected European peacekeepers in Ukraine.",
        "actors": [PESKOV],
        "date_text": "Wednesday",
        "status": "occurred",
        "evidence": "During a Wednesday press conference, Kremlin spokesman Dmitry Peskov said "
        'Moscow held a "negative attitude" toward proposals to send European troops as '
        "peacekeepers",
    },
    {
        "kind": "statement",
        "summary": "Trump said Putin had no problem with a European peacekeeping force.",
        "actors": [TRUMP, MACRON],
        "location": "Washington",
        "date_text": "on Feb. 24",
        "status": "occurred",
        "evidence": "While seated alongside French President Emmanuel Macron in Washington on "
        'Feb. 24, Trump said he had "specifically asked" Putin about the matter',
    },
    {
        "kind": "statement",
        "summary": "Lavrov said Russia should hold a veto over military assistance to Ukraine.",
        "actors": [LAVROV],
        "date_text": "last week",
        "status": "occurred",
        "evidence": "Russia's Foreign Minister Sergei Lavrov cautioned last week that his country "
        "should hold veto power over any military assistance provided to Ukraine",
    },
    {
        "kind": "meeting",
        "summary": "Trump and Putin met at a summit in Alaska without a pathway to peace.",
        "actors": [TRUMP, PUTIN],
        "location": "Alaska",
        "date_text": "this month",
        "status": "occurred",
        "evidence": "The summit in Alaska this month between Trump and Putin ended without any "
        "concrete pathway to peace.",
    },
    {
        "kind": "meeting",
        "summary": "Trump seeks a formal meeting with Putin and Zelenskyy.",
        "actors": [TRUMP, PUTIN, ZELENSKYY],
        "status": "proposed",
        "evidence": "Trump is now seeking a formal meeting that includes Putin and Ukrainian "
        "President Volodymyr Zelenskyy",
    },
    {
        "kind": "military_action",
        "summary": "Russia invaded Ukraine.",
        "actors": [{"name": "Russia"}],
        "location": "Ukraine",
        "date_text": "2022",
        "status": "occurred",
        "evidence": "Russia's 2022 invasion of Ukraine",
    },
    {
        "kind": "statement",
        "summary": "Trump said in an interview that Europeans are willing to put troops on the "
        "ground.",
        "actors": [TRUMP],
        "date_text": "last week",
        "status": "occurred",
        "evidence": "Trump said in an interview last week",
    },
]


def described_once(reply: dict[str, Any]) -> dict[str, Any]:
    """The reply with each actor described (role, organization, country) at its first mention
    only, later ones by name, as the prompt asks; the library fills the rest in."""
    seen: set[str] = set()

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "name" in value and set(value) <= {"name", "role", "organization", "country"}:
            first = value["name"] not in seen
            seen.add(value["name"])
            return dict(value) if first else {"name": value["name"]}
        return {key: walk(item) for key, item in value.items()}

    return {key: walk(value) for key, value in reply.items()}


# The older shape (words copied): what a model returned before the prompt numbered sentences
# too, and what a model that copies anyway returns. Still read and grounded; kept for the
# scenarios below whose point is a copied passage that is not in the article.
COPIED = described_once({"events": EVENTS, "quotes": QUOTES, "commitments": COMMITMENTS})


def _name(actor: dict[str, Any]) -> str:
    return str(actor["name"])


# Answering by number, as the prompt asks: the article's sentences are numbered 1 to 12 (§1 is
# "Russia dismissed the proposal ...", §12 Trump's last quotation) and its quotations [Q1] to
# [Q7]; each person is described once, in people. A summary only where the sentence says more.
CLEAN: dict[str, Any] = {
    "people": [PESKOV, TRUMP, MACRON, PUTIN, LAVROV, ZELENSKYY],
    "events": [
        {
            "s": 2,
            "kind": "statement",
            "summary": "Peskov rejected European peacekeepers in Ukraine.",
            "actors": [_name(PESKOV)],
            "date_text": "Wednesday",
        },
        {
            "s": 2,
            "kind": "military_action",
            "summary": "Russia invaded Ukraine.",
            "actors": ["Russia"],
            "location": "Ukraine",
            "date_text": "2022",
        },
        {
            "s": 4,
            "kind": "statement",
            "summary": "Trump said Putin had no problem with European peacekeepers.",
            "actors": [_name(TRUMP), _name(MACRON)],
            "location": "Washington",
            "date_text": "on Feb. 24",
        },
        {
            "s": 5,
            "kind": "statement",
            "summary": "Lavrov said Russia should hold a veto over military aid.",
            "actors": [_name(LAVROV)],
            "date_text": "last week",
        },
        {
            "s": 6,
            "kind": "meeting",
            "actors": [_name(TRUMP), _name(PUTIN)],
            "location": "Alaska",
            "date_text": "this month",
        },
        {
            "s": 7,
            "kind": "meeting",
            "summary": "Trump seeks a formal meeting with Putin and Zelenskyy.",
            "actors": [_name(TRUMP), _name(PUTIN), _name(ZELENSKYY)],
            "status": "proposed",
        },
        {
            "s": 11,
            "kind": "statement",
            "summary": "Trump said Europeans are willing to put troops on the ground.",
            "actors": [_name(TRUMP)],
            "date_text": "last week",
        },
    ],
    "speakers": {
        "1": _name(PESKOV),
        "2": _name(PESKOV),
        "3": _name(TRUMP),
        "4": _name(TRUMP),
        "5": _name(LAVROV),
        "6": _name(TRUMP),
        "7": _name(TRUMP),
    },
    "reported": [{"s": 5, "speaker": _name(LAVROV), "verb": "cautioned"}],
    "commitments": [
        {
            "s": 9,
            "actor": _name(TRUMP),
            "polarity": "will_not",
            "kind": "refusal",
            "action": "commit American ground troops to Ukraine",
            "beneficiary": "Ukraine",
        },
        {
            "s": 9,
            "actor": _name(TRUMP),
            "polarity": "will",
            "kind": "offer",
            "action": "use U.S. airpower to support European forces in Ukraine",
            "beneficiary": "European forces in Ukraine",
        },
        {
            "s": 11,
            "actor": "Europeans",
            "polarity": "will",
            "kind": "offer",
            "action": "put their own troops on the ground in Ukraine for security",
        },
    ],
}

INVENTED_QUOTE = {
    "text": "Europe will never send a single soldier to Ukraine",
    "speaker": PESKOV,
    "kind": "reported",
    "verb": "said",
}
WITH_INVENTED_QUOTE = {"events": [], "quotes": [QUOTES[0], INVENTED_QUOTE], "commitments": []}
FIXED_AFTER_REASK = {"events": [], "quotes": [QUOTES[0], QUOTES[1]], "commitments": []}

PEOPLE = {
    "people": [
        {"name": "Dmitry Peskov", "quote": "one of the root causes"},
        {"name": "Donald Trump", "quote": "they are willing to put people on the ground"},
    ]
}
