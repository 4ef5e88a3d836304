"""The review page: results shown against their article text, in one self-contained HTML file.

`load_articles` reads results (``extractor extract --format json`` documents, ``extractor batch``
JSON lines) and the text their spans index; `build_page` turns them into one HTML page with no
network access (inline CSS and JavaScript only, a Content-Security-Policy that forbids every load
and runs only the page's own script and style, by hash). Every record's span is highlighted by
type; where spans overlap, the text is cut into segments and the highlights nest, so the markup
stays well formed. The page's CSS and JavaScript are package data (``view_assets/page.css``,
``page.js``), inlined. The first (usually the only) element of each record's highlight carries
``data-start`` and ``data-end``: its span's offsets into the article text.

Text from the article, the model or a file name is never markup: it is HTML-escaped, with control
characters shown as escapes (`extractor.render.visible`); record fields travel as JSON inside a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, and the page
shows them as text nodes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from extractor.articles import read_at_most
from extractor.errors import InputError
from extractor.models import ArticleExtraction, RuledOut
from extractor.render import JSON_ESCAPES, visible
from extractor.result_files import read_result_files
from extractor.spans import Span

# The page's style and script, package data (pyproject.toml), inlined and allowed by their
# SHA-256 in the page's Content-Security-Policy, computed from what is loaded here.
_ASSETS = resources.files("extractor") / "view_assets"
_CSS = (_ASSETS / "page.css").read_text(encoding="utf-8")
_SCRIPT = (_ASSETS / "page.js").read_text(encoding="utf-8")

__all__ = [
    "TYPES",
    "ViewArticle",
    "build_page",
    "load_articles",
    "write_page",
]

TYPES: tuple[str, ...] = ("quote", "commitment", "event")
"""Record types, in the order the page lists and colours them."""

_CONTEXT = 60  # characters of text shown either side of a ruled-out passage


@dataclass(frozen=True)
class ViewArticle:
    """One result and the text its spans index, with the name the page gives it."""

    name: str
    text: str
    result: ArticleExtraction
    origin: str = ""  # where the result was read: 'results.jsonl line 3'
    title: str | None = None  # a batch line's title, if any
    failure: str | None = None  # why a batch errors-file line's article failed


@dataclass(frozen=True)
class _Record:
    rid: str
    type: str
    span: Span | None
    label: str
    who: tuple[str, ...]
    confirmed: bool
    fields: dict[str, Any] = field(compare=False)


# ---------------------------------------------------------------------------------------------
# Reading results and their text


_JSONL_LINE = re.compile(r"(?s)(.+):([1-9][0-9]*)")


class _Sources:
    """Reads the texts results index: article files, and lines of JSONL dumps (each dump once)."""

    def __init__(self, bases: Sequence[Path]) -> None:
        self.bases = bases
        self.dumps: dict[Path, list[bytes]] = {}

    def candidates(self, name: str) -> list[Path]:
        """Where a path named in a result may be: as given if absolute, else under each base."""
        path = Path(name)
        if path.is_absolute():
            return [path]
        return list(dict.fromkeys(base / path for base in self.bases))

    def text(self, name: str, length: int, where: str) -> str:
        """The text `name` stands for (a file, or 'dump.jsonl:12'), `length` characters long."""
        files = [path for path in self.candidates(name) if path.is_file()]
        line = _JSONL_LINE.fullmatch(name)
        if not files and line:
            dumps = [path for path in self.candidates(line.group(1)) if path.is_file()]
            if dumps:
                return self._line(dumps[0], int(line.group(2)), length, where)
        if not files:
            looked = " or ".join(str(path) for path in self.candidates(name))
            raise InputError(f"{where}: article file {name} not found (looked for {looked})")
        lengths = []
        for path in files:
            text = _read_source(path, length, where)
            if len(text) == length:
                return text
            lengths.append(f"{path} has {len(text):,}")
        raise InputError(
            f"{where}: article file {name} has changed since the extraction: the result "
            f"indexes {length:,} characters, {', '.join(lengths)}"
        )

    def _line(self, dump: Path, number: int, length: int, where: str) -> str:
        if dump not in self.dumps:
            try:
                self.dumps[dump] = dump.read_bytes().split(b"\n")
            except OSError as exc:
                raise InputError(f"{where}: {dump} cannot be read ({exc.strerror})") from None
        lines = self.dumps[dump]
        name = f"{dump}:{number}"
        try:
            row = json.loads(lines[number - 1]) if number <= len(lines) else None
        except ValueError:
            row = None
        text = row.get("text") if isinstance(row, dict) else None
        if not isinstance(text, str):
            raise InputError(f"{where}: {name} has no article text ('text') any more")
        if len(text) != length:
            raise InputError(
                f"{where}: {name} has changed since the extraction: the result indexes "
                f"{length:,} characters, its text has {len(text):,}"
            )
        return text


def _read_source(path: Path, length: int, where: str) -> str:
    """The file as ``Path.read_text(encoding="utf-8")`` returns it, refusing what cannot be it."""
    try:
        with path.open("rb") as file:
            data = read_at_most(file, 4 * length + 4)  # no longer than `length` characters can be
    except OSError as exc:
        raise InputError(f"{where}: article file {path} cannot be read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{where}: article file {path} is not UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # text mode's universal newlines


def _source_text(
    item: dict[str, Any], result: ArticleExtraction, where: str, sources: _Sources
) -> str:
    """The text the result's spans index: given in the object, or its source file."""
    given = item.get("text")
    if isinstance(given, str):
        return given
    ruled = result.coverage.ruled_out if result.coverage is not None else []
    if not (result.quotes or result.commitments or result.events or ruled):
        return ""  # no span to show in it (a failed article): no need to read it
    source = result.source
    if source is None:
        raise InputError(
            f"{where}: the result names no source file, so its article text is unknown; "
            "use results of 'extractor extract --format json' or 'extractor batch'"
        )
    if source.path == "<stdin>":
        raise InputError(
            f"{where}: the article was read from standard input, which was not kept; extract "
            "from a file to review the result"
        )
    return sources.text(source.path, source.length, where)


