"""The hashed lock files stay in step with pyproject.toml: every declared dependency is pinned there,
at a version its range admits, with hashes (pip installs them with --require-hashes). A dependency
added to pyproject.toml without `make lock` fails here instead of in a newcomer's first `make run`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(lock: str) -> dict[str, tuple[Version, str]]:
    """name -> (pinned version, the entry's text including its hashes)."""
    text = (ROOT / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    found = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", entry)
        if match:
            found[canonicalize_name(match.group(1))] = (Version(match.group(2)), entry)
    return found


@pytest.mark.parametrize(
    ("lock", "declared"),
    [
        ("requirements.txt", PROJECT["dependencies"]),
        ("requirements-dev.txt", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_every_declared_dependency_is_pinned_with_hashes(lock: str, declared: list[str]) -> None:
    locked = pins(lock)
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, (
            f"{requirement.name} is declared in pyproject.toml but not in {lock}: run make lock"
        )
        version, entry = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside pyproject.toml's {requirement.specifier}: run make lock"
        )
    for name, (_, entry) in locked.items():
        assert "--hash=sha256:" in entry, f"{name} in {lock} has no hash"


def test_rq_is_pinned_to_the_minor_version_whose_internals_the_worker_uses() -> None:
    rq = next(Requirement(line) for line in PROJECT["dependencies"] if line.startswith("rq>"))
    assert not rq.specifier.contains("3.1.0") and rq.specifier.contains("3.0.0")


def test_no_declared_dependency_that_nothing_imports() -> None:
    declared = {canonicalize_name(Requirement(line).name) for line in PROJECT["dependencies"]}
    assert "croniter" not in declared  # rq brings it; our cron maths uses cronsim
