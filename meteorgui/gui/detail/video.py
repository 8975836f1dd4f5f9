"""Video playback with QtMultimedia where the platform has it, else the system player.

PySide6.QtMultimedia needs native libraries (ffmpeg, libpulse …) that some
systems lack, so it is imported inside try/except and the panel falls back to
an "Open in player" button (the system's usual video player).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
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

from ..common import style
from ..common.text import plain
from . import stretch as stretch_mod
from .stretch import Stretch

log = logging.getLogger(__name__)

# Imported with the first clip shown (_load_multimedia): the window opens without them.
QMediaPlayer: Any = None
QVideoSink: Any = None
QMediaMetaData: Any = None
MULTIMEDIA_ERROR: str | None = None


def _load_multimedia() -> bool:
    """Import QtMultimedia once; False (with MULTIMEDIA_ERROR) where the platform lacks it."""
    global QMediaPlayer, QVideoSink, QMediaMetaData, MULTIMEDIA_ERROR
    if QMediaPlayer is None and MULTIMEDIA_ERROR is None:
        try:  # pragma: no cover - depends on the platform's native libraries
            from PySide6 import QtMultimedia as mm
        except ImportError as exc:  # pragma: no cover
            MULTIMEDIA_ERROR = str(exc)
        else:
            QMediaPlayer, QVideoSink, QMediaMetaData = (
                mm.QMediaPlayer,
                mm.QVideoSink,
                mm.QMediaMetaData,
            )
    return QMediaPlayer is not None


DEFAULT_FPS = 25.0  # MeteorPi clips are PAL video; used when the file does not say


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
    """The video's frames drawn as a pixmap, kept fitted to the view.

    Frames come from a QVideoSink and are painted as a pixmap: the brightness, contrast
    and gamma stretch applies to them as to the stills, and the picture shows like any other
    widget in screenshots and on offscreen platforms.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor(style.palette().viewer_bg)))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.sink = QVideoSink(self)
        self.sink.videoFrameChanged.connect(self._frame)
        self.frame: QImage | None = None  # the last frame, as decoded
        self.frames_shown = 0
        self.shown = QImage()  # the frame as handed to the screen, stretch included
        self.stretch = Stretch()

    def _frame(self, frame) -> None:
        if not frame.isValid():
            return
        image = frame.toImage()
        if image.isNull():
            return
        self.frame = image
        self.frames_shown += 1
        self._render()

    def set_stretch(self, stretch: Stretch) -> None:
        self.stretch = stretch
        self._render()

    def clear(self) -> None:
        self.frame = None
        self.item.setPixmap(QPixmap())

    def _render(self) -> None:
        if self.frame is None:
            return
        resized = self.item.pixmap().size() != self.frame.size()
        self.shown = stretch_mod.apply(self.frame, self.stretch)
        self.item.setPixmap(QPixmap.fromImage(self.shown))
        if resized:
            self.scene().setSceneRect(QRectF(self.item.pixmap().rect()))
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
        self._stretch = Stretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.message = plain(QLabel())
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setVisible(False)
        self.system_button = QPushButton("Open in player")
        self.system_button.setToolTip("Play this clip in your usual video player")
        self.system_button.clicked.connect(self.openExternally)

        controls = QHBoxLayout()
        controls.setContentsMargins(6, 0, 6, 4)
        self.play_button = QToolButton()
        self.play_button.setAutoRaise(True)
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.back_button = QToolButton()
        self.back_button.setText("◀|")
        self.back_button.setAutoRaise(True)
        self.back_button.setToolTip("Previous frame (,)")
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QToolButton()
        self.next_button.setText("|▶")
        self.next_button.setAutoRaise(True)
        self.next_button.setToolTip("Next frame (.)")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.time_label = QLabel("0:00.0 / 0:00.0")
        controls.addWidget(self.play_button)
        controls.addWidget(self.back_button)
        controls.addWidget(self.next_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.time_label)
        controls.addWidget(self.system_button)

        self._player_error = MULTIMEDIA_ERROR
        self._wants_player = False  # a player can still be made (at the first clip)
        if MULTIMEDIA_ERROR is None:
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
        for w in (self.play_button, self.slider, self.back_button, self.next_button):
            w.setEnabled(False)
        layout.insertStretch(0, 1)
        layout.insertWidget(1, self.message)
        layout.insertStretch(2, 1)

    def _make_player(self) -> None:
        self._wants_player = False
        if not _load_multimedia():
            self._player_error = MULTIMEDIA_ERROR
            self._layout.removeWidget(self.message)
            self._no_playback(self._layout)
            return
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
        self.video_widget.set_stretch(self._stretch)
        self._layout.insertWidget(0, self.video_widget, 1)
        self.player = player
        player.setVideoSink(self.video_widget.sink)
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
            self.video_widget.clear()

    def frame_ms(self) -> float:
        """One frame's duration, from the clip's frame rate (25 fps when it says none)."""
        fps = None
        if self.player is not None:
            fps = self.player.metaData().value(QMediaMetaData.Key.VideoFrameRate)
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            fps = DEFAULT_FPS
        return 1000.0 / (fps if fps and fps > 0 else DEFAULT_FPS)

    def step(self, frames: int) -> None:
        """Pause and move by whole frames (the , and . keys)."""
        if self.player is None or self.player.source().isEmpty():
            return
        self.player.pause()
        frame = self.frame_ms()
        # Round to the frame grid first so repeated steps do not drift.
        index = round(self.player.position() / frame) + frames
        last = max(0, int((self.player.duration() - 1) // frame))
        index = max(0, min(last, index))
        self.player.setPosition(round(index * frame))

    def set_stretch(self, stretch: Stretch) -> None:
        self._stretch = stretch  # also for a view made later, with the first clip
        if self.video_widget is not None:
            self.video_widget.set_stretch(stretch)

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
