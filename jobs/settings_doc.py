"""The configuration reference, ``docs/configuration.md``, generated from the settings' declarations.

``python -m jobs.settings_doc docs/configuration.md`` (``make docs``) writes it; without a path it
prints it. The reference cannot drift from the code because everything in it is read from the
declarations the loader itself uses (:mod:`jobs.settings.declare`):

- one **section** per settings group (:data:`jobs.settings.GROUPS`), titled by the group's ``TITLE``;
- one **row** per declared field, followed by the inputs its reader also reads: the variable, its
  **default**, what its reader **accepts** and the declaration's one-line **doc**;
- the example error line is what :func:`jobs.settings.load_or_exit` prints for a bad ``PORT``.

A group field not declared with ``setting()``, a declaration without a one-line doc, or a variable
declared twice is a :class:`DocError`, so ``tests/unit/test_config_doc.py`` fails until the declaration
is complete and ``make docs`` has run.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs.settings import GROUPS, load_or_exit
from jobs.settings.declare import Group, Setting, declarations


class DocError(ValueError):
    """A setting is declared incompletely: say which, and what to add."""


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


def _render_value(value: object) -> str:
    if value is None or value == () or value == {}:
        return "none"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, tuple):
        return "`" + ",".join(_render_value(item).strip("`") for item in value) + "`"
    return f"`{value}`"


def _meaning(doc: str) -> str:
    text = doc.strip().replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    first_word = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first_word.isalpha() else text


def _variable(owner: str, declared: Setting[Any]) -> Variable:
    if not declared.doc.strip() or "\n" in declared.doc:
        raise DocError(f"{owner} ({declared.variable}) needs a one-line doc saying what it means")
    default = f"`{declared.shown}`" if declared.shown is not None else _render_value(declared.default)
    return Variable(declared.variable, default, declared.reader.accepts, _meaning(declared.doc))


def collect(groups: Sequence[type[Group]] = GROUPS) -> list[Section]:
    """The reference's sections: one per group, one row per declared variable."""
    sections: list[Section] = []
    seen: set[str] = set()
    for group in groups:
        section = Section(group.TITLE)
        try:
            declared_fields = declarations(group)
        except TypeError as error:
            raise DocError(str(error)) from None
        for name, declared in declared_fields:
            for each in (declared, *declared.inputs):
                if each.variable in seen:
                    raise DocError(f"{each.variable} is declared twice ({group.__name__}.{name})")
                seen.add(each.variable)
                section.variables.append(_variable(f"{group.__name__}.{name}", each))
        sections.append(section)
    return [section for section in sections if section.variables]


def example_error() -> str:
    """The line every process prints for a bad value (here ``PORT=abc``), as load_or_exit prints it."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.suppress(SystemExit):
        load_or_exit({"PORT": "abc"})
    return stderr.getvalue().strip()


def render(sections: list[Section], error_line: str) -> str:
    """The Markdown of docs/configuration.md."""
    lines = [
        "<!-- Generated from the declarations in jobs/settings/ by `make docs` (python -m jobs.settings_doc). "
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
    return render(collect(), example_error())


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
