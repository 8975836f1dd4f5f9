"""The import monitor dock: the live import log beside per-camera health."""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...archive import conversations as conv
from ...archive.conversations import Conversation
from ...formatting import shown
from ..common import style
from ..common.elide import fit_headers, full_text_tips
from ..common.text import escape, plain_tip
from .health import HealthPanel
from .importlog import (
    COL_ATTEMPTS,
    COL_BYTES,
    COL_CAMERA,
    COL_ENTITY,
    COL_MESSAGE,
    COL_REMOTE,
    COL_STATE,
    COL_TIME,
    MAX_ROWS,
    STATES,
    ConversationModel,
    ProblemsFilter,
    StateBadgeDelegate,
    is_stuck,
    source_rows,
)

log = logging.getLogger(__name__)

TICK_MS = 30_000  # re-check which open conversations are stuck


def resendable(c: Conversation, now: int) -> bool:
    """Failed or stuck conversations about an event or a file can be asked for again."""
    return c.kind in ("event", "file") and (c.state == conv.FAILED or is_stuck(c, now))


NOT_ARCHIVED_TEXT = (
    "Nothing needs doing for {what}: the archive does not hold {it} yet, so the camera still "
    "counts {it} as not sent and will offer {it} again by itself on its next export round "
    "(a MeteorPi camera waits about 30 minutes after a failure).\n\n"
    "If the same item fails again and again, look at the message in the log. A MeteorPi "
    "camera disables an export configuration after 4 failures in a row; re-enable it on "
    "the camera once the cause is fixed."
)


class ImportMonitor(QWidget):
    """Every import conversation as it happens, and how each camera is doing."""

    resendRequested = Signal(list)  # entity ids handed to the ResendDialog

    def __init__(self, ctx, parent=None, resend_dialog=None):
        super().__init__(parent)
        self.ctx = ctx
        # (ids, parent, note) -> the resend tool's dialog; given by the main window, so the
        # monitor does not import another feature.
        self.resend_dialog = resend_dialog
        self._closed = False
        self._dialogs: list[QDialog] = []

        self.model = ConversationModel(MAX_ROWS, self)
        self.proxy = ProblemsFilter(self)
        self.proxy.setSourceModel(self.model)

        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setItemDelegateForColumn(COL_STATE, StateBadgeDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 10)
        hh = self.view.horizontalHeader()
        hh.setHighlightSections(False)
        widths = {
            COL_TIME: 72,
            COL_CAMERA: 175,
            COL_REMOTE: 100,
            COL_ENTITY: 120,
            COL_STATE: 140,
            COL_BYTES: 70,
            COL_ATTEMPTS: 65,
        }
        for col, w in widths.items():
            hh.resizeSection(col, w)
        # The message fills what is left but never shrinks below a readable width: when
        # the dock is narrow the table scrolls sideways instead of showing "essag".
        hh.resizeSection(COL_MESSAGE, 260)
        hh.setStretchLastSection(True)
        # Shown right after the state, before the byte and attempt counts: what went wrong
        # is read before how much arrived.
        hh.moveSection(hh.visualIndex(COL_MESSAGE), hh.visualIndex(COL_STATE) + 1)
        # Titles at the left of their columns: a wide column scrolled half out of view
        # still shows its title.
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        fit_headers(hh)
        full_text_tips(self.view)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(self._double_clicked)

        self.problems_only = QCheckBox("Problems only")
        self.problems_only.setToolTip(
            "Failed, resend requested, retried, or stuck (no step for a few minutes)"
        )
        self.problems_only.toggled.connect(self._problems_toggled)
        self.count_label = QLabel()
        self.resend_button = QPushButton("Request resend…")
        self.resend_button.setToolTip(
            "Ask the camera again for the selected failed or stuck events or files"
        )
        self.resend_button.setEnabled(False)
        self.resend_button.clicked.connect(self.request_resend)
        self.steps_button = QPushButton("Steps…")
        self.steps_button.setToolTip("Every step of the selected conversation")
        self.steps_button.setEnabled(False)
        self.steps_button.clicked.connect(self._show_current_steps)

        head = QHBoxLayout()
        head.addWidget(QLabel("<b>Import log</b>"))
        head.addWidget(self.count_label)
        head.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.problems_only)
        actions.addWidget(self.steps_button)
        actions.addWidget(self.resend_button)
        # Side by side under the window; stacked when the monitor is docked at a side,
        # so a narrow dock does not widen the window past a small screen.
        self._bar = bar = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        bar.addLayout(head, 1)
        bar.addLayout(actions)
        log_box = QWidget(self)
        log_layout = QVBoxLayout(log_box)
        log_layout.setContentsMargins(0, 0, 0, 0)
        log_layout.addLayout(bar)
        log_layout.addWidget(self.view)

        self.health = HealthPanel(ctx, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.health)
        self.splitter.addWidget(log_box)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setSizes([520, 880])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.health.banner)
        layout.addWidget(self.splitter, 1)

        for signal in (
            self.model.rowsInserted,
            self.model.rowsRemoved,
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._update_count)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        # A busy night changes rows many times a second: re-check the buttons once per burst.
        self._buttons_timer = QTimer(self, singleShot=True, interval=0)
        self._buttons_timer.timeout.connect(self._selection_changed)
        self.model.dataChanged.connect(self._buttons_soon)

        self._tick = QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self.model.tick)
        self._tick.start()
        # Live updates first, then the history: nothing can fall in between.
        ctx.bridge.conversation.connect(self._conversation)
        self.loaded = False
        convs = ctx.archive.conversations
        ctx.tasks.run(lambda: convs.recent(limit=MAX_ROWS), self._loaded, self._load_failed)
        self._update_count()

    # ------------------------------------------------------------------ feeding

    def set_side(self, side: bool) -> None:
        """Docked at the window's left or right: the cameras above the log, the log's
        buttons under its title. Else side by side, in one row."""
        self.splitter.setOrientation(Qt.Orientation.Vertical if side else Qt.Orientation.Horizontal)
        self._bar.setDirection(
            QBoxLayout.Direction.TopToBottom if side else QBoxLayout.Direction.LeftToRight
        )

    def _conversation(self, c: Conversation) -> None:
        if not self._closed:
            self.model.add(c)

    def _loaded(self, rows: list[Conversation]) -> None:
        if self._closed:
            return
        self.model.load(rows)
        self.loaded = True
        self._update_count()

    def _load_failed(self, exc: BaseException) -> None:
        if not self._closed:
            self.loaded = True

    def _problems_toggled(self, on: bool) -> None:
        self.model.tick()
        self.proxy.set_problems_only(on)
        self._update_count()

    def _update_count(self, *_args) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        if self.proxy.problems_only:
            text = f"{shown} problem{'s' if shown != 1 else ''} in {total} conversations"
        else:
            text = f"{total} conversation{'s' if total != 1 else ''}"
        if total >= MAX_ROWS:
            text += f" (the latest {MAX_ROWS:,} are kept here)"
        self.count_label.setText(text)

    # ------------------------------------------------------------------ selection

    def selected_conversations(self) -> list[Conversation]:
        return [self.model.conversation(r) for r in source_rows(self.view, self.proxy)]

    def _selection_changed(self, *_args) -> None:
        selected = self.selected_conversations()
        self.steps_button.setEnabled(len(selected) == 1)
        self.resend_button.setEnabled(any(resendable(c, self.model.now) for c in selected))

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        selected = self.selected_conversations()
        menu = QMenu(self)
        steps = QAction("Show steps…", menu)
        steps.triggered.connect(
            lambda: self.show_steps(self.model.conversation(self.proxy.mapToSource(index).row()))
        )
        menu.addAction(steps)
        resend = QAction("Request resend…", menu)
        resend.setEnabled(any(resendable(c, self.model.now) for c in selected))
        resend.triggered.connect(self.request_resend)
        menu.addAction(resend)
        copy = QAction("Copy entity id", menu)
        ids = "\n".join(c.entity_id for c in selected)
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(ids))
        menu.addAction(copy)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------------ steps

    def _double_clicked(self, index: QModelIndex) -> None:
        self.show_steps(self.model.conversation(self.proxy.mapToSource(index).row()))

    def _show_current_steps(self) -> None:
        selected = self.selected_conversations()
        if selected:
            self.show_steps(selected[0])

    def show_steps(self, c: Conversation) -> StepsDialog:
        dlg = StepsDialog(self.ctx, c, self)
        self._keep(dlg)
        dlg.open()
        return dlg

    # ------------------------------------------------------------------ resend

    def request_resend(self) -> None:
        """Resend what is archived among the selected failed or stuck conversations."""
        now = self.model.now
        wanted = [c for c in self.selected_conversations() if resendable(c, now)]
        if not wanted:
            return
        archive = self.ctx.archive

        def work():
            return [
                (
                    c,
                    archive.has_event(c.entity_id)
                    if c.kind == "event"
                    else archive.has_file(c.entity_id),
                )
                for c in wanted
            ]

        self.ctx.tasks.run(work, self._resend_checked)

    def _resend_checked(self, checked: list[tuple[Conversation, bool]]) -> None:
        if self._closed:
            return
        archived = list(dict.fromkeys(c.entity_id for c, ok in checked if ok))
        missing = list(dict.fromkeys(f"{c.kind} {c.entity_id[:8]}" for c, ok in checked if not ok))
        if not archived:
            what = missing[0] if len(missing) == 1 else f"these {len(missing)} items"
            it = "it" if len(missing) == 1 else "them"
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Nothing to request",
                NOT_ARCHIVED_TEXT.format(what=what, it=it),
                QMessageBox.StandardButton.Ok,
                self,
            )
            self._keep(box)
            box.open()
            return
        note = None
        if missing:
            note = (
                f"Not included: {', '.join(missing)} — not in the archive yet, so the camera "
                "will offer them again by itself; nothing is needed for those."
            )
        if self.resend_dialog is None:
            self.resendRequested.emit(archived)
            return
        dlg = self.resend_dialog(archived, self, note)
        self._keep(dlg)
        self.resendRequested.emit(archived)
        dlg.open()

    def _keep(self, dlg: QDialog) -> None:
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs.append(dlg)
        dlg.finished.connect(
            lambda _r, d=dlg: self._dialogs.remove(d) if d in self._dialogs else None
        )

    def _buttons_soon(self, *_changed) -> None:
        if not self._closed:
            self._buttons_timer.start()

    def shutdown(self) -> None:
        self._closed = True
        self._tick.stop()
        self._buttons_timer.stop()
        self.model.shutdown()
        self.health.shutdown()
        for dlg in list(self._dialogs):
            dlg.close()


class StepsDialog(QDialog):
    """Every step of one conversation, in order."""

    def __init__(self, ctx, c: Conversation, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.conversation = c
        self.loaded = False
        self._closed = False
        self.setWindowTitle(f"Conversation {c.id}: {c.kind} {c.entity_id[:8]}")
        self.resize(880, 440)
        label, meaning = STATES.get(c.state, (c.state, "muted"))
        colour = style.colour(meaning)
        started = shown(c.started_at)
        info = QLabel(
            f"<b>{c.kind} {c.entity_id}</b><br>"
            f"camera {c.camera_id or '—'}, user {c.user}, from {c.remote_addr or 'this computer'}"
            f"<br>started {started:%Y-%m-%d %H:%M:%S}; now "
            f"<span style='color:{colour}'><b>{label}</b></span>"
            + (f"<br>{escape(c.message)}" if c.message else "")
        )
        info.setTextFormat(Qt.TextFormat.RichText)
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        info.setWordWrap(True)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Time", "State", "Detail"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        convs = ctx.archive.conversations
        ctx.tasks.run(lambda: convs.steps(c.id), self._show)

    def _show(self, steps) -> None:
        if self._closed:
            return
        self.table.setRowCount(len(steps))
        for row, step in enumerate(steps):
            t = shown(step.at)
            label, meaning = STATES.get(step.state, (step.state, "muted"))
            colour = style.colour(meaning)
            items = [
                QTableWidgetItem(f"{t:%H:%M:%S}.{t.microsecond // 1000:03d}"),
                QTableWidgetItem(label),
                QTableWidgetItem(step.detail or ""),
            ]
            items[1].setForeground(QColor(colour))
            items[2].setToolTip(plain_tip(step.detail))
            for col, item in enumerate(items):
                self.table.setItem(row, col, item)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        self.table.resizeRowsToContents()
        self.loaded = True

    def done(self, result: int) -> None:
        self._closed = True
        super().done(result)
