"""Text shown, never obeyed: `extractor.render.visible` and the one JSON escape table, as every
command that prints article or model text uses them (extract, eval, view)."""

from __future__ import annotations

import json

import pytest

from extractor.render import BIDI_CONTROLS, JSON_ESCAPES, visible

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidi_overrides_and_isolates_are_shown_as_escapes() -> None:
    # 'Trojan Source': an override makes 'admin' + reversed text read as something else.
    shown = visible("user\u202e nimda\u2066x\u2069")
    assert shown == "user\\u202e nimda\\u2066x\\u2069"
    assert not any(ch in visible(BIDI) for ch in BIDI)
    assert visible(BIDI) == "".join(f"\\u{ord(ch):04x}" for ch in BIDI)
    assert sorted(BIDI_CONTROLS) == sorted(map(ord, BIDI))


@pytest.mark.parametrize("char", ["\u200f", "\u00e9", "\u2014", "\u05d0"])
def test_ordinary_characters_are_kept(char: str) -> None:
    assert visible(f"a{char}b") == f"a{char}b"  # a right-to-left letter or mark is text


def test_the_json_table_escapes_del_c1_and_surrogates_only() -> None:
    text = json.dumps("\x7f\x85\x9b\udc80 é \u202e", ensure_ascii=False).translate(JSON_ESCAPES)
    assert text == '"\\u007f\\u0085\\u009b\\udc80 é \u202e"'
    assert json.loads(text) == "\x7f\x85\x9b\udc80 é \u202e"