def _check_spans(text: str, result: ArticleExtraction, where: str) -> None:
    """Every span is a slice of `text`, or `InputError` (the wrong file, or it changed)."""
    spans: list[Span | None] = [r.span for r in result.quotes]
    spans += [r.span for r in result.commitments] + [r.span for r in result.events]
    if result.coverage is not None:
        spans += [r.span for r in result.coverage.ruled_out]
    for span in spans:
        if span is not None and text[span.start : span.end] != span.text:
            raise InputError(
                f"{where}: the span {span.start}-{span.end} is not "
                f"'{visible(span.text[:40], one_line=True)}' in its article text: the text is "
                "not the one extracted from, or it changed"
            )


def load_articles(paths: Iterable[Path], *, cwd: Path | None = None) -> list[ViewArticle]:
    """Every result in the files, with its article text; `InputError` naming any problem.

    A result's text comes from the object itself (a ``text`` key) or from its ``source.path``:
    a file, or a batch JSONL input's line (``dump.jsonl:12``, its ``text``), as given if
    absolute, else relative to the result file's folder, then to `cwd` (default: the current
    directory). It must still have ``source.length`` characters, and every span must read the
    same in it. A batch errors-file line shows what it kept (``partial``) and why it failed.
    """
    here = cwd if cwd is not None else Path.cwd()
    articles = []
    sources: dict[Path, _Sources] = {}
    for path in paths:
        for found in read_result_files(path):
            where = found.where
            folder = found.file.parent
            texts = sources.setdefault(folder, _Sources((folder, here)))
            result = found.result or ArticleExtraction()
            text = _source_text({**found.raw, **found.item}, result, where, texts)
            _check_spans(text, result, where)
            articles.append(
                ViewArticle(
                    found.id or (result.source.path if result.source else where),
                    text,
                    result,
                    where,
                    title=found.title,
                    failure=found.failure,
                )
            )
    if not articles:
        raise InputError("no results to show: the files hold none")
    return articles


