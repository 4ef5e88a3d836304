"""Tests for article input checks and the `Extractor` constructor's option handling."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from extractor.articles import (
    DEFAULT_MAX_CHARS,
    check_text,
    parse_article,
    parse_published,
    read_article,
    read_at_most,
)
from extractor.errors import ConfigurationError, InputError
from extractor.extractor import Extractor
from extractor.inference import ModelClient
from extractor.settings import Mode, Settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
MAX = 10_000
ENV_VARS = ("OPENAI_API_KEY", "EXTRACTOR_API_KEY", "OPENAI_BASE_URL", "EXTRACTOR_BASE_URL")


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_requests(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail loudly if anything gets as far as asking the model."""
    calls: list[Any] = []

    def complete(self: ModelClient, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError("a request was attempted")

    async def acomplete(self: ModelClient, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError("a request was attempted")

    monkeypatch.setattr(ModelClient, "complete", complete)
    monkeypatch.setattr(ModelClient, "acomplete", acomplete)
    return calls


# check_text


def test_check_text_returns_good_text_unchanged() -> None:
    text = "Line one.\n\tLine two,\r\nwith a form feed\f and tabs.\v"
    assert check_text(text, max_chars=MAX) is text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the article is empty"),
        (" \n\t  \r\n", "the article is empty"),
        (b"bytes article", "got bytes; decode the article to str first"),
        (42, "must be a str, not int"),
        (None, "must be a str, not NoneType"),
        (["a", "list"], "must be a str, not list"),
        ("Some text\x00with a NUL", "contains NUL characters"),
        ("x" * 200 + "\x01\x02\x03\x04\x05\x06\x07\x08\x0e", "(9 control characters)"),
    ],
    ids=["empty", "whitespace", "bytes", "int", "none", "list", "nul", "control"],
)
def test_check_text_refuses(text: object, expected: str) -> None:
    with pytest.raises(InputError) as excinfo:
        check_text(text, max_chars=MAX, source="story.txt")
    message = str(excinfo.value)
    assert expected in message
    assert message.startswith("story.txt: ")


def test_a_few_control_characters_are_tolerated() -> None:
    text = "x" * 200 + "\x1b" * 8  # at the threshold: max(8, len // 100)
    assert check_text(text, max_chars=MAX) == text


def test_control_threshold_grows_with_the_text() -> None:
    text = "x" * 3000 + "\x01" * 30  # 30 <= 3030 // 100
    assert check_text(text, max_chars=MAX) == text
    with pytest.raises(InputError, match="31 control characters"):
        check_text("x" * 3000 + "\x01" * 31, max_chars=MAX)


def test_check_text_refuses_text_over_max_chars() -> None:
    assert check_text("abcde", max_chars=5) == "abcde"
    with pytest.raises(InputError) as excinfo:
        check_text("a" * 1234, max_chars=1000)
    message = str(excinfo.value)
    assert "1,234 characters" in message
    assert "max_chars=1,000" in message
    assert "EXTRACTOR_MAX_CHARS" in message


def test_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        check_text("", max_chars=MAX)


# read_article


def test_read_article_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(InputError, match="no such file") as excinfo:
        read_article(missing, max_chars=MAX)
    assert str(missing) in str(excinfo.value)


def test_read_article_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        read_article(tmp_path, max_chars=MAX)


def test_read_article_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError, match="looks binary"):
        read_article(path, max_chars=MAX)


def test_read_article_invalid_utf8_names_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 au lait".encode("latin-1"))
    with pytest.raises(InputError) as excinfo:
        read_article(path, max_chars=MAX)
    message = str(excinfo.value)
    assert "not UTF-8" in message
    assert "offset 3" in message
    assert str(path) in message


def test_read_article_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffdate 2025-08-27\nR\u00e9sum\u00e9 of the talks.".encode())
    article = read_article(path, max_chars=MAX)
    assert article.text == "R\u00e9sum\u00e9 of the talks."
    assert article.published == dt.date(2025, 8, 27)
    assert article.source == str(path)


