"""Keyboard shortcuts: one place that expands them for the platform and lists them.

Qt ignores a key bound twice ("Ambiguous shortcut overload"), and a platform's standard
key (StandardKey.Quit is Ctrl+Q on X11, empty offscreen) can repeat one that is also
spelt out. Every action gets its keys through ``set_shortcuts`` so that cannot happen,
and Help ▸ Keyboard shortcuts is generated from the actions themselves.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .text import plain_tip

NATIVE = QKeySequence.SequenceFormat.NativeText
PORTABLE = QKeySequence.SequenceFormat.PortableText


def key_sequences(*keys) -> list[QKeySequence]:
    """The platform's sequences for each key, in order, each once.

    A key is a StandardKey (expanded to all its platform bindings), a QKeySequence, a
    string such as "Ctrl+Q" or a Qt.Key.
    """
    out: list[QKeySequence] = []
    seen: set[str] = set()
    for key in keys:
        if key is None:
            continue
        if isinstance(key, QKeySequence.StandardKey):
            expanded = QKeySequence.keyBindings(key)
        else:
            expanded = [key if isinstance(key, QKeySequence) else QKeySequence(key)]
        for seq in expanded:
            text = seq.toString(PORTABLE)
            if text and text not in seen:
                seen.add(text)
                out.append(seq)
    return out


def set_shortcuts(action: QAction, *keys) -> None:
    action.setShortcuts(key_sequences(*keys))


def _special(seq: QKeySequence) -> bool:
    """A key few keyboards have (F14, the Undo and Exit keys the X11 standard keys add)."""
    combo = seq[0]
    key = combo.key()
    return combo.keyboardModifiers() == Qt.KeyboardModifier.NoModifier and (
        Qt.Key.Key_F13.value <= key.value <= Qt.Key.Key_F35.value
        or key.value >= Qt.Key.Key_Back.value
    )


def keys_text(action: QAction) -> str:
    """The action's keys as the platform writes them ("Ctrl+Q, Ctrl+W"), without the
    special keys few keyboards have (they still work)."""
    names: list[str] = []
    for seq in action.shortcuts():
        if seq.isEmpty() or _special(seq):
            continue
        name = seq.toString(NATIVE)
        name = {"Del": "Delete"}.get(name, name)
        if name not in names:
            names.append(name)
    return ", ".join(names)


def plain(text: str) -> str:
    """A menu text without its mnemonic ampersand and trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


WHERE = {
    Qt.ShortcutContext.ApplicationShortcut: "anywhere",
    Qt.ShortcutContext.WindowShortcut: "main window",
    Qt.ShortcutContext.WidgetWithChildrenShortcut: "",
    Qt.ShortcutContext.WidgetShortcut: "",
}


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(where, what, keys) for every action with a key: menus first, in menu order, then
    the rest (keys that only work in one place, such as the review keys in the event list).
    """
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def walk(menu: QMenu | QMenuBar, path: str) -> None:
        for act in menu.actions():
            sub = act.menu()
            if sub is not None:
                walk(sub, f"{path} ▸ {plain(act.text())}" if path else plain(act.text()))
            elif act.shortcuts() and id(act) not in seen:
                seen.add(id(act))
                rows.append((path, plain(act.text()), keys_text(act)))

    bar = getattr(window, "menuBar", None)
    if bar is not None:
        walk(bar(), "")
    for act in window.findChildren(QAction):
        if act.shortcuts() and id(act) not in seen and act.text():
            seen.add(id(act))
            where = act.property("shortcutWhere") or WHERE.get(act.shortcutContext(), "")
            rows.append((where[:1].upper() + where[1:], plain(act.text()), keys_text(act)))
    return rows


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard shortcuts: a table read from the window's actions when opened."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for r, (where, what, keys) in enumerate(rows):
            for c, text in enumerate((keys, what, where)):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(text))
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        self.note = QLabel(
            "In the event list, a review key (Enter, P, S, B, L, O, Delete) marks the "
            "selected events and moves on to the next one, so a night is reviewed key by "
            "key; Ctrl+Z takes a mark back.",
            self,
        )
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, min(680, 160 + 26 * len(rows)))

    def rows(self) -> list[tuple[str, str, str]]:
        """(keys, action, where) as shown."""
        t = self.table
        return [tuple(t.item(r, c).text() for c in range(3)) for r in range(t.rowCount())]
