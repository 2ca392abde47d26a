"""Connections that go only where an outlet's address policy allows.

The policy itself (public addresses only by default; an outlet's
``politeness.allow_private_addresses`` list or ``true``; link-local and metadata
addresses refused unless listed by a network inside them) is ``newslake.addresses``,
re-exported here.

Checking a name's addresses and then letting urllib3 resolve the name again to connect
leaves a gap (DNS rebinding: a public answer for the check, ``127.0.0.1`` or
``169.254.169.254`` for the connection). ``GuardedAdapter`` closes it: its connections
resolve the host once, refuse the connection (``BlockedAddressError``) unless the policy
allows every address, and connect to one of exactly those addresses. Every connection is
checked, so every redirect hop is. The connection keeps the host *name*, so the ``Host``
header, TLS SNI and certificate verification are the name's, as without the guard.
Connections through a proxy are not guarded (the proxy resolves the target; see
``GuardedAdapter``).
"""

from __future__ import annotations

import functools
import socket
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

from newslake.addresses import (  # re-exported: the policy, for callers of netguard
    PUBLIC_ONLY,
    AddressPolicy,
    IPAddress,
    address_policy,
    all_public,
    embedded_ipv4,
    is_public,
    parse_address,
)

__all__ = [
    "PUBLIC_ONLY", "AddressPolicy", "BlockedAddressError", "GuardedAdapter", "IPAddress",
    "address_policy", "all_public", "embedded_ipv4", "is_public", "parse_address",
]


class BlockedAddressError(NewConnectionError):
    """A guarded connection refused to connect: the host resolved to an address its
    policy does not allow."""

    def __init__(self, conn: HTTPConnection, detail: str) -> None:
        super().__init__(conn, detail)
        self.detail = detail


def _open_checked(conn: HTTPConnection, dns_host: str, policy: AddressPolicy) -> socket.socket:
    """Resolve ``dns_host`` once, check every address against ``policy``, connect to the
    first that answers.

    Errors as urllib3's own ``_new_conn`` raises them."""
    try:
        infos = socket.getaddrinfo(dns_host, conn.port, allowed_gai_family(), socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    addresses = [str(info[4][0]) for info in infos]
    if not policy.allows_all(addresses, conn.host):
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
    assert error is not None  # allows_all: at least one address was tried
    if isinstance(error, TimeoutError):
        raise ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
        ) from error
    raise NewConnectionError(conn, f"Failed to establish a new connection: {error}") from error


class GuardedHTTPConnection(HTTPConnection):
    policy: AddressPolicy = PUBLIC_ONLY

    def _new_conn(self) -> socket.socket:
        return _open_checked(self, self._dns_host, self.policy)


class GuardedHTTPSConnection(HTTPSConnection):
    # TLS is set up on the socket by ``connect`` with ``server_hostname`` = ``self.host``:
    # the name, never the address connected to.
    policy: AddressPolicy = PUBLIC_ONLY

    def _new_conn(self) -> socket.socket:
        return _open_checked(self, self._dns_host, self.policy)


@functools.lru_cache(maxsize=64)
def _pool_classes(policy: AddressPolicy) -> dict[str, type[HTTPConnectionPool]]:
    """Pool classes whose connections apply ``policy`` (urllib3 builds connections from a
    class with fixed arguments: the policy travels as a class attribute)."""
    http = type("GuardedHTTPConnection", (GuardedHTTPConnection,), {"policy": policy})
    https = type("GuardedHTTPSConnection", (GuardedHTTPSConnection,), {"policy": policy})
    return {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


class GuardedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose direct connections go only where ``policy`` allows
    (default: public addresses only).

    With a proxy (``HTTP(S)_PROXY``, ``proxies=``) requests uses a separate
    ``ProxyManager``, left as it is: the connection to the proxy is not checked (the
    operator chose it, and it is often on a private network) and the proxy resolves the
    target itself, so rebinding protection is then the proxy's job."""

    __attrs__ = [*HTTPAdapter.__attrs__, "policy"]  # kept when pickled

    def __init__(self, *args: Any, policy: AddressPolicy = PUBLIC_ONLY, **kwargs: Any) -> None:
        self.policy = policy  # before HTTPAdapter.__init__, which makes the pool manager
        super().__init__(*args, **kwargs)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_pool_classes(self.policy))