def test_read_article_without_a_date_line(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("Just an article.\n", encoding="utf-8")
    article = read_article(str(path), max_chars=MAX)
    assert article.text == "Just an article.\n"
    assert article.published is None


def test_read_article_with_only_a_date_line_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "date-only.txt"
    path.write_text("date 2025-08-27\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        read_article(path, max_chars=MAX)


def test_read_article_enforces_max_chars(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("word " * 100, encoding="utf-8")
    with pytest.raises(InputError, match="max_chars=50"):
        read_article(path, max_chars=50)


def test_read_the_example_article() -> None:
    article = read_article(EXAMPLE, max_chars=1_000_000)
    assert article.published == dt.date(2025, 8, 27)
    assert article.text.startswith("Russia dismissed")
    assert "date" not in article.text[:20]


# parse_published


def test_parse_published_good() -> None:
    assert parse_published("2025-08-27") == dt.date(2025, 8, 27)
    assert parse_published(" 2025-08-27\n") == dt.date(2025, 8, 27)
    assert parse_published(dt.date(2024, 2, 29)) == dt.date(2024, 2, 29)
    assert parse_published(None) is None


@pytest.mark.parametrize("value", ["yesterday", "2025-02-30", "27/08/2025", "", "2025-13-01"])
def test_parse_published_bad(value: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_published(value)
    message = str(excinfo.value)
    assert f"'{value}'" in message
    assert "YYYY-MM-DD" in message


# Extractor options


def test_unknown_option_is_named() -> None:
    with pytest.raises(ConfigurationError, match="bogus"):
        Extractor(model="m", api_key="k", bogus=1)


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="mode"):
        Extractor(model="m", api_key="k", mode="xml")


def test_out_of_range_option_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="temperature"):
        Extractor(model="m", api_key="k", temperature=5)


def test_options_reach_the_settings() -> None:
    extractor = Extractor(model="m", api_key="k", mode="json", max_reasks=0)
    assert extractor.settings.model == "m"
    assert extractor.settings.mode is Mode.JSON
    assert extractor.settings.max_reasks == 0
    assert extractor.settings.api_key is not None
    assert extractor.settings.api_key.get_secret_value() == "k"


@pytest.mark.usefixtures("no_env")
def test_missing_key_and_base_url_fails_on_extract() -> None:
    extractor = Extractor(model="m")  # building it needs no key
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        extractor.extract("some text")


@pytest.mark.usefixtures("no_env")
async def test_missing_key_and_base_url_fails_on_aextract() -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        await Extractor(model="m").aextract("some text")


@pytest.mark.parametrize("text", ["", "   \n", b"bytes"])
def test_bad_text_is_refused_before_any_request(text: Any, no_requests: list[Any]) -> None:
    extractor = Extractor(model="m", api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(InputError):
        extractor.extract(text)
    assert no_requests == []


async def test_bad_text_is_refused_before_any_async_request(no_requests: list[Any]) -> None:
    extractor = Extractor(model="m", api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(InputError, match="empty"):
        await extractor.aextract("")
    assert no_requests == []


def test_bad_published_date_is_refused_before_any_request(no_requests: list[Any]) -> None:
    extractor = Extractor(model="m", api_key="k")
    with pytest.raises(InputError, match="not an ISO date"):
        extractor.extract("some text", published="last Tuesday")
    assert no_requests == []


def test_text_over_max_chars_is_refused_before_any_request(no_requests: list[Any]) -> None:
    extractor = Extractor(model="m", api_key="k", max_chars=10)
    with pytest.raises(InputError, match="max_chars=10"):
        extractor.extract("a" * 11)
    assert no_requests == []


def test_parse_published_takes_datetimes_and_only_plain_iso_dates() -> None:
    assert parse_published(dt.datetime(2025, 8, 27, 14, 30)) == dt.date(2025, 8, 27)
    for loose in ("20250827", "2025-W35-3"):  # Python 3.11 reads these; 3.10 does not
        with pytest.raises(InputError):
            parse_published(loose)


def test_read_article_never_reads_past_the_limit() -> None:
    """/dev/zero has no size: the read stops at max_chars * 4 bytes."""
    with pytest.raises(InputError, match="max_chars=1,000"):
        read_article("/dev/zero", max_chars=1_000)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b" date 2025-13-45 Body.", r"date line 'date 2025-13-45' is not a date \(YYYY-MM-DD\)"),
        (b"date 2025-08-27T10:00 Body.", "'date 2025-08-27T10:00' is not a date"),
        (b"\xff\xfeh\x00i\x00", "UTF-16"),
    ],
)
def test_read_article_names_bad_date_lines_and_utf16(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_article(path, max_chars=1_000)


def test_text_starting_with_the_word_date_is_not_a_date_line(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Date palms grow in the south.")
    article = read_article(path, max_chars=1_000)
    assert article.published is None and article.text.startswith("Date palms")


def test_published_of_the_wrong_type_is_an_input_error() -> None:
    with pytest.raises(InputError, match="20250827"):
        parse_published(20250827)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "published", "start"),
    [
        ("date 2025-08-27, Kyiv - Peskov said", dt.date(2025, 8, 27), "Kyiv"),
        ("Date: 2025-08-27. Peskov said", dt.date(2025, 8, 27), "Peskov"),
        ("Date 3 of the trial began.", None, "Date 3"),
    ],
)
def test_date_line_separators_and_prose_openings(
    content: str, published: dt.date | None, start: str
) -> None:
    article = parse_article(content.encode(), max_chars=1_000)
    assert article.published == published and article.text.startswith(start)


def test_read_at_most_reads_in_pieces() -> None:
    assert read_at_most(io.BytesIO(b"x" * 3_000_000), 2_500_001) == b"x" * 2_500_001


# issue 7: lone surrogates, a default max_chars, and where the text sits in its file


def test_lone_surrogate_is_bad_input_before_any_request(no_requests: list[Any]) -> None:
    text = b"Peskov said \xff\xfe no.".decode("utf-8", "surrogateescape")
    with pytest.raises(InputError, match=r"lone surrogate .*U\+DCFF.* at character 12"):
        check_text(text, max_chars=MAX, source="a.txt")
    extractor = Extractor(model="m", api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(InputError, match="surrogate"):
        extractor.extract(text)
    assert no_requests == []


def test_read_article_without_max_chars_uses_the_settings_default(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("x" * 200_001, encoding="utf-8")
    with pytest.raises(InputError, match="max_chars=200,000"):
        read_article(path)
    path.write_text("Just an article.", encoding="utf-8")
    assert read_article(path).text == "Just an article."
    assert Settings.model_fields["max_chars"].default == DEFAULT_MAX_CHARS


@pytest.mark.parametrize(
    "raw",
    [
        b"date 2025-08-27\nPeskov said no.\n",
        b"\xef\xbb\xbfdate 2025-08-27\r\n\r\nPeskov said no.\r\nAgain.\r",
        b"\xef\xbb\xbfPeskov said no.\rAgain.",
        b" date 2025-08-27, Kyiv - Peskov said no.",
        b"Peskov said no.",
    ],
    ids=["lf", "bom-crlf", "bom-cr-no-date", "separator", "plain"],
)
def test_article_knows_where_its_text_sits_in_the_file(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(raw)
    article = read_article(path, max_chars=MAX)
    whole = path.read_text(encoding="utf-8")  # as Python reads it: BOM kept, line ends as \n
    assert article.source_length == len(whole)
    assert whole[article.offset :] == article.text
    assert article.text.startswith(("Peskov", "Kyiv")) and "\r" not in article.text
