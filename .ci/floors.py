"""Print a pip constraints file pinning each direct dependency (and dev tool) to its floor.

    python3 .ci/floors.py pyproject.toml > floors.txt

Every requirement must state a ">=" floor; one without fails here, so no dependency escapes
the lowest-versions run in .ci/run.
"""

from __future__ import annotations

import re
import sys

import tomllib

REQUIREMENT = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*([^;]*)")


def floor(requirement: str) -> str:
    """'name>=1.2,<2' -> 'name==1.2'; exits with a message when there is no '>=' bound."""
    match = REQUIREMENT.fullmatch(requirement.strip())
    bounds = match.group(2).split(",") if match else []
    lowest = [b.strip()[2:].strip() for b in bounds if b.strip().startswith(">=")]
    if not match or len(lowest) != 1:
        sys.exit(f"{requirement!r} states no single '>=' floor")
    return f"{match.group(1)}=={lowest[0]}"


def main(path: str) -> None:
    """Print the floors of the project's dependencies and of its optional dependencies."""
    with open(path, "rb") as file:
        project = tomllib.load(file)["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    for requirement in requirements:
        print(floor(requirement))


if __name__ == "__main__":
    main(sys.argv[1])
