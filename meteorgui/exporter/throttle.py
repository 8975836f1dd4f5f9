"""A bandwidth cap enforced while file bytes stream out (a token bucket).

``ThrottledFile`` wraps the file an upload reads from; every read spends
tokens and sleeps when the bucket is empty, so the upload goes no faster than
the cap whatever the importer and the network could take. Clock and sleep are
injectable: tests assert the sleeps the throttle computed, never wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import BinaryIO


class Throttle:
    """At most ``rate`` bytes/s on average, with bursts of up to ``burst`` bytes."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ):
        if rate <= 0:
            raise ValueError("the bandwidth cap must be positive")
        self.rate = float(rate)
        # A quarter of a second's worth, at least 16 KiB so small reads are not choked.
        self.burst = float(burst if burst is not None else max(16 << 10, rate / 4))
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self.slept = 0.0  # total seconds of sleep asked for
        self.consumed = 0
        # Reads through a ThrottledFile take at most this many bytes: about a second's
        # worth (never more than the burst), so each sleep is short and bytes reach the
        # wire often. Sleeping for a whole 1 MiB block at 1 kB/s would leave the
        # connection silent for ~17 minutes, past an importer's idle timeout.
        self.block = max(256, int(min(self.burst, self.rate)))

    def consume(self, n: int) -> float:
        """Spend ``n`` bytes; sleeps as long as the cap needs. Returns the sleep asked for."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= n
        self.consumed += n
        if self._tokens >= 0:
            return 0.0
        delay = -self._tokens / self.rate
        self.slept += delay
        self.sleep(delay)
        return delay


class ThrottledFile:
    """A binary file whose reads go through a Throttle (ImportClient's ``open_file``)."""

    def __init__(self, raw: BinaryIO, throttle: Throttle):
        self._raw = raw
        self._throttle = throttle

    @property
    def block(self) -> int:
        """The most one read returns; ImportClient also sends the upload in blocks this
        size, so that the importer sees bytes arrive about every second."""
        return self._throttle.block

    def read(self, n: int = -1) -> bytes:
        block = self._throttle.block
        if n is None or n < 0 or n > block:
            n = block
        data = self._raw.read(n)
        if data:
            self._throttle.consume(len(data))
        return data

    # What ImportClient uses to tell the size left, and to close the file.
    def fileno(self) -> int:
        return self._raw.fileno()

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, *args) -> int:
        return self._raw.seek(*args)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> ThrottledFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
