"""The import URLs a camera is given: one list for Camera setup and Request resend."""

from __future__ import annotations

from ...importer.addresses import ImportAddress, import_addresses


def camera_addresses(ctx) -> list[ImportAddress]:
    """The URLs to offer, LAN first: those of the running importer, else those it would
    have (never loopback first while a LAN address exists: the camera is another machine)."""
    server = ctx.core.server
    if ctx.core.importer_running:
        return server.addresses()
    return import_addresses(ctx.settings.host, ctx.settings.port or 8080, "/import")