# ---------------------------------------------------------------------------------------------
# The page


def _records(result: ArticleExtraction, first_id: int) -> list[_Record]:
    """The result's records in text order, each with a page-wide id."""
    found: list[tuple[str, Any]] = [
        *(("quote", q) for q in result.quotes),
        *(("commitment", c) for c in result.commitments),
        *(("event", e) for e in result.events),
    ]
    found.sort(key=lambda pair: (pair[1].span is None, pair[1].span and pair[1].span.start))
    records = []
    for n, (kind, record) in enumerate(found, first_id):
        if kind == "quote":
            who: tuple[str, ...] = (record.speaker.name,)
            label, confirmed = record.speaker.name, record.confirmed
        elif kind == "commitment":
            who = (record.actor.name,)
            will = "will" if record.polarity.value == "will" else "will not"
            label = f"{record.actor.name}: {will} {record.action}"
            confirmed = True
        else:
            who = tuple(a.name for a in record.actors)
            label, confirmed = record.summary, True
        fields = record.model_dump(mode="json", exclude={"span"})
        records.append(_Record(f"r{n}", kind, record.span, label, who, confirmed, fields))
    return records


def _esc(text: str, *, one_line: bool = False) -> str:
    return html.escape(visible(text, one_line=one_line), quote=True)


