"""Refusing to reach private networks on a user's say-so (SSRF guard).

A URL a user hands us (an image to fetch, a base URL for their own credential) must
not make the gateway talk to loopback, private, link-local (cloud metadata at
169.254.169.254), carrier-grade NAT, multicast or reserved addresses. Checking the
name once and connecting later is not enough: DNS may answer differently the second
time. ``GuardedResolver`` checks every address aiohttp is about to connect to, and
``check_url`` catches literal IP hosts, which aiohttp never resolves.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from byway.core import InvalidRequestError


class BlockedAddressError(InvalidRequestError):
    """The URL leads to an address the guard refuses."""


def is_public(address: str) -> bool:
    """Whether ``address`` (an IPv4 or IPv6 literal) is globally routable."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, param: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """The URL's host, after checking its scheme and, for a literal IP, its address.
    Host names are checked when they resolve (``GuardedResolver``)."""
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise InvalidRequestError(f"{param}: the URL must use {' or '.join(schemes)}", param=param)
    host = parts.hostname
    if not host:
        raise InvalidRequestError(f"{param}: the URL has no host", param=param)
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if not is_public(host):
        raise BlockedAddressError(f"{param}: {host} is a private, loopback or link-local address", param=param)
    return host


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp does, then refuses when any address is not public."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET,
                      ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        blocked = [r["host"] for r in results if not is_public(r["host"])]
        if blocked:
            raise BlockedAddressError(f"{host} resolves to a private, loopback or link-local address "
                                      f"({blocked[0]})", param="url")
        return results

    async def close(self) -> None:
        await self._inner.close()

