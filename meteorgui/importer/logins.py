"""Camera logins: the throttle against guessing, and the record of refused attempts.

Failures are counted per (address, user name): a guesser at one user name never shuts
out another user at the same address (cameras behind one NAT), and a good login of one
user never clears another's failures. A pair that is locked out is refused without a
password hash, except for credentials verified earlier in this process (checked against
a keyed digest, no key derivation): a camera that knows its password keeps working while
someone at its own address guesses its user name. A user that has imported from an
address before (the import log says so) is held only to its own pair's limit there,
never to the lock-out of the whole address. docs/reliability.md says what remains.

Refused attempts are kept per (user name, address) with the reason and time, so the
archive's owner sees the most common setup mistake (a wrong password) on screen, and the
log gets one line per burst. Passwords are never recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from .. import notify
from ..archive.users import NOT_VERIFIED, User, Users

log = logging.getLogger(__name__)

NO_IMPORT_ROLE = "no import role"
LOCKED_OUT = "locked out"
NAME_SHOWN = 64  # characters of a user name kept; a stranger may send any length


class LoginThrottle:
    """Failed logins within ``window`` seconds, per (address, user name) and per address.

    A pair with ``limit`` failures, or an address with ``address_limit`` failures over all
    names (guessing many names costs a hash each), is locked until its oldest failure in
    the window is ``window`` seconds old. The table holds at most ``max_entries`` keys;
    when full, the entries idle longest go first, and active lock-outs go only when
    nothing else is left (so a flood of new addresses cannot clear them).
    """

    MAX_ENTRIES = 10_000

    def __init__(
        self,
        limit: int = 10,
        window: float = 60.0,
        clock=time.monotonic,
        address_limit: int = 60,
        max_entries: int = MAX_ENTRIES,
    ):
        self.limit, self.window, self.clock = limit, window, clock
        self.address_limit = address_limit
        self.max_entries = max_entries
        # key -> failure times, oldest key (least recent failure) first
        self._failures: OrderedDict[tuple, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _keys(addr: str | None, name: str) -> tuple[tuple, tuple]:
        addr = addr or ""
        return ("pair", addr, name[:NAME_SHOWN]), ("addr", addr)

    def _limit(self, key: tuple) -> int:
        return self.limit if key[0] == "pair" else self.address_limit

    def _locked_for(self, key: tuple, now: float) -> float:
        failures = self._failures.get(key)
        if failures is None or len(failures) < self._limit(key):
            return 0.0
        return max(0.0, failures[-self._limit(key)] + self.window - now)

    def wait(self, addr: str | None, name: str = "", pair_only: bool = False) -> float:
        """Seconds before this user name may try again from this address (0: now).
        ``pair_only``: the lock-out of this (address, name) alone, not of the address."""
        now = self.clock()
        keys = self._keys(addr, name)
        with self._lock:
            return max(self._locked_for(k, now) for k in keys[: 1 if pair_only else 2])

    def failed(self, addr: str | None, name: str = "") -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(addr, name):
                failures = self._failures.pop(key, None)
                if failures is None:
                    self._make_room(now)
                    failures = deque(maxlen=self._limit(key))
                while failures and failures[0] + self.window <= now:
                    failures.popleft()
                failures.append(now)
                self._failures[key] = failures  # now the most recent

    def _make_room(self, now: float) -> None:
        if len(self._failures) < self.max_entries:
            return
        for key in self._failures:  # least recent first
            if not self._locked_for(key, now):
                del self._failures[key]
                return
        self._failures.popitem(last=False)  # all locked: the oldest lock-out goes

    def succeeded(self, addr: str | None, name: str = "") -> None:
        """A good login changes nothing: failures expire with the window, so logging in
        as oneself (or as anyone else) between guesses never buys more guesses."""

    def __len__(self) -> int:
        return len(self._failures)


@dataclass(frozen=True)
class Refused:
    """Refused attempts of one user name from one address, in the current burst."""

    user: str
    address: str
    reason: str  # of the latest attempt
    count: int
    first_ms: int
    last_ms: int
    locked_until_ms: int | None = None  # wall time the lock-out ends, if locked now

    def sentence(self) -> str:
        """'garden-cam: 14 refused logins from 192.168.1.40, wrong password'."""
        what = "refused login" if self.count == 1 else "refused logins"
        text = f"{self.user}: {self.count} {what} from {self.address}, {self.reason}"
        if self.locked_until_ms is not None:
            text += " (locked out for now)"
        return text


class Logins:
    """Checks each request's credentials; keeps and publishes what was refused."""

    BURST_GAP_S = 300.0  # quiet this long, and the next refusal starts a new burst
    MAX_RECORDS = 1000
    PUBLISH_EVERY_S = 1.0  # per record, so a guessing storm does not flood the GUI

    def __init__(
        self,
        users: Users,
        hub: notify.Hub,
        throttle: LoginThrottle | None = None,
        addresses: Callable[[str], set[str]] | None = None,
    ):
        self.users = users
        self.hub = hub
        self.throttle = throttle or LoginThrottle()
        # Where each user has imported from before (the archive's import log), looked up
        # once per user, only when its address is locked out; real users only.
        self._addresses = addresses
        self._known: dict[str, set[str]] = {}
        self._known_lock = threading.Lock()
        self.wall = time.time
        self._records: OrderedDict[tuple[str, str], Refused] = OrderedDict()
        self._published: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def check(
        self, name: str, password: str, addr: str | None
    ) -> tuple[User | None, int, str, int]:
        """(user, 200, '', 0) for a login with the import role, else (None, HTTP status,
        message for the client, seconds before it may try again: 0 unless locked out).
        The client's message never says whether the name or the password was wrong."""
        wait = self.throttle.wait(addr, name)
        if wait and self._known_address(name, addr):
            # A camera's own address is locked because someone there guessed many names:
            # a user that imported from it before is held to its own pair's limit only.
            wait = self.throttle.wait(addr, name, pair_only=True)
        if wait:
            user, _ = self.users.login(name, password, may_hash=False)
            if user is None:
                self._refused(name, addr, LOCKED_OUT, wait)
                return (
                    None,
                    429,
                    f"too many failed logins for {name[:NAME_SHOWN]} from {addr}; "
                    f"try again in {int(wait) + 1} s",
                    int(wait) + 1,
                )
        else:
            user, why = self.users.login(name, password)
            if user is None:
                self.throttle.failed(addr, name)
                self._refused(name, addr, why or NOT_VERIFIED, self.throttle.wait(addr, name))
                return None, 403, "wrong user name or password", 0
        if not user.has_role("import"):
            self._refused(name, addr, NO_IMPORT_ROLE, 0.0)
            return None, 403, f"user {user.name} does not have the import role", 0
        if addr and user.name in self._known:
            with self._known_lock:
                self._known[user.name].add(addr)
        return user, 200, "", 0

    def _known_address(self, name: str, addr: str | None) -> bool:
        """Whether this user has imported from this address before (a known client)."""
        if not addr or self._addresses is None:
            return False
        with self._known_lock:
            known = self._known.get(name)
        if known is None:
            if self.users.stamp(name) is None:  # not a user: nothing to look up or keep
                return False
            known = self._addresses(name)
            with self._known_lock:
                known = self._known.setdefault(name, known)
        return addr in known

    def _refused(self, name: str, addr: str | None, reason: str, locked_s: float) -> None:
        name, addr = name[:NAME_SHOWN], addr or "?"
        now = self.wall()
        now_ms = int(now * 1000)
        locked = now_ms + int(locked_s * 1000) if locked_s else None
        key = (name, addr)
        with self._lock:
            old = self._records.pop(key, None)
            new_burst = old is None or now_ms - old.last_ms > self.BURST_GAP_S * 1000
            if old is None or new_burst:
                record = Refused(name, addr, reason, 1, now_ms, now_ms, locked)
            else:
                record = replace(
                    old, reason=reason, count=old.count + 1, last_ms=now_ms, locked_until_ms=locked
                )
            self._records[key] = record
            while len(self._records) > self.MAX_RECORDS:
                gone, _ = self._records.popitem(last=False)
                self._published.pop(gone, None)
            due = new_burst or now - self._published.get(key, 0.0) >= self.PUBLISH_EVERY_S
            if due:
                self._published[key] = now
        if new_burst:
            # %r: a stranger's user name is shown, never obeyed (no control characters).
            log.warning("refused a login as %r from %s: %s", name, addr, reason)
        elif locked and old is not None and old.locked_until_ms is None:
            log.warning(
                "locked out logins as %r from %s after %d failures", name, addr, record.count
            )
        if due:
            self.hub.publish(notify.LOGIN_REFUSED, record)

    def refused(self, within_s: float | None = None) -> list[Refused]:
        """Current records, the latest first; ``within_s``: only those that recent."""
        now_ms = int(self.wall() * 1000)
        with self._lock:
            records = list(reversed(self._records.values()))
        shown = []
        for r in records:
            if within_s is not None and now_ms - r.last_ms > within_s * 1000:
                continue
            if r.locked_until_ms is not None and r.locked_until_ms <= now_ms:
                r = replace(r, locked_until_ms=None)
            shown.append(r)
        return shown
