"""Outbound URL checks: Taskyard only calls http(s) URLs on public addresses (no SSRF into the network).

A webhook target or OAuth token URL must resolve only to globally reachable addresses
(``ipaddress``'s ``is_global``, and not multicast or reserved), unless the deployment allows private
targets (``WEBHOOK_ALLOW_PRIVATE_TARGETS=true``; tests set it to reach receivers on 127.0.0.1). IPv6
forms that carry an IPv4 address are judged by that address: IPv4-mapped (``::ffff:a.b.c.d``),
IPv4-compatible (``::a.b.c.d``), 6to4 (``2002::/16``), Teredo (``2001::/32``: server and client) and
NAT64 (``64:ff9b::/96``; the local-use ``64:ff9b:1::/48`` is refused). A few ranges Python's table
calls global are refused too (:data:`NOT_PUBLIC`: IANA's IPv4 special-purpose block, shared
address space). Every address a name resolves to must pass.

The check runs when the URL is registered and again at connect time: :mod:`jobs.outbound.pinned_http` resolves
the name once, checks the answers, and connects to the checked address (the name still goes in the
``Host`` header and TLS SNI/certificate check), so a DNS answer that changes between the check and
the connection (rebinding) cannot redirect the call. Callers never follow redirects.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # shared address space (carrier NAT; cloud metadata services live here)
        "192.0.0.0/24",  # IETF protocol assignments (192.0.0.8 dummy, 192.0.0.170 NAT64 discovery, ...)
        "198.18.0.0/15",  # benchmarking
        "240.0.0.0/4",  # reserved
        "64:ff9b:1::/48",  # local-use NAT64
        "2001::/23",  # IETF protocol assignments (Teredo inside it is unwrapped first)
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
TEREDO = ipaddress.ip_network("2001::/32")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
MAX_URL_LENGTH = 2048


class TargetRefused(ValueError):
    """The URL is malformed or points at an address Taskyard may not call."""


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The addresses a packet to ``ip`` really goes to: the IPv4 inside IPv6 transition forms."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in TEREDO and ip.teredo is not None:
        return list(ip.teredo)
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 0xFFFF):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return [ip]


def is_public(address: str) -> bool:
    """Whether Taskyard may call ``address`` when private targets are not allowed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in network for network in NOT_PUBLIC if network.version == ip.version and ip not in TEREDO):
        return False
    for inner in _embedded(ip):
        if not inner.is_global or inner.is_multicast or inner.is_reserved or inner.is_unspecified:
            return False
        if any(inner in network for network in NOT_PUBLIC if network.version == inner.version):
            return False
    return True


@dataclass(frozen=True)
class Target:
    """A checked URL: its host, port, and the addresses it resolved to (all of them allowed)."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


def _parse(url: str) -> tuple[str, int]:
    """``(host, port)`` of a URL Taskyard may call at all, or :class:`TargetRefused`."""
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
    return host, port


def _addresses(host: str, port: int) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"cannot resolve host {host!r}") from None
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def _refuse_private(host: str, addresses: tuple[str, ...]) -> None:
    refused = [a for a in addresses if not is_public(a)]
    if refused:
        raise TargetRefused(
            f"{host} resolves to an address that is not public ({refused[0]}: private, loopback, "
            "link-local, shared or reserved); set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow internal targets"
        )


def check_url(url: str, allow_private: bool, resolve: bool = True) -> str:
    """Return ``url`` if Taskyard may call it, else raise :class:`TargetRefused` saying why.

    ``resolve=False`` checks only the syntax and literal IP addresses (no DNS lookup).
    """
    host, port = _parse(url)
    if allow_private:
        return url
    literal: tuple[str, ...]
    try:
        literal = (str(ipaddress.ip_address(host)),)
    except ValueError:
        if not resolve:
            return url
        literal = ()
    _refuse_private(host, literal or _addresses(host, port))
    return url


def resolve_target(url: str, allow_private: bool) -> Target:
    """Resolve ``url``'s host once and check every answer: what :mod:`jobs.outbound.pinned_http` connects to."""
    host, port = _parse(url)
    addresses = _addresses(host, port)
    if not allow_private:
        _refuse_private(host, addresses)
    return Target(url, host, port, addresses)


def host_of(url: str) -> str:
    """``host:port`` of a URL: the key of its circuit breaker and rate limit."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"
