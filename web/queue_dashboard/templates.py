"""rq-dashboard's templates, served escaping: the one place we rewrite rq-dashboard's markup.

rq-dashboard 0.9 renders job data (description with the call's arguments, result, exception text,
metadata, a worker's current call string) through underscore templates with ``<%= %>``, which
inserts text unescaped: a job carrying ``<img src=x onerror=...>`` runs script in the viewer's
session. Our loader hands Jinja rq-dashboard's own templates with two changes, applied as they load:

* every ``<%= expr %>`` becomes underscore's escaping ``<%- expr %>`` (the places that escaped by hand
  with ``$('<div/>').text(expr).html()`` become ``<%- expr %>`` too, so nothing is escaped twice);
* every ``<script`` tag gets this response's CSP nonce (see :mod:`web.security.headers`), so rq-dashboard's
  inline bootstrap script runs under our Content-Security-Policy and injected scripts do not.

Rewriting on load rather than copying the templates keeps us on rq-dashboard's markup when it is
upgraded; ``tests/integration/test_security_headers.py`` fails loudly if the templates stop looking
like this (no ``<%=`` left to rewrite in ``job.html``, or an unescaped output survives).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from jinja2 import BaseLoader, Environment

PREFIX = "rq_dashboard/"
_HAND_ESCAPED = re.compile(r"<%=\s*\$\('<div/>'\)\.text\((.+?)\)\.html\(\)\s*%>")
_RAW_OUTPUT = re.compile(r"<%=")
_SCRIPT_TAG = re.compile(r"<script\b")


def escaping_source(source: str) -> str:
    """rq-dashboard template text with every underscore output escaped and a nonce on every script."""
    source = _HAND_ESCAPED.sub(r"<%- \1 %>", source)
    source = _RAW_OUTPUT.sub("<%-", source)
    return _SCRIPT_TAG.sub('<script nonce="{{ csp_nonce() }}"', source)


class EscapingDashboardLoader(BaseLoader):
    """Wraps the app's loader; templates under ``rq_dashboard/`` come back through :func:`escaping_source`."""

    def __init__(self, inner: BaseLoader) -> None:
        self.inner = inner

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = self.inner.get_source(environment, template)
        if template.startswith(PREFIX):
            source = escaping_source(source)
        return source, filename, uptodate

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


def install(environment: Environment) -> None:
    """Put the escaping loader in front of ``environment``'s loader (once)."""
    loader = environment.loader
    if loader is not None and not isinstance(loader, EscapingDashboardLoader):
        environment.loader = EscapingDashboardLoader(loader)
