"""Pages, the REST API and the admin API read through ``web/read_model/`` and change state through
``web/commands/``: none of them imports Redis, RQ's Redis-backed classes, the key names or a store.

The imports are read with :mod:`ast` (no module is imported, no text is grepped). Constants,
exceptions and schema types from ``jobs`` modules that are not stores are fine, and so is a name
imported only under ``if TYPE_CHECKING:`` (an annotation never touches Redis).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("web/pages", "web/api", "web/admin")
FORBIDDEN_MODULES = ("redis", "jobs.keys")  # and everything below them
RQ_MODULES = ("rq.queue", "rq.job", "rq.registry", "rq.worker")  # imported whole: their classes are at hand
RQ_CLASSES = {"Queue", "Job", "Worker", "SimpleWorker"}  # plus every ``...Registry``
STORES = {
    "WebhookStore",
    "IntegrationStore",
    "TaskStore",
    "ExecutionLog",
    "TokenStore",
    "Breaker",  # a breaker reads and writes its Redis hash; pages read web.read_model.breakers
    "all_breakers",
}

# Modules that still break the rule, each with why; the test fails when one of them is clean (take it
# off the list) and for any offender not listed. Shrink it; never grow it. Empty now: keep it so.
ALLOWED: dict[str, str] = {}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of the imports inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for child in ast.walk(inner):
                    if isinstance(child, ast.Import | ast.ImportFrom):
                        lines.add(child.lineno)
    return lines


def _below(module: str, parents: tuple[str, ...]) -> bool:
    return any(module == parent or module.startswith(parent + ".") for parent in parents)


def _is_store_module(module: str) -> bool:
    return any("store" in part for part in module.split("."))


def _absolute(module: str | None, level: int, path: Path) -> str:
    if not level:
        return module or ""
    package = path.relative_to(ROOT).with_suffix("").parts[:-level]
    return ".".join([*package, *([module] if module else [])])


def offences(path: Path) -> list[str]:
    """What ``path`` imports that the rule forbids, as ``line: what``."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = _type_checking_only(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and node.lineno not in typing_only:
            for alias in node.names:
                name = alias.name
                if (
                    _below(name, FORBIDDEN_MODULES)
                    or _is_store_module(name)
                    or _below(name, RQ_MODULES)
                    or name == "rq"
                ):
                    found.append(f"{node.lineno}: import {name}")
        elif isinstance(node, ast.ImportFrom) and node.lineno not in typing_only:
            module = _absolute(node.module, node.level, path)
            for alias in node.names:
                name = alias.name
                bad = (
                    _below(module, FORBIDDEN_MODULES)
                    or _is_store_module(module)
                    or f"{module}.{name}" == "jobs.keys"
                    or "store" in name.lower()
                    or name in STORES
                    or (_below(module, ("rq",)) and (name in RQ_CLASSES or name.endswith("Registry")))
                )
                if bad:
                    found.append(f"{node.lineno}: from {module} import {name}")
    return found


def checked_modules() -> list[Path]:
    return sorted(p for folder in CHECKED for p in (ROOT / folder).rglob("*.py"))


def test_no_new_offenders() -> None:
    """A module outside :data:`ALLOWED` reads Redis or a store itself: use web/read_model, web/commands."""
    new = {
        str(p.relative_to(ROOT)): offences(p)
        for p in checked_modules()
        if offences(p) and str(p.relative_to(ROOT)) not in ALLOWED
    }
    assert new == {}


def test_allowed_offenders_still_offend() -> None:
    """An allowed module that no longer breaks the rule must leave :data:`ALLOWED`."""
    clean = [module for module in ALLOWED if not offences(ROOT / module)]
    assert clean == [], f"{clean} are clean now: remove them from ALLOWED"


@pytest.mark.parametrize(
    "source",
    [
        "import redis",
        "from redis.exceptions import ResponseError",
        "from rq import Queue",
        "from rq.job import Job",
        "from rq.registry import FailedJobRegistry",
        "import rq.registry",
        "from jobs import keys",
        "from jobs.keys import TOKENS",
        "from jobs.webhooks.store import STATUSES",
        "from jobs.webhooks import store",
        "from scheduler.executions import ExecutionLog",
        "from jobs.api_tokens import TokenStore",
        "from jobs.resilience.breaker import Breaker",
    ],
)
def test_the_rule_catches(source: str, tmp_path: Path) -> None:
    """Each kind of forbidden import is found (so the rule can fail)."""
    path = tmp_path / "module.py"
    path.write_text(f"from __future__ import annotations\n\n{source}\n")
    assert offences(path) == [f"3: {source}"]


@pytest.mark.parametrize(
    "source",
    [
        "from rq.job import JobStatus",
        "from rq.exceptions import NoSuchJobError",
        "from jobs.crypto import EncryptionUnavailable",
        "from jobs.api_tokens import Principal",
        "from web.read_model.webhooks import STATUSES",
        "from jobs.webhooks import standard_signatures",
        "if TYPE_CHECKING:\n    from rq.job import Job",
    ],
)
def test_the_rule_allows(source: str, tmp_path: Path) -> None:
    """Constants, exceptions, schema types, the read model and annotations-only imports are fine."""
    path = tmp_path / "module.py"
    path.write_text(f"from __future__ import annotations\n\n{source}\n")
    assert offences(path) == []
