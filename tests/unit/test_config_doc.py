"""docs/configuration.md is the generator's output, and the generator refuses incomplete declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs import settings as settings_module
from jobs.settings import SettingsError, load_settings
from jobs.settings_doc import DocError, collect, reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_reference_is_current() -> None:
    assert REFERENCE.read_text() == reference(), (
        "docs/configuration.md differs from what jobs/settings.py declares: run `make docs` and commit it"
    )


def test_every_documented_number_or_flag_is_a_variable_the_loader_checks() -> None:
    """The names in the reference are the loader's: a bad value of each names that variable."""
    sections = collect(Path(settings_module.__file__).read_text(), vars(settings_module))
    checked = 0
    for variable in (v for section in sections for v in section.variables):
        if variable.accepts.startswith(("whole number", "number", "`true`")):
            with pytest.raises(SettingsError) as raised:
                load_settings({variable.name: "not-a-value"})
            assert raised.value.variable == variable.name
            checked += 1
    assert checked >= 30


def test_documented_defaults_are_the_loaders_defaults() -> None:
    sections = collect(Path(settings_module.__file__).read_text(), vars(settings_module))
    rows = {v.name: v for section in sections for v in section.variables}
    loaded = load_settings({})
    assert rows["PORT"].default == f"`{loaded.port}`"
    assert rows["QUEUES"].default == "`" + ",".join(loaded.queues) + "`"
    assert rows["ENABLE_TASK_SCHEDULING"].default == "`true`"
    assert rows["ADMIN_TOKEN"].default == "none"
    assert rows["MISSED_SCHEDULE_GRACE"].default == f"`{int(loaded.missed_grace)}`"


SOURCE = """
# --- Things ---
DEFAULT_COLOUR = "blue"  # the colour of things
{extra}

def load(env):
    colour = env.get("COLOUR") or DEFAULT_COLOUR
    {read}
    return colour
"""


def _collect(extra: str = "", read: str = "") -> list:
    source = SOURCE.format(extra=extra, read=read)
    namespace: dict = {}
    exec(compile(source, "settings", "exec"), namespace)
    return collect(source, namespace)


def test_a_complete_declaration_is_documented() -> None:
    sections = _collect(extra="DEFAULT_SIZE = 3  # how big", read='size = _int(env, "SIZE", DEFAULT_SIZE)')
    assert [(s.title, [v.name for v in s.variables]) for s in sections] == [("Things", ["COLOUR", "SIZE"])]
    size = sections[0].variables[1]
    assert (size.default, size.meaning) == ("`3`", "How big")


def test_a_variable_without_a_documented_default_fails() -> None:
    with pytest.raises(DocError, match="SHAPE is read by the loader"):
        _collect(read='shape = env.get("SHAPE")')


def test_a_default_without_a_comment_fails() -> None:
    with pytest.raises(DocError, match=r"DEFAULT_SIZE .* no one-line comment"):
        _collect(extra="DEFAULT_SIZE = 3", read='size = _int(env, "SIZE", DEFAULT_SIZE)')


def test_a_default_of_no_variable_fails() -> None:
    with pytest.raises(DocError, match=r"DEFAULT_SIZE .* default of no variable"):
        _collect(extra="DEFAULT_SIZE = 3  # how big")


def test_an_unknown_reader_fails() -> None:
    with pytest.raises(DocError, match="reader _colour"):
        _collect(extra="DEFAULT_HUE = 1  # which hue", read='hue = _colour(env, "HUE", DEFAULT_HUE)')
