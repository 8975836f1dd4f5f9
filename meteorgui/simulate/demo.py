"""The demo camera: a simulated node pushing a night through the real importer.

Qt-free: ``meteorgui --demo`` starts one beside its window, and anything that owns a
running importer (a test, a script) can start one the same way.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable

from meteorgui.archive import Archive
from meteorgui.archive.nights import DAY_MS, NightClock, mean_longitude
from meteorgui.exporter.client import ImportClient
from meteorgui.resources import MissingResource

from .night import NIGHT_MS, SITES, make_night
from .push import PushSummary, interleaved, push_night

log = logging.getLogger(__name__)

DEMO_USER = "demo-camera"


def demo_night_start(now_s: float) -> int:
    """Last night at 20:00 where the simulated cameras are (their local solar time: the
    latest 20:00 whose 8-hour night is over), in ms.

    A camera uploads a night it has recorded, so the demo's meteors happen in the cameras'
    dark, whatever this computer's time zone, and the whole night falls within one of the
    browser's noon-to-noon nights.
    """
    clock = NightClock(20, mean_longitude(site["long"] for site in SITES))
    start = clock.start(int(now_s * 1000))
    while start + NIGHT_MS > now_s * 1000:
        start -= DAY_MS
    return start


class DemoCamera:
    """Pushes a night to ``url`` (an importer on loopback) from a thread of its own.

    It makes its own import user with a fresh password in ``archive``; ``stop()`` ends
    the push and joins the thread it started.
    """

    def __init__(
        self,
        archive: Archive,
        url: str,
        *,
        events: int = 60,
        timelapse: int = 120,
        rate: float = 1.5,
        seed: int | None = None,
        login: tuple[str, str] | None = None,
        give_up_after: int | None = None,
        on_failure: Callable[[str], None] | None = None,
    ):
        """``login``: a camera login that exists (the first run's test night uses the one
        just created); without it the demo's own user is made with a fresh password.
        ``give_up_after``: failures in a row that end the push (None: the demo never does).
        """
        self.url = url
        self.on_failure = on_failure  # called on the camera's thread with one line
        self.failure: str | None = None
        self.events, self.timelapse, self.rate = events, timelapse, rate
        self.seed = seed if seed is not None else secrets.randbelow(1 << 30)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.summary: PushSummary | None = None
        self.failed: BaseException | None = None
        self.give_up_after = give_up_after
        if login is not None:
            self._user, self._password = login
            return
        password = secrets.token_urlsafe(16)
        users = archive.users
        if users.get(DEMO_USER) is None:
            users.add(DEMO_USER, password, ["import"])
        else:
            users.set_password(DEMO_USER, password)
        self._user, self._password = DEMO_USER, password

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="meteorgui-demo-camera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._push()
        except Exception as exc:  # a thread that dies says why, in the window and on stderr
            self.failure = f"the demo camera stopped: {exc}"
            log.error("%s", self.failure, exc_info=not isinstance(exc, MissingResource))
            if self.on_failure is not None:
                self.on_failure(self.failure)

    def _push(self) -> None:
        start = demo_night_start(time.time())
        night = make_night(self.seed, events=self.events, timelapse=self.timelapse, start_ms=start)
        try:
            with ImportClient(self.url, self._user, self._password) as client:
                self.summary = push_night(
                    night,
                    client,
                    rate=self.rate,
                    stop=self._stop,
                    on_progress=log.info,
                    max_failures_in_row=self.give_up_after,
                    entities=interleaved(night),
                )
        except Exception as exc:  # _run says what happened, in the log and to on_failure
            self.failed = exc
            raise
        log.info("Simulated camera finished: %s", self.summary.line())

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
