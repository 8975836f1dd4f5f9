"""The detail view's information panels: the file, the metadata, the camera status."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ... import formatting as fmt
from ..common import style
from ..common.text import escape, plain, plain_tip

# state -> (text, colour by palette name, tip)
STATE_TEXT = {
    "present": ("present", "ok", "The bytes are in the archive (not re-hashed)."),
    "missing": ("missing", "error", "The archive has no bytes for this file."),
    "ok": ("ok — MD5 verified", "ok", "Re-hashed just now: the bytes match their MD5."),
    "damaged": (
        "damaged — MD5 mismatch",
        "attention",
        "Re-hashed just now: the bytes do not match the MD5 the camera sent.",
    ),
    "checking": ("checking…", "muted", "Re-hashing the stored bytes."),
}


def _value_label() -> QLabel:
    label = plain(QLabel())
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(4)
    return form


class FormPanel(QScrollArea):
    """Labelled values in sections, scrolling when the pane is short."""

    def __init__(
        self, sections: list[tuple[str, list[tuple[str, str]]]], parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # A long file name or an MD5 does not wrap: in a narrow column (the review
        # layout) the form scrolls sideways rather than cutting them off unseen.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        inner = QWidget()
        self.form = _form()
        inner.setLayout(self.form)
        self.values: dict[str, QLabel] = {}
        for title, rows in sections:
            if title:
                head = QLabel(f"<b>{title}</b>")
                head.setContentsMargins(0, 6, 0, 0)
                self.form.addRow(head)
            for key, caption in rows:
                label = _value_label()
                self.values[key] = label
                self.form.addRow(caption, label)
        self.setWidget(inner)

    def set(self, key: str, text: str, tip: str = "") -> None:
        label = self.values[key]
        label.setText(text)
        label.setToolTip(plain_tip(tip))

    def text(self, key: str) -> str:
        return self.values[key].text()


class FileInfoPanel(QWidget):
    """Name, types, size, MD5, time and state of the selected file; Check re-hashes it."""

    checkRequested = Signal()
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # State and its buttons first: they stay in sight when the pane is short.
        self.panel = FormPanel(
            [
                (
                    "",
                    [
                        ("state", "State"),
                        ("name", "Name"),
                        ("mime", "MIME type"),
                        ("semantic", "Semantic type"),
                        ("size", "Size"),
                        ("md5", "MD5"),
                        ("time", "Time"),
                    ],
                )
            ]
        )
        self.panel.values["md5"].setFont(_mono())
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Re-hash this file's stored bytes against its MD5")
        self.check_button.clicked.connect(self.checkRequested)
        self.open_button = QPushButton("Open with…")
        self.open_button.setToolTip(
            "Open a copy of this file in the application your desktop uses for its type"
        )
        self.open_button.clicked.connect(self.openRequested)
        # The buttons sit beside the state they change, so the form stays one scrollable block.
        state = self.panel.values["state"]
        state.setTextFormat(Qt.TextFormat.RichText)  # our own coloured mark, no camera text
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        self.panel.form.replaceWidget(state, row)
        state.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        line.addWidget(state)
        line.addWidget(self.check_button)
        line.addStretch(1)
        line.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.panel, 1)
        self.show_file(None)

    def show_file(self, f, present: bool | None = None) -> None:
        p = self.panel
        if f is None:
            for key in p.values:
                p.set(key, "—")
            self.check_button.setEnabled(False)
            self.open_button.setEnabled(False)
            return
        p.set("name", f.file_name or f"{f.file_id}", f.file_id)
        p.set("mime", f.mime_type)
        p.set("semantic", fmt.short_name(f.semantic_type) or "—", f.semantic_type or "")
        p.set(
            "size",
            f"{fmt.size(f.file_size)} ({fmt.number(f.file_size)} bytes)"
            if f.file_size >= 1000
            else fmt.size(f.file_size),
        )
        p.set("md5", f.md5)
        p.set("time", fmt.both_times(f.file_time))
        self.set_state("present" if present else "missing" if present is not None else "checking")
        self.check_button.setEnabled(bool(present))
        self.open_button.setEnabled(bool(present))

    def set_state(self, state: str) -> None:
        text, meaning, tip = STATE_TEXT.get(state, (state, "muted", ""))
        colour = style.colour(meaning)
        self.panel.set(
            "state", f'<span style="color:{colour}; font-weight:600">● {text}</span>', tip
        )
        self.state = state


def _mono():
    from PySide6.QtGui import QFontDatabase

    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


META_ROLE = Qt.ItemDataRole.UserRole


def meta_text(m) -> str:
    if m.type == "date":
        return fmt.both_times(int(m.value))
    if m.type == "number":
        return fmt.number(m.value)
    return str(m.value)


class MetaTable(QTreeWidget):
    """Event metadata and the selected file's, with typed values (dates local and UTC)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Key", "Value", "Type"])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

    def show_meta(self, event_meta, file_meta=(), file_caption: str = "") -> None:
        self.clear()
        self._group("Event", event_meta)
        if file_caption:
            self._group(f"File: {file_caption}", file_meta)
        self.expandAll()

    def _group(self, title: str, metas) -> None:
        group = QTreeWidgetItem(self, [title])
        group.setFirstColumnSpanned(True)
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        if not metas:
            empty = QTreeWidgetItem(group, ["(none)"])
            empty.setFlags(Qt.ItemFlag.ItemIsEnabled)
            return
        for m in metas:
            item = QTreeWidgetItem(group, [fmt.short_name(m.key), meta_text(m), m.type])
            item.setToolTip(0, plain_tip(m.key))
            item.setToolTip(1, plain_tip(meta_text(m)))
            item.setData(1, META_ROLE, m.value)

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, key, value text) for every metadata row: what a user reads."""
        out = []
        for i in range(self.topLevelItemCount()):
            group = self.topLevelItem(i)
            for j in range(group.childCount()):
                c = group.child(j)
                out.append((group.text(0), c.text(0), c.text(1)))
        return out


class StatusPanel(FormPanel):
    """The camera status in force at the event's time."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            [
                (
                    "Installation",
                    [("inst_name", "Name"), ("inst_url", "Web page"), ("camera_id", "Camera")],
                ),
                (
                    "Location",
                    [
                        ("latlong", "Latitude, longitude"),
                        ("gps", "From GPS"),
                        ("loc_error", "Uncertainty"),
                    ],
                ),
                (
                    "Orientation",
                    [
                        ("altaz", "Altitude, azimuth"),
                        ("rot", "Rotation"),
                        ("width", "Field width"),
                        ("ori_error", "Uncertainty"),
                        ("regions", "Sky regions"),
                    ],
                ),
                (
                    "Hardware",
                    [("lens", "Lens"), ("sensor", "Sensor"), ("software", "Software version")],
                ),
                ("Valid", [("valid_from", "From"), ("valid_to", "To")]),
            ],
            parent,
        )
        url = self.values["inst_url"]
        url.setTextFormat(Qt.TextFormat.RichText)  # a link; the camera's URL is escaped in it
        url.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        url.setOpenExternalLinks(True)
        self.show_status(None)

    def show_status(self, st) -> None:
        if st is None:
            for key in self.values:
                self.set(key, "—")
            self.set("inst_name", "No camera status is known for this time.")
            return
        loc, ori = st.location, st.orientation
        self.set("inst_name", st.inst_name or "—")
        if st.inst_url:
            safe = st.inst_url.replace('"', "%22").replace("<", "%3C")
            self.set("inst_url", f'<a href="{escape(safe)}">{escape(st.inst_url)}</a>', st.inst_url)
        else:
            self.set("inst_url", "—")
        self.set("camera_id", st.camera_id)
        if loc is not None:
            self.set(
                "latlong",
                f"{fmt.latitude(loc.lat)}, {fmt.longitude(loc.long)}",
                f"lat {loc.lat}, long {loc.long}",
            )
            self.set("gps", fmt.yes_no(loc.gps))
            self.set("loc_error", fmt.number(loc.error, " m", 4))
        else:
            for key in ("latlong", "gps", "loc_error"):
                self.set(key, "—")
        if ori is not None:
            self.set("altaz", f"{fmt.degrees(ori.alt)}, {fmt.degrees(ori.az)}")
            self.set("rot", fmt.degrees(ori.rot))
            self.set("width", fmt.degrees(ori.width))
            self.set("ori_error", fmt.degrees(ori.error))
        else:
            for key in ("altaz", "rot", "width", "ori_error"):
                self.set(key, "—")
        n = len(st.regions)
        self.set("regions", f"{n} polygon{'s' if n != 1 else ''}" if n else "none")
        self.set("lens", st.lens or "—")
        self.set("sensor", st.sensor or "—")
        self.set("software", "—" if st.software_version is None else str(st.software_version))
        self.set("valid_from", fmt.both_times(st.valid_from))
        self.set(
            "valid_to", fmt.both_times(st.valid_to) if st.valid_to is not None else "still current"
        )
