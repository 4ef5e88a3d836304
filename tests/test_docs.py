"""The fault matrix in docs/faults.md names tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_named_in_the_fault_matrix_exists() -> None:
    doc = (ROOT / "docs" / "faults.md").read_text()
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    modules = {p.stem for p in (ROOT / "tests").glob("test_*.py")}
    named = set(re.findall(r"\btest_[a-z0-9_]+", doc)) - modules
    assert len(named) > 20
    missing = sorted(name for name in named if f"def {name}(" not in sources)
    assert missing == []
