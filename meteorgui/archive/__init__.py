"""The local archive: SQLite database, file store and users in one data directory."""

from .archive import (
    Archive,
    ArchiveError,
    Conflict,
    FileCheck,
    Filter,
    ResendMark,
    pending_upgrades,
)
from .cameras import CameraBound, CameraOwner
from .conversations import Conversation, Conversations
from .store import FileStore, TooLarge
from .users import ROLES, User, UserError

__all__ = [
    "Archive",
    "ArchiveError",
    "CameraBound",
    "CameraOwner",
    "Conflict",
    "Conversation",
    "Conversations",
    "FileCheck",
    "FileStore",
    "Filter",
    "ResendMark",
    "ROLES",
    "TooLarge",
    "User",
    "UserError",
    "pending_upgrades",
]
