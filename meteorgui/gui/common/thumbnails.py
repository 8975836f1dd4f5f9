"""Thumbnails: decoded off the GUI thread, cached in memory (LRU) and on disk.

``service(ctx)`` gives the window's one ThumbnailService. ``get()`` never
blocks: it answers from memory, or returns a placeholder at once and queues
the work. A few pool threads take the *most recent* request first, so
scrolling a big grid decodes what is on screen rather than what scrolled past;
the queue is bounded and drops its oldest requests (a later ``get`` asks
again). Results come back through a queued signal to the GUI thread, which
stores them and emits ``ready(file_id)``.

Disk cache: ``<data_dir>/thumbnails/<aa>/<file_id>.<md5>.<size>.png``, written
to a temporary name and renamed, so a crash never leaves half a PNG. Only
real pictures are cached on disk; badges (missing, damaged, undecodable) are
not, because a resend can make the bytes appear.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import (
    QObject,
    QRectF,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter
from PySide6.QtSvg import QSvgRenderer

from ...archive.private import private_dirs
from ...priority import lower_this_thread
from ...resources import resource_path
from . import mailbox, style

log = logging.getLogger(__name__)

LOADING, OK, VIDEO, MISSING, DAMAGED, UNDECODABLE = (
    "loading",
    "ok",
    "video",
    "missing",
    "damaged",
    "undecodable",
)
STATES = (LOADING, OK, VIDEO, MISSING, DAMAGED, UNDECODABLE)

MISSING_RECHECK_S = 10.0  # a resend may bring the bytes: look again after this long
HASH_LIMIT = 256 << 20  # telling damaged from undecodable re-hashes files up to this size

Key = tuple[str, str, int]  # (file_id, md5, size)


# --------------------------------------------------------------------------- worker side
# These run in pool threads: QImage and QImageReader are reentrant, PyAV decodes
# without the GIL; nothing here touches a widget or a Qt multimedia object.


def decode_image(path: Path, size: int) -> QImage | None:
    """The image at ``path`` scaled to fit ``size``×``size`` (aspect kept), or None."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    full = reader.size()
    if full.isValid() and (full.width() > size or full.height() > size):
        reader.setScaledSize(full.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None
    if image.width() > size or image.height() > size:  # formats that ignore setScaledSize
        image = image.scaled(
            size,
            size,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


VIDEO_MAX_FRAMES = 250  # decoded after the seek before taking what there is (a bad index)


def grab_video_frame(path: Path, size: int) -> QImage | None:
    """A poster frame from the middle of a video, scaled to fit, or None.

    FFmpeg's decoders through PyAV, not QMediaPlayer: Qt's multimedia objects
    made in pool threads crashed when several were the first at once, and one
    holding the GIL deadlocked against the GUI thread. PyAV releases the GIL
    while it decodes and needs no event loop. Imported here, on first use: it
    takes a tenth of a second, which start-up should not pay.
    """
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1  # the pool gives the parallelism
            target = _middle_pts(container, stream)
            if target:
                container.seek(target, stream=stream, backward=True)
            frame = None
            for n, decoded in enumerate(container.decode(stream)):
                frame = decoded
                if decoded.pts is None or decoded.pts >= target or n >= VIDEO_MAX_FRAMES:
                    break
            if frame is None:
                return None
            return _frame_image(frame, stream, size)
    except (av.FFmpegError, OSError, ValueError, MemoryError) as exc:
        log.debug("no poster frame from %s: %s", path, exc)
        return None


def _middle_pts(container, stream) -> int:
    """The middle of the stream in its own time base (0 when its length is unknown)."""
    if stream.duration and stream.time_base:
        return int((stream.start_time or 0) + stream.duration // 2)
    if container.duration and stream.time_base:  # microseconds
        return int(container.duration / 2 / 1_000_000 / stream.time_base)
    return 0


def _frame_image(frame, stream, size: int) -> QImage | None:
    """The frame scaled to fit ``size``×``size``, display aspect kept, as an RGB32 QImage.

    QImage is reentrant: made and used in one pool thread, then handed over whole.
    """
    width, height = frame.width, frame.height
    if width <= 0 or height <= 0:
        return None
    sar = stream.codec_context.sample_aspect_ratio or stream.sample_aspect_ratio
    display_w = width * float(sar) if sar else float(width)  # non-square PAL pixels
    scale = min(size / display_w, size / height)
    w, h = max(1, round(display_w * scale)), max(1, round(height * scale))
    rgb = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA")
    plane = rgb.planes[0]
    data = bytes(plane)
    image = QImage(data, w, h, plane.line_size, QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)  # a copy that owns its pixels


def write_atomic(image: QImage, path: Path) -> bool:
    """Save a PNG under a temporary name in the same folder, then rename it into place."""
    try:
        private_dirs(path.parent)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        if not image.save(str(tmp), "PNG"):
            tmp.unlink(missing_ok=True)
            return False
        os.chmod(tmp, 0o600)  # the data folder and all in it are private (archive/private.py)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        log.warning("thumbnail cache: cannot write %s: %s", path, exc)
        return False


def _md5_mismatch(path: Path, md5: str) -> bool:
    try:
        if path.stat().st_size > HASH_LIMIT:
            return False
        h = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        return False
    return h.hexdigest() != md5


@dataclass(frozen=True)
class _Request:
    key: Key
    mime_type: str
    source: Path  # the stored bytes
    cached: Path  # the disk cache file


@dataclass(frozen=True)
class _Result:
    key: Key
    state: str
    image: QImage | None  # the decoded picture, if any
    icon: str | None = None  # else the badge to show


def _produce(req: _Request, has_bytes) -> _Result:
    key, mime = req.key, req.mime_type.lower()
    is_video = mime.startswith("video/")
    size = key[2]
    if not has_bytes():  # first: a cached picture of bytes that are gone would mislead
        return _Result(key, MISSING, None, "missing")
    if req.cached.is_file():
        image = QImage(str(req.cached))
        if not image.isNull():
            return _Result(key, VIDEO if is_video else OK, image)
    if mime.startswith("image/"):
        image = decode_image(req.source, size)
        if image is None:
            bad = _md5_mismatch(req.source, key[1])
            return _Result(
                key, DAMAGED if bad else UNDECODABLE, None, "damaged" if bad else "undecodable"
            )
        write_atomic(image, req.cached)
        return _Result(key, OK, image)
    if is_video:
        image = grab_video_frame(req.source, size)
        if image is None:
            if _md5_mismatch(req.source, key[1]):
                return _Result(key, DAMAGED, None, "damaged")
            return _Result(key, VIDEO, None, "video")
        write_atomic(image, req.cached)
        return _Result(key, VIDEO, image)
    return _Result(key, OK, None, "document")  # JSON, text: nothing to picture


class _Worker(QRunnable):
    def __init__(self, service: ThumbnailService):
        super().__init__()
        self._service = service

    def run(self) -> None:
        lower_this_thread()  # decoding waits for the window, not the other way round
        self._service._work()


# --------------------------------------------------------------------------- GUI side


@dataclass
class _Entry:
    state: str
    image: QImage
    at: float
    cost: int


class ThumbnailService(QObject):
    """Thumbnails for file records; see the module docstring.

    ``get(file_id, md5, mime_type, size) -> QImage`` (never blocks),
    ``state(file_id, md5, size) -> str``, signal ``ready(file_id)``,
    ``best_still(files)``, ``invalidate(file_id)``, ``shutdown()``.
    """

    ready = Signal(str)

    def __init__(
        self,
        store,
        cache_dir: str | Path,
        *,
        threads: int = 2,
        memory_bytes: int = 64 << 20,
        max_entries: int = 20_000,
        max_pending: int = 256,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._store = store  # archive.FileStore: path(file_id, md5), has(file_id, md5)
        self.cache_dir = Path(cache_dir)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, threads))
        self._max_threads = max(1, threads)
        self._max_pending = max_pending
        self._memory_bytes = memory_bytes
        self._max_entries = max_entries  # badges cost no bytes (shared) but still count
        self._lock = threading.Lock()
        self._pending: OrderedDict[Key, _Request] = OrderedDict()  # newest last
        self._running: set[Key] = set()
        # Running decodes whose file changed after they started (invalidated, or a resend
        # completed): their result may picture bytes that are gone, so it is not kept.
        self._outdated: set[Key] = set()
        self._workers = 0
        self._closed = False
        self._cache: OrderedDict[Key, _Entry] = OrderedDict()  # GUI thread only
        self._cache_cost = 0
        # Indexes over the cache, so that no GUI-thread call walks it: a big archive
        # scrolled far leaves thousands of entries (most of them badges).
        self._by_file: dict[str, set[Key]] = {}
        self._troubled: set[Key] = set()  # MISSING or DAMAGED: a resend may mend them
        self._icons: dict[tuple[str, int, bool], QImage] = {}
        # A pool thread's result reaches the GUI thread without a Qt call (see mailbox).
        self._mailbox = mailbox.shared()

    # ------------------------------------------------------------------ contract

    def get(self, file_id: str, md5: str, mime_type: str, size: int) -> QImage:
        """The thumbnail if ready, else a placeholder now and the real one via ``ready``."""
        key = (file_id, md5, int(size))
        entry = self._cache.get(key)
        if entry is not None:
            self._cache.move_to_end(key)
            if entry.state == MISSING and time.monotonic() - entry.at > MISSING_RECHECK_S:
                entry.at = time.monotonic()
                self._schedule(key, mime_type)
            return entry.image
        self._schedule(key, mime_type)
        return self.badge("loading", key[2])

    def state(self, file_id: str, md5: str, size: int) -> str:
        """'loading', 'ok', 'video', 'missing', 'damaged' or 'undecodable'."""
        entry = self._cache.get((file_id, md5, int(size)))
        return LOADING if entry is None else entry.state

    @staticmethod
    def best_still(files):
        """The file that best pictures an event (see ``best_still``); None if none."""
        return best_still(files)

    def invalidate(self, file_id: str | None = None) -> None:
        """Forget what memory holds for a file (all files if None); views ask again."""
        keys = list(self._cache) if file_id is None else list(self._by_file.get(file_id, ()))
        self._outdate_running(None if file_id is None else {file_id})
        for k in keys:
            self._drop(k)
        for fid in sorted({k[0] for k in keys}):
            self.ready.emit(fid)

    def has_missing(self) -> bool:
        """Whether memory holds a missing or damaged badge that a resend could mend."""
        return bool(self._troubled)

    def recheck_missing(self, file_ids: Iterable[str]) -> None:
        """Look again at these files if their bytes were missing or damaged (call when
        a conversation about them completed: a resend may have brought the bytes).

        Costs what the given files cost, never what the cache holds.
        """
        wanted = set(file_ids)
        self._outdate_running(wanted)
        if self._closed or not self._troubled:
            return
        now = time.monotonic()
        for file_id in wanted:
            for key in list(self._by_file.get(file_id, ())):
                entry = self._cache[key]
                # Damaged bytes are read whole again to check them: at most every so
                # often, not at every conversation a busy night completes.
                if entry.state == MISSING or (
                    entry.state == DAMAGED and now - entry.at > MISSING_RECHECK_S
                ):
                    self._drop(key)
                    self.ready.emit(file_id)

    def _outdate_running(self, file_ids: set[str] | None) -> None:
        """Decodes of these files (all if None) now running saw bytes that may have
        changed: their results are dropped and the file decoded again when next asked."""
        with self._lock:
            self._outdated.update(k for k in self._running if file_ids is None or k[0] in file_ids)

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._running)

    def shutdown(self) -> None:
        """Drop queued work and wait for running decodes to end."""
        with self._lock:
            self._closed = True
            self._pending.clear()
        self._pool.clear()
        self._pool.waitForDone()
        self._mailbox.discard(self)

    # ------------------------------------------------------------------ badges

    def badge(self, name: str, size: int, *, tile: bool = True) -> QImage:
        """An icon from resources/icons on a neutral 4:3 tile (or bare, ``tile=False``)."""
        cache_key = (name, size, tile)
        image = self._icons.get(cache_key)
        if image is None:
            image = render_badge(name, size, tile=tile)
            self._icons[cache_key] = image
        return image

    # ------------------------------------------------------------------ queue

    def _schedule(self, key: Key, mime_type: str) -> None:
        with self._lock:  # the common case while a grid repaints: already on its way
            if key in self._pending:
                self._pending.move_to_end(key)  # asked again: it is visible now
                return
            if key in self._running:
                return
        file_id, md5, size = key
        req = _Request(
            key,
            mime_type or "",
            self._store.path(file_id, md5),
            self.cache_dir / file_id[:2] / f"{file_id}.{md5}.{size}.png",
        )
        with self._lock:
            if self._closed or key in self._running:
                return
            if key in self._pending:
                self._pending.move_to_end(key)
                return
            self._pending[key] = req
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)  # scrolled past long ago
            start = self._workers < self._max_threads
            if start:
                self._workers += 1
        if start:
            self._pool.start(_Worker(self))

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._closed or not self._pending:
                    self._workers -= 1
                    return
                key, req = self._pending.popitem(last=True)  # newest first
                self._running.add(key)
            try:
                result = _produce(req, lambda r=req: self._present(r))
            except Exception:  # noqa: BLE001 - one bad file must not stop the pool
                log.exception("thumbnail for %s failed", key[0])
                result = _Result(key, UNDECODABLE, None, "undecodable")
            self._mailbox.post(partial(self._deliver, result), self)

    def _present(self, req: _Request) -> bool:
        # Bytes still on their way to disk count as present in the store; wait for them.
        settle = getattr(self._store, "settle", None)
        if settle is not None:
            settle([req.key[:2]], timeout=10)
        return req.source.is_file()

    def _deliver(self, result: _Result) -> None:
        with self._lock:
            self._running.discard(result.key)
            outdated = result.key in self._outdated
            self._outdated.discard(result.key)
            if self._closed:
                return
        if outdated:  # views ask again, and get() decodes the bytes as they are now
            self.ready.emit(result.key[0])
            return
        size = result.key[2]
        if result.image is None:
            image = self.badge(result.icon or "undecodable", size)
            cost = 0  # shared with every other file in the same state
        elif result.state == VIDEO:
            image = overlay_play(result.image)
            cost = image.sizeInBytes()
        else:
            image = result.image
            cost = image.sizeInBytes()
        self._drop(result.key)
        self._put(result.key, _Entry(result.state, image, time.monotonic(), cost))
        while len(self._cache) > 1 and (
            self._cache_cost > self._memory_bytes or len(self._cache) > self._max_entries
        ):
            self._drop(next(iter(self._cache)))  # the least recently used
        self.ready.emit(result.key[0])

    def _put(self, key: Key, entry: _Entry) -> None:
        self._cache[key] = entry
        self._cache_cost += entry.cost
        self._by_file.setdefault(key[0], set()).add(key)
        if entry.state in (MISSING, DAMAGED):
            self._troubled.add(key)

    def _drop(self, key: Key) -> None:
        entry = self._cache.pop(key, None)
        if entry is None:
            return
        self._cache_cost -= entry.cost
        self._troubled.discard(key)
        keys = self._by_file.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_file[key[0]]


