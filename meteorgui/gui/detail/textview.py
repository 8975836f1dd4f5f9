"""JSON and text files, pretty-printed in a read-only monospace view."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from ..common.text import plain

LINE_CAP = 10_000  # characters shown of one line
TEXT_CAP = 2 << 20  # bytes read for display; more is left out (and said so)


def is_text(mime: str | None) -> bool:
    mime = (mime or "").lower()
    return (
        mime.startswith("text/")
        or mime.endswith("json")
        or mime.endswith("+json")
        or mime in ("application/xml", "application/yaml", "application/x-yaml")
    )


def pretty_json(value, indent: int = 0, width: int = 96) -> str:
    """Indented JSON that keeps short lists of plain values on one line.

    A meteor's path is a list of [x, y, amplitude, t] points; one number per
    line would make it hundreds of lines long.
    """
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: "
            f"{pretty_json(v, indent + 2, width).lstrip()}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(not isinstance(v, (dict, list)) for v in value):
            flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
            if len(flat) + indent <= width:
                return flat
        items = [inner + pretty_json(v, indent + 2, width).lstrip() for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def read_text(path: Path, mime: str | None, cap: int = TEXT_CAP) -> tuple[str, str]:
    """(text, note) for display; JSON is re-indented. Runs in a worker: it reads the file."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        data = fh.read(cap)
    text = data.decode("utf-8", errors="replace")
    notes = []
    if size > cap:
        notes.append(f"Showing the first {cap:,} bytes of {size:,}.")
    elif "json" in (mime or "").lower():
        try:
            text = pretty_json(json.loads(text))
        except (ValueError, RecursionError) as exc:
            notes.append(f"Not valid JSON ({exc}); shown as it is.")
    text, cut = cut_long_lines(text)
    if cut:
        notes.append(
            f"{cut:,} line{'s' if cut != 1 else ''} longer than {LINE_CAP:,} "
            "characters shown cut; Open with… shows the whole file."
        )
    return text, " ".join(notes)


def cut_long_lines(text: str, limit: int | None = None) -> tuple[str, int]:
    """The text with each line kept to ``limit`` characters (Qt lays out a line of
    megabytes for hundreds of milliseconds at every scroll), and how many were cut."""
    limit = LINE_CAP if limit is None else limit
    if len(text) <= limit:
        return text, 0
    lines = text.split("\n")
    cut = 0
    for i, line in enumerate(lines):
        if len(line) > limit:
            lines[i] = f"{line[:limit]} … ({len(line) - limit:,} more characters)"
            cut += 1
    return ("\n".join(lines), cut) if cut else (text, 0)


class TextPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.edit = QPlainTextEdit()
        self.edit.setReadOnly(True)
        self.edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.note = plain(QLabel())
        self.note.setVisible(False)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.edit, 1)

    def set_text(self, text: str, note: str = "") -> None:
        self.edit.setPlainText(text)
        self.note.setText(note)
        self.note.setVisible(bool(note))
