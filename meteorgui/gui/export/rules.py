"""Scheduled exports: the rules with their live state (the editor is export_rule_edit.py).

A rule's state comes from the scheduler (idle, running, ok, waiting,
backing off, disabled) with its last error and next attempt, updated live
through the export service. Rules are only ever disabled by the user here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...archive.exports import REVIEWED, UNREVIEWED, Selection
from ...exporter import rules as RS
from ...exporter.rules import Rule
from ...formatting import now_shown, shown
from ...formatting import short_name as short_type
from ..common import style
from ..common.labels import label_text
from ..common.tasks import alive
from ..common.text import escape, plain_tip
from .rule_edit import DAY_S, HOUR_S, RuleEditDialog

STATE_TEXT = {
    RS.IDLE: "idle",
    RS.RUNNING: "running",
    RS.OK: "ok",
    RS.WAITING: "waiting",
    RS.BACKING_OFF: "backing off",
    RS.DISABLED: "disabled",
}
STATE_COLOUR = {  # by palette name
    RS.RUNNING: "active",
    RS.OK: "ok",
    RS.WAITING: "warning",
    RS.BACKING_OFF: "error",
    RS.DISABLED: "muted",
    RS.IDLE: "muted",
}
COLUMNS = ("Rule", "Target", "Sends", "Window", "Cap", "State", "Next attempt", "Last error")
NAME, TARGET, SENDS, WINDOW, CAP, STATE, NEXT, ERROR = range(len(COLUMNS))


def when(ms: int | None) -> str:
    if ms is None:
        return ""
    t = shown(ms)
    return t.strftime("%H:%M:%S" if t.date() == now_shown().date() else "%d %b %H:%M")


def describe(sel: Selection, cameras: dict[str, str] | None = None) -> str:
    """A rule's search in a few words."""
    parts = []
    if sel.camera_id:
        parts.append((cameras or {}).get(sel.camera_id) or sel.camera_id)
    if sel.event_type:
        parts.append(short_type(sel.event_type))
    if sel.review:
        parts.append(
            sel.review if sel.review in (UNREVIEWED, REVIEWED) else label_text(sel.review).lower()
        )
    if sel.max_age_s is not None:
        parts.append(f"≤ {_age(sel.max_age_s)} old")
    if sel.min_age_s is not None:
        parts.append(f"after {_age(sel.min_age_s)}")
    what = "events" if not sel.includes_files else "events and stills" if sel.events else "stills"
    return " · ".join([what, *parts]) if parts else f"all {what}"


def _age(seconds: int) -> str:
    if seconds % DAY_S == 0:
        return f"{seconds // DAY_S} d"
    if seconds % HOUR_S == 0:
        return f"{seconds // HOUR_S} h"
    return f"{seconds // 60} min"


def state_text(rule: Rule) -> str:
    text = STATE_TEXT.get(rule.state, rule.state)
    if rule.state == RS.WAITING:
        text += f" for its window {rule.window_text}" if rule.window else ": its target is busy"
    elif rule.state == RS.BACKING_OFF and rule.failures:
        text += f" ({rule.failures} failure{'s' if rule.failures != 1 else ''} in a row)"
    elif rule.state == RS.OK and rule.last_ok_at:
        text += f" (sent {when(rule.last_ok_at)})"
    return text


def detail_html(rule: Rule) -> str:
    """The selected rule's state in full sentences."""
    text = f"<b>{escape(rule.name)}</b>: {escape(state_text(rule))}."
    if rule.last_run_at:
        text += f" Last run {when(rule.last_run_at)}."
    if rule.last_error:
        text += f" <span style='color:{style.ERROR}'>Last error: {escape(rule.last_error)}</span>"
    if rule.enabled and rule.next_attempt_at:
        text += f"<br>Next attempt {when(rule.next_attempt_at)}."
    elif rule.enabled:
        text += "<br>Runs at the scheduler's next look (within a few seconds)."
    return text


class RulesDialog(QDialog):
    """Export ▸ Scheduled exports…"""

    def __init__(self, service, parent=None):
        super().__init__(parent)
        self.service = service
        self.rules: dict[int, Rule] = {}
        self.editor: RuleEditDialog | None = None
        self.setWindowTitle("Scheduled exports")
        self.resize(1180, 460)
        intro = QLabel(
            "Rules send what their search finds, and what their target does not have "
            "yet, while meteorgui runs: at most every interval, inside their time "
            "window, within their bandwidth cap. A failing rule keeps trying, "
            "waiting longer each time, until you disable it.",
            self,
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        for col, width in (
            (NAME, 170),
            (TARGET, 120),
            (SENDS, 190),
            (WINDOW, 95),
            (CAP, 80),
            (STATE, 230),
            (NEXT, 105),
        ):
            self.table.setColumnWidth(col, width)
        self.table.horizontalHeader().setSectionResizeMode(ERROR, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection)
        self.table.itemChanged.connect(self._item_changed)
        self.table.doubleClicked.connect(lambda _i: self.edit())
        self.add_button = QPushButton("Add…", self)
        self.add_button.clicked.connect(self.add)
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(self.edit)
        self.toggle_button = QPushButton("Disable", self)
        self.toggle_button.clicked.connect(self.toggle)
        self.run_button = QPushButton("Run now", self)
        self.run_button.setToolTip("Run the rule at once, even while it backs off")
        self.run_button.clicked.connect(self.run_now)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove)
        self.detail = QLabel(self)  # the selected rule's state in full
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setMinimumHeight(self.fontMetrics().height() * 3)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        for b in (
            self.add_button,
            self.edit_button,
            self.toggle_button,
            self.run_button,
            self.remove_button,
        ):
            row.addWidget(b)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        service.ruleChanged.connect(self.show_rule)
        service.ruleRemoved.connect(self._removed)
        service.targetsChanged.connect(lambda _t: self._fill())
        self._selection()
        self.reload()

    def reload(self) -> None:
        self.service.run(self.service.exporter.rules.list, self._loaded, owner=self)

    def _loaded(self, rules: list[Rule]) -> None:
        self.rules = {r.rule_id: r for r in rules}
        self._fill()

    def _fill(self) -> None:
        current = self.selected()
        ordered = sorted(self.rules.values(), key=lambda r: (r.name.lower(), r.rule_id))
        self.table.blockSignals(True)
        self.table.setRowCount(len(ordered))
        for r, rule in enumerate(ordered):
            self._fill_row(r, rule)
        self.table.blockSignals(False)
        if current is not None:
            self.select(current.rule_id)
        elif ordered and not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)
        self._selection()

    def _fill_row(self, r: int, rule: Rule) -> None:
        target = self.service.target(rule.target_id)
        cap = f"{rule.bandwidth // 1024:,} kB/s" if rule.bandwidth else "no cap"
        texts = (
            rule.name,
            target.name if target else "(target missing)",
            describe(rule.selection),
            rule.window_text,
            cap,
            state_text(rule),
            when(rule.next_attempt_at) if rule.enabled else "",
            rule.last_error or "",
        )
        for c, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, rule.rule_id)
            item.setToolTip(plain_tip(text))
            if c == NAME:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if rule.enabled else Qt.CheckState.Unchecked
                )
                item.setToolTip("Enabled: untick to disable the rule")
            if c == STATE:
                item.setForeground(QColor(style.colour(STATE_COLOUR.get(rule.state, "muted"))))
            if c == ERROR and rule.last_error:
                item.setForeground(QColor(style.ERROR))
            self.table.setItem(r, c, item)

    def show_rule(self, rule: Rule) -> None:
        """A rule changed (scheduler or editor): update its row in place."""
        known = rule.rule_id in self.rules
        self.rules[rule.rule_id] = rule
        if not known:
            self._fill()
            return
        for r in range(self.table.rowCount()):
            if self.table.item(r, NAME).data(Qt.ItemDataRole.UserRole) == rule.rule_id:
                self.table.blockSignals(True)
                self._fill_row(r, rule)
                self.table.blockSignals(False)
        self._selection()

    def _removed(self, rule_id: int) -> None:
        if self.rules.pop(rule_id, None) is not None:
            self._fill()

    def row_texts(self, rule_id: int) -> list[str]:
        for r in range(self.table.rowCount()):
            if self.table.item(r, NAME).data(Qt.ItemDataRole.UserRole) == rule_id:
                return [self.table.item(r, c).text() for c in range(len(COLUMNS))]
        return []

    def selected(self) -> Rule | None:
        model = self.table.selectionModel()
        rows = model.selectedRows() if model is not None else []
        if not rows:
            return None
        return self.rules.get(self.table.item(rows[0].row(), NAME).data(Qt.ItemDataRole.UserRole))

    def select(self, rule_id: int) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, NAME).data(Qt.ItemDataRole.UserRole) == rule_id:
                self.table.selectRow(r)

    def _selection(self) -> None:
        rule = self.selected()
        for b in (self.edit_button, self.toggle_button, self.run_button, self.remove_button):
            b.setEnabled(rule is not None)
        self.add_button.setEnabled(bool(self.service.targets))
        self.add_button.setToolTip(
            "" if self.service.targets else "Add an export target first (Export ▸ Export targets…)"
        )
        self.toggle_button.setText("Enable" if rule is not None and not rule.enabled else "Disable")
        self.run_button.setEnabled(rule is not None and rule.enabled and rule.state != RS.RUNNING)
        self.detail.setText("" if rule is None else detail_html(rule))

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != NAME:
            return
        rule = self.rules.get(item.data(Qt.ItemDataRole.UserRole))
        if rule is not None and (item.checkState() == Qt.CheckState.Checked) != rule.enabled:
            self._set_enabled(rule, not rule.enabled)

    def _say(self, text: str, error: bool = False) -> None:
        shown = escape(text)
        self.message.setText(
            f"<span style='color:{style.ERROR}'>{shown}</span>" if error else shown
        )

    # ------------------------------------------------------------------ actions

    def add(self) -> None:
        self._open_editor(None)

    def edit(self) -> None:
        rule = self.selected()
        if rule is not None:
            self._open_editor(rule)

    def _open_editor(self, rule: Rule | None) -> None:
        self.editor = RuleEditDialog(self.service, rule, self)
        self.editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor.open()

    def toggle(self) -> None:
        rule = self.selected()
        if rule is not None:
            self._set_enabled(rule, not rule.enabled)

    def _set_enabled(self, rule: Rule, enabled: bool) -> None:
        rules = self.service.exporter.rules
        # No owner: the change is made even if the dialog closed meanwhile (the hub tells
        # the views and the scheduler).
        self.service.run(
            lambda: rules.set_enabled(rule.rule_id, enabled),
            None,
            lambda exc: alive(self) and self._say(str(exc), True),
        )

    def run_now(self) -> None:
        rule = self.selected()
        if rule is None:
            return
        scheduler = self.service.scheduler

        def done(_none):
            self._say(f"'{rule.name}' runs now.")

        self.service.run(
            lambda: scheduler.run_now(rule.rule_id),
            done,
            lambda exc: self._say(str(exc), True),
            owner=self,
        )

    def remove(self) -> None:
        rule = self.selected()
        if rule is None:
            return
        rules = self.service.exporter.rules

        def removed(_none):
            self._say(f"Removed '{rule.name}'. What it queued stays queued for its target.")

        self.service.run(
            lambda: rules.remove(rule.rule_id),
            removed,
            lambda exc: self._say(str(exc), True),
            owner=self,
        )


__all__ = ["RuleEditDialog", "RulesDialog", "describe"]
