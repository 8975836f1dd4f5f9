"""The main window: browser and detail in the middle, import monitor and log in docks.

Started with ``defer=True`` (the app), the window shows the event browser first and builds
the rest in ``finish_start()``, once the first page of events is on screen: until then the
detail pane's "No event selected" page and the docks' empty frames hold their places.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolButton,
    QWidget,
)

from .. import formatting, notify, paths
from ..importer.addresses import LOOPBACK, NO_LOGIN_YET, is_loopback_host, next_free_port
from .browser import EventBrowser
from .common import style
from .common.context import GuiContext
from .common.shortcuts import set_shortcuts
from .common.text import message, plain, plain_tip
from .detail.empty import no_event_page
from .monitor.logview import Backlog

log = logging.getLogger(__name__)

APP_TITLE = "meteorgui"
# While the importer waits for a first login, how often the users are read again: a login
# another process adds (`meteorgui user add` while the window is open) is not heard on
# this process's hub.
LOGIN_POLL_MS = 5000


class MainWindow(QMainWindow):
    importerStateChanged = Signal(bool)
    zoneChanged = Signal(bool)  # True: times in UTC

    def __init__(
        self,
        ctx: GuiContext,
        *,
        demo: bool = False,
        defer: bool = False,
        parent: QWidget | None = None,
    ):
        """``defer``: leave what the first paint does not need to ``finish_start()``."""
        super().__init__(parent)
        self._fit_pending = False  # a dock moved: keep the window within the screen
        self._fit_tries = 0
        self.ctx = ctx
        self.demo = demo
        self.port_prompt: QMessageBox | None = None  # visible while asking about a taken port
        self._closing = False
        self.setWindowTitle(f"{APP_TITLE} — {ctx.archive.data_dir}" + ("  (demo)" if demo else ""))
        self.review_layout = False
        self.normal_layout: dict | None = None  # the layout to go back to from review
        self.resize(self.default_size())

        self.browser = EventBrowser(ctx, self)
        self.detail = None  # EventDetail, built by finish_start() (or on the first selection)
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.browser)
        splitter.addWidget(no_event_page())  # what the detail pane shows first, meanwhile
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes(self._default_split())
        self._split_once = False  # set again when first shown (showEvent)
        self.setCentralWidget(splitter)
        self.browser.eventSelected.connect(self._event_selected)
        self.browser.fileSelected.connect(self._file_selected)
        self.browser.review_target = self._review_target

        # The docks are there from the first paint, empty until finish_start() fills them:
        # nothing moves when their contents arrive, and a saved window state finds every
        # dock by its name. The Log dock shows what was logged before it was built.
        self.monitor = None  # ImportMonitor
        self.log_view = None  # LogView
        self.export_ui = None
        self._finished = False  # finish_start() has run
        self._log_backlog: Backlog | None = Backlog()
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.monitor_dock = self._dock("Import monitor", None, "monitor", bottom)
        self.log_dock = self._dock("Log", None, "log", bottom)
        self.export_dock = self._dock("Export", None, "export", bottom)
        self.tabifyDockWidget(self.monitor_dock, self.log_dock)
        self.tabifyDockWidget(self.log_dock, self.export_dock)
        # Beside the event list the monitor stacks its two tables: side by side they made
        # the window wider than the screen.
        self.monitor_dock.dockLocationChanged.connect(self._monitor_moved)
        self.monitor_dock.raise_()
        # The picture gets the height: the docks start at a modest size.
        self.resizeDocks([self.monitor_dock], [200], Qt.Orientation.Vertical)

        self._build_actions()
        self._build_status_bar()
        ctx.bridge.server.connect(lambda _info: self._refresh_importer_state())
        # A login added anywhere (the setup dialogs, a script) may let the importer listen
        # on every network.
        ctx.bridge.changed.connect(self._archive_changed)
        # A login another process adds is not heard on the hub: while the importer waits
        # for a first login, the users are read again (start_importer starts it).
        self._login_poll = QTimer(self)
        self._login_poll.timeout.connect(self.logins_changed)
        ctx.bridge.conversation.connect(self._count_soon)
        self._refresh_importer_state()
        from . import layout

        # The saved layout before the first paint: the window opens where and as it was
        # left. What finish_start() builds gets its part (its splitters) then. Reset
        # comes back to the layout as built.
        where = ctx.archive.data_dir if demo else paths.config_dir()
        self.layout_store = layout.WindowLayout(self, Path(where) / layout.FILE_NAME)
        self.layout_store.restore()
        if not defer:
            self.finish_start()

    def finish_start(self) -> None:
        """The parts the first page of events does not need: the detail pane, the import
        monitor, the log, the exporter (with requests), the tray, the status bar's counts.
        Once; anything that needs these parts earlier calls it."""
        if self._finished or self._closing:
            return
        self._finished = True
        from .export import menu as export_menu
        from .monitor import ImportMonitor
        from .monitor.logview import LogView
        from .tools import notifications

        self._build_detail()
        self.monitor = ImportMonitor(self.ctx, self, resend_dialog=self._resend_dialog)
        self.monitor_dock.setWidget(self.monitor)
        self.monitor.set_side(self._docked_at_side())
        self.monitor.health.warningsChanged.connect(self._camera_warnings)
        self.log_view = LogView(self.ctx, self, backlog=self._log_backlog)
        self._log_backlog = None
        self.log_dock.setWidget(self.log_view)
        # The Export menu, actions and dock's contents; the service is ctx.export.
        self.export_ui = export_menu.install(self.ctx, self)
        self.monitor.splitter.setSizes([560, 720])  # the camera table whole, status included
        notifications.install(self.ctx, self)  # None without a system tray
        self.browser.count_nights()  # the first look counted the newest night alone
        self._refresh_counts()
        self.check_disk()
        self.layout_store.restore_built()

    def _export(self, what: str) -> None:
        """One of the export actions: the export part of the window does it, built first
        if the action came before the rest of the window was."""
        self.finish_start()
        if self.export_ui is not None:
            getattr(self.export_ui, what)()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._split_once:
            # Sized before it was laid out, the splitter gave its panes their minimums and
            # shared the rest by stretch (925 px of 1280 for the events when the pane was
            # built first): the default split is set now, a saved one restored after it.
            self._split_once = True
            self.layout().activate()  # the splitter at its width: the sizes then hold
            self.splitter.setSizes(self._default_split())
        # Laid out at its size, not painted yet: the saved splitter positions now hold.
        self.layout_store.restore_built()

    def _build_detail(self) -> None:
        if self.detail is not None:
            return
        from .detail import EventDetail

        self.detail = EventDetail(self.ctx, self)
        # In the stand-in's place, at its size: nothing on screen moves (built before the
        # window is shown, the first showEvent sets the split).
        sizes = self.splitter.sizes()
        self.splitter.replaceWidget(1, self.detail).deleteLater()
        self.splitter.setSizes(sizes)
        if self.review_layout:
            self.detail.set_side_column(True)

    def _event_selected(self, event_id: str) -> None:
        if self.detail is None and event_id:
            self.finish_start()  # selected before the rest was built: build it now
        if self.detail is not None:  # else "No event selected" is already shown
            self.detail.show_event(event_id)

    def _file_selected(self, file_id: str) -> None:
        if self.detail is None and file_id:
            self.finish_start()
        if self.detail is not None:
            self.detail.show_file(file_id)

    # ------------------------------------------------------------------ layout

    def _default_split(self) -> list[int]:
        """Three fifths of the width for the events (four cards a line at 1280 px), as the
        stretch factors share it; the rest holds the pane's title row whole (its type and
        time, the shower and the review), which elides rather than widen the pane."""
        events = self.width() * 3 // 5
        return [events, self.width() - events]

    def default_size(self) -> QSize:
        """1280×800 at most, within the screen's free area (title bar and panels left out)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        if avail is None or avail.isEmpty():
            return QSize(1280, 800)
        frame = 32  # a typical title bar, unknown until the window manager has framed us
        return QSize(min(1280, avail.width()), min(800, avail.height() - frame))

    def _docked_at_side(self) -> bool:
        return self.dockWidgetArea(self.monitor_dock) in (
            Qt.DockWidgetArea.LeftDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )

    def _monitor_moved(self, area) -> None:
        side = area in (
            Qt.DockWidgetArea.LeftDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        if self.monitor is not None:  # else it is built for where its dock is
            self.monitor.set_side(side)
        # Qt widens the window to make room for a side dock, laying it out after this
        # signal: on a small screen that pushes the window past the screen's edge. The
        # next resize brings it back within the screen.
        self._fit_pending = True
        self._fit_tries = 0
        QTimer.singleShot(0, self._fit_screen)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_pending:
            QTimer.singleShot(0, self._fit_screen)

    def _fit_screen(self) -> None:
        screen = self.screen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        avail = screen.availableGeometry()
        width = max(min(self.width(), avail.width()), self.minimumSizeHint().width())
        if width < self.width():
            self._fit_pending = False
            self.resize(width, self.height())
        elif self.width() > avail.width() and self._fit_tries < 25:
            # The monitor's new direction reaches the window's minimum size with a later
            # layout pass, which need not resize the window: look again shortly.
            self._fit_tries += 1
            QTimer.singleShot(20, self._fit_screen)

    def reset_layout(self) -> None:
        self.finish_start()
        self.layout_store.reset()

    def splitters(self) -> dict:
        """The window's splitters by name: those built so far (see finish_start)."""
        parts = {
            "main": self,
            "monitor": self.monitor,
            "browser": self.browser,
            "detail": self.detail,
        }
        return {name: part.splitter for name, part in parts.items() if part is not None}

    def docks(self) -> list[QDockWidget]:
        return self.findChildren(QDockWidget)

    def set_review_layout(self, on: bool) -> None:
        """One large picture: docks, tool bar and time-lapse strip put away, the event list
        a narrow column, the file facts and metadata beside the picture. Off: as before."""
        if on == self.review_layout:
            return
        self.finish_start()  # the detail pane (building the rest may restore this layout)
        if on == self.review_layout:
            return
        if on:
            self.normal_layout = self.layout_store.capture()
            self.review_layout = True
            for dock in self.docks():
                dock.hide()
            self.toolbar.hide()
            # The filters stay as set; hidden, the event list can be a narrow column.
            self.browser.filters.hide()
            self.browser.strip_box.hide()
            total = sum(self.splitter.sizes()) or self.width()
            column = min(self.browser.column_width(2), total // 3)
            self.splitter.setSizes([column, total - column])
            self.detail.set_side_column(True)
        else:
            self.review_layout = False
            self.detail.set_side_column(False)
            self.browser.filters.show()
            self.browser.strip_box.show()
            self.toolbar.show()
            if self.normal_layout is not None:
                self.layout_store.apply(self.normal_layout)
            self.normal_layout = None
        self.act_review_layout.setChecked(on)

    def _camera_warnings(self, warnings: list) -> None:
        title = "Import monitor"
        self.monitor_dock.setWindowTitle(
            f"{title} — ⚠ {len(warnings)} camera(s) need attention" if warnings else title
        )

    # ------------------------------------------------------------------ layout

    def _dock(self, title: str, widget: QWidget | None, name: str, area) -> QDockWidget:
        """The dock ``name``; one the window made already (empty) is given ``widget``."""
        dock = self.findChild(QDockWidget, f"dock-{name}")
        if dock is None:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock-{name}")
            self.addDockWidget(area, dock)
        if widget is not None:
            dock.setWidget(widget)
        return dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            set_shortcuts(act, *(shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(plain_tip(tip))
        act.triggered.connect(slot)
        return act

    def find(self) -> None:
        """Edit ▸ Find: to the search box, its text selected so typing replaces it."""
        box = self.browser.filters.text
        box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        box.selectAll()

    def _build_actions(self) -> None:
        a = self._action
        # StandardKey.Quit is Ctrl+Q on X11 but empty on Windows and offscreen: both are
        # given, and set_shortcuts keeps Ctrl+Q once (twice, Qt would ignore it as ambiguous).
        self.act_quit = a(
            "&Quit",
            self.close,
            [QKeySequence.StandardKey.Quit, "Ctrl+Q"],
            "Stop the importer and quit",
        )
        self.act_quit.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.addAction(self.act_quit)
        self.act_importer = a(
            "Start importer", self.toggle_importer, None, "Start or stop receiving from cameras"
        )
        self.act_camera_setup = a(
            "Camera setup…",
            self.show_camera_setup,
            None,
            "What to enter on a MeteorPi camera to send here",
        )
        self.act_users = a("Users…", self.show_users, None, "Who may send data here")
        self.act_find = a(
            "Find…",
            self.find,
            [QKeySequence.StandardKey.Find, "Ctrl+F"],
            "Search the events: cameras, metadata, ids, labels",
        )
        self.addAction(self.act_find)
        self.act_settings = a("Settings…", self.show_settings, QKeySequence.StandardKey.Preferences)
        self.act_verify = a(
            "Verify archive…", self.show_verify, None, "Re-check every stored file against its MD5"
        )
        self.act_resend = a(
            "Request resend…",
            self.request_resend,
            None,
            "Ask the camera to send the selected events or files again",
        )
        self.act_summary = a(
            "Night summary…", self.show_summary, None, "Events per hour for the selected night"
        )
        self.act_open_data = a(
            "Open data folder",
            self.open_data_folder,
            None,
            "Show the archive's folder in the file manager",
        )
        self.act_about = a("About meteorgui", self.show_about)
        self.act_review_layout = a(
            "Review layout",
            lambda checked: self.set_review_layout(checked),
            "R",
            "One large picture with the event list beside it; press R again to go back",
        )
        self.act_review_layout.setCheckable(True)
        self.act_reset_layout = a(
            "Reset layout",
            self.reset_layout,
            None,
            "Put docks, panes and the window back as they were at first",
        )
        self.act_keys = a(
            "Keyboard shortcuts",
            self.show_shortcuts,
            QKeySequence.StandardKey.HelpContents,
            "Every key meteorgui answers to",
        )

        # The export actions and menu are there from the first paint (their shortcut too);
        # the export module behind them is built with the rest of the window, at once if
        # one is used before that (finish_start).
        self.act_export = a(
            "Export to a server…",
            lambda: self._export("export_selected"),
            QKeySequence("Ctrl+E"),
            "Send the selected events, or what the filters match, to an export target",
        )
        self.act_export_folder = a(
            "Export to folder…",
            lambda: self._export("export_to_folder"),
            None,
            "Write the selected events' files and a manifest to a folder or zip",
        )
        self.act_export_meteors = a(
            "Export meteors (FTPdetectinfo, CSV)…",
            lambda: self._export("export_meteors"),
            None,
            "Write the selected meteors as CAMS FTPdetectinfo, or a CSV with their showers",
        )
        self.act_export_targets = a(
            "Export targets…",
            lambda: self._export("show_targets"),
            None,
            "Where this archive can export to",
        )
        self.act_export_rules = a(
            "Scheduled exports…",
            lambda: self._export("show_rules"),
            None,
            "Rules that export in the background while meteorgui runs",
        )
        self.act_export_progress = self.export_dock.toggleViewAction()
        self.act_export_progress.setText("Export progress")

        m = self.menuBar()
        file_menu = m.addMenu("&File")
        for act in (self.act_open_data, self.act_verify, self.act_settings):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit = m.addMenu("&Edit")
        edit.addAction(self.browser.undo_action)
        edit.addAction(self.browser.redo_action)
        edit.addSeparator()
        edit.addAction(self.act_find)
        imp = m.addMenu("&Importer")
        for act in (self.act_importer, self.act_camera_setup, self.act_users):
            imp.addAction(act)
        ev = m.addMenu("&Events")
        for act in (self.act_resend, self.act_summary):
            ev.addAction(act)
        review = ev.addMenu("&Review")
        for act in self.browser.review_actions:
            review.addAction(act)
        ev.addSeparator()
        for act in (self.act_export, self.act_export_folder, self.act_export_meteors):
            ev.addAction(act)
        self.events_menu = ev
        export = self.export_menu = m.addMenu("E&xport")
        for act in (self.act_export, self.act_export_folder, self.act_export_meteors):
            export.addAction(act)
        export.addSeparator()
        for act in (self.act_export_targets, self.act_export_rules):
            export.addAction(act)
        export.addSeparator()
        export.addAction(self.act_export_progress)
        view = m.addMenu("&View")
        for act in self.browser.view_actions:
            view.addAction(act)
        view.addSeparator()
        view.addAction(self.act_review_layout)
        view.addAction(self.act_reset_layout)
        view.addSeparator()
        view.addAction(self.monitor_dock.toggleViewAction())
        view.addAction(self.log_dock.toggleViewAction())
        view.addAction(self.act_export_progress)
        self.view_menu = view
        help_menu = self.help_menu = m.addMenu("&Help")
        self.act_help_camera = a(
            "Connecting a camera…",
            self.show_camera_setup,
            None,
            "The URL, user and password to type into a MeteorPi camera",
        )
        help_menu.addAction(self.act_help_camera)
        help_menu.addSeparator()
        help_menu.addAction(self.act_keys)
        help_menu.addAction(self.act_about)

        tb = self.toolbar = self.addToolBar("Main")
        tb.setObjectName("toolbar-main")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for act in (
            self.act_importer,
            self.act_camera_setup,
            self.act_verify,
            self.act_resend,
            self.act_summary,
            self.act_export,
        ):
            tb.addAction(act)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.importer_label = plain(QLabel())
        self.importer_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.counts_label = plain(QLabel())
        sb.addWidget(self.importer_label, 1)
        sb.addPermanentWidget(self.counts_label)
        # Shown only while the archive's disk is below Settings.disk_warning_mb.
        self.disk_label = QLabel()
        self.disk_label.setTextFormat(Qt.TextFormat.PlainText)
        self.disk_label.setStyleSheet(f"color: {style.ERROR};")
        self.disk_label.hide()
        sb.addPermanentWidget(self.disk_label)
        # Which clock every time is shown in; one click switches (astronomers work in UTC).
        self.zone_button = QToolButton(self)
        self.zone_button.setCheckable(True)
        self.zone_button.setAutoRaise(True)
        self.zone_button.setChecked(formatting.showing_utc())
        self.zone_button.toggled.connect(self.set_times_utc)
        self._show_zone()
        sb.addPermanentWidget(self.zone_button)
        # Counting is a query: batch bursts of conversation updates into one, off the GUI thread.
        self._counting = False
        self._counts_timer = QTimer(self, singleShot=True, interval=300)
        self._counts_timer.timeout.connect(self._refresh_counts)
        # Counted again each minute too: "today" turns at midnight, conversations go stuck.
        self._counts_tick = QTimer(self, interval=60_000)
        self._counts_tick.timeout.connect(self._refresh_counts)
        self._counts_tick.timeout.connect(self.check_disk)
        self._counts_tick.start()

    # ------------------------------------------------------------------ times

    def _show_zone(self) -> None:
        utc = formatting.showing_utc()
        self.zone_button.setText("Times: UTC" if utc else "Times: local")
        self.zone_button.setToolTip(
            "Times are shown in UTC: click for this computer's local time"
            if utc
            else "Times are shown in this computer's local time: click for UTC"
        )

    def set_times_utc(self, utc: bool) -> None:
        """Show every time in UTC or in local time, now and at the next start."""
        if utc == formatting.showing_utc() and self.zone_button.isChecked() == utc:
            return
        formatting.use_utc(utc)
        self.zone_button.blockSignals(True)
        self.zone_button.setChecked(utc)
        self.zone_button.blockSignals(False)
        self._show_zone()
        settings = self.ctx.settings
        settings.times_utc = utc
        try:
            settings.save()
        except OSError as exc:
            log.warning("Could not save the time zone choice: %s", exc)
        # Texts already on screen are written again in the new zone.
        for view in self.findChildren(QAbstractItemView):
            model = view.model()
            root = QModelIndex()
            rows = model.rowCount(root) if model is not None else 0
            if model is None:
                columns = 0
            elif isinstance(model, QAbstractListModel):  # its columnCount is private
                columns = 1
            else:
                columns = model.columnCount(root)
            if rows and columns:
                last = model.index(rows - 1, columns - 1)
                model.dataChanged.emit(model.index(0, 0), last)
            clear = getattr(view.itemDelegate(), "clear_cache", None)
            if clear is not None:  # painted tiles carry their time
                clear()
            view.viewport().update()
        if getattr(self.detail, "info", None) is not None:
            self.detail.refresh()
        if self.monitor is not None:
            self.monitor.health.refresh()
            self.monitor.model.refresh()  # the import log's cells hold their texts
        self.zoneChanged.emit(utc)

    def show_problem(self, line: str) -> None:
        """A problem the user must see (a resource missing, the demo camera stopped): kept
        in the status bar until meteorgui quits."""
        label = getattr(self, "problem_label", None)
        if label is None:
            label = self.problem_label = QLabel()
            label.setObjectName("problem")
            label.setStyleSheet(f"color: {style.ERROR}; font-weight: bold")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.statusBar().insertWidget(0, label, 2)
        label.setText(line)  # the latest; the tooltip and the Log dock keep them all
        self._problems = [*getattr(self, "_problems", []), line]
        label.setToolTip(plain_tip("\n".join(self._problems)))

    # ------------------------------------------------------------------ importer

    def listen_host(self) -> tuple[str, str]:
        """Where to listen, and why it is this computer only when the settings say more.

        The demo never listens beyond this computer; nor does anyone's archive before a
        login with the import role exists (nothing could send, but the port would be open).
        """
        host = self.ctx.settings.host
        if is_loopback_host(host):
            return host, ""
        if self.demo:
            return "127.0.0.1", "the demo"
        if not self.ctx.core.has_import_user():
            return "127.0.0.1", NO_LOGIN_YET
        return host, ""

    def _archive_changed(self, change: notify.Change) -> None:
        if isinstance(change, notify.UsersChanged):
            self.logins_changed()

    def logins_changed(self) -> None:
        """A login may now exist: listen where the settings say (same port)."""
        core = self.ctx.core
        if not (core.importer_running and core.loopback_reason == NO_LOGIN_YET):
            self._login_poll.stop()
            return
        if core.has_import_user():
            port = core.server.port
            log.info("A camera login exists: the importer now listens on every network")
            self.stop_importer()
            self.start_importer(port=port)

    def start_importer(self, port: int | None = None) -> bool:
        """Start listening; if the port is taken, say so and offer another. True if running."""
        from ..importer import (  # with Flask and waitress: not before the first paint
            ImporterBusy,
            PortInUse,
        )

        s = self.ctx.settings
        port = s.port if port is None else port
        host, reason = self.listen_host()
        try:
            self.ctx.core.start_importer(host, port, loopback_reason=reason)
            if reason == NO_LOGIN_YET:
                log.warning(
                    "The importer listens on this computer only until a camera login "
                    "exists (Importer → Camera setup)"
                )
                self._login_poll.start(LOGIN_POLL_MS)
            elif reason:
                log.info("The importer listens on this computer only (%s)", reason)
        except PortInUse:
            self._offer_other_port(port)
            return False
        except ImporterBusy as exc:  # `meteorgui serve` (a service) imports into it already
            message(self, "Importer not started", f"The importer was not started: {exc.strerror}.")
            return False
        except OSError as exc:
            message(
                self,
                "Importer not started",
                f"The importer could not listen on {s.host}:{port}:\n{exc}",
            )
            return False
        finally:
            self._refresh_importer_state()
        return True

    def _offer_other_port(self, port: int) -> None:
        host = self.ctx.settings.host
        other = next_free_port(host, port + 1)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Port in use")
        text = (
            f"Port {port} is already in use on this computer, perhaps by another "
            "meteorgui or by 'meteorgui serve'. The importer is not running, so cameras "
            "cannot send to this window."
        )
        box.setText(text)
        if other is not None:
            box.setInformativeText(
                f"Use port {other} instead? Cameras must then be set to "
                "send to the new address (see Camera setup)."
            )
            use = box.addButton(f"Use port {other}", QMessageBox.ButtonRole.AcceptRole)
        else:
            use = None
        box.addButton("Don't start", QMessageBox.ButtonRole.RejectRole)

        def done(_result):
            self.port_prompt = None
            if use is not None and box.clickedButton() is use:
                self.ctx.settings.port = other
                try:
                    self.ctx.settings.save()
                except OSError as exc:  # the importer starts anyway, on this port for now
                    log.warning("Could not save port %s in the settings: %s", other, exc)
                    self.statusBar().showMessage(
                        f"Port {other} could not be saved in the settings ({exc.strerror or exc});"
                        " it is used until meteorgui quits.",
                        15000,
                    )
                self.start_importer(other)

        box.finished.connect(done)
        self.port_prompt = box
        box.open()

    def stop_importer(self) -> None:
        self._login_poll.stop()
        self.ctx.core.stop_importer()
        self._refresh_importer_state()

    def toggle_importer(self) -> None:
        if self.ctx.core.importer_running:
            self.stop_importer()
        else:
            self.start_importer()

    def _refresh_importer_state(self) -> None:
        server = self.ctx.core.server
        running = self.ctx.core.importer_running
        if running:
            addresses = server.addresses()
            reason = self.ctx.core.loopback_reason
            if reason:
                hint = "; see Importer → Camera setup" if reason == NO_LOGIN_YET else ""
                text = f"● Importer on this computer only ({reason}{hint}): {addresses[0].url}"
            else:
                lan = [a for a in addresses if a.kind != LOOPBACK] or addresses
                text = "● Importer running: " + "  ".join(a.line() for a in lan)
            self.importer_label.setText(text)
            self.importer_label.setToolTip(plain_tip("\n".join(a.line() for a in addresses)))
            self.importer_label.setStyleSheet(
                f"color: {style.WARNING};" if reason else f"color: {style.OK};"
            )
            self.act_importer.setText("Stop importer")
        else:
            self.importer_label.setText("○ Importer stopped: cameras cannot send here")
            self.importer_label.setToolTip("")
            self.importer_label.setStyleSheet(f"color: {style.ERROR};")
            self.act_importer.setText("Start importer")
        self.importerStateChanged.emit(running)

    def _refresh_counts(self) -> None:
        if self._counting:  # one count at a time; the next tick or step brings it up to date
            return
        self._counting = True
        midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        since = int(midnight.timestamp() * 1000)
        convs = self.ctx.archive.conversations
        self.ctx.tasks.run(
            lambda: convs.counts_since(since), self._show_counts, self._counts_failed
        )

    def check_disk(self) -> None:
        """Warn in the status bar while the archive's disk is low (checked each minute)."""
        core, threshold = self.ctx.core, self.ctx.settings.disk_warning_mb
        self.ctx.tasks.run(lambda: core.disk_status(threshold), self._show_disk)

    def _show_disk(self, status) -> None:
        self.disk_label.setText(f"Disk: {status.message}" if status.low else "")
        self.disk_label.setVisible(status.low)

    def _counts_failed(self, _exc: BaseException) -> None:
        self._counting = False

    def _show_counts(self, counts: dict) -> None:
        self._counting = False
        text = (
            f"Today: {counts['complete']} complete · {counts['failed']} failed · "
            f"{counts['pending']} going on"
        )
        if counts.get("stuck"):
            text += f" · {counts['stuck']} stuck"
        self.counts_label.setText(text)
        self.counts_label.setToolTip(
            "Import conversations since midnight. A failure the camera made good later is "
            "not counted; stuck: no word from the camera for 3 minutes in mid-conversation."
        )

    # ------------------------------------------------------------------ actions

    @staticmethod
    def _open(dialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_camera_setup(self) -> None:
        from .setup.camera import CameraSetupDialog

        dlg = CameraSetupDialog(self.ctx, self)
        self._open(dlg)

    def show_users(self) -> None:
        from .setup.users import UsersDialog

        dlg = UsersDialog(self.ctx, self)
        self._open(dlg)

    def show_settings(self) -> None:
        from .setup.settings import SettingsDialog

        dlg = SettingsDialog(self.ctx, self)
        dlg.applied.connect(self._settings_applied)
        dlg.open()

    def _settings_applied(self, restart_importer: bool) -> None:
        if self.ctx.settings.times_utc != formatting.showing_utc():
            self.set_times_utc(self.ctx.settings.times_utc)
        if restart_importer and self.ctx.core.importer_running:
            self.stop_importer()
            self.start_importer()

    def show_verify(self) -> None:
        from .tools.verify import VerifyDialog

        self._open(VerifyDialog(self.ctx, self))

    def request_resend(self) -> None:
        from .tools.resend import ResendDialog

        n, read = self.browser.selected_events()
        files = self.browser.selected_file_ids()
        if not (n or files):
            QMessageBox.information(
                self, "Request resend", "Select the events or files to ask for again first."
            )
            return

        def chosen(ids: list[str]) -> None:
            if not self._closing:
                self._open(ResendDialog(self.ctx, ids + files, self))

        # The selected rows the browser has not read are read in the pool first.
        self.ctx.tasks.run(read, chosen, owner=self)

    def _resend_dialog(self, ids: list[str], parent: QWidget, note: str | None):
        from .tools.resend import ResendDialog

        return ResendDialog(self.ctx, ids, parent, note=note)

    def _count_soon(self, _conversation=None) -> None:
        if not self._closing:  # a conversation can still arrive while the window closes
            self._counts_timer.start()

    def _review_target(self) -> str:
        """The event a review key may label: the one the detail pane shows, if it is the
        selected one; else "" and the key does nothing (the user cannot see what it labels)."""
        if self.detail is None:
            return ""  # nothing shown yet
        shown = self.detail.shown_event_id()
        return shown if shown and shown == self.browser.current_event_id() else ""

    def show_summary(self) -> None:
        from .tools.summary import NightSummaryDialog

        night = getattr(self.browser, "current_night_start_ms", lambda: None)()
        self._open(NightSummaryDialog(self.ctx, night, self))

    def open_data_folder(self) -> bool:
        folder = str(self.ctx.archive.data_dir)
        if QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
            return True
        log.warning("No file manager could open the data folder %s", folder)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Open data folder",
            f"No file manager could open the data folder. It is:\n{folder}",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.folder_message = box
        box.open()
        return False

    def show_shortcuts(self) -> None:
        from .common.shortcuts import ShortcutsDialog

        self._open(ShortcutsDialog(self))

    def show_about(self) -> None:
        from .. import __version__

        QMessageBox.about(
            self,
            "About meteorgui",
            f"<b>meteorgui {__version__}</b><p>A home archive for meteor cameras that speak "
            "the MeteorPi import protocol.</p>"
            f"<p>Archive: {self.ctx.archive.data_dir}<br>"
            f"Settings: {self.ctx.settings.path()}</p>",
        )

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event) -> None:
        if not self._closing:
            self._closing = True
            try:
                self.layout_store.save()
            except Exception:  # noqa: BLE001 - never a reason not to quit
                log.exception("saving the window layout failed")
            self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop taking data first; the caller closes the archive after the window is gone."""
        t = time.monotonic()
        self._counts_timer.stop()
        self._counts_tick.stop()
        self._login_poll.stop()
        if self._log_backlog is not None:
            self._log_backlog.close()
        for child in (self.browser, self.detail, self.monitor, self.log_view):
            stop = getattr(child, "shutdown", None)
            if stop is not None:
                stop()
        self.ctx.core.stop_importer()
        log.info("window closed in %.0f ms", (time.monotonic() - t) * 1000)
