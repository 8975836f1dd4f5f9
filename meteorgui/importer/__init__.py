"""The embedded importer: the MeteorPi import protocol over HTTP, into the archive."""

import importlib
from typing import TYPE_CHECKING

# Names are imported on first use: the HTTP side (Flask, waitress) takes a tenth of a
# second to import, which the window pays only once it starts listening.
_WHERE = {
    "Answer": ".protocol",
    "Importer": ".protocol",
    "create_app": ".app",
    "ImporterServer": ".server",
    "PortInUse": ".server",
    "ImporterBusy": ".server",
    "ImportAddress": ".addresses",
    "import_addresses": ".addresses",
}

__all__ = [
    "Answer",
    "ImportAddress",
    "Importer",
    "ImporterBusy",
    "ImporterServer",
    "PortInUse",
    "create_app",
    "import_addresses",
]

if TYPE_CHECKING:
    from .addresses import ImportAddress, import_addresses
    from .app import create_app
    from .protocol import Answer, Importer
    from .server import ImporterBusy, ImporterServer, PortInUse


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value
