"""Child process of benchmarks/gui.py: when does a fresh process first paint?

Both print ``PAINTED <epoch seconds> <CPU seconds of the process>``.

``firstpaint.py app DATA_DIR``: runs the real app (``meteorgui --data-dir DATA_DIR``,
through meteorgui.cli.main) and prints ``PAINTED <epoch seconds>`` once the
browser grid has painted its first page with every visible tile's thumbnail
(or badge) in place; then ``COMPLETE <epoch seconds> <CPU seconds>`` once the
app has started what it leaves until after the first page (the detail pane, the
import monitor, log and export docks: ``MainWindow.finish_start``; then the
importer, which the benchmark's settings start), and closes the window.
``firstpaint.py bare``: a bare PySide6 window with a label, the baseline:
``PAINTED`` at its first paint.

The parent notes the time before it starts the process, so the difference is
from process start, interpreter start-up included. Only PySide6 is imported
before the app's own code (the app imports it first thing anyway).
"""

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication


def report(what: str = "PAINTED") -> None:
    # The time, and the CPU this process used so far (all threads): on a loaded machine
    # the wall-clock figure includes waiting for a CPU, this does not.
    print(f"{what} {time.time():.6f} {time.process_time():.6f}", flush=True)


def bare() -> int:
    from PySide6.QtWidgets import QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QLabel("meteorgui", window))
    window.resize(1400, 880)

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                report()
                QTimer.singleShot(0, window.close)
            return False

    watcher = FirstPaint()
    window.installEventFilter(watcher)
    window.show()
    return app.exec()


def tiles_ready(browser) -> bool:
    model = browser.model
    if model.loading or not getattr(browser, "is_ready", getattr(browser, "_ready", True)):
        return False
    size = browser.tile_delegate._size
    for r in browser.grid.visible_rows():
        row = model.row_at(r)
        if row is None:
            return False  # its page is not loaded yet
        if row.still_id and browser.thumbs.state(row.still_id, row.still_md5, size) == "loading":
            return False
    return True


def complete(window) -> bool:
    """The app has started what it left until after its first page."""
    core = window.ctx.core
    return window.export_ui is not None and (core.importer_running or core.server is not None)


def app(data_dir: str) -> int:
    QApplication(sys.argv[:1])  # run_gui uses the running application
    painted = False

    def poll():
        nonlocal painted
        window = next(
            (w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"),
            None,
        )
        if window is None or not window.isVisible():
            return
        browser = window.browser
        if not painted and tiles_ready(browser):
            painted = True
            browser.grid.viewport().repaint()  # painted with its thumbnails, now
            report()
        if painted and complete(window):
            timer.stop()
            report("COMPLETE")
            window.close()

    timer = QTimer(interval=1)
    timer.timeout.connect(poll)
    timer.start()
    from meteorgui.cli import main

    return main(["--data-dir", data_dir])


if __name__ == "__main__":
    raise SystemExit(bare() if sys.argv[1] == "bare" else app(sys.argv[2]))
