"""The readers of :mod:`jobs.settings.declare`: text in, typed values out, one-line errors.

An unset or blank variable takes its default unless a reader says otherwise. The error texts are part
of the interface (entry points print them as ``taskyard: configuration error: VARIABLE: problem``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from jobs.durations import parse_ms
from jobs.settings.declare import Environment, Reader, SettingsError


def _blank(raw: str | None) -> bool:
    return raw is None or raw.strip() == ""


def _text_of(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def whole(minimum: int = 0, maximum: int | None = None) -> Reader[int]:
    """A whole number of at least ``minimum`` (and at most ``maximum``)."""

    def parse(variable: str, raw: str | None, default: int, env: Environment) -> int:
        if raw is None or _blank(raw):
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise SettingsError(variable, f"expected a whole number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(variable, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise SettingsError(variable, f"must be at most {maximum}, got {value}")
        return value

    return Reader(f"whole number, at least {minimum}", parse)


def number(minimum: float) -> Reader[float]:
    """A number (seconds, mostly) of at least ``minimum``."""

    def parse(variable: str, raw: str | None, default: float, env: Environment) -> float:
        if raw is None or _blank(raw):
            return default
        try:
            value = float(raw.strip())
        except ValueError:
            raise SettingsError(variable, f"expected a number, got {raw!r}") from None
        if not value >= minimum:
            raise SettingsError(variable, f"must be at least {minimum}, got {raw!r}")
        return value

    return Reader(f"number, at least {_text_of(minimum)}", parse)


def _flag(variable: str, raw: str | None, default: bool, env: Environment) -> bool:
    if raw is None or _blank(raw):
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(variable, f"expected true or false, got {raw!r}")


FLAG = Reader("`true` or `false`", _flag)


def _stripped(variable: str, raw: str | None, default: str, env: Environment) -> str:
    return (raw or "").strip() or default


def _optional_stripped(variable: str, raw: str | None, default: str | None, env: Environment) -> str | None:
    return (raw or "").strip() or default


def _optional_verbatim(variable: str, raw: str | None, default: str | None, env: Environment) -> str | None:
    return raw or default


TEXT = Reader("text", _stripped)  # surrounding blanks dropped; blank: the default
OPTIONAL_TEXT = Reader("text", _optional_stripped)
VERBATIM = Reader("text", _optional_verbatim)  # secrets: kept exactly as given; empty: the default


def token(min_length: int) -> Reader[str | None]:
    """A bearer token kept exactly as given, of ``min_length`` characters or more."""

    def parse(variable: str, raw: str | None, default: str | None, env: Environment) -> str | None:
        value = raw or default
        if value is not None and len(value) < min_length:
            raise SettingsError(variable, f"must be at least {min_length} characters")
        return value

    return Reader(f"text, at least {min_length} characters", parse)


def choice(options: tuple[str, ...], *, upper: bool, problem: str) -> Reader[str]:
    """One of ``options``, compared in upper or lower case; ``problem`` starts the error text."""

    def parse(variable: str, raw: str | None, default: str, env: Environment) -> str:
        value = (default if raw is None else raw).strip()
        value = (value.upper() if upper else value.lower()) or default
        if value not in options:
            raise SettingsError(variable, f"{problem}, got {value!r}")
        return value

    return Reader("one of " + ", ".join(f"`{o}`" for o in options), parse)


def _items(raw: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (raw or "").split(",") if item.strip())


def names(
    check: Callable[[str], bool] | None = None, problem: str = "", *, empty: str | None = None
) -> Reader[tuple[str, ...]]:
    """A comma-separated list; each item must pass ``check`` (else ``problem, got 'item'``). With
    ``empty`` (the error text), a blank value means the default and a list of no names is refused."""

    def parse(variable: str, raw: str | None, default: tuple[str, ...], env: Environment) -> tuple[str, ...]:
        if empty is not None and _blank(raw):
            return default
        found = _items(raw)
        for item in found:
            if check is not None and not check(item):
                raise SettingsError(variable, f"{problem}, got {item!r}")
        if empty is not None and not found:
            raise SettingsError(variable, empty)
        return found or default

    return Reader("comma-separated list", parse)


def dotted(name: str) -> bool:
    """A dotted module name (``tests.fixtures``)."""
    return all(part.isidentifier() for part in name.split("."))


def _milliseconds(variable: str, raw: str | None, default: float, env: Environment) -> float:
    if raw is None or _blank(raw):
        return default
    try:
        return parse_ms(raw) / 1000
    except ValueError as error:
        raise SettingsError(variable, str(error)) from None


MILLISECONDS = Reader("milliseconds, or a duration: `5000ms`, `5s`, `1m`, `2h`", _milliseconds)


def _seconds_list(
    variable: str, raw: str | None, default: tuple[float, ...], env: Environment
) -> tuple[float, ...]:
    if raw is None or _blank(raw):
        return default
    try:
        values = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsError(variable, f"expected comma-separated seconds, got {raw!r}") from None
    if not values or any(v < 0 for v in values):
        raise SettingsError(variable, "expected one or more non-negative numbers of seconds")
    return values


SECONDS_LIST = Reader("seconds, comma-separated", _seconds_list)


def _networks(variable: str, raw: str | None, default: tuple[str, ...], env: Environment) -> tuple[str, ...]:
    networks = []
    for item in _items(raw):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(variable, f"expected IP addresses or CIDR networks, got {item!r}") from None
    return tuple(networks) or default


NETWORKS = Reader("IP addresses or CIDR networks, comma-separated", _networks)


def _http_url(variable: str, raw: str | None, default: str | None, env: Environment) -> str | None:
    value = (raw or "").strip()
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(variable, f"expected an http:// or https:// URL, got {value!r}")
    return value


HTTP_URL = Reader("an `http://` or `https://` URL", _http_url)
