"""Which addresses a webhook may reach, and what of a receiver's reply is kept.

A webhook URL is written by an administrator, and the worker runs inside the installation's
network: without a check, a URL could make it POST to the local Redis, a database or a cloud
metadata service and show the answer on a page. Only public addresses are used, unless the
operator allows more with ``FORMFLOW_WEBHOOK_ALLOW`` — a comma-separated list of host names
(``hooks.internal``, ``localhost``) and addresses or networks (``127.0.0.1``, ``10.1.0.0/16``,
``::1``).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from workers.exceptions import ChannelConfigError

__all__ = [
    "ALLOW_VARIABLE",
    "REPLY_EXCERPT_LIMIT",
    "AllowList",
    "address_refusal",
    "parse_allow_list",
    "refusal",
    "reply_excerpt",
]

ALLOW_VARIABLE = "FORMFLOW_WEBHOOK_ALLOW"
REPLY_EXCERPT_LIMIT = 200
"""Characters of a receiver's reply kept in the error administrators see."""

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class AllowList:
    """Host names whose every address may be used, and networks any name may resolve into."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[_Network, ...] = ()


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def parse_allow_list(entries: Iterable[str]) -> AllowList:
    """``["localhost", "10.0.0.0/8", "::1"]`` → an :class:`AllowList`; a clear error for an
    entry that is neither a host name nor an address or network."""
    hosts: set[str] = set()
    networks: list[_Network] = []
    for entry in entries:
        key = _host_key(entry)
        try:
            networks.append(ipaddress.ip_network(key, strict=False))
            continue
        except ValueError:
            pass
        if not _HOST_NAME.fullmatch(key):
            raise ChannelConfigError(
                f"{ALLOW_VARIABLE}: {entry!r} is neither a host name nor an address or network "
                "(expected e.g. hooks.internal, 127.0.0.1 or 10.0.0.0/8, separated by commas)"
            )
        hosts.add(key)
    return AllowList(frozenset(hosts), tuple(networks))


def address_refusal(address: _Address) -> str | None:
    """Why ``address`` is no place for a webhook, or None for a public address.

    IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64) are judged by that address.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded)
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def refusal(host: str, address: str, allow: AllowList) -> str | None:
    """Why ``host``, resolved to ``address``, may not be used; None if it may."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 scope
    except ValueError:
        return "not an IP address"
    reason = address_refusal(parsed)
    if reason is None or _host_key(host) in allow.hosts:
        return None
    if any(parsed in network for network in allow.networks
           if network.version == parsed.version):
        return None
    return reason


def reply_excerpt(raw: bytes, limit: int = REPLY_EXCERPT_LIMIT) -> str:
    """A receiver's reply as one short line: control characters and runs of white space
    become one space, at most ``limit`` characters (an ellipsis marks the cut)."""
    text = raw.decode("utf-8", "replace")
    cleaned = "".join(" " if unicodedata.category(ch)[0] in ("C", "Z") else ch for ch in text)
    line = " ".join(cleaned.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
