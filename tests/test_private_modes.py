"""The data folder holds password hashes and the cameras' data: private to its user
(folders 0700, files 0600) whatever the umask, and archives made before are fixed."""

import io
import logging
import os
import stat

import pytest

from meteorgui.archive import Archive
from meteorgui.logs import close_logging, setup_logging

from . import factories as fx


@pytest.fixture
def umask():
    def set_(mask):
        os.umask(mask)

    old = os.umask(0o022)
    yield set_
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _fill(archive: Archive) -> None:
    pack = fx.file_pack(fx.status())
    archive.store_status(pack.status, "camera")
    [(file_id, data)] = pack.blobs.items()
    assert archive.store.put(file_id, pack.entity.md5, io.BytesIO(data))
    assert archive.store.settle([(file_id, pack.entity.md5)]) == []
    assert archive.store_file(pack.entity, "camera")


def _private(folder) -> list[str]:
    """Whatever in the folder others could read or enter."""
    wrong = []
    for root, _dirs, files in os.walk(folder):
        if _mode(root) != 0o700:
            wrong.append(f"{root} {oct(_mode(root))}")
        for name in files:
            path = os.path.join(root, name)
            if _mode(path) != 0o600:
                wrong.append(f"{path} {oct(_mode(path))}")
    return wrong


@pytest.mark.parametrize("mask", [0o022, 0o000])
def test_a_new_archive_is_private_whatever_the_umask(tmp_path, umask, mask):
    umask(mask)
    folder = tmp_path / "data"
    archive = Archive(folder)
    try:
        _fill(archive)
        setup_logging(folder)
        logging.getLogger("meteorgui.test").warning("a line in the log")
        names = {p.name for p in folder.iterdir()}
        assert {"archive.sqlite3", "archive.sqlite3-wal", "archive.sqlite3-shm"} <= names
        assert (folder / "logs" / "meteorgui.log").stat().st_size > 0
        assert _mode(folder) == 0o700
        for name in ("archive.sqlite3", "archive.sqlite3-wal", "archive.sqlite3-shm"):
            assert _mode(folder / name) == 0o600, name
        assert _mode(folder / "logs") == 0o700
        assert _mode(folder / "logs" / "meteorgui.log") == 0o600
        assert list((folder / "files").glob("*/*.*"))  # a stored file
        assert _private(folder) == []
    finally:
        close_logging()
        archive.close()


def test_an_archive_made_before_is_made_private_at_start(tmp_path, umask):
    folder = tmp_path / "data"
    with Archive(folder) as archive:
        _fill(archive)
    (folder / "logs" / "meteorgui.log").write_text("old\n")
    for root, _dirs, files in os.walk(folder):  # as an older version left it
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    with Archive(folder):
        assert _private(folder) == []


def test_the_thumbnail_cache_is_private_whatever_the_umask(tmp_path, umask):
    from PySide6.QtGui import QImage

    from meteorgui.gui.common.thumbnails import write_atomic

    umask(0)
    folder = tmp_path / "data"
    with Archive(folder):
        image = QImage(8, 8, QImage.Format.Format_RGB32)
        image.fill(0)
        assert write_atomic(image, folder / "thumbnails" / "ab" / "abcdef.png")
        assert _private(folder) == []