def _short(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _highlight(text: str, records: Sequence[_Record]) -> str:
    """`text` as HTML with a ``<mark>`` per record span; overlapping spans split into segments.

    Marks nest: where a span crosses another's end, it is closed there and opened again, so the
    markup stays well formed. A record's first piece carries ``data-start``/``data-end`` (one
    element per record); every piece carries ``data-rec`` (its id), its type as a class, and
    ``data-piece-start``/``data-piece-end``, the offsets of the text it holds.
    """
    marked = [r for r in records if r.span is not None]
    starts: dict[int, list[_Record]] = defaultdict(list)
    for record in marked:
        assert record.span is not None
        starts[record.span.start].append(record)
    ends = {r.span.end for r in marked if r.span is not None}
    cuts = sorted({0, len(text), *starts, *ends})
    out: list[str] = []
    stack: list[tuple[_Record, int]] = []  # open records with their end

    def open_tag(record: _Record, first: bool, at: int) -> str:
        assert record.span is not None
        classes = f"hl {record.type}" + ("" if record.confirmed else " rules")
        # This piece ends at the record's end, or sooner where an outer open mark ends.
        until = min([record.span.end, *(end for _, end in stack)])
        piece = f'data-rec="{record.rid}" data-piece-start="{at}" data-piece-end="{until}"'
        if not first:
            return f'<mark class="{classes} cont" {piece}>'
        return (
            f'<mark class="{classes}" {piece} '
            f'data-start="{record.span.start}" data-end="{record.span.end}">'
        )

    position = 0
    for cut in cuts:
        if cut > position:
            out.append(_esc(text[position:cut]))
            position = cut
        ending = [i for i, (_, end) in enumerate(stack) if end == cut]
        if ending:
            low = ending[0]
            reopen = [pair for pair in stack[low:] if pair[1] != cut]
            out.append("</mark>" * (len(stack) - low))
            del stack[low:]
            for record, end in sorted(reopen, key=lambda pair: -pair[1]):
                out.append(open_tag(record, first=False, at=cut))
                stack.append((record, end))
        for record in sorted(starts.get(cut, ()), key=lambda r: -(r.span.end if r.span else 0)):
            assert record.span is not None
            out.append(open_tag(record, first=True, at=cut))
            if record.span.end == cut:  # an empty span: a mark with nothing in it
                out.append("</mark>")
            else:
                stack.append((record, record.span.end))
    out.append("</mark>" * len(stack))
    return "".join(out)


def _record_item(record: _Record) -> str:
    where = f"{record.span.start}\u2013{record.span.end}" if record.span else "not in the text"
    text = record.span.text if record.span else str(record.fields.get("text", ""))
    rules = ' <span class="by">rules</span>' if not record.confirmed else ""
    return (
        f'<li class="rec {record.type}" data-rec="{record.rid}" data-type="{record.type}" '
        f'tabindex="0"><span class="tag">{record.type}</span>{rules} '
        f"<b>{_esc(_short(record.label, 90), one_line=True)}</b> "
        f'<span class="snip">{_esc(_short(text), one_line=True)}</span> '
        f'<span class="at">{where}</span></li>'
    )


def _ruled_item(text: str, ruled: RuledOut) -> str:
    span = ruled.span
    before = text[max(0, span.start - _CONTEXT) : span.start]
    after = text[span.end : span.end + _CONTEXT]
    return (
        f'<li class="ruled" data-ruled-start="{span.start}" data-ruled-end="{span.end}">'
        f'<span class="tag">{_esc(ruled.reason.value)}</span> '
        f'<span class="ctx">…{_esc(before, one_line=True)}<q>{_esc(span.text, one_line=True)}'
        f"</q>{_esc(after, one_line=True)}…</span> "
        f'<span class="at">{span.start}\u2013{span.end}, by {_esc(ruled.by, one_line=True)}'
        "</span></li>"
    )


def _meta(article: ViewArticle) -> str:
    result = article.result
    parts = [f"published {result.published or 'unknown'}"]
    if result.source is not None:
        parts.append(f"{result.source.path} ({result.source.length:,} characters)")
    coverage = result.coverage
    if coverage is not None:
        parts.append(
            f"quotation marks: {coverage.found} found, {coverage.attributed} attributed by the "
            f"model, {len(coverage.unattributed)} by the rules only, "
            f"{len(coverage.ruled_out)} not speech"
        )
    u = result.usage
    parts.append(f"{u.requests} request(s), {u.prompt_tokens}+{u.completion_tokens} tokens")
    return _esc("; ".join(parts), one_line=True)


def _counts(records: Sequence[_Record]) -> Counter[str]:
    return Counter(r.type for r in records)


def _section(index: int, article: ViewArticle, records: Sequence[_Record]) -> str:
    counts = _counts(records)
    ruled = article.result.coverage.ruled_out if article.result.coverage else []
    items = "".join(_record_item(r) for r in records) or '<li class="none">no records</li>'
    ruled_html = ""
    if ruled:
        ruled_items = "".join(_ruled_item(article.text, r) for r in ruled)
        ruled_html = (
            f'<section class="ruled-out"><h3>Ruled out: marked, but not speech ({len(ruled)})'
            f'</h3><ol class="ruled-list">{ruled_items}</ol></section>'
        )
    summary = ", ".join(f"{counts[t]} {t}{'s' if counts[t] != 1 else ''}" for t in TYPES)
    heading = f"{article.title} ({article.name})" if article.title else article.name
    failure = (
        f'<p class="failure">failed: {_esc(article.failure, one_line=True)}; shown: the records '
        "an earlier reply grounded, if any</p>"
        if article.failure
        else ""
    )
    return (
        f'<section class="article" id="a{index}" data-index="{index}">'
        f'<header class="article-head"><div><h2>{_esc(heading, one_line=True)}</h2>'
        f'<p class="meta">{_meta(article)}</p>{failure}</div>'
        f'<div class="pager"><a class="prev" href="#a{index - 1}">← previous</a>'
        f'<a class="next" href="#a{index + 1}">next →</a></div></header>'
        f'<div class="body"><div class="main-col"><div class="text">'
        f"{_highlight(article.text, records)}</div>{ruled_html}</div>"
        f'<aside class="side"><div class="details" aria-live="polite"><p class="hint">Click a '
        f"highlight or a record to see its fields.</p></div>"
        f'<h3>Records <span class="sum">({summary})</span></h3>'
        f'<ol class="records">{items}</ol></aside></div></section>'
    )


def _nav_item(index: int, article: ViewArticle, records: Sequence[_Record]) -> str:
    counts = _counts(records)
    badges = "".join(
        f'<span class="n {t}" title="{t}s">{counts[t]}</span>' for t in TYPES if counts[t]
    )
    name = article.title or article.name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    failed = ' class="failed"' if article.failure else ""
    return (
        f'<li{failed}><a href="#a{index}" data-article="a{index}" '
        f'title="{_esc(article.name, one_line=True)}">'
        f'<span class="name">{_esc(_short(name, 60), one_line=True)}</span>'
        f'<span class="badges">{badges}</span></a></li>'
    )


_SCRIPT_JSON_ESCAPES = {
    **JSON_ESCAPES,
    **{code: f"\\u{code:04x}" for code in (ord("<"), ord(">"), ord("&"), 0x2028, 0x2029)},
}


def _json_for_script(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>``, no ``<!--``, no lone surrogate,
    no raw DEL or C1 control."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.translate(_SCRIPT_JSON_ESCAPES)


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def build_page(articles: Sequence[ViewArticle], *, title: str = "extractor review") -> str:
    """The review page for `articles`, as one HTML document that loads nothing from anywhere."""
    sections, nav, data = [], [], {}
    speakers: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    next_id = 0
    for index, article in enumerate(articles):
        records = _records(article.result, next_id)
        next_id += len(records)
        sections.append(_section(index, article, records))
        nav.append(_nav_item(index, article, records))
        totals.update(_counts(records))
        for r in records:
            speakers.update(r.who)
            data[r.rid] = {
                "type": r.type,
                "article": f"a{index}",
                "start": r.span.start if r.span else None,
                "end": r.span.end if r.span else None,
                "text": r.span.text if r.span else None,
                "who": list(r.who),
                "fields": r.fields,
            }
    ruled_total = sum(len(a.result.coverage.ruled_out) for a in articles if a.result.coverage)
    filters = "".join(
        f'<label class="type {t}"><input type="checkbox" data-filter-type="{t}" checked> '
        f'{t}s <span class="count">{totals[t]}</span></label>'
        for t in TYPES
    )
    options = "".join(
        f'<option value="{_esc(name, one_line=True)}"></option>'
        for name, _ in speakers.most_common()
    )
    csp = (
        f"default-src 'none'; style-src '{_sha256(_CSS)}'; script-src '{_sha256(_SCRIPT)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    heading = (
        f"{len(articles)} article{'s' if len(articles) != 1 else ''}, "
        f"{sum(totals.values())} records, {ruled_total} ruled out"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title, one_line=True)}</title><style>{_CSS}</style></head>"
        f'<body><header class="top"><h1>{_esc(title, one_line=True)} '
        f'<span class="sub">{heading}</span></h1><div class="filters">{filters}'
        '<label class="who">speaker <input type="search" id="speaker" list="speakers" '
        'placeholder="any speaker or actor" autocomplete="off"></label>'
        f'<datalist id="speakers">{options}</datalist><span id="shown"></span></div></header>'
        f'<div class="layout"><nav id="articles"><ol>{"".join(nav)}</ol></nav>'
        f"<main>{''.join(sections)}</main></div>"
        f'<script type="application/json" id="records-data">{_json_for_script(data)}</script>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write_page(
    paths: Sequence[Path], out: Path, *, title: str = "extractor review", cwd: Path | None = None
) -> list[ViewArticle]:
    """Read the results in `paths`, write their review page to `out`, return what it shows."""
    articles = load_articles(paths, cwd=cwd)
    page = build_page(articles, title=title)
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_text(page, encoding="utf-8")
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InputError(f"{out}: cannot be written ({exc.strerror or exc})") from None
    return articles
