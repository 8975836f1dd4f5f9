"""Export target passwords: in the OS keyring when there is one, else in a user-only file.

Passwords never go into the archive or a log line. The keyring is reached
through the ``keyring`` package; where it has no working backend (a bare
server, a container, a desktop without a secret service) the passwords go to
``<config dir>/export-passwords.json``, created with mode 0600 (only the user
can read it). That file is plain text: its protection is the file mode, as
for ``~/.netrc``; encrypting it with a key kept beside it would protect nothing.

``METEORGUI_KEYRING=file`` forces the file (tests set it so they never touch
a real keyring); ``METEORGUI_KEYRING=keyring`` insists on the keyring.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

from .. import paths
from ..errors import MeteorguiError

log = logging.getLogger(__name__)

SERVICE = "meteorgui-export"
FILE_NAME = "export-passwords.json"
ENV_BACKEND = "METEORGUI_KEYRING"


class SecretError(MeteorguiError):
    """A password could not be stored or read; the message says why (never the password)."""


class SecretStore(Protocol):
    @property
    def description(self) -> str: ...

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, password: str) -> None: ...

    def delete(self, key: str) -> None: ...


class FileSecrets:
    """Passwords in a JSON file readable by its owner only (mode 0600)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else paths.config_dir() / FILE_NAME
        self.description = f"the file {self.path} (readable by you only)"
        self._lock = threading.Lock()

    def _load(self) -> dict[str, str]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise SecretError(f"{self.path} is not valid JSON; fix or remove it") from None
        if not isinstance(data, dict):
            raise SecretError(f"{self.path} is not a JSON object; fix or remove it")
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}

    def _save(self, data: dict[str, str]) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # mkstemp creates the file 0600 from the start: no moment where others can read it.
            fd, tmp = tempfile.mkstemp(prefix=".export-passwords.", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, indent=1, sort_keys=True)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise SecretError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._load().get(key)

    def set(self, key: str, password: str) -> None:
        with self._lock:
            data = self._load()
            data[key] = password
            self._save(data)

    def delete(self, key: str) -> None:
        with self._lock:
            data = self._load()
            if data.pop(key, None) is not None:
                self._save(data)


class KeyringSecrets:
    """Passwords in the OS keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""

    def __init__(self, backend=None):
        import keyring

        self._keyring = backend if backend is not None else keyring.get_keyring()
        self.description = f"the system keyring ({type(self._keyring).__name__})"

    def get(self, key: str) -> str | None:
        try:
            return self._keyring.get_password(SERVICE, key)
        except Exception as exc:  # keyring backends raise many kinds of errors
            raise SecretError(f"the system keyring could not be read: {_kind(exc)}") from None

    def set(self, key: str, password: str) -> None:
        try:
            self._keyring.set_password(SERVICE, key, password)
        except Exception as exc:
            raise SecretError(f"the system keyring refused the password: {_kind(exc)}") from None

    def delete(self, key: str) -> None:
        import keyring.errors

        try:
            self._keyring.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except Exception as exc:
            raise SecretError(f"the system keyring could not delete: {_kind(exc)}") from None


def _kind(exc: Exception) -> str:
    # The exception's class and first line; keyring messages never carry the password.
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}{': ' + text if text else ''}"


def keyring_usable() -> bool:
    """Whether the keyring package has a real backend here (not 'fail' or a null one)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration
        return False
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return False
    chained = getattr(backend, "backends", None)
    return chained is None or len(chained) > 0


def default_secrets(file_path: str | os.PathLike | None = None) -> SecretStore:
    """The keyring when usable (or forced by METEORGUI_KEYRING=keyring), else the file."""
    choice = os.environ.get(ENV_BACKEND, "").strip().lower()
    if choice == "file":
        return FileSecrets(file_path)
    if choice == "keyring" or (choice in ("", "auto") and keyring_usable()):
        return KeyringSecrets()
    if choice not in ("", "auto"):
        log.warning("%s=%r is not 'file', 'keyring' or 'auto'; using the file", ENV_BACKEND, choice)
    return FileSecrets(file_path)


class LazySecrets:
    """The default secret store, chosen on first use: finding out whether a keyring works
    may talk to D-Bus, and the first use is always on a worker thread."""

    def __init__(self) -> None:
        self._store: SecretStore | None = None
        self._lock = threading.Lock()

    def _get(self) -> SecretStore:
        with self._lock:
            if self._store is None:
                self._store = default_secrets()
            return self._store

    @property
    def description(self) -> str:
        return self._get().description

    def get(self, key: str) -> str | None:
        return self._get().get(key)

    def set(self, key: str, password: str) -> None:
        self._get().set(key, password)

    def delete(self, key: str) -> None:
        self._get().delete(key)
