"""Export targets: where the archive can be exported to (CRUD), their passwords, a connection test.

A target is a name, an import URL, a user and (elsewhere: ``secrets``) a
password, plus an optional CA bundle for a server whose certificate no
public authority signed. Certificates are always verified; there is no
switch to turn that off.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..archive import Conflict
from ..archive import export_setup as setup
from ..errors import MeteorguiError
from .client import ImportClient, ImportClientError
from .secrets import SecretError, SecretStore, default_secrets

DEFAULT_TIMEOUT = 120.0
CONNECT_TIMEOUT = 10.0


class TargetError(MeteorguiError, ValueError):
    """A target cannot be saved or used as given; the message says why."""


@dataclass(frozen=True)
class Target:
    target_id: str
    name: str
    url: str
    user: str
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    created_at: int = 0

    @property
    def verify(self) -> bool | str:
        """requests' ``verify``: the CA bundle if named, else the system's CAs."""
        return self.ca_bundle or True

    @property
    def secret_key(self) -> str:
        return f"target:{self.target_id}"

    def check_ca_bundle(self) -> None:
        """Raise TargetError if the target names a CA bundle that is gone or unreadable
        (deleted or moved after the target was saved)."""
        if self.ca_bundle is not None and not _readable_file(self.ca_bundle):
            raise TargetError(
                f"the CA bundle {self.ca_bundle} of target {self.name!r} is missing or "
                "cannot be read; choose it again in the target's settings"
            )

    def client(self, password: str, **kw) -> ImportClient:
        # A missing CA bundle is not refused here (run_round builds the client outside
        # any try): every request then fails as a target problem naming the bundle.
        # Call check_ca_bundle() first to learn of it up front.
        return ImportClient(
            self.url,
            self.user,
            password,
            verify=self.verify,
            timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout),
            **kw,
        )


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    resend_supported: bool = False


def check_url(url: str) -> str:
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # e.g. "http://[::1/import": Invalid IPv6 URL
        raise TargetError(f"not a valid import URL: {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise TargetError(f"not an http(s) import URL: {url!r} (e.g. https://host/import)")
    try:
        port = parts.port  # ValueError for "abc" or a number outside 0-65535
    except ValueError:
        port = 0
    if port == 0:
        raise TargetError(f"the port in {url!r} is not a number from 1 to 65535")
    if parts.username or parts.password:
        raise TargetError("put the user and password in their own fields, not in the URL")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        # The protocol adds /data/<id>/<md5> after the URL's path: a query would break it.
        raise TargetError(f"an import URL has no '?…' or '#…' part: {url!r}")
    return url.rstrip("/")


def _readable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def _check_fields(name: str, user: str, ca_bundle: str | None, timeout: float) -> None:
    if not name or not name.strip():
        raise TargetError("a target needs a name")
    if not user:
        raise TargetError("a target needs a user name")
    if ca_bundle is not None and not Path(ca_bundle).is_file():
        raise TargetError(f"the CA bundle {ca_bundle} is not a readable file")
    if not (isinstance(timeout, (int, float)) and 1 <= timeout <= 3600):
        raise TargetError("the timeout must be between 1 and 3600 seconds")


def _target(row: tuple | None) -> Target | None:
    return None if row is None else Target(*row)


class Targets:
    """Export targets of one archive; passwords in ``secrets`` (keyring or user-only file)."""

    def __init__(self, archive, secrets: SecretStore | None = None):
        self.archive = archive
        self.secrets = secrets if secrets is not None else default_secrets()

    def list(self) -> list[Target]:
        return [Target(*r) for r in setup.target_rows(self.archive)]

    def get(self, target_id: str) -> Target | None:
        return _target(setup.target_row(self.archive, target_id=target_id))

    def require(self, target_id: str) -> Target:
        target = self.get(target_id)
        if target is None:
            raise TargetError(f"no export target {target_id}")
        return target

    def by_name(self, name: str) -> Target | None:
        return _target(setup.target_row(self.archive, name=name))

    def find(self, url: str, user: str) -> Target | None:
        return _target(setup.target_row(self.archive, url=check_url(url), user=user))

    def add(
        self,
        name: str,
        url: str,
        user: str,
        password: str | None = None,
        *,
        ca_bundle: str | os.PathLike | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Target:
        """Save a new target (and its password, if given, in the secret store)."""
        url = check_url(url)
        ca = None if ca_bundle is None else str(Path(ca_bundle).expanduser().resolve())
        _check_fields(name, user, ca, timeout)
        self._check_unique(url, user)
        target = Target(
            uuid.uuid4().hex, name.strip(), url, user, ca, float(timeout), int(time.time() * 1000)
        )
        try:
            setup.insert_target(self.archive, dataclasses.astuple(target))
        except Conflict:
            raise TargetError(f"there is already a target named {target.name!r}") from None
        if password is not None:
            self.set_password(target.target_id, password)
        return target

    def _check_unique(self, url: str, user: str, but: str | None = None) -> None:
        """One target per URL and user: each keeps its own history of what was sent, so a
        second one would send everything again."""
        found = self.find(url, user)
        if found is not None and found.target_id != but:
            raise TargetError(
                f"target {found.name!r} already sends to {url} as {user}: use that one "
                "(rename it if you like)"
            )

    def ensure(self, url: str, user: str, name: str | None = None) -> Target:
        """The target with this URL and user, created (without a password) if there is none."""
        found = self.find(url, user)
        if found is not None:
            return found
        base = name or f"{user}@{urlsplit(check_url(url)).netloc}"
        candidate, n = base, 2
        while self.by_name(candidate) is not None:
            candidate, n = f"{base} ({n})", n + 1
        return self.add(candidate, url, user)

    def update(self, target_id: str, **changes) -> Target:
        """Change name, url, user, ca_bundle or timeout (``password=`` is stored as a secret)."""
        password = changes.pop("password", None)
        unknown = set(changes) - {"name", "url", "user", "ca_bundle", "timeout"}
        if unknown:
            raise TargetError(f"cannot change {', '.join(sorted(unknown))} of a target")
        target = self.require(target_id)
        if "url" in changes:
            changes["url"] = check_url(changes["url"])
        if changes.get("ca_bundle") is not None:
            changes["ca_bundle"] = str(Path(changes["ca_bundle"]).expanduser().resolve())
        if "name" in changes:
            changes["name"] = (changes["name"] or "").strip()
        new = dataclasses.replace(target, **changes)
        _check_fields(new.name, new.user, new.ca_bundle, new.timeout)
        self._check_unique(new.url, new.user, but=target_id)
        fields = ("name", "url", "user", "ca_bundle", "timeout")
        try:
            setup.update_target(self.archive, target_id, {f: getattr(new, f) for f in fields})
        except Conflict:
            raise TargetError(f"there is already a target named {new.name!r}") from None
        if password is not None:
            self.set_password(target_id, password)
        return new

    def remove(self, target_id: str) -> None:
        """Delete a target with its queue, history and password. Refused while rules use it
        (delete or retarget them first: a rule is never dropped silently)."""
        target = self.require(target_id)
        rules = setup.delete_target(self.archive, target_id)
        if rules:
            raise TargetError(
                f"target {target.name!r} is used by the scheduled export rule(s) "
                f"{', '.join(repr(r) for r in rules)}; delete them first"
            )
        try:
            self.secrets.delete(target.secret_key)
        except SecretError:
            pass  # the target is gone; a stale secret under a random key harms nobody

    # ------------------------------------------------------------------ passwords

    def password(self, target_id: str) -> str | None:
        """The stored password, or None. Raises SecretError if the store cannot be read."""
        return self.secrets.get(self.require(target_id).secret_key)

    def set_password(self, target_id: str, password: str) -> None:
        if not password:
            raise TargetError("the password is empty")
        self.secrets.set(self.require(target_id).secret_key, password)

    def forget_password(self, target_id: str) -> None:
        self.secrets.delete(self.require(target_id).secret_key)


def test_connection(
    target: Target, password: str, *, timeout: float | None = None
) -> ConnectionCheck:
    """Whether the target is reachable and takes the credentials; changes nothing there.

    Blocks for up to a few seconds: call it from a worker thread.
    """
    limit = timeout if timeout is not None else min(target.timeout, 20.0)
    try:
        target.check_ca_bundle()
    except TargetError as exc:
        return ConnectionCheck(False, str(exc))
    try:
        with ImportClient(
            target.url,
            target.user,
            password,
            verify=target.verify,
            timeout=(min(CONNECT_TIMEOUT, limit), limit),
        ) as client:
            message, resend = client.check()
    except ImportClientError as exc:
        return ConnectionCheck(False, str(exc))
    except ValueError as exc:  # a URL ImportClient refuses
        return ConnectionCheck(False, str(exc))
    extra = "; it can ask for resends" if resend else ""
    return ConnectionCheck(True, f"{target.url}: {message}{extra}", resend)


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
