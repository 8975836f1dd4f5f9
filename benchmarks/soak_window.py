"""The desktop app with its importer, for benchmarks/soak.py: the window that stays open.

    python benchmarks/soak_window.py DATA_DIR PORT

Builds the real main window on the archive in DATA_DIR (as `meteorgui` does), shows it,
starts its embedded importer on PORT (all addresses, so strangers on 127.0.0.2-9 reach
it) and prints ``port <n>``. A 2 ms timer on the GUI thread measures the event loop: each
second it prints ``stall <longest ms> <p99 ms> <ticks> <rows in view>``, and the same
over the whole run when its standard input closes, after which it closes the app in
order and exits. Cameras and strangers are other processes, as they are other machines.
Runs on whatever display Qt is given (the soak starts its own Xvfb).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gui import StallSampler  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from meteorgui.gui.startup import build, close  # noqa: E402
from meteorgui.settings import Settings  # noqa: E402

PROBE_MS = 2


class Probe:
    """Gaps between ticks of a PROBE_MS timer: how long the window could not react."""

    def __init__(self):
        self.gaps: list[float] = []
        self.last = [time.perf_counter()]
        self.timer = QTimer(interval=PROBE_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last[0])
        self.last[0] = now

    def start(self) -> None:
        self.last[0] = time.perf_counter()
        self.timer.start()

    def line(self, gaps: list[float]) -> str:
        if not gaps:
            return "0 0 0"
        ordered = sorted(gaps)
        return (
            f"{ordered[-1] * 1000:.1f} {ordered[int(len(ordered) * 0.99)] * 1000:.1f} "
            f"{len(ordered)}"
        )


def main(argv: list[str]) -> int:
    data_dir, port = Path(argv[0]), int(argv[1])
    app = QApplication.instance() or QApplication(["meteorgui"])
    settings = Settings(host="0.0.0.0", port=port, importer_autostart=False)
    ctx, window = build(data_dir, settings)
    window.resize(1280, 720)
    window.show()
    if not window.start_importer():
        print("error the importer did not start", flush=True)
        return 1
    print(f"port {ctx.core.server.port}", flush=True)

    probe = Probe()
    sampler = StallSampler(probe.last)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    reported = [0]

    def report() -> None:
        recent = probe.gaps[reported[0] :]
        reported[0] = len(probe.gaps)
        rows = window.browser.model.rowCount()
        print(f"stall {probe.line(recent)} {rows}", flush=True)
        if done.is_set():
            app.quit()

    every_second = QTimer(interval=1000)
    every_second.timeout.connect(report)
    probe.start()
    every_second.start()
    app.exec()
    probe.timer.stop()
    every_second.stop()
    sampler.stop()
    print(f"total {probe.line(probe.gaps)} {window.browser.model.rowCount()}", flush=True)
    print(f"where {sampler.summary()}", flush=True)
    window.close()
    close(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
