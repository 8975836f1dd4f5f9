"""Archive users: a name, roles and a salted password hash."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field

from .. import notify
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
    # Of the row this login was checked against (see Users.stamp); set by login() only.
    stamp: str = field(default="", repr=False, compare=False)

    def has_role(self, role: str) -> bool:
        return role in self.roles


def _stamp(roles: str, password_hash: str) -> str:
    return hashlib.blake2b(f"{roles}\0{password_hash}".encode(), digest_size=16).hexdigest()


class Users:
    """Every login reads its user's row afresh (a primary-key look-up, about 10 µs): a
    password, role or user changed by any process (the GUI's Users dialog in this one,
    `meteorgui users` in another while `meteorgui serve` runs) counts from the next
    request on. Nothing about a user is cached across requests but the keyed digest of
    a password already checked against its stored hash (VerifiedCache)."""

    def __init__(self, db: Database, hub: notify.Hub | None = None):
        self._db = db
        self._hub = hub or notify.Hub()
        self._verified = VerifiedCache()

    def _changed(self, name: str, how: str) -> None:
        """After a commit: tell the views (never the password)."""
        self._hub.publish(notify.CHANGED, notify.UsersChanged(name, how))

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
        self._verified.remember(password, encoded)  # see set_password
        self._changed(name, "added")
        return User(name, roles, created)

    def remove(self, name: str) -> None:
        with self._db.write() as conn:
            if conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise UserError(f"no user {name!r}")
        self._changed(name, "removed")

    def set_password(self, name: str, password: str) -> None:
        if not password:
            raise UserError("the password is empty")
        encoded = hash_password(password)
        with self._db.write() as conn:
            cur = conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (encoded, name))
            if cur.rowcount == 0:
                raise UserError(f"no user {name!r}")
        # The owner just typed it: a camera using it passes a lock-out of its address and
        # name without a hash, as if it had logged in already (a keyed digest in memory).
        self._verified.remember(password, encoded)
        self._changed(name, "password")

    def set_roles(self, name: str, roles: tuple[str, ...] | list[str]) -> None:
        roles = tuple(dict.fromkeys(roles))
        self._check(name, roles)
        with self._db.write() as conn:
            cur = conn.execute("UPDATE users SET roles = ? WHERE name = ?", (" ".join(roles), name))
            if cur.rowcount == 0:
                raise UserError(f"no user {name!r}")
        self._changed(name, "roles")

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
        return (
            self._db.read()
            .execute(
                "SELECT name, roles, created_at, password_hash FROM users WHERE name = ?",
                (name,),
            )
            .fetchone()
        )

    def stamp(self, name: str) -> str | None:
        """A digest of the user's roles and password hash as stored now (None: no such
        user). It differs from a login's ``User.stamp`` once the password or the roles
        changed or the user was removed, by whichever process: what the importer's gate
        checks before it lets credentials it verified earlier send a large body."""
        row = self._row(name) if _NAME.fullmatch(name) else None
        return None if row is None else _stamp(row[1], row[3])

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
                return _user(row), None
            return None, NOT_VERIFIED
        if row is None:
            # Spend the same effort as a real check so timing does not reveal names.
            self._verified.check(password, _dummy_hash(passwords.ITERATIONS))
            return None, UNKNOWN_USER
        if not self._verified.check(password, row[3]):
            return None, WRONG_PASSWORD
        if needs_rehash(row[3]):
            row = self._rehash(row, password)
        return _user(row), None

    def _rehash(self, row: tuple, password: str) -> tuple:
        encoded = hash_password(password)
        with self._db.write() as conn:  # only if nobody changed the password meanwhile
            cur = conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?",
                (encoded, row[0], row[3]),
            )
        if cur.rowcount == 0:
            return row
        self._verified.remember(password, encoded)
        return (*row[:3], encoded)


def _user(row: tuple) -> User:
    return User(row[0], tuple(row[1].split()), row[2], stamp=_stamp(row[1], row[3]))


@functools.cache
def _dummy_hash(iterations: int) -> str:
    return hash_password(secrets.token_hex(16), iterations=iterations)
