"""The exporter side: pushing entities to a MeteorPi importer (no Qt here)."""

from meteorgui.exporter.client import ImportClient, ImportClientError, SendResult

__all__ = ["ImportClient", "ImportClientError", "SendResult"]
