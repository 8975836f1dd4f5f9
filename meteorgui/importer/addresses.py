"""The addresses a camera can send to: this machine's interfaces, each marked for the user.

One list serves Camera setup, the status bar, the log and ``meteorgui serve``, so they
always name the same URLs. A host name lookup is no use here: on Debian, Ubuntu and
Raspberry Pi OS it answers 127.0.1.1, which no camera on the LAN can reach.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

LAN = "lan"  # a private network address (RFC 1918, or an IPv6 unique local address)
LOOPBACK = "loopback"  # this computer only
OTHER = "other"  # public, carrier-grade NAT, link-local, documentation...

# Order in lists: the address a home camera most likely uses first.
_RANK = {LAN: 0, OTHER: 1, LOOPBACK: 2}

_PRIVATE_LANS = [
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
]

EVERYWHERE = ("0.0.0.0", "::", "")
# Why a window listens on this computer only while its archive has no camera login yet:
# it listens on every network once one exists (the window and Camera setup both say so).
NO_LOGIN_YET = "no camera login yet"


def classify(address: str) -> str:
    """LAN, LOOPBACK or OTHER for an IP address (text)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.is_loopback:
        return LOOPBACK
    if any(ip in net for net in _PRIVATE_LANS):
        return LAN
    return OTHER


@dataclass(frozen=True)
class ImportAddress:
    """One URL a camera could be given, with what a user needs to pick the right one."""

    url: str
    address: str
    interface: str  # "" when not known (a host given explicitly)
    kind: str

    @property
    def note(self) -> str:
        """What this address is, in a user's words."""
        return {LOOPBACK: "this computer only", LAN: "private LAN"}.get(
            self.kind, "not a private LAN"
        )

    def line(self) -> str:
        """The URL and what it is, as the status bar, the log and `serve` show it."""
        on = f"{self.interface}, " if self.interface and self.kind != LOOPBACK else ""
        return f"{self.url} ({on}{self.note})"


def interface_addresses() -> list[tuple[str, str]]:
    """(interface name, IP address) for every interface that is up, IPv4 and IPv6.

    IPv6 link-local addresses are left out: a camera would need the interface's zone.
    """
    import socket

    import psutil  # type: ignore[import-untyped]  # no stubs; used for two calls

    try:
        addrs = psutil.net_if_addrs()
        stats = psutil.net_if_stats()
    except OSError as exc:  # no permission to list them (some sandboxes)
        log.warning("cannot list the network interfaces: %s", exc)
        return [("", "127.0.0.1")]
    found: list[tuple[str, str]] = []
    for name, entries in addrs.items():
        if name in stats and not stats[name].isup:
            continue
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = entry.address.split("%", 1)[0]
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                continue
            if ip.version == 6 and ip.is_link_local:
                continue
            found.append((name, address))
    return found


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def import_addresses(
    host: str,
    port: int,
    path: str = "/import",
    interfaces: Iterable[tuple[str, str]] | None = None,
) -> list[ImportAddress]:
    """The import URLs of a server listening on host:port, LAN addresses first.

    ``interfaces`` is what interface_addresses() returns (tests give their own). Listening
    on 0.0.0.0 reaches the IPv4 addresses only; on "::" the IPv6 ones as well.
    """
    if host not in EVERYWHERE:
        found = [("", host)]
    else:
        found = list(interface_addresses() if interfaces is None else interfaces)
        if host == "0.0.0.0":
            found = [(n, a) for n, a in found if ":" not in a]
        if not any(classify(a) == LOOPBACK for _n, a in found):
            found.append(("lo", "127.0.0.1"))  # always there, even if not listed
    result: list[ImportAddress] = []
    seen: set[str] = set()
    for name, address in found:
        if address in seen:
            continue
        seen.add(address)
        url = f"http://{bracket(address)}:{port}{path}"
        result.append(ImportAddress(url, address, name, classify(address)))
    result.sort(key=lambda a: _RANK[a.kind])  # stable: interface order within a kind
    return result


def is_loopback_host(host: str) -> bool:
    try:
        return classify(host) == LOOPBACK
    except ValueError:
        return host == "localhost"


def next_free_port(host: str, start: int, tries: int = 50) -> int | None:
    """The first port from start on that can be bound, or None."""
    bind_host = "" if host in ("0.0.0.0", "") else host
    for port in range(start, min(start + tries, 65536)):
        with socket.socket() as s:
            try:
                s.bind((bind_host, port))
            except OSError:
                continue
            return port
    return None
