"""How a setting is declared: once, as a field of its area's frozen dataclass.

A field is declared with :func:`setting`: the environment variable, the default, the :class:`Reader`
that turns the variable's text into the field's type (and refuses bad text with a one-line
:class:`SettingsError`), and a one-line doc. The loader (:func:`load_group`) and the configuration
reference (:mod:`jobs.settings_doc`) both walk these declarations, so a setting cannot be read without
being documented, or documented with another default than the one the loader uses.

A reader that needs another variable to decide (``REDIS_URL`` and ``REDIS_HOST``, the schedule
overrides and ``WEBHOOK_RETRY_INTERVAL_MINUTES``) names it as an *input*: a :class:`Setting` that is
not a field of its own, read only by that reader and documented right after the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from typing import Any, ClassVar, Generic, Protocol, TypeVar

T = TypeVar("T")
Environment = Mapping[str, str]
SETTING = "taskyard.setting"  # the key of a field's declaration in its dataclass metadata


class SettingsError(ValueError):
    """A variable of the environment has a value we cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


@dataclass(frozen=True)
class Reader(Generic[T]):
    """How a variable's text becomes a value.

    ``parse(variable, raw, default, env)`` gets the variable's text (``None`` when unset) and returns
    the value, or raises :class:`SettingsError` naming ``variable``; ``env`` is there for the inputs a
    reader declares. ``accepts`` is what the reference's "Accepts" column says."""

    accepts: str
    parse: Callable[[str, str | None, T, Environment], T]


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable: its name, default, reader, one-line doc, and the inputs its reader
    also reads."""

    variable: str
    default: T
    reader: Reader[T]
    doc: str
    inputs: tuple[Setting[Any], ...] = ()
    shown: str | None = None  # the default as the reference shows it, when not the value itself

    def load(self, env: Environment) -> T:
        """The variable's value in ``env``; SettingsError when it is unusable."""
        return self.reader.parse(self.variable, env.get(self.variable), self.default, env)


def setting(
    variable: str,
    default: T,
    reader: Reader[T],
    doc: str,
    *,
    inputs: tuple[Setting[Any], ...] = (),
    shown: str | None = None,
) -> T:
    """A dataclass field declared as the environment variable ``variable``."""
    declared = Setting(variable, default, reader, doc, inputs, shown)
    made: T = field(default_factory=lambda: default, metadata={SETTING: declared})
    return made


class Group(Protocol):
    """A frozen dataclass of one area's settings; ``TITLE`` heads its section of the reference."""

    TITLE: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]


G = TypeVar("G", bound=Group)


def declarations(group: type[Group]) -> list[tuple[str, Setting[Any]]]:
    """``(field name, declaration)`` of each field of ``group``, in order; a field declared some other
    way than with :func:`setting` is a TypeError (the loader could not read it)."""
    found: list[tuple[str, Setting[Any]]] = []
    for each in fields(group):
        declared = each.metadata.get(SETTING)
        if not isinstance(declared, Setting):
            raise TypeError(
                f"{group.__name__}.{each.name} is not declared with jobs.settings.declare.setting"
            )
        found.append((each.name, declared))
    return found


def load_group(group: type[G], env: Environment) -> G:
    """``group`` with every field read from ``env`` by its declaration, in declaration order (so the
    first unusable variable is the one reported). Each field's reader returns the field's type (the
    :func:`setting` signature ties the two), so building the group by name is type-safe."""
    values = {name: declared.load(env) for name, declared in declarations(group)}
    return group(**values)
