"""Which addresses the fetcher may connect to, and connections that go only there.

``is_public`` is the address policy: global unicast only (no private, loopback,
link-local, metadata, multicast, reserved or shared addresses). An IPv6 address that
carries an IPv4 one (IPv4-mapped, IPv4-compatible, ``::ffff:0:a.b.c.d``, NAT64, 6to4,
Teredo) is judged by the IPv4 address too, so ``::127.0.0.1`` is loopback; the legacy
IPv4 spellings (``2130706433``, ``0177.0.0.1``, ``0x7f.1``) are read as the system reads
them.

Checking a name's addresses and then letting urllib3 resolve the name again to connect
leaves a gap (DNS rebinding: a public answer for the check, ``127.0.0.1`` or
``169.254.169.254`` for the connection). ``GuardedAdapter`` closes it: its connections
resolve the host once, refuse the connection (``BlockedAddressError``) unless every
address is public, and connect to one of exactly those addresses. The connection keeps
the host *name*, so the ``Host`` header, TLS SNI and certificate verification are the
name's, as without the guard. Connections through a proxy are not guarded (the proxy
resolves the target; see ``GuardedAdapter``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

# IPv6 prefixes whose last 32 bits are an IPv4 address (RFC 4291 §2.5.5, RFC 2765,
# RFC 6052). Through the first three an IPv4 host is reached; ``::/96`` (deprecated
# "IPv4-compatible") is matched by ``::127.0.0.1``, which Python 3.11 calls global.
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# RFC 8215's local-use NAT64 prefix: its IPv4 sits at a site-chosen place; never public.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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
    """The policy for a host: it resolves to something, and only to public addresses."""
    return bool(addresses) and all(is_public(address) for address in addresses)


class BlockedAddressError(NewConnectionError):
    """A guarded connection refused to connect: the host resolved to a non-public address."""

    def __init__(self, conn: HTTPConnection, detail: str) -> None:
        super().__init__(conn, detail)
        self.detail = detail


def _open_checked(conn: HTTPConnection, dns_host: str) -> socket.socket:
    """Resolve ``dns_host`` once, check every address, connect to the first that answers.

    Errors as urllib3's own ``_new_conn`` raises them."""
    try:
        infos = socket.getaddrinfo(dns_host, conn.port, allowed_gai_family(), socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    addresses = [str(info[4][0]) for info in infos]
    if not all_public(addresses):
        shown = ", ".join(dict.fromkeys(addresses)) or "nothing"
        raise BlockedAddressError(conn, f"{conn.host} resolves to {shown} when connecting")
    error: OSError | None = None
    for address in dict.fromkeys(addresses):
        try:
            # A numeric address: getaddrinfo inside returns it as is, no DNS query.
            return create_connection(
                (address, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except OSError as exc:  # TimeoutError (socket.timeout) included
            error = exc
    assert error is not None  # all_public: at least one address was tried
    if isinstance(error, TimeoutError):
        raise ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
        ) from error
    raise NewConnectionError(conn, f"Failed to establish a new connection: {error}") from error


class GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _open_checked(self, self._dns_host)


class GuardedHTTPSConnection(HTTPSConnection):
    # TLS is set up on the socket by ``connect`` with ``server_hostname`` = ``self.host``:
    # the name, never the address connected to.
    def _new_conn(self) -> socket.socket:
        return _open_checked(self, self._dns_host)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose direct connections go only to public addresses.

    With a proxy (``HTTP(S)_PROXY``, ``proxies=``) requests uses a separate
    ``ProxyManager``, left as it is: the connection to the proxy is not checked (the
    operator chose it, and it is often on a private network) and the proxy resolves the
    target itself, so rebinding protection is then the proxy's job."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }
