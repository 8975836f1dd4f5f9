"""Event detail: a filmstrip of the event's files, a viewer for the selected one, and tabs
with the file's facts, the metadata and the camera status at the event's time.

Everything that reads the database or the files runs through ``ctx.tasks``;
each answer carries the generation it was asked for, so a late answer about a
previously shown event is dropped.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ... import formatting as fmt
from ... import notify
from ...archive import browse
from ...model import CameraStatus, Event, FileRecord
from ..common import thumbnails
from ..common.elide import ElidedLabel
from ..common.shortcuts import set_shortcuts
from ..common.text import plain, plain_tip
from . import video as video_mod
from .empty import no_event_page
from .filmstrip import FILE_ROLE, STRIP_ICON, Filmstrip, review_chip  # noqa: F401
from .panels import FileInfoPanel, MetaTable, StatusPanel
from .skyview import SkyTabs
from .stretch import StretchBar
from .textview import TextPanel, is_text, read_text
from .video import VideoPanel
from .viewer import ImageViewer

SIDE_COLUMN = 320  # the review layout's column for the file's facts and metadata


@dataclass
class EventInfo:
    """What the detail view shows, read in one go off the GUI thread."""

    event: Event
    status: CameraStatus | None
    review: tuple[str, int | None] | None
    present: dict[str, bool] = field(default_factory=dict)
    standalone: bool = False  # a file record with no event (a time-lapse still), shown alone
    resend: frozenset[str] = frozenset()  # files whose bytes are asked for again


def load_event(archive, event_id: str) -> EventInfo | None:
    event = archive.get_event(event_id)
    if event is None:
        return None
    status = archive.get_status(event.status_id) or archive.status_at(
        event.camera_id, event.event_time
    )
    present = {f.file_id: archive.has_bytes(f) for f in event.files}
    resend = _asked_again(archive, [f for f in event.files if not present[f.file_id]])
    return EventInfo(event, status, browse.review_of(archive, event_id), present, resend=resend)


def _asked_again(archive, missing: list[FileRecord]) -> frozenset[str]:
    return frozenset(archive.resend_marked(f.file_id for f in missing)) if missing else frozenset()


def load_file(archive, file_id: str) -> EventInfo | None:
    """A standalone file record, shown like a one-file event."""
    rec = archive.get_file(file_id)
    if rec is None:
        return None
    status = archive.get_status(rec.status_id) or archive.status_at(rec.camera_id, rec.file_time)
    shell = Event(
        event_id=rec.file_id,
        camera_id=rec.camera_id,
        status_id=rec.status_id,
        event_time=rec.file_time,
        event_type=rec.semantic_type or "meteorpi:file",
        files=(rec,),
    )
    present = archive.has_bytes(rec)
    resend = _asked_again(archive, [] if present else [rec])
    return EventInfo(shell, status, None, {rec.file_id: present}, standalone=True, resend=resend)


def display_name(f: FileRecord) -> str:
    """A name with an extension, for copies handed to other applications."""
    name = f.file_name or f.file_id
    if "." not in name.rsplit("/", 1)[-1]:
        name += mimetypes.guess_extension(f.mime_type) or ""
    return name


class EventDetail(QWidget):
    """Contract: ``show_event(event_id | None)``, ``shutdown()``."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.thumbs = thumbnails.service(ctx)
        self.info: EventInfo | None = None
        self.current_file: FileRecord | None = None
        self._gen = 0
        self._shown_gen = 0  # the generation whose answer is on screen
        self._requested: tuple[bool, str] | None = None  # (standalone, id) last asked for
        self._file_gen = 0
        self._closed = False
        self._keep_row: int | None = None
        # A review, a resend request or an export of the shown event, from anywhere.
        ctx.bridge.changed.connect(self._archive_changed)

        self.title = ElidedLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = plain(QLabel())
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle.setWordWrap(True)
        # A camera's name of one long word must not widen the pane either: cut off at its
        # edge (the tooltip has the event's id and type; the Camera tab has the name).
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.review_label = QLabel()
        self.review_label.setTextFormat(Qt.TextFormat.RichText)

        self.filmstrip = Filmstrip()
        self.filmstrip.currentRowChanged.connect(self._select_row)

        self.message = plain(QLabel())
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMargin(24)
        self.message.setStyleSheet("color: palette(mid);")
        self.image = ImageViewer()
        self.video = VideoPanel()
        self.video.openExternally.connect(self.open_external)
        self.text = TextPanel()
        self.stack = QStackedWidget()
        for page in (self.message, self.image, self.video, self.text):
            self.stack.addWidget(page)
        # One stretch for the stills and the video: kept from event to event, as a user
        # sets it once for a night's sky.
        self.stretch_bar = StretchBar()
        self.stretch_bar.changed.connect(self._stretch_changed)
        self.stack.currentChanged.connect(self._page_changed)
        self.step_actions = []
        for text, key, frames in (("Previous video frame", ",", -1), ("Next video frame", ".", 1)):
            act = QAction(text, self)
            set_shortcuts(act, key)
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.setProperty("shortcutWhere", "video")
            act.triggered.connect(lambda _c=False, n=frames: self.step_video(n))
            self.addAction(act)
            self.step_actions.append(act)

        self.file_info = FileInfoPanel()
        self.file_info.checkRequested.connect(self.check_file)
        self.file_info.openRequested.connect(self.open_external)
        self.meta = MetaTable()
        self.status = StatusPanel()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.file_info, "File")
        self.tabs.addTab(self.meta, "Metadata")
        self.tabs.addTab(self.status, "Camera")
        self.sky = SkyTabs(ctx, self.tabs, self)  # the Sky and Cameras tabs, the shower chip

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.tabs.setMinimumHeight(90)
        self.stack.setMinimumHeight(120)
        self.splitter.setSizes([750, 250])  # proportions: the picture gets most of the height
        self._side_width = SIDE_COLUMN
        self.splitter.splitterMoved.connect(self._splitter_moved)
        self.splitter.installEventFilter(self)

        head = QVBoxLayout()
        head.setContentsMargins(8, 6, 8, 0)
        head.setSpacing(2)
        title_row = QHBoxLayout()
        title_row.setSpacing(10)
        title_row.addWidget(self.title, 1)
        title_row.addWidget(self.sky.chip)
        title_row.addWidget(self.review_label)
        head.addLayout(title_row)
        head.addWidget(self.subtitle)
        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.filmstrip)
        layout.addWidget(self.stretch_bar)
        layout.addWidget(self.splitter, 1)

        self.placeholder = no_event_page()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(self.content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)

        self.thumbs.ready.connect(self._thumbnail_ready)
        self.show_event(None)

    def _stretch_changed(self, stretch) -> None:
        self.image.view.set_stretch(stretch)
        self.video.set_stretch(stretch)

    def _page_changed(self, _index: int) -> None:
        self.stretch_bar.setEnabled(self.stack.currentWidget() in (self.image, self.video))

    def step_video(self, frames: int) -> None:
        """The , and . keys: a frame back or on, when a clip is shown."""
        if self.stack.currentWidget() is self.video:
            self.video.step(frames)

    def set_side_column(self, on: bool) -> None:
        """The file facts and metadata beside the picture (review layout) or under it."""
        sp = self.splitter
        if on == (sp.orientation() == Qt.Orientation.Horizontal):
            return
        if on:
            self._stacked_sizes = sp.sizes()
            sp.setOrientation(Qt.Orientation.Horizontal)
            self._fit_side_column()
        else:
            sp.setOrientation(Qt.Orientation.Vertical)
            sp.setSizes(getattr(self, "_stacked_sizes", None) or [750, 250])

    def _fit_side_column(self) -> None:
        # The column keeps its width (as the user last dragged it); the picture, which
        # is height-limited at 1280×720, gets the rest whenever the pane changes size.
        sp = self.splitter
        total = sum(sp.sizes())
        if total <= 0:
            return
        side = min(self._side_width, total * 2 // 5)
        if sp.sizes()[1] != side:
            sp.setSizes([total - side, side])

    def _splitter_moved(self, _pos: int, _index: int) -> None:
        if self.splitter.orientation() == Qt.Orientation.Horizontal:
            self._side_width = self.splitter.sizes()[1]

    def eventFilter(self, obj, event) -> bool:
        if (
            obj is self.splitter
            and event.type() == QEvent.Type.Resize
            and self.splitter.orientation() == Qt.Orientation.Horizontal
        ):
            QTimer.singleShot(0, self._fit_side_column)  # once the splitter has laid out
        return False

    # ------------------------------------------------------------------ events

    def show_event(self, event_id: str | None) -> None:
        """Show an event (loaded in the background), or the empty state for None / ""."""
        self._gen += 1
        gen = self._gen
        self._requested = (False, event_id) if event_id else None
        if not event_id:
            self._show_info(None, gen, empty=True)
            return
        archive = self.ctx.archive
        self.ctx.tasks.run(
            lambda: load_event(archive, event_id),
            lambda info: self._show_info(info, gen),
            lambda exc: self._failed(exc, gen),
        )

    def show_file(self, file_id: str | None) -> None:
        """Show a standalone file record (a time-lapse still), loaded in the background."""
        self._gen += 1
        gen = self._gen
        self._requested = (True, file_id) if file_id else None
        if not file_id:
            self._show_info(None, gen, empty=True)
            return
        archive = self.ctx.archive
        self.ctx.tasks.run(
            lambda: load_file(archive, file_id),
            lambda info: self._show_info(info, gen),
            lambda exc: self._failed(exc, gen),
        )

    def _archive_changed(self, change) -> None:
        """A change to the requested event (a review, a resend, an export), from anywhere."""
        if self._closed or self._requested is None or isinstance(change, notify.Archived):
            return  # a newly archived entity is never the one asked for
        item_id = self._requested[1]
        ids = {item_id}
        if self.info is not None and self.info.event.event_id == item_id:
            ids.update(f.file_id for f in self.info.event.files)
        if ids.intersection(change.entity_ids):
            self.refresh()

    @property
    def loading(self) -> bool:
        """True from asking for an event until its answer is on screen."""
        return self._shown_gen != self._gen

    def requested_id(self) -> str:
        """The event (or standalone file) last asked for: on screen, or about to be."""
        return "" if self._requested is None else self._requested[1]

    def shown_event_id(self) -> str:
        """The event on screen, or "" while another is loading or none is shown: what a
        review key would label."""
        if self.loading or self.info is None or self.info.standalone:
            return ""
        return self.info.event.event_id

    def refresh(self) -> None:
        """Read the requested event again (e.g. after a review or a resend).

        The requested one, not the one on screen: while the next event loads, re-reading
        the previous would put it back over the selection (a late review did exactly that).
        """
        if self._requested is None:
            return
        standalone, item_id = self._requested
        same = self.info is not None and self.info.event.event_id == item_id
        row = self.filmstrip.currentRow() if same else None
        if standalone:
            self.show_file(item_id)
        else:
            self.show_event(item_id)
        self._keep_row = row

    def _failed(self, exc: BaseException, gen: int) -> None:
        if gen != self._gen or self._closed:
            return
        self._show_info(None, gen)
        self._show_message(f"This event cannot be read from the archive:\n{exc}")

    def _show_info(self, info: EventInfo | None, gen: int, empty: bool = False) -> None:
        if gen != self._gen or self._closed:
            return
        self._shown_gen = gen
        self.info = info
        self.video.stop()
        self.filmstrip.blockSignals(True)
        self.filmstrip.clear()
        self.filmstrip.blockSignals(False)
        self.current_file = None
        self.pages.setCurrentWidget(self.placeholder if empty else self.content)
        self.sky.show_event(None if info is None or info.standalone else info.event.event_id)
        if info is None:
            self.title.setText("No event selected" if empty else "Event not found")
            self.subtitle.setText(
                "Select an event to see its files, metadata and camera."
                if empty
                else "It may have been removed from the archive."
            )
            self.review_label.setText("")
            self.file_info.show_file(None)
            self.meta.show_meta((), (), "")
            self.status.show_status(None)
            self.image.set_image(None)
            self._show_message(
                "Select an event in the list to see it here." if empty else "Event not found."
            )
            return
        ev = info.event
        kind = (
            "Time-lapse still"
            if info.standalone
            else fmt.short_name(ev.event_type).replace("_", " ")
        )
        # The time stays whole in a narrow pane; a long type is cut short instead.
        self.title.set_parts(
            f"{kind[:1].upper()}{kind[1:]}", f" · {fmt.chosen_time(ev.event_time)}"
        )
        site = info.status.inst_name if info.status and info.status.inst_name else ""
        parts = [fmt.other_time(ev.event_time), f"camera {ev.camera_id}"]
        if site:
            parts.append(site)
        if not info.standalone:
            parts.append(f"{len(ev.files)} file{'s' if len(ev.files) != 1 else ''}")
        self.subtitle.setText("  ·  ".join(parts))
        self.subtitle.setToolTip(
            plain_tip(
                f"File {ev.event_id}\nType {ev.event_type}"
                if info.standalone
                else f"Event {ev.event_id}\nType {ev.event_type}"
            )
        )
        self.review_label.setText(review_chip(info.review))
        self.review_label.setToolTip(
            plain_tip(f"Reviewed {fmt.both_times(info.review[1])}")
            if info.review and info.review[1]
            else "Not reviewed yet"
            if info.review is None
            else ""
        )
        self.status.show_status(info.status)
        size = self.ctx.settings.thumbnail_size
        for f in ev.files:
            state = self.thumbs.state(f.file_id, f.md5, size)
            if (
                state == thumbnails.DAMAGED
                or not info.present.get(f.file_id)
                and state not in (thumbnails.LOADING, thumbnails.MISSING)
            ):
                # Its bytes went away, or damaged ones may have been replaced since.
                self.thumbs.invalidate(f.file_id)
            self.filmstrip.add_file(f, self._icon(f, size))
        keep, self._keep_row = self._keep_row, None
        if not ev.files:
            self.meta.show_meta(ev.meta, (), "")
            self.file_info.show_file(None)
            self._show_message("This event has no files.")
            return
        best = thumbnails.best_still_index(list(ev.files))
        row = keep if keep is not None and 0 <= keep < len(ev.files) else (best or 0)
        self.filmstrip.setCurrentRow(row)

    # ------------------------------------------------------------------ thumbnails

    def _icon(self, f: FileRecord, size: int) -> QIcon:
        pixmap = QPixmap.fromImage(self.thumbs.get(f.file_id, f.md5, f.mime_type, size))
        icon = QIcon(pixmap)
        icon.addPixmap(pixmap, QIcon.Mode.Selected)  # no selection tint over the picture
        return icon

    def _thumbnail_ready(self, file_id: str) -> None:
        if self.info is None or self._closed:
            return
        size = self.ctx.settings.thumbnail_size
        for i, f in enumerate(self.info.event.files):
            if f.file_id == file_id:
                item = self.filmstrip.item(i)
                if item is not None:
                    item.setIcon(self._icon(f, size))

    # ------------------------------------------------------------------ files

    def _select_row(self, row: int) -> None:
        if self.info is None or not 0 <= row < len(self.info.event.files):
            return
        self._file_gen += 1
        fgen = self._file_gen
        f = self.info.event.files[row]
        self.current_file = f
        present = self.info.present.get(f.file_id, False)
        self.file_info.show_file(f, present)
        self.meta.show_meta(
            self.info.event.meta, f.meta, fmt.file_label(f.semantic_type, f.mime_type)
        )
        self.video.stop()
        if not present:
            self._show_message(
                "The bytes of this file are not in the archive.\n"
                + (
                    "A resend is requested: they come back when the camera next exports "
                    "(it offers the file again), and show here at once."
                    if f.file_id in self.info.resend
                    else "Use Events ▸ Request resend… to ask the camera for them again."
                )
            )
            return
        path = self.ctx.archive.file_path(f)
        mime = f.mime_type.lower()
        if mime.startswith("image/"):
            if self.stack.currentWidget() is not self.image:  # else keep the last until then
                self._show_message("Loading image…")
            regions = self.info.status.regions if self.info.status else ()

            def done(image: QImage, fgen=fgen):
                if fgen != self._file_gen or self._closed:
                    return
                if image.isNull():
                    self._show_message(
                        "This image cannot be decoded. Press Check in the File "
                        "tab to see whether its bytes are damaged."
                    )
                    return
                self.image.set_image(image, regions)
                self.stack.setCurrentWidget(self.image)

            self.ctx.tasks.run(
                lambda: QImage(str(path)), done, lambda exc: self._file_failed(exc, fgen)
            )
        elif mime.startswith("video/"):
            self.video.load(path)
            self.stack.setCurrentWidget(self.video)
        elif is_text(mime):
            if self.stack.currentWidget() is not self.text:
                self._show_message("Loading text…")

            def shown(result, fgen=fgen):
                if fgen != self._file_gen or self._closed:
                    return
                self.text.set_text(*result)
                self.stack.setCurrentWidget(self.text)

            self.ctx.tasks.run(
                lambda: read_text(path, mime), shown, lambda exc: self._file_failed(exc, fgen)
            )
        else:
            self._show_message(f"No preview for {f.mime_type}.\nUse “Open with…” in the File tab.")

    def _file_failed(self, exc: BaseException, fgen: int) -> None:
        if fgen == self._file_gen and not self._closed:
            self._show_message(f"This file cannot be read: {exc}")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def check_file(self) -> None:
        """Re-hash the selected file's bytes in the background."""
        f = self.current_file
        if f is None:
            return
        self.file_info.set_state("checking")
        self.file_info.check_button.setEnabled(False)
        store = self.ctx.archive.store

        def done(state: str, f=f):
            if self._closed or self.current_file is not f:
                return
            self.file_info.set_state(state)
            self.file_info.check_button.setEnabled(state != "missing")

        def failed(exc, f=f):
            if not self._closed and self.current_file is f:
                self.file_info.set_state(f"check failed: {exc}")
                self.file_info.check_button.setEnabled(True)

        self.ctx.tasks.run(lambda: store.check(f.file_id, f.md5, f.file_size), done, failed)

    def open_external(self) -> None:
        """Open a copy of the selected file in the desktop's application for its type."""
        f = self.current_file
        if f is None:
            return
        source = self.ctx.archive.file_path(f)
        name = display_name(f)

        def opened(path):
            if not self._closed:
                video_mod.open_url(QUrl.fromLocalFile(str(path)))

        self.ctx.tasks.run(
            lambda: video_mod.external_copy(source, name),
            opened,
            lambda exc: self._file_failed(exc, self._file_gen),
        )

    # ------------------------------------------------------------------ closing

    def shutdown(self) -> None:
        self._closed = True
        self._gen += 1
        self.sky.shutdown()
        self.video.stop()
        try:
            self.thumbs.ready.disconnect(self._thumbnail_ready)
        except (RuntimeError, TypeError):
            pass
