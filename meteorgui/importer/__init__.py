"""The embedded importer: the MeteorPi import protocol over HTTP, into the archive."""

from .app import create_app
from .protocol import Answer, Importer
from .server import ImporterServer, PortInUse, lan_addresses

__all__ = ["Answer", "Importer", "ImporterServer", "PortInUse", "create_app", "lan_addresses"]
