"""The editor of a scheduled export rule: name, target, search, window, cap, interval."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from ...archive import browse
from ...archive.exports import REVIEWED, UNREVIEWED, Selection
from ...exporter import rules as RS
from ...exporter.rules import Rule
from ...formatting import short_name as short_type
from ..common import style
from ..common.labels import REVIEW_LABELS
from ..common.tasks import alive
from ..common.text import escape

DAY_S, HOUR_S = 86_400, 3_600


class RuleEditDialog(QDialog):
    def __init__(self, service, rule: Rule | None = None, parent=None):
        super().__init__(parent)
        self.service = service
        self.original = rule
        self.saved: Rule | None = None
        sel = rule.selection if rule else Selection()
        self.setWindowTitle("Edit scheduled export" if rule else "New scheduled export")
        self.resize(520, 0)
        self.name = QLineEdit(rule.name if rule else "", self)
        self.name.setPlaceholderText("e.g. Meteors to the club")
        self.target = QComboBox(self)
        for t in service.targets:
            self.target.addItem(t.name, t.target_id)
        if rule is not None:
            self.target.setCurrentIndex(max(0, self.target.findData(rule.target_id)))
        self.camera = QComboBox(self)
        self.camera.addItem("All cameras", None)
        self.event_type = QComboBox(self)
        self.event_type.addItem("All types", None)
        self._wanted = (sel.camera_id, sel.event_type)
        self.review = QComboBox(self)
        self.review.addItem("Any review state", None)
        self.review.addItem("Unreviewed", UNREVIEWED)
        self.review.addItem("Reviewed", REVIEWED)
        for lab in REVIEW_LABELS:
            self.review.addItem(f"Reviewed as {lab.text.lower()}", lab.name)
        self.review.setCurrentIndex(max(0, self.review.findData(sel.review)))
        self.max_age = QSpinBox(self, minimum=0, maximum=3650, suffix=" days")
        self.max_age.setSpecialValueText("any age")
        self.max_age.setValue((sel.max_age_s or 0) // DAY_S)
        self.min_age = QSpinBox(self, minimum=0, maximum=720, suffix=" hours")
        self.min_age.setSpecialValueText("at once")
        self.min_age.setValue((sel.min_age_s or 0) // HOUR_S)
        self.min_age.setToolTip("Leave time to review a night before it goes out")
        self.events = QCheckBox("Events", self, checked=sel.events)
        self.files = QCheckBox("Time-lapse stills", self, checked=sel.files)
        self.files.setToolTip("Standalone stills go only when no type or review filter is set")
        self.enabled = QCheckBox("Enabled", self, checked=rule.enabled if rule else True)
        self.window = QLineEdit(rule.window_text if rule and rule.window else "", self)
        self.window.setPlaceholderText("any time, or e.g. 09:00-17:00 or 22:00-06:00")
        self.bandwidth = QSpinBox(self, minimum=0, maximum=1_000_000, suffix=" kB/s", singleStep=64)
        self.bandwidth.setSpecialValueText("no cap")
        self.bandwidth.setValue((rule.bandwidth or 0) // 1024 if rule else 0)
        self.interval = QSpinBox(self, minimum=1, maximum=7 * 24 * 60, suffix=" min")
        self.interval.setValue(max(1, (rule.interval_s if rule else RS.DEFAULT_INTERVAL) // 60))
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setWordWrap(True)

        include = QHBoxLayout()
        include.addWidget(self.events)
        include.addWidget(self.files)
        include.addStretch(1)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Target", self.target)
        form.addRow("Camera", self.camera)
        form.addRow("Type", self.event_type)
        form.addRow("Review", self.review)
        form.addRow("At most", self.max_age)
        form.addRow("Wait before sending", self.min_age)
        form.addRow("Send", include)
        form.addRow("Time window", self.window)
        form.addRow("Bandwidth cap", self.bandwidth)
        form.addRow("Every", self.interval)
        form.addRow("", self.enabled)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        archive = service.ctx.archive
        service.run(
            lambda: (browse.cameras(archive), browse.event_types(archive)),
            self._choices,
            owner=self,
        )

    def _choices(self, result) -> None:
        cameras, types = result
        for cid, name in cameras:
            self.camera.addItem(f"{name} ({cid[-6:]})" if name else cid, cid)
        for t in types:
            self.event_type.addItem(short_type(t), t)
        camera, event_type = self._wanted
        for combo, value in ((self.camera, camera), (self.event_type, event_type)):
            if value is not None and combo.findData(value) < 0:
                combo.addItem(value, value)  # a camera or type the archive no longer has
            combo.setCurrentIndex(max(0, combo.findData(value)))

    def selection(self) -> Selection:
        return Selection(
            camera_id=self.camera.currentData(),
            event_type=self.event_type.currentData(),
            review=self.review.currentData(),
            max_age_s=self.max_age.value() * DAY_S or None,
            min_age_s=self.min_age.value() * HOUR_S or None,
            events=self.events.isChecked(),
            files=self.files.isChecked(),
        )

    def save(self) -> None:
        try:
            sel = self.selection()
            window = RS.parse_window(self.window.text().strip() or None)
        except ValueError as exc:
            self.message.setText(f"<span style='color:{style.ERROR}'>{escape(exc)}</span>")
            return
        if self.target.currentData() is None:
            self.message.setText(
                f"<span style='color:{style.ERROR}'>Add an export target first.</span>"
            )
            return
        fields = {
            "name": self.name.text().strip(),
            "target_id": self.target.currentData(),
            "selection": sel,
            "enabled": self.enabled.isChecked(),
            "window": window,
            "bandwidth": self.bandwidth.value() * 1024 or None,
            "interval_s": self.interval.value() * 60,
        }
        rules, original = self.service.exporter.rules, self.original

        def work() -> Rule:
            if original is None:
                f = dict(fields)
                return rules.add(f.pop("name"), f.pop("target_id"), f.pop("selection"), **f)
            return rules.update(original.rule_id, **fields)

        self.buttons.setEnabled(False)
        # No owner: the rule is saved even if the dialog closed meanwhile; the hub tells the
        # views and the scheduler.
        self.service.run(work, self._saved, lambda exc: alive(self) and self._failed(exc))

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(f"<span style='color:{style.ERROR}'>{escape(exc)}</span>")

    def _saved(self, rule: Rule) -> None:
        if alive(self):
            self.saved = rule
            self.accept()
