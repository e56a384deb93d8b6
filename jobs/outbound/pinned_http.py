"""HTTP calls to user-given URLs (webhook targets, OAuth token endpoints): resolve, check, then connect
to the checked address.

:func:`checked_post` has ``requests.post``'s signature. Per call it resolves the URL's host once
(:func:`jobs.outbound.url_policy.resolve_target`, which refuses non-public answers unless private targets are
allowed) and sends the request over a connection to that very address: the URL, the ``Host``
header, TLS SNI and the certificate check keep the name, but no second DNS lookup happens, so a
rebinding DNS server cannot answer "public" to the check and "internal" to the connection.
Environment proxies are ignored (a proxy would resolve the name itself) and redirects are never
followed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from jobs.outbound.url_policy import Target, resolve_target


class PinnedAdapter(HTTPAdapter):
    """Sends every request to ``target``'s first checked address, whatever its URL's host says."""

    def __init__(self, target: Target) -> None:
        self.target = target
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params: dict[str, Any] = dict(host)
        pool_kwargs: dict[str, Any] = dict(pool)
        host_params["host"] = self.target.addresses[0]
        if host_params.get("scheme") == "https":
            pool_kwargs["server_hostname"] = self.target.host
            pool_kwargs["assert_hostname"] = self.target.host
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if "Host" not in request.headers:
            default = 443 if request.url and request.url.startswith("https:") else 80
            host = self.target.host
            if ":" in host:
                host = f"[{ipaddress.ip_address(host)}]"
            request.headers["Host"] = host if self.target.port == default else f"{host}:{self.target.port}"
        return super().send(request, *args, **kwargs)


def checked_post(allow_private: bool) -> Callable[..., requests.Response]:
    """A ``requests.post`` that only reaches addresses :mod:`jobs.outbound.url_policy` allows (see the module
    docstring). Raises :class:`jobs.outbound.url_policy.TargetRefused` (a ``ValueError``) before sending anything
    when the URL or any address its host resolves to is refused."""

    def post(url: str, **kwargs: Any) -> requests.Response:
        target = resolve_target(url, allow_private)
        kwargs["allow_redirects"] = False
        with requests.Session() as session:
            session.trust_env = False
            adapter = PinnedAdapter(target)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            return session.post(url, **kwargs)

    return post
