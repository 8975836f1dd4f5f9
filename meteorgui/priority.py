"""Threads whose work can wait run at a lower CPU priority than the window.

The window, the importer and the background work share one process and, on a small
machine, one or two CPUs. When a background thread (the sky worker's geometry, a
thumbnail's decoding, which releases the GIL) and the GUI thread both want a CPU, the
system's scheduler picks by priority: a background thread with a higher nice value
leaves the CPU to the window, and still gets all of it when the window is idle.
Linux gives each thread its own nice value; elsewhere this does nothing.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICE = 5  # added to the process's nice value
# Beside a window, the importer's threads too, further down than the background work:
# when cameras push faster than the computer answers, they wait a little longer for
# answers (they keep their entities until answered) and the window does not freeze.
# Eight request threads at +2 together outweighed the GUI thread for the one CPU they
# shared; at +10 the window's timer gaps of 50 ms or more while twelve cameras pushed fell
# from 116-126 a push to 2-13 (docs/performance.md, the push at the named rate).
# The background work (thumbnails the window waits for, the sky science's few ms per
# event) stays above the importer.
IMPORTER_NICE = 10
# Refreshes nobody waits for (camera health, the night chooser's counts): below all of
# them, so that a read the user waits for gets the CPU first.
REFRESH_NICE = 12


def lower_this_thread(by: int = BACKGROUND_NICE) -> None:
    """Raise the calling thread's nice value to the process's plus ``by`` (once: a pool
    thread that runs this again stays where it is; lowering it back needs privileges)."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere the id names no process, or another one, or the whole process
    tid = threading.get_native_id()
    try:
        target = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + by)
        if os.getpriority(os.PRIO_PROCESS, tid) < target:
            os.setpriority(os.PRIO_PROCESS, tid, target)
    except OSError:  # not allowed here (a sandbox): the thread keeps its priority
        pass
