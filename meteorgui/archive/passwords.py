"""Password hashing with a salted standard KDF (PBKDF2-HMAC-SHA256), compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 300_000


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

    def check(self, password: str, encoded: str) -> bool:
        tag = self._tag(password)
        known = self._seen.get(encoded)
        if known is not None and hmac.compare_digest(known, tag):
            return True
        if not check_password(password, encoded):
            return False
        if len(self._seen) >= self._size:
            self._seen.pop(next(iter(self._seen)))
        self._seen[encoded] = tag
        return True
