"""A copy of the repository as a clean clone has it (tracked and new files, nothing git ignores: no
virtualenv, no .env, no .run), for tests that must start where a newcomer or a buildpack starts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copy_repository(dest: Path) -> Path:
    """Copy the work tree's files (as ``git ls-files -co --exclude-standard`` lists them) to ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def procfile_commands(root: Path) -> dict[str, str]:
    """The Procfile's process types and their commands."""
    commands = {}
    for line in (root / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = command.strip()
    return commands
