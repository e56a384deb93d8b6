"""The configuration reference, ``docs/configuration.md``, generated from :mod:`jobs.settings`.

``python -m jobs.settings_doc docs/configuration.md`` (``make docs``) writes it; without a path it
prints it. The reference cannot drift from the code because everything in it is read from the code:

- the **variables** are the names the loader actually reads: every ``env.get("NAME")`` and every
  ``_reader(env, "NAME", ...)`` call in ``jobs/settings.py``;
- each variable's **default** and **meaning** are its ``DEFAULT_<NAME>`` constant (or the ``DEFAULT_*``
  constant passed to its reader) and the one-line comment after it; ``# --- <title> ---`` lines
  between the constants make the sections;
- what a variable **accepts** follows from its reader (``_int`` → a whole number, with the ``minimum``
  the call passes);
- the example error line is what :func:`jobs.settings.load_or_exit` prints for a bad ``PORT``.

A variable the loader reads without a documented default, a ``DEFAULT_*`` constant without a comment or
without a variable, or a reader this module does not know is a :class:`DocError`, so
``tests/unit/test_config_doc.py`` fails until the declaration is complete and ``make docs`` has run.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
import sys
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs import settings as settings_module

SECTION = re.compile(r"^#\s*---\s*(?P<title>[^-].*?)\s*---\s*$")
ENVIRONMENT_NAMES = ("env", "environ")
# How each reader in jobs/settings.py takes a value; a reader missing here is a DocError.
READERS = {
    "get": "text",
    "_int": "whole number",
    "_float": "number",
    "_bool": "`true` or `false`",
    "_delays": "seconds, comma-separated",
    "_ms": "milliseconds, or a duration: `5000ms`, `5s`, `1m`, `2h`",
    "_networks": "IP addresses or CIDR networks, comma-separated",
    "_http_url": "an `http://` or `https://` URL",
}
LIST_READER = "comma-separated list"  # a text read whose default is a tuple
FAMILY_SUFFIX = "_PREFIX"  # SCHEDULE_PREFIX = "SCHEDULE_" documents the SCHEDULE_<NAME> variables


class DocError(ValueError):
    """jobs/settings.py declares a setting incompletely: say which, and what to add."""


@dataclass(frozen=True)
class Variable:
    """One environment variable as the reference shows it."""

    name: str
    default: str
    accepts: str
    meaning: str


@dataclass
class Section:
    title: str
    variables: list[Variable] = field(default_factory=list)


@dataclass(frozen=True)
class _Read:
    name: str
    reader: str
    default_constant: str | None
    minimum: object | None


def _comments(source: str) -> dict[int, str]:
    """Comment text by line number (without the leading ``#``)."""
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


def _reads(tree: ast.Module) -> list[_Read]:
    """Every environment variable the loader's functions read, in source order."""
    reads: list[_Read] = []
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef)):
        for call in (node for node in ast.walk(function) if isinstance(node, ast.Call)):
            read = _read_of(call)
            if read is not None:
                reads.append(read)
    return reads


def _read_of(call: ast.Call) -> _Read | None:
    func, args = call.func, call.args
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and isinstance(func.value, ast.Name)
        and func.value.id in ENVIRONMENT_NAMES
        and args
        and isinstance(args[0], ast.Constant)
        and isinstance(args[0].value, str)
    ):
        default = args[1].id if len(args) > 1 and isinstance(args[1], ast.Name) else None
        return _Read(args[0].value, "get", default, None)
    if (
        isinstance(func, ast.Name)
        and func.id.startswith("_")
        and len(args) >= 2
        and isinstance(args[0], ast.Name)
        and args[0].id in ENVIRONMENT_NAMES
        and isinstance(args[1], ast.Constant)
        and isinstance(args[1].value, str)
    ):
        default = args[2].id if len(args) > 2 and isinstance(args[2], ast.Name) else None
        minimum = next((ast.literal_eval(k.value) for k in call.keywords if k.arg == "minimum"), None)
        if minimum is None and len(args) > 3:
            minimum = ast.literal_eval(args[3])
        return _Read(args[1].value, func.id, default, minimum)
    return None


def _render_value(value: object) -> str:
    if value is None or value == ():
        return "none"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, tuple):
        return "`" + ",".join(_render_value(item).strip("`") for item in value) + "`"
    return f"`{value}`"


