"""Archive users: a name, roles and a salted password hash."""

from __future__ import annotations

import functools
import re
import secrets
import time
from dataclasses import dataclass

from ..errors import MeteorguiError
from . import passwords
from .db import Database
from .passwords import VerifiedCache, hash_password, needs_rehash

ROLES = ("user", "camera_admin", "import")
# Why a login was refused (shown to the archive's owner, never to the client).
WRONG_PASSWORD = "wrong password"
UNKNOWN_USER = "unknown user"
NOT_VERIFIED = "not verified before"  # a lock-out allows only known credentials
_NAME = re.compile(r"[A-Za-z0-9_.@\-]{1,64}")


class UserError(MeteorguiError, ValueError):
    """A user could not be added or changed; the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    roles: tuple[str, ...]
    created_at: int

    def has_role(self, role: str) -> bool:
        return role in self.roles


class Users:
    # Each camera request authenticates; its user row is remembered this long.
    ROW_TTL_S = 2.0

    def __init__(self, db: Database):
        self._db = db
        self._verified = VerifiedCache()
        self._rows: dict[str, tuple[float, tuple | None]] = {}

    def _changed(self) -> None:
        self._rows.clear()

    @staticmethod
    def _check(name: str, roles: tuple[str, ...]) -> None:
        if not _NAME.fullmatch(name):
            raise UserError(f"user name {name!r}: use 1-64 letters, digits or '_.@-'")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise UserError(f"unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}")

    def add(
        self, name: str, password: str, roles: tuple[str, ...] | list[str] = ("import",)
    ) -> User:
        roles = tuple(dict.fromkeys(roles)) or ("import",)
        self._check(name, roles)
        if not password:
            raise UserError("the password is empty")
        encoded = hash_password(password)
        created = int(time.time() * 1000)
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise UserError(f"user {name!r} already exists")
            conn.execute(
                "INSERT INTO users (name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, " ".join(roles), encoded, created),
            )
        self._changed()
        return User(name, roles, created)

    def remove(self, name: str) -> None:
        with self._db.write() as conn:
            if conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise UserError(f"no user {name!r}")
        self._changed()

    def set_password(self, name: str, password: str) -> None:
        if not password:
            raise UserError("the password is empty")
        encoded = hash_password(password)
        with self._db.write() as conn:
            cur = conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (encoded, name))
            if cur.rowcount == 0:
                raise UserError(f"no user {name!r}")
        self._changed()

    def set_roles(self, name: str, roles: tuple[str, ...] | list[str]) -> None:
        roles = tuple(dict.fromkeys(roles))
        self._check(name, roles)
        with self._db.write() as conn:
            cur = conn.execute("UPDATE users SET roles = ? WHERE name = ?", (" ".join(roles), name))
            if cur.rowcount == 0:
                raise UserError(f"no user {name!r}")
        self._changed()

    def list(self) -> list[User]:
        rows = self._db.read().execute("SELECT name, roles, created_at FROM users ORDER BY name")
        return [User(n, tuple(r.split()), c) for n, r, c in rows]

    def get(self, name: str) -> User | None:
        row = (
            self._db.read()
            .execute("SELECT name, roles, created_at FROM users WHERE name = ?", (name,))
            .fetchone()
        )
        return None if row is None else User(row[0], tuple(row[1].split()), row[2])

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is right, else None (never says which part was wrong)."""
        return self.login(name, password)[0]

    def _row(self, name: str) -> tuple | None:
        now = time.monotonic()
        cached = self._rows.get(name)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = (
            self._db.read()
            .execute(
                "SELECT name, roles, created_at, password_hash FROM users WHERE name = ?",
                (name,),
            )
            .fetchone()
        )
        if row is not None:  # only real users are remembered: misses cost no memory
            if len(self._rows) > 1024:
                self._rows.clear()
            self._rows[name] = (now + self.ROW_TTL_S, row)
        return row

    def login(
        self, name: str, password: str, *, may_hash: bool = True
    ) -> tuple[User | None, str | None]:
        """(user, None) for good credentials, else (None, why) for the owner's eyes.

        With ``may_hash`` False only credentials verified earlier in this process pass
        (no key derivation runs): what a locked-out pair of address and name may still do.
        A good login whose stored hash is weaker than today's is hashed again.
        """
        row = self._row(name) if _NAME.fullmatch(name) else None
        if not may_hash:
            if row is not None and self._verified.known(password, row[3]):
                return User(row[0], tuple(row[1].split()), row[2]), None
            return None, NOT_VERIFIED
        if row is None:
            # Spend the same effort as a real check so timing does not reveal names.
            self._verified.check(password, _dummy_hash(passwords.ITERATIONS))
            return None, UNKNOWN_USER
        if not self._verified.check(password, row[3]):
            return None, WRONG_PASSWORD
        if needs_rehash(row[3]):
            self._rehash(name, password, row[3])
        return User(row[0], tuple(row[1].split()), row[2]), None

    def _rehash(self, name: str, password: str, old: str) -> None:
        encoded = hash_password(password)
        with self._db.write() as conn:  # only if nobody changed the password meanwhile
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?",
                (encoded, name, old),
            )
        self._changed()
        self._verified.remember(password, encoded)


@functools.cache
def _dummy_hash(iterations: int) -> str:
    return hash_password(secrets.token_hex(16), iterations=iterations)
