"""Which addresses the fetcher may connect to, and connections that go only there.

``is_public`` is the address policy: global unicast only (no private, loopback,
link-local, metadata, multicast, reserved or shared addresses; IPv4-mapped IPv6 is judged
as the IPv4 address it carries).

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


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP address, maybe with an IPv6 ``%scope``) may be contacted."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