# --------------------------------------------------------------------------- pictures


def icon_path(name: str) -> Path:
    return resource_path("icons", f"{name}.svg")


def render_icon(name: str, px: int) -> QImage:
    """An SVG icon from resources/icons rendered at px×px (transparent)."""
    image = QImage(px, px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(str(icon_path(name)))
    if renderer.isValid():
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(p, QRectF(0, 0, px, px))
        p.end()
    return image


def render_badge(name: str, size: int, *, tile: bool = True) -> QImage:
    if not tile:
        return render_icon(name, size)
    w, h = size, max(1, size * 3 // 4)
    image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(
        QColor(style.palette().placeholder_still)
        if name != "video"
        else QColor(style.palette().placeholder_video)
    )
    px = max(8, int(h * 0.6))
    icon = render_icon(name, px)
    p = QPainter(image)
    p.drawImage((w - px) // 2, (h - px) // 2, icon)
    p.end()
    return image


def overlay_play(poster: QImage) -> QImage:
    """A poster frame with a play mark, so a video reads as a video at a glance."""
    out = poster.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    px = max(12, min(out.width(), out.height()) // 3)
    icon = render_icon("play", px)
    p = QPainter(out)
    p.drawImage((out.width() - px) // 2, (out.height() - px) // 2, icon)
    p.end()
    return out


# --------------------------------------------------------------------------- choosing


def _field(f, name: str):
    return f.get(name) if isinstance(f, Mapping) else getattr(f, name, None)


def still_rank(f) -> int:
    """Lower is better: maxBrightness/lensCorr, other maxBrightness, other images, video."""
    semantic = (_field(f, "semantic_type") or "").lower()
    mime = (_field(f, "mime_type") or "").lower()
    if "maxbrightness" in semantic and "lenscorr" in semantic:
        return 0
    if "maxbrightness" in semantic or ("lenscorr" in semantic and mime.startswith("image/")):
        return 1
    if mime == "image/png":
        return 2
    if mime.startswith("image/"):
        return 3
    if mime.startswith("video/"):
        return 4
    return 99


def best_still_index(files: Sequence) -> int | None:
    """Index of the file that best pictures an event, or None if none is a picture."""
    best, best_rank = None, 99
    for i, f in enumerate(files):
        rank = still_rank(f)
        if rank < best_rank:
            best, best_rank = i, rank
    return best


def best_still(files: Sequence):
    """The file record (FileRecord or dict, as given) that best pictures an event, or None."""
    i = best_still_index(files)
    return None if i is None else files[i]


def service(ctx) -> ThumbnailService:
    """The window's one ThumbnailService, created on first use into ctx.thumbnails."""
    svc = ctx.thumbnails
    if svc is None:
        archive = ctx.archive
        svc = ThumbnailService(archive.store, archive.data_dir / "thumbnails")
        ctx.thumbnails = svc
        bridge = getattr(ctx, "bridge", None)
        if bridge is not None:
            bridge.conversation.connect(lambda c: _after_conversation(ctx, svc, c))
    return svc


def _after_conversation(ctx, svc: ThumbnailService, c) -> None:
    """A completed conversation may have brought bytes that were missing: look again at
    its files. Which files an event has is a query, so it runs in the task pool; most
    of the time nothing is missing and nothing is asked."""
    if getattr(c, "state", None) != "complete" or not svc.has_missing():
        return
    if c.kind == "file":
        svc.recheck_missing([c.entity_id])
    elif c.kind == "event":
        archive, event_id = ctx.archive, c.entity_id

        def file_ids() -> list[str]:
            event = archive.get_event(event_id)
            return [] if event is None else [f.file_id for f in event.files]

        ctx.tasks.run(file_ids, svc.recheck_missing, owner=svc)
