"""Text that does not fit: shown elided, with the whole of it in a tooltip.

Camera names, user names and messages come in every length; a column or a combo box that
cuts one off must let the user read the rest by pointing at it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStyledItemDelegate,
    QToolTip,
    QWidget,
)

from .text import plain_tip

PADDING = 12  # a cell's margins and the space before the elision


def cell_fits(view: QAbstractItemView, index) -> bool:
    """Whether the cell's text fits its column as drawn."""
    text = index.data(Qt.ItemDataRole.DisplayRole)
    if text is None:
        return True
    width = view.visualRect(index).width()
    lines = str(text).split("\n")
    fm = view.fontMetrics()
    return max(fm.horizontalAdvance(line) for line in lines) + PADDING <= width


class FullTextDelegate(QStyledItemDelegate):
    """Shows a cell's whole text as its tooltip when the cell cuts it off (and the model
    offers no tooltip of its own).

    A delegate's ``helpEvent`` runs for tooltip events alone. An event filter on the
    viewport ran Python, and took the GIL, for every event of the view (each paint, each
    mouse move), waiting for it while the importer's threads ran Python."""

    def helpEvent(self, event, view, option, index) -> bool:  # noqa: N802 - Qt's name
        if (
            event.type() != QEvent.Type.ToolTip
            or not isinstance(view, QAbstractItemView)
            or not index.isValid()
            or index.data(Qt.ItemDataRole.ToolTipRole)
        ):
            return super().helpEvent(event, view, option, index)  # the model's own tip
        if cell_fits(view, index):
            QToolTip.hideText()
            return True
        QToolTip.showText(event.globalPos(), plain_tip(str(index.data())), view.viewport())
        return True


def full_text_tips(view: QAbstractItemView) -> FullTextDelegate:
    """Cells of the view that cut their text off show it whole as their tooltip (columns
    with a delegate of their own do so if it is a ``FullTextDelegate``)."""
    delegate = FullTextDelegate(view)
    view.setItemDelegate(delegate)
    return delegate


def fit_headers(header: QHeaderView) -> None:
    """No column narrower than its own title ("Message", not "essag")."""
    for section in range(header.count()):
        need = header.sectionSizeFromContents(section).width()
        if header.sectionSize(section) < need:
            header.resizeSection(section, need)


def combo_full_text(combo: QComboBox) -> None:
    """The list opens wide enough for every entry; the box's tooltip is the whole choice.

    Inserted entries are measured as they come and a removal measures the rest once:
    filling a list of n entries one by one costs n measurements, not n² (a thousand
    camera names took 3.5 s of the GUI thread).
    """
    widest = [0]

    def measure(first: int, last: int) -> int:
        fm = combo.fontMetrics()
        return max(
            (fm.horizontalAdvance(combo.itemText(i)) for i in range(first, last + 1)), default=0
        )

    def fit(width: int) -> None:
        widest[0] = width
        combo.view().setMinimumWidth(width + 40)

    def inserted(_parent, first: int, last: int) -> None:
        fit(max(widest[0], measure(first, last)))

    def recount(*_args) -> None:
        fit(measure(0, combo.count() - 1))

    def tip(*_args) -> None:
        combo.setToolTip(plain_tip(combo.currentText()))

    model = combo.model()
    model.rowsInserted.connect(inserted)
    model.rowsRemoved.connect(recount)
    model.modelReset.connect(recount)
    combo.currentIndexChanged.connect(tip)
    recount()
    tip()


class ElidedLabel(QLabel):
    """One line of plain text, elided at the right when its width is short of it, with
    the whole of it as the tooltip. A ``tail`` (``set_parts``) is always shown whole:
    the text before it is elided instead.

    A QLabel is at least as wide as its text: a pane's title of an event type and a time
    ("Meteor · 2026-12-07 03:42:46.971 UTC", or a camera's type of any length) widened
    the pane beside the events at each new title, narrowing the list step by step. This
    one asks for the width of an ellipsis and its tail; ``text()`` is the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._head, self._tail = "", ""
        self.setText(text)

    def text(self) -> str:
        return self._head + self._tail

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self.set_parts(text or "", "")

    def set_parts(self, head: str, tail: str) -> None:
        """Show ``head`` then ``tail``, eliding ``head`` alone where they do not fit."""
        self._head, self._tail = head, tail
        self.updateGeometry()  # the tail sets the least width
        self._elide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        return QSize(self.fontMetrics().horizontalAdvance("…" + self._tail), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = self.fontMetrics().horizontalAdvance(self.text())
        return QSize(width, super().sizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._elide()

    def _elide(self) -> None:
        fm = self.fontMetrics()
        room = self.contentsRect().width() - fm.horizontalAdvance(self._tail)
        shown = fm.elidedText(self._head, Qt.TextElideMode.ElideRight, max(0, room)) + self._tail
        if shown != super().text():
            super().setText(shown)
        whole = self.text()
        self.setToolTip("" if shown == whole else plain_tip(whole))
