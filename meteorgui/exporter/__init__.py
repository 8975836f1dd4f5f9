"""The exporter side: pushing the archive to MeteorPi importers, or to a folder (no Qt here).

``Exporter(archive)`` is the entry point: ``.targets`` (CRUD, passwords),
``.queue`` (persisted per-entity queue), ``.history`` (what each target has),
``.rules`` (scheduled exports), ``.export()``/``.start()`` (rounds),
``.test_connection()``. ``Scheduler(exporter)`` runs the rules in the
background; ``export_to_folder`` writes files and a manifest to a folder or zip.
"""

from meteorgui.archive.export_queue import ExportQueue, QueueItem
from meteorgui.archive.exports import ExportHistory, Selection, SelectionError
from meteorgui.exporter.client import ImportClient, ImportClientError, SendResult
from meteorgui.exporter.folder import FolderExportError, FolderResult, export_to_folder
from meteorgui.exporter.rules import Rule, RuleError, Rules
from meteorgui.exporter.runner import (
    ExportBusy,
    Exporter,
    ExportEvent,
    ExportJob,
    RoundResult,
    run_round,
)
from meteorgui.exporter.schedule import Scheduler
from meteorgui.exporter.secrets import FileSecrets, KeyringSecrets, SecretError, default_secrets
from meteorgui.exporter.targets import ConnectionCheck, Target, TargetError, Targets
from meteorgui.exporter.throttle import Throttle

__all__ = [
    "ConnectionCheck",
    "ExportBusy",
    "ExportEvent",
    "ExportHistory",
    "ExportJob",
    "ExportQueue",
    "Exporter",
    "FileSecrets",
    "FolderExportError",
    "FolderResult",
    "ImportClient",
    "ImportClientError",
    "KeyringSecrets",
    "QueueItem",
    "RoundResult",
    "Rule",
    "RuleError",
    "Rules",
    "Scheduler",
    "SecretError",
    "Selection",
    "SelectionError",
    "SendResult",
    "Target",
    "TargetError",
    "Targets",
    "Throttle",
    "default_secrets",
    "export_to_folder",
    "run_round",
]
