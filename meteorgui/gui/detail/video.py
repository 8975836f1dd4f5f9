"""Video playback with QtMultimedia where the platform has it, else the system player.

PySide6.QtMultimedia needs native libraries (ffmpeg, libpulse …) that some
systems lack, so it is imported inside try/except and the panel falls back to
an "Open in the system player" button.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QRectF, QSizeF, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

try:  # pragma: no cover - depends on the platform's native libraries
    from PySide6.QtMultimedia import QMediaPlayer
    from PySide6.QtMultimediaWidgets import QGraphicsVideoItem
except ImportError as exc:  # pragma: no cover
    QMediaPlayer = QGraphicsVideoItem = None  # type: ignore[assignment,misc]
    MULTIMEDIA_ERROR: str | None = str(exc)
else:
    MULTIMEDIA_ERROR = None


def open_url(url: QUrl) -> bool:
    """Hand a URL to the desktop (tests replace this)."""
    return QDesktopServices.openUrl(url)


def external_copy(source: Path, name: str) -> Path:
    """A copy of stored bytes under a readable name with its extension, for other apps.

    Never the stored file itself: another program must not be able to alter
    what the camera sent. Runs in a worker (it copies bytes).
    """
    folder = Path(tempfile.gettempdir()) / "meteorgui-open"
    folder.mkdir(exist_ok=True)
    dest = folder / Path(name).name
    if not dest.exists() or dest.stat().st_size != source.stat().st_size:
        tmp = dest.with_name(f".{dest.name}.part")
        shutil.copyfile(source, tmp)
        tmp.replace(dest)
    return dest


def _clock(ms: int) -> str:
    s = max(0, ms) / 1000
    return f"{int(s // 60)}:{s % 60:04.1f}"


class VideoView(QGraphicsView):
    """The video drawn as a scene item, kept fitted to the view.

    A QGraphicsVideoItem rather than a QVideoWidget: it paints like any other
    widget, so it also shows in screenshots and on offscreen platforms.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor("#15181e")))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.item = QGraphicsVideoItem()
        self.scene().addItem(self.item)
        self.item.nativeSizeChanged.connect(self._native_size)

    def _native_size(self, size: QSizeF) -> None:
        if size.isValid() and not size.isEmpty():
            self.item.setSize(size)
            self.scene().setSceneRect(QRectF(0, 0, size.width(), size.height()))
            self.fit()

    def fit(self) -> None:
        if not self.scene().sceneRect().isEmpty():
            self.fitInView(self.item, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()


class VideoPanel(QWidget):
    """Plays one clip, looping, with play/pause, a position slider and the system player."""

    openExternally = Signal()  # the owner copies the file off the GUI thread and opens it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.player = None
        self.video_widget = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setVisible(False)
        self.system_button = QPushButton("Open in the system player")
        self.system_button.setToolTip("Play this clip in your usual video player")
        self.system_button.clicked.connect(self.openExternally)

        controls = QHBoxLayout()
        controls.setContentsMargins(6, 0, 6, 4)
        self.play_button = QToolButton()
        self.play_button.setAutoRaise(True)
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.time_label)
        controls.addWidget(self.system_button)

        self._player_error = MULTIMEDIA_ERROR
        self._wants_player = False  # a player can still be made (at the first clip)
        if QMediaPlayer is not None:
            # The player and its view are made with the first clip shown: starting Qt's
            # media backend takes longer than the rest of the window, which opens without.
            self._wants_player = True
            layout.addWidget(self.message)
        else:
            self._no_playback(layout)
        self._layout = layout
        layout.addLayout(controls)
        self._update_play_icon()

    def _no_playback(self, layout) -> None:
        why = self._player_error or "this system has no video backend for Qt"
        self.message.setText(f"Video playback is not available here ({why}).")
        self.message.setVisible(True)
        self.play_button.setEnabled(False)
        self.slider.setEnabled(False)
        layout.insertStretch(0, 1)
        layout.insertWidget(1, self.message)
        layout.insertStretch(2, 1)

    def _make_player(self) -> None:
        self._wants_player = False
        try:
            player = QMediaPlayer(self)
            self.video_widget = VideoView(self)
        except Exception as exc:  # noqa: BLE001 - a backend that fails to start
            log.warning("video playback unavailable: %s", exc)
            self._player_error = str(exc)
            self._layout.removeWidget(self.message)
            self._no_playback(self._layout)
            return
        self.video_widget.setMinimumHeight(80)
        self._layout.insertWidget(0, self.video_widget, 1)
        self.player = player
        player.setVideoOutput(self.video_widget.item)
        player.setLoops(QMediaPlayer.Loops.Infinite)
        player.positionChanged.connect(self._position)
        player.durationChanged.connect(self._duration)
        player.playbackStateChanged.connect(lambda _s: self._update_play_icon())
        player.errorOccurred.connect(self._error)
        self.slider.sliderMoved.connect(player.setPosition)

    @property
    def can_play(self) -> bool:
        return self.player is not None or self._wants_player

    def load(self, path: Path | None) -> None:
        if self._wants_player and path is not None:
            self._make_player()
        self.message.setVisible(not self.can_play)
        if self.player is None:
            return
        self.player.stop()
        self.player.setSource(QUrl() if path is None else QUrl.fromLocalFile(str(path)))
        if path is not None:
            self.player.play()

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()
            self.player.setSource(QUrl())

    def toggle_play(self) -> None:
        if self.player is None:
            return
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def _update_play_icon(self) -> None:
        playing = (
            self.player is not None
            and self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
        )
        sp = QStyle.StandardPixmap
        icon = sp.SP_MediaPause if playing else sp.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setToolTip("Pause" if playing else "Play")

    def _position(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(ms)
        self.time_label.setText(f"{_clock(ms)} / {_clock(self.player.duration())}")

    def _duration(self, ms: int) -> None:
        self.slider.setRange(0, ms)
        self.time_label.setText(f"{_clock(self.player.position())} / {_clock(ms)}")

    def _error(self, _error, text: str) -> None:
        self.message.setText(f"This clip cannot be played here: {text}. Try the system player.")
        self.message.setVisible(True)
