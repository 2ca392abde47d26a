"""Which addresses an outlet's fetcher may connect to: the policy, without any network code.

``is_public`` is the default policy: global unicast only (no private, loopback,
link-local, metadata, multicast, reserved or shared addresses). An IPv6 address that
carries an IPv4 one (IPv4-mapped, IPv4-compatible, ``::ffff:0:a.b.c.d``, NAT64, 6to4,
Teredo) is judged by the IPv4 address too, so ``::127.0.0.1`` is loopback; the legacy
IPv4 spellings (``2130706433``, ``0177.0.0.1``, ``0x7f.1``) are read as the system reads
them.

``AddressPolicy`` is an outlet's ``politeness.allow_private_addresses``:

- ``false`` (default): public addresses only;
- a list of networks and host names (``[127.0.0.1/32, intranet.example]``): public
  addresses, addresses inside a listed network, and whatever a listed host name resolves
  to;
- ``true``: any address.

Whatever the setting, link-local addresses (``169.254.0.0/16``, ``fe80::/10``) and the
clouds' metadata addresses (``169.254.169.254``, ``fd00:ec2::254``, ``100.100.100.200``)
are refused unless a listed network lies inside those ranges and covers them
(``169.254.169.254/32``): ``true``, a host name or a wider network (``0.0.0.0/0``) never
opens them, so a same-site redirect cannot reach a cloud's credentials.

This module imports only the standard library: the config loader uses it to check the
setting when an outlet file loads (at every DAG parse); ``newslake.netguard`` applies it
to connections.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass

# IPv6 prefixes whose last 32 bits are an IPv4 address (RFC 4291 §2.5.5, RFC 2765,
# RFC 6052). Through the first three an IPv4 host is reached; ``::/96`` (deprecated
# "IPv4-compatible") is matched by ``::127.0.0.1``, which Python 3.11 calls global.
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# RFC 8215's local-use NAT64 prefix: its IPv4 sits at a site-chosen place; never public.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Refused unless listed by a network inside them: link-local (where most clouds answer
# instance-metadata requests) and the metadata addresses outside link-local (AWS over
# IPv6, Alibaba Cloud).
GUARDED_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.IPv4Network("169.254.0.0/16"),
    ipaddress.IPv6Network("fe80::/10"),
    ipaddress.IPv6Network("fd00:ec2::254/128"),
    ipaddress.IPv4Network("100.100.100.200/32"),
)

# A host name as the setting accepts it: dot-separated LDH labels (``localhost`` too).
_HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)"
                        r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def parse_address(address: str) -> IPAddress | None:
    """``address`` as the system reads it (``%scope`` dropped; the legacy IPv4 spellings
    ``inet_aton`` accepts — ``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1`` — as the
    dotted quad they mean), or None when it is no address at all."""
    text = address.split("%", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-translated
    (``::ffff:0:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), NAT64 (``64:ff9b::/96``),
    6to4 (``2002::/16``) and Teredo (``2001::/32``: server and client)."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip in _IPV4_TRANSLATED or ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF),)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    return ()


def _global(ip: IPAddress) -> bool:
    return ip.is_global and not ip.is_multicast


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP address, maybe with an IPv6 ``%scope``) may be contacted.

    An IPv6 address that carries an IPv4 address is public only if that IPv4 address is
    (every one, for Teredo) and, except for IPv4-mapped and NAT64 (plain spellings of an
    IPv4 destination), the IPv6 address itself is global as well. Anything that does not
    read as an address is not public."""
    ip = parse_address(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        carried = embedded_ipv4(ip)
        if carried:
            if not all(_global(v4) for v4 in carried):
                return False
            if ip.ipv4_mapped is not None or ip in _NAT64:
                return True
    return _global(ip)


def all_public(addresses: Sequence[str]) -> bool:
    """The default policy for a host: it resolves to something, and only to public
    addresses."""
    return bool(addresses) and all(is_public(address) for address in addresses)


def _meanings(ip: IPAddress) -> tuple[IPAddress, ...]:
    """The address and the IPv4 addresses it carries (where it really leads)."""
    if isinstance(ip, ipaddress.IPv6Address):
        return (ip, *embedded_ipv4(ip))
    return (ip,)


def _covers(network: IPNetwork, ip: IPAddress) -> bool:
    return network.version == ip.version and ip in network


def _inside(network: IPNetwork, outer: IPNetwork) -> bool:
    return network.version == outer.version and network.subnet_of(outer)  # type: ignore[arg-type]


def host_key(host: str) -> str:
    """A host name as policies compare it: lower case, no trailing dot, no brackets."""
    return host.strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses besides public ones a connection may reach (see the module doc)."""

    any_address: bool = False
    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @property
    def public_only(self) -> bool:
        return not (self.any_address or self.networks or self.hosts)

    def allows(self, address: str, host: str | None = None) -> bool:
        """Whether a connection to ``host`` may go to ``address``."""
        ip = parse_address(address)
        if ip is None:
            return False
        meanings = _meanings(ip)
        guarded = [(m, g) for m in meanings for g in GUARDED_NETWORKS if _covers(g, m)]
        if guarded:  # only a listed network inside the guarded range opens it
            return any(_covers(n, m) and _inside(n, g)
                       for m, g in guarded for n in self.networks)
        if is_public(address) or self.any_address:
            return True
        if host is not None and host_key(host) in self.hosts:
            return True
        return any(_covers(n, m) for n in self.networks for m in meanings)

    def allows_all(self, addresses: Sequence[str], host: str | None = None) -> bool:
        """A host's addresses: it resolves to something, and every address is allowed."""
        return bool(addresses) and all(self.allows(a, host) for a in addresses)


PUBLIC_ONLY = AddressPolicy()


def entry_for_host(host: str) -> str:
    """The narrowest list entry that allows ``host``: its address as a /32 (/128), or the
    host name itself (what ``newslake outlets add --allow-private`` writes)."""
    ip = parse_address(host)
    return f"{ip}/{ip.max_prefixlen}" if ip is not None else host_key(host)


def _entry(text: str) -> IPNetwork | str:
    """One list entry: a network (``10.0.0.0/8``; an address alone is a /32 or /128), or a
    host name. ValueError names what is wrong."""
    bare = text.strip().strip("[]")
    try:
        return ipaddress.ip_network(bare, strict=True)
    except ValueError as exc:
        if "/" in bare or ":" in bare:
            raise ValueError(f"{text!r} is not a network: {exc}") from exc
    name = host_key(bare)
    if parse_address(name) is not None or name.rsplit(".", 1)[-1].isdigit():
        # "127.1", "2130706433", "300.1.1.1": read as addresses (or no address), not names.
        raise ValueError(f"{text!r} is not an address in dotted form (e.g. 127.0.0.1/32)")
    if not _HOST_NAME.fullmatch(name):
        raise ValueError(f"{text!r} is neither a network (10.0.0.0/8) nor a host name")
    return name


@functools.lru_cache(maxsize=256)
def _policy(setting: bool | tuple[str, ...]) -> AddressPolicy:
    if isinstance(setting, bool):
        return AddressPolicy(any_address=True) if setting else PUBLIC_ONLY
    if not setting:
        raise ValueError("an empty list allows nothing besides public addresses: write false")
    networks: list[IPNetwork] = []
    hosts: set[str] = set()
    for text in setting:
        if not isinstance(text, str):
            raise ValueError(f"{text!r} is not a string")
        entry = _entry(text)
        if isinstance(entry, str):
            hosts.add(entry)
        else:
            networks.append(entry)
    return AddressPolicy(networks=tuple(networks), hosts=frozenset(hosts))


def address_policy(setting: bool | Sequence[str]) -> AddressPolicy:
    """The policy of an ``allow_private_addresses`` setting (true, false or a list of
    networks and host names); ValueError saying what is wrong with it."""
    if isinstance(setting, bool):
        return _policy(setting)
    if isinstance(setting, str) or not isinstance(setting, Sequence):
        raise ValueError(f"expected true, false or a list of networks and host names, "
                         f"got {setting!r}")
    return _policy(tuple(setting))
