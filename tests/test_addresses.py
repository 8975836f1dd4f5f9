"""The import URLs named to the user: this machine's interfaces, each marked."""

import signal

import pytest

from meteorgui.importer import addresses as ad
from meteorgui.importer import import_addresses

from .test_cli import _free_port, _meteorgui

# A laptop: Wi-Fi on a home LAN, a VPN, Docker's bridge, a public IPv6 and loopback.
LAPTOP = [
    ("lo", "127.0.0.1"),
    ("lo", "::1"),
    ("wlp2s0", "192.168.1.40"),
    ("wlp2s0", "2a02:8010:1::40"),
    ("wlp2s0", "fd12:3456::40"),
    ("tailscale0", "100.101.102.103"),
    ("docker0", "172.17.0.1"),
    ("eth9", "203.0.113.7"),
]


@pytest.mark.parametrize(
    "address,kind",
    [
        ("127.0.0.1", ad.LOOPBACK),
        ("127.0.1.1", ad.LOOPBACK),  # what Debian's host name lookup answers
        ("::1", ad.LOOPBACK),
        ("192.168.1.40", ad.LAN),
        ("10.0.0.5", ad.LAN),
        ("172.16.0.1", ad.LAN),
        ("172.31.255.254", ad.LAN),
        ("172.32.0.1", ad.OTHER),  # just outside 172.16/12
        ("fd12:3456::40", ad.LAN),
        ("100.101.102.103", ad.OTHER),  # carrier-grade NAT: not a home LAN
        ("169.254.10.10", ad.OTHER),
        ("203.0.113.7", ad.OTHER),
        ("2a02:8010:1::40", ad.OTHER),
    ],
)
def test_addresses_are_classified(address, kind):
    assert ad.classify(address) == kind


def test_listening_everywhere_names_every_ipv4_interface_lan_first_loopback_last():
    found = import_addresses("0.0.0.0", 8080, "/import", interfaces=LAPTOP)
    assert [a.url for a in found] == [
        "http://192.168.1.40:8080/import",
        "http://172.17.0.1:8080/import",
        "http://100.101.102.103:8080/import",
        "http://203.0.113.7:8080/import",
        "http://127.0.0.1:8080/import",
    ]
    assert found[0].line() == "http://192.168.1.40:8080/import (wlp2s0, private LAN)"
    assert found[-1].line() == "http://127.0.0.1:8080/import (this computer only)"
    assert found[2].note == "not a private LAN"


def test_listening_on_ipv6_everywhere_adds_the_ipv6_addresses():
    found = [a.url for a in import_addresses("::", 9000, "/import", interfaces=LAPTOP)]
    assert "http://[fd12:3456::40]:9000/import" in found
    assert "http://[2a02:8010:1::40]:9000/import" in found
    assert found[-2:] == ["http://127.0.0.1:9000/import", "http://[::1]:9000/import"]


def test_loopback_is_named_even_when_no_interface_lists_it():
    found = import_addresses("0.0.0.0", 80, "/import", interfaces=[("eth0", "10.1.2.3")])
    assert [a.kind for a in found] == [ad.LAN, ad.LOOPBACK]


def test_a_host_given_explicitly_is_the_only_url():
    found = import_addresses("127.0.0.1", 8080, "/import", interfaces=LAPTOP)
    assert [a.line() for a in found] == ["http://127.0.0.1:8080/import (this computer only)"]


def _machine_ipv4() -> set[str]:
    """This machine's non-loopback IPv4 addresses as Qt sees them (a second opinion)."""
    from PySide6.QtNetwork import QAbstractSocket, QNetworkInterface

    found = set()
    for iface in QNetworkInterface.allInterfaces():
        if not iface.flags() & QNetworkInterface.InterfaceFlag.IsUp:
            continue
        for entry in iface.addressEntries():
            ip = entry.ip()
            if ip.protocol() == QAbstractSocket.NetworkLayerProtocol.IPv4Protocol:
                if not ip.isLoopback():
                    found.add(ip.toString())
    return found


def test_the_real_interfaces_are_listed_not_a_host_name_lookup():
    machine = _machine_ipv4()
    if not machine:
        pytest.skip("this machine has no network address besides loopback")
    listed = {a.address for a in import_addresses("0.0.0.0", 8080)}
    assert machine <= listed


def test_serve_on_every_interface_prints_the_machines_lan_urls(tmp_path):
    machine = _machine_ipv4()
    if not machine:
        pytest.skip("this machine has no network address besides loopback")
    port = _free_port()
    p = _meteorgui(
        "--data-dir", str(tmp_path / "d"), "serve", "--host", "0.0.0.0", "--port", str(port)
    )
    try:
        lines = []
        while not any("refused" in line for line in lines):  # the last line it prints at start
            line = p.stdout.readline()
            assert line, p.stderr.read()
            lines.append(line)
        text = "".join(lines)
        for address in machine:
            assert f"http://{address}:{port}/import" in text
        assert f"http://127.0.0.1:{port}/import (this computer only)" in text
        assert "no user has the import role" in text
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
    finally:
        p.kill()
        p.communicate()
