"""Which login a camera belongs to: the first one that sent its status.

A status posted by another login would rewrite that camera's history (its place, its
pointing, its instrument), so once bound, a camera's statuses, events and files are taken
only from its own login. The archive's owner can transfer a camera to another login
(``meteorgui camera transfer``), e.g. when a node gets a new user name.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from ..errors import MeteorguiError
from .db import Database


class CameraBound(MeteorguiError):
    """A camera bound to one login was sent by another; the message says which camera."""

    def __init__(self, camera_id: str, owner: str, user: str):
        self.camera_id, self.owner, self.user = camera_id, owner, user
        super().__init__(
            f"camera {camera_id} is bound to another login than {user}; the archive's owner "
            f"can transfer it (meteorgui camera transfer {camera_id} {user})"
        )


@dataclass(frozen=True)
class CameraOwner:
    camera_id: str
    user: str
    bound_at: int


class Cameras:
    # Every offer checks its camera's owner; a binding is remembered this long, so a
    # transfer made by another process (``meteorgui camera transfer``) soon counts here.
    OWNER_TTL_S = 2.0

    def __init__(self, db: Database):
        self._db = db
        self._owners: dict[str, tuple[float, str]] = {}

    def owner(self, camera_id: str) -> str | None:
        now = time.monotonic()
        known = self._owners.get(camera_id)
        if known is not None and known[0] > now:
            return known[1]
        row = (
            self._db.read()
            .execute("SELECT user FROM camera_owners WHERE camera_id = ?", (camera_id,))
            .fetchone()
        )
        if row is not None:
            if len(self._owners) > 4096:
                self._owners.clear()
            self._owners[camera_id] = (now + self.OWNER_TTL_S, row[0])
        return None if row is None else row[0]

    def check(self, camera_id: str, user: str) -> None:
        """Raise CameraBound if the camera is bound to another login."""
        owner = self.owner(camera_id)
        if owner is not None and owner != user:
            raise CameraBound(camera_id, owner, user)

    def claim(self, conn: sqlite3.Connection, camera_id: str, user: str) -> None:
        """Inside a write transaction: bind an unbound camera to this login, or raise
        CameraBound if another login has it."""
        row = conn.execute(
            "SELECT user FROM camera_owners WHERE camera_id = ?", (camera_id,)
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO camera_owners (camera_id, user, bound_at) VALUES (?, ?, ?)",
                (camera_id, user, int(time.time() * 1000)),
            )
        elif row[0] != user:
            raise CameraBound(camera_id, row[0], user)

    def transfer(self, camera_id: str, user: str) -> str | None:
        """Bind the camera to ``user`` from now on. Returns the previous login, if any."""
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT user FROM camera_owners WHERE camera_id = ?", (camera_id,)
            ).fetchone()
            conn.execute(
                "INSERT INTO camera_owners (camera_id, user, bound_at) VALUES (?, ?, ?)"
                " ON CONFLICT(camera_id) DO UPDATE SET user = excluded.user,"
                " bound_at = excluded.bound_at",
                (camera_id, user, int(time.time() * 1000)),
            )
        self._owners.pop(camera_id, None)
        return None if row is None else row[0]

    def list(self) -> list[CameraOwner]:
        rows = self._db.read().execute(
            "SELECT camera_id, user, bound_at FROM camera_owners ORDER BY camera_id"
        )
        return [CameraOwner(*r) for r in rows]
