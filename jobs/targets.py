"""Outbound URL checks: Taskyard only calls http(s) URLs on public addresses (no SSRF into the network).

A webhook target or OAuth token URL whose host resolves to a private, loopback, link-local, multicast,
reserved or unspecified address is refused unless the deployment allows private targets
(``WEBHOOK_ALLOW_PRIVATE_TARGETS=true``; tests set it to reach receivers on 127.0.0.1). Every address
the name resolves to must be public. Redirects are never followed by callers (a public host could
redirect to a private one). The check runs when the URL is registered and again before every call,
so a DNS change after registration is caught; a DNS answer that changes between the check and the
connection (rebinding within milliseconds) is not.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


class TargetRefused(ValueError):
    """The URL is malformed or points at an address Taskyard may not call."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str, allow_private: bool, resolve: bool = True) -> str:
    """Return ``url`` if Taskyard may call it, else raise :class:`TargetRefused` saying why.

    ``resolve=False`` checks only the syntax and literal IP addresses (no DNS lookup).
    """
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"URL longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("only http:// and https:// URLs are allowed")
    host = parts.hostname
    if not host:
        raise TargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not allowed; use the secret instead")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("the URL has a bad port") from None
    if allow_private:
        return url
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not resolve:
            return url
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            raise TargetRefused(f"cannot resolve host {host!r}") from None
        addresses = [str(info[4][0]) for info in infos]
    refused = [a for a in addresses if not _is_public(a)]
    if refused:
        raise TargetRefused(
            f"{host} resolves to a private, loopback or link-local address ({refused[0]}); "
            "set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow internal targets"
        )
    return url


def host_of(url: str) -> str:
    """``host:port`` of a URL: the key of its circuit breaker and rate limit."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"