def _accepts(read: _Read, value: object, values: Mapping[str, Any]) -> str:
    if read.reader not in READERS:
        raise DocError(
            f"{read.name}: jobs.settings_doc does not know the reader {read.reader}(); add it to READERS"
        )
    accepts = READERS[read.reader]
    if read.reader == "get" and isinstance(value, tuple):
        accepts = LIST_READER
    minimum = read.minimum
    if minimum is None and read.reader in values:  # the reader's own default minimum, e.g. _int's 0
        parameter = inspect.signature(values[read.reader]).parameters.get("minimum")
        if parameter is not None and parameter.default is not inspect.Parameter.empty:
            minimum = parameter.default
    if minimum is not None:
        accepts += f", at least {_render_value(minimum).strip('`')}"
    return accepts


def _meaning(comment: str) -> str:
    text = comment.lstrip("#").strip().replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    first_word = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first_word.isalpha() else text


def collect(source: str, values: Mapping[str, Any]) -> list[Section]:
    """The reference's sections, from the settings module's ``source`` and its evaluated ``values``."""
    tree = ast.parse(source)
    comments = _comments(source)
    reads = _reads(tree)
    by_constant: dict[str, _Read] = {}
    for read in reads:
        constant = read.default_constant or f"DEFAULT_{read.name}"
        if constant not in values:
            raise DocError(
                f"{read.name} is read by the loader but has no documented default: add "
                f"DEFAULT_{read.name} = <default>  # <what it means> to jobs/settings.py"
            )
        by_constant.setdefault(constant, read)
    sections: list[Section] = []
    section_lines = {line: m["title"] for line, text in comments.items() if (m := SECTION.match(text))}
    for node in tree.body:
        for line in sorted(n for n in section_lines if n < node.lineno):
            sections.append(Section(section_lines.pop(line)))
        target = _assigned_name(node)
        if target is None or not (target.startswith("DEFAULT_") or target.endswith(FAMILY_SUFFIX)):
            continue
        comment = next(
            (comments[n] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1) if n in comments),
            None,
        )
        if comment is None:
            raise DocError(f"{target} in jobs/settings.py has no one-line comment saying what it means")
        if not sections:
            sections.append(Section("General"))
        if target.endswith(FAMILY_SUFFIX):
            prefix = values[target]
            sections[-1].variables.append(Variable(f"{prefix}<NAME>", "none", "text", _meaning(comment)))
            continue
        owner = by_constant.pop(target) if target in by_constant else None
        if owner is None:
            raise DocError(f"{target} in jobs/settings.py is the default of no variable the loader reads")
        value = values[target]
        sections[-1].variables.append(
            Variable(owner.name, _render_value(value), _accepts(owner, value, values), _meaning(comment))
        )
    return [section for section in sections if section.variables]


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def example_error() -> str:
    """The line every process prints for a bad value (here ``PORT=abc``), as load_or_exit prints it."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.suppress(SystemExit):
        settings_module.load_or_exit({"PORT": "abc"})
    return stderr.getvalue().strip()


def render(sections: list[Section], error_line: str) -> str:
    """The Markdown of docs/configuration.md."""
    lines = [
        "<!-- Generated from jobs/settings.py by `make docs` (python -m jobs.settings_doc). "
        "Edit the settings, not this file. -->",
        "# Configuration",
        "",
        "Every process (web, worker, scheduler, and `make run`) reads these environment variables once when",
        "it starts; `make run` also reads them from `.env`. A bad value stops the process with one line",
        "naming the variable, and exit status 2:",
        "",
        "```",
        error_line,
        "```",
        "",
        "Durations are seconds unless the meaning says otherwise. For the variables of one area see also",
        "[scheduling](scheduling.md), [built-in jobs](builtin-jobs.md), [monitoring](monitoring.md) and",
        "[operations](operations.md).",
    ]
    for section in sections:
        lines += [
            "",
            f"## {section.title}",
            "",
            "| Variable | Default | Accepts | Meaning |",
            "|---|---|---|---|",
        ]
        lines += [f"| `{v.name}` | {v.default} | {v.accepts} | {v.meaning} |" for v in section.variables]
    return "\n".join(lines) + "\n"


def reference() -> str:
    """docs/configuration.md as the code declares it now."""
    source = inspect.getsource(settings_module)
    return render(collect(source, vars(settings_module)), example_error())


def main(argv: list[str]) -> int:
    """``python -m jobs.settings_doc [PATH]``: write the reference to PATH, or print it."""
    try:
        text = reference()
    except DocError as error:
        print(f"taskyard: configuration reference: {error}", file=sys.stderr)
        return 1
    if argv:
        Path(argv[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
