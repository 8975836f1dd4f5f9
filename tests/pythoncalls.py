"""What Python of the app's runs while Qt delivers events that the app has no use for.

Each call from Qt into Python takes the GIL anew, and waits for it while the importer's
threads run Python: an event filter or a virtual overridden in Python that sees every
event of an object (or of the whole application) makes the window wait thousands of
times a second.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject

import meteorgui

APP = str(Path(meteorgui.__file__).parent)


def python_run_for_events(target: QObject, events: int = 300) -> list[str]:
    """The app's functions called while ``events`` user events are delivered to target."""
    calls: list[str] = []

    def profile(frame, what, _arg):
        if what == "call" and frame.f_code.co_filename.startswith(APP):
            calls.append(frame.f_code.co_qualname)

    sys.setprofile(profile)
    try:
        for _ in range(events):
            QCoreApplication.postEvent(target, QEvent(QEvent.Type.User))
        QCoreApplication.sendPostedEvents(target)
    finally:
        sys.setprofile(None)
    return calls


def python_entered_during(action) -> list[str]:
    """The app's functions Qt called into while action (a Qt method, say a repaint) ran,
    named by the class of their object ("ConversationModel.rowCount", whichever base
    defines it): each such call takes the GIL anew."""
    here = sys._getframe()
    own = getattr(action, "__code__", None)  # a Python action: what Qt calls from it
    calls: list[str] = []

    def called_by_qt(frame) -> bool:
        back = frame.f_back
        if frame.f_code is own or back is None:
            return False
        return back is here or back.f_code is own

    def profile(frame, what, _arg):
        if what == "call" and called_by_qt(frame) and frame.f_code.co_filename.startswith(APP):
            owner = frame.f_locals.get("self")
            code = frame.f_code
            calls.append(
                code.co_qualname if owner is None else f"{type(owner).__name__}.{code.co_name}"
            )

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls
