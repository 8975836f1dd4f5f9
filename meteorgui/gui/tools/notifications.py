"""Desktop notifications (system tray) when new events arrive, batched per camera.

``install(ctx, window)`` is called once by the main window. Where there is no
system tray (offscreen, some desktops) it does nothing and returns None.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from ...archive import stats

log = logging.getLogger(__name__)

GATHER_MS = 4_000  # events arriving this close together make one notification
MIN_GAP_MS = 30_000  # and notifications come at most this often (a busy night is not a storm)
SHOW_MS = 8_000


# A desktop notification is shown by another program, which may read its body as markup
# (and load images): a camera's name goes there without markup characters.
_NO_MARKUP = str.maketrans({"<": "‹", ">": "›", "&": "＆"})


def message(counts: Counter, names: dict[str, str]) -> tuple[str, str]:
    """(title, body) for a batch of new events: '3 new events from <camera>'."""
    total = sum(counts.values())
    title = f"{total} new meteor event{'s' if total != 1 else ''}"
    parts = [((names.get(cam) or cam).translate(_NO_MARKUP), n) for cam, n in counts.most_common()]
    if len(parts) == 1:
        name, n = parts[0]
        body = f"{n} new event{'s' if n != 1 else ''} from {name}"
    else:
        shown = ", ".join(f"{n} from {name}" for name, n in parts[:3])
        more = len(parts) - 3
        body = f"{total} new events: {shown}" + (f" and {more} more cameras" if more > 0 else "")
    return title, body


class EventNotifier(QObject):
    """Gathers archived events and hands one (title, body) at a time to ``show``."""

    def __init__(
        self,
        ctx,
        show: Callable[[str, str], None],
        parent=None,
        *,
        gather_ms: int = GATHER_MS,
        gap_ms: int = MIN_GAP_MS,
    ):
        super().__init__(parent)
        self.ctx = ctx
        self.show = show
        self._counts: Counter = Counter()
        self._names: dict[str, str] = {}
        self._closed = False
        self._gather = QTimer(self, singleShot=True, interval=gather_ms)
        self._gather.timeout.connect(self.flush)
        self._gap = QTimer(self, singleShot=True, interval=gap_ms)
        self._gap.timeout.connect(self._gap_over)
        ctx.bridge.archived.connect(self._archived)

    def _archived(self, payload) -> None:
        kind, entity = payload
        if self._closed or kind != "event" or not self.ctx.settings.notifications:
            return
        self._counts[entity.camera_id] += 1
        if not self._gather.isActive() and not self._gap.isActive():
            self._gather.start()

    def _gap_over(self) -> None:
        if self._counts:
            self.flush()

    def flush(self) -> None:
        """Look up camera names off the GUI thread, then notify once."""
        if self._closed or not self._counts:
            return
        counts, self._counts = self._counts, Counter()
        self._gap.start()
        unknown = [c for c in counts if c not in self._names]
        if not unknown:
            self._show(counts)
            return
        archive = self.ctx.archive

        def names() -> dict[str, str]:
            latest = stats.latest_statuses(archive)
            return {c: (latest.get(c) or {}).get("inst_name") or c for c in unknown}

        def done(found: dict[str, str]) -> None:
            self._names.update(found)
            self._show(counts)

        self.ctx.tasks.run(names, done, lambda _e: self._show(counts))

    def _show(self, counts: Counter) -> None:
        if self._closed or not self.ctx.settings.notifications:
            return
        title, body = message(counts, self._names)
        self.show(title, body)

    def shutdown(self) -> None:
        self._closed = True
        self._gather.stop()
        self._gap.stop()


class TrayNotifications(QObject):
    """The tray icon and its notifier; a shared service with ``shutdown()``."""

    def __init__(self, ctx, window, parent=None):
        super().__init__(parent)
        self.window = window
        icon = window.windowIcon()
        if icon.isNull():
            icon = QApplication.windowIcon()
        if icon.isNull():
            from ...resources import resource_path

            icon = QIcon(str(resource_path("icons", "meteorgui.svg")))
        self.tray = QSystemTrayIcon(icon, self)
        self.tray.setToolTip("meteorgui")
        self.menu = QMenu()
        self.menu.addAction("Show meteorgui", self.raise_window)
        quit_action = getattr(window, "act_quit", None)
        if quit_action is not None:
            self.menu.addAction(quit_action)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self.tray.messageClicked.connect(self.raise_window)
        self.notifier = EventNotifier(ctx, self._show, self)
        self.tray.show()

    def _show(self, title: str, body: str) -> None:
        self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, SHOW_MS)

    def _activated(self, reason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.raise_window()

    def raise_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def shutdown(self) -> None:
        self.notifier.shutdown()
        self.tray.hide()
        self.menu.deleteLater()


def install(ctx, window) -> TrayNotifications | None:
    """Add the tray icon and event notifications, if this desktop has a tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        log.info("no system tray: desktop notifications are off")
        return None
    service = TrayNotifications(ctx, window, window)
    ctx.notifications = service
    return service
