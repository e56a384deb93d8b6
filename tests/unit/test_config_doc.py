"""docs/configuration.md is the generator's output, and the generator refuses incomplete declarations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from jobs.settings import SettingsError, load_settings
from jobs.settings.declare import Setting, setting
from jobs.settings.readers import TEXT, whole
from jobs.settings_doc import DocError, collect, reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_reference_is_current() -> None:
    assert REFERENCE.read_text() == reference(), (
        "docs/configuration.md differs from what jobs/settings/ declares: run `make docs` and commit it"
    )


def test_every_documented_number_or_flag_is_a_variable_the_loader_checks() -> None:
    """The names in the reference are the loader's: a bad value of each names that variable."""
    sections = collect()
    checked = 0
    for variable in (v for section in sections for v in section.variables):
        if variable.accepts.startswith(("whole number", "number", "`true`")):
            with pytest.raises(SettingsError) as raised:
                load_settings({variable.name: "not-a-value"})
            assert raised.value.variable == variable.name
            checked += 1
    assert checked >= 30


def test_documented_defaults_are_the_loaders_defaults() -> None:
    sections = collect()
    rows = {v.name: v for section in sections for v in section.variables}
    loaded = load_settings({})
    assert rows["PORT"].default == f"`{loaded.web.port}`"
    assert rows["QUEUES"].default == "`" + ",".join(loaded.worker.queues) + "`"
    assert rows["ENABLE_TASK_SCHEDULING"].default == "`true`"
    assert rows["ADMIN_TOKEN"].default == "none"
    assert rows["MISSED_SCHEDULE_GRACE"].default == f"`{int(loaded.scheduler.missed_grace)}`"


SHADE = Setting("SHADE", "light", TEXT, "how light the colour is")


@dataclass(frozen=True)
class Things:
    TITLE: ClassVar[str] = "Things"

    colour: str = setting("COLOUR", "blue", TEXT, "the colour of things", inputs=(SHADE,))
    size: int = setting("SIZE", 3, whole(minimum=1), "how big")


def test_a_complete_declaration_is_documented() -> None:
    sections = collect([Things])
    assert [(s.title, [v.name for v in s.variables]) for s in sections] == [
        ("Things", ["COLOUR", "SHADE", "SIZE"])
    ]
    size = sections[0].variables[2]
    assert (size.default, size.accepts, size.meaning) == ("`3`", "whole number, at least 1", "How big")


def test_a_field_not_declared_as_a_setting_fails() -> None:
    @dataclass(frozen=True)
    class Loose:
        TITLE: ClassVar[str] = "Loose"
        shape: str = "round"

    with pytest.raises(DocError, match=r"Loose.shape is not declared"):
        collect([Loose])


def test_a_declaration_without_a_doc_fails() -> None:
    @dataclass(frozen=True)
    class Mute:
        TITLE: ClassVar[str] = "Mute"
        size: int = setting("SIZE", 3, whole(), "")

    with pytest.raises(DocError, match=r"Mute.size \(SIZE\) needs a one-line doc"):
        collect([Mute])


def test_a_variable_declared_twice_fails() -> None:
    @dataclass(frozen=True)
    class Twice:
        TITLE: ClassVar[str] = "Twice"
        size: int = setting("SIZE", 3, whole(), "how big")
        bulk: int = setting("SIZE", 4, whole(), "how big, again")

    with pytest.raises(DocError, match="SIZE is declared twice"):
        collect([Twice])
