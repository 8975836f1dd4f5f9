import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from meteorgui.archive import Archive  # noqa: E402
from meteorgui.archive import passwords  # noqa: E402
from meteorgui.importer import ImporterServer  # noqa: E402

CAMERA_USER = ("camera", "night-sky-42")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """No test touches the real user's data or settings."""
    monkeypatch.setenv("METEORGUI_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.setenv("METEORGUI_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def _fast_kdf(monkeypatch):
    # The real iteration count is slow by design; tests only need the same code path.
    monkeypatch.setattr(passwords, "ITERATIONS", 1000)


@pytest.fixture
def archive(tmp_path):
    a = Archive(tmp_path / "data")
    a.users.add(*CAMERA_USER, roles=["import"])
    yield a
    a.close()


@pytest.fixture
def server(archive):
    s = ImporterServer(archive, "127.0.0.1", 0)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def auth():
    return CAMERA_USER
