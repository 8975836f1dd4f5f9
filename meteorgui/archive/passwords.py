"""Password hashing with a salted standard KDF (PBKDF2-HMAC-SHA256), compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ALGORITHM = "pbkdf2_sha256"
# OWASP's figure for PBKDF2-HMAC-SHA256 (2023). Hashes made with fewer are replaced at the
# user's next good login (needs_rehash).
ITERATIONS = 600_000


def hash_password(password: str, *, iterations: int | None = None) -> str:
    iterations = iterations or ITERATIONS
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return "$".join(
        [
            ALGORITHM,
            str(iterations),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def needs_rehash(encoded: str) -> bool:
    """True for a hash made with another algorithm or fewer iterations than today's."""
    try:
        algorithm, iterations, _, _ = encoded.split("$")
        return algorithm != ALGORITHM or int(iterations) < ITERATIONS
    except ValueError:
        return True


def check_password(password: str, encoded: str) -> bool:
    try:
        algorithm, iterations, salt_b64, digest_b64 = encoded.split("$")
        if algorithm != ALGORITHM:
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        rounds = int(iterations)
    except ValueError:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, rounds)
    return hmac.compare_digest(actual, expected)


class VerifiedCache:
    """Remembers recent successful checks so each HTTP request does not pay the KDF.

    Keys are the stored hash (so a changed password misses) and values a keyed
    BLAKE2b MAC of the password under a per-process random key: no password is kept.
    """

    def __init__(self, size: int = 256):
        self._key = secrets.token_bytes(32)
        self._size = size
        self._seen: dict[str, bytes] = {}

    def _tag(self, password: str) -> bytes:
        # Keyed BLAKE2 is a standard MAC; unlike OpenSSL's HMAC it computes a short
        # input without releasing the GIL, so a request is not held up behind other threads.
        return hashlib.blake2b(password.encode("utf-8"), key=self._key, digest_size=32).digest()

    def known(self, password: str, encoded: str) -> bool:
        """True if this password was verified against this hash before; never hashes."""
        seen = self._seen.get(encoded)
        return seen is not None and hmac.compare_digest(seen, self._tag(password))

    def check(self, password: str, encoded: str) -> bool:
        if self.known(password, encoded):
            return True
        if not check_password(password, encoded):
            return False
        self.remember(password, encoded)
        return True

    def remember(self, password: str, encoded: str) -> None:
        """Record a password known to match this hash (it was just checked or made)."""
        self._seen.pop(encoded, None)
        while len(self._seen) >= self._size:  # the oldest entry goes first
            self._seen.pop(next(iter(self._seen)))
        self._seen[encoded] = self._tag(password)
