"""Every file the pages need is in the package data, so an installed (non-editable) copy of the
project serves the same pages as the source tree."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_template_and_static_file_is_package_data() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "web"
    ]
    pages = ROOT / "web" / "pages"
    files = [p for folder in ("templates", "static") for p in (pages / folder).rglob("*") if p.is_file()]
    assert files
    for path in files:
        relative = path.relative_to(ROOT / "web").as_posix()
        matched = [
            p for p in patterns if fnmatch.fnmatch(relative, p) and relative.count("/") == p.count("/")
        ]
        assert matched, f"web/{relative} is not package data (pyproject.toml [tool.setuptools.package-data])"
