"""Archives made at every earlier schema version open, migrate and read back whole.

The archives are in tests/data/archives/v<N>.zip, made by tests/data/make_archives.py
(see there); the entities they hold come from the same script.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sqlite3
import zipfile
from pathlib import Path

import pytest

from meteorgui import __version__
from meteorgui.archive import Archive, ArchiveError, browse, migrations, stats
from meteorgui.cli import main as cli_main
from meteorgui.exporter.rules import Rules
from meteorgui.exporter.targets import Targets
from meteorgui.model import CameraStatus, Event, FileRecord

DATA = Path(__file__).resolve().parent / "data"
LATEST = max(v for v, _, _ in migrations.MIGRATIONS)


def _script():
    spec = importlib.util.spec_from_file_location("make_archives", DATA / "make_archives.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_archives = _script()
EXPECTED = make_archives.entities()


def _unzip(version: int, where: Path) -> Path:
    folder = where / f"v{version}"
    with zipfile.ZipFile(DATA / "archives" / f"v{version}.zip") as z:
        z.extractall(folder)
    return folder


def _schema(folder: Path) -> int:
    conn = sqlite3.connect(folder / "archive.sqlite3")
    try:
        return conn.execute("SELECT MAX(version) FROM migrations").fetchone()[0]
    finally:
        conn.close()


def test_there_is_an_archive_for_every_schema_version():
    kept = sorted(int(p.stem[1:]) for p in (DATA / "archives").glob("v*.zip"))
    assert kept == [v for v, _, _ in migrations.MIGRATIONS], (
        "run tests/data/make_archives.py and commit the new archive"
    )


@pytest.mark.parametrize("version", [v for v, _, _ in migrations.MIGRATIONS])
def test_an_older_archive_migrates_and_reads_back_whole(version, tmp_path):
    folder = _unzip(version, tmp_path)
    assert _schema(folder) == version  # it really is that old
    with Archive(folder) as archive:
        assert archive.db.applied_migrations == [
            f"{v:04d}_{name}" for v, name, _ in migrations.MIGRATIONS if v > version
        ]
        ends = [s["valid_from"] for s in EXPECTED["statuses"][1:]] + [None]
        assert archive.statuses() == [
            CameraStatus.from_dict(s | ({"valid_to": end} if end else {}))
            for s, end in zip(EXPECTED["statuses"], ends, strict=True)
        ]
        assert archive.events() == [Event.from_dict(e) for e in EXPECTED["events"]]
        records = archive.files()
        wanted = [FileRecord.from_dict(f) for e in EXPECTED["events"] for f in e["files"]]
        wanted += [FileRecord.from_dict(f) for f in EXPECTED["files"]]
        assert sorted(records, key=lambda r: r.file_id) == sorted(wanted, key=lambda r: r.file_id)
        for record in records:  # the bytes, through the store's layout of its time
            data = archive.file_path(record).read_bytes()
            assert data == EXPECTED["content"][record.file_id]
            assert hashlib.md5(data).hexdigest() == record.md5
        assert archive.verify() == []
        assert archive.users.authenticate(make_archives.USER, make_archives.PASSWORD) is not None

        # What later versions added is there, filled from the older rows.
        event_id, label = EXPECTED["review"]
        row = browse.get_row(archive, event_id)
        assert row is not None and row.n_files == 2 and row.duration == pytest.approx(0.62)
        found = browse.page(archive, browse.Query(text='meteorpi:note="bright'), 0, 10)
        assert [r.event_id for r in found] == [event_id]  # the metadata is searchable
        by_number = browse.page(archive, browse.Query(text="0.62"), 0, 10)
        assert [r.event_id for r in by_number] == [event_id]  # a dotted word as one term
        by_name = browse.page(archive, browse.Query(text="shed roof"), 0, 10)
        assert [r.event_id for r in by_name] == ["e2" * 16]  # and the camera's name
        assert browse.reviews(archive, [event_id]) == ({event_id: label} if version >= 2 else {})
        targets = Targets(archive).list()
        rules = Rules(archive).list()
        if version >= 3:
            assert [(t.target_id, t.name, t.url, t.user) for t in targets] == [EXPECTED["target"]]
            assert [r.name for r in rules] == [EXPECTED["rule"]]
        else:
            assert targets == [] and rules == []
        owners = archive.db.read().execute("SELECT camera_id, user FROM camera_owners")
        assert owners.fetchall() == [(make_archives.CAMERA, make_archives.USER)]  # backfilled
        sky = archive.db.read().execute("SELECT event_id, shower FROM sky_results").fetchall()
        assert sky == ([EXPECTED["sky"]] if version >= 8 else [])
        # Arrivals are counted through the indexes the upgrade made (stats.STILLS_ARRIVED
        # names its index: a missing one is an error, not a slow count).
        night = (make_archives.CAMERA, make_archives.RECEIVED, make_archives.RECEIVED + 1)
        conn = archive.db.read()
        assert conn.execute(stats.EVENTS_ARRIVED, night).fetchall() == [(2,)]
        assert conn.execute(stats.STILLS_ARRIVED, night).fetchall() == [(1,)]
    assert _schema(folder) == LATEST


def test_a_migrated_archive_takes_new_data(tmp_path):
    from . import factories as fx

    folder = _unzip(1, tmp_path)
    with Archive(folder) as archive:
        st = fx.status(camera=make_archives.CAMERA, valid_from=fx.T0)
        pack = fx.event_pack(st)
        archive.store_status(st)
        for record in pack.entity.files:
            archive.store.put(record.file_id, record.md5, io.BytesIO(pack.blobs[record.file_id]))
        assert archive.store_event(pack.entity)
        assert len(archive.events()) == 3


def test_an_archive_from_a_newer_meteorgui_is_refused_untouched(tmp_path, capsys):
    folder = _unzip(LATEST, tmp_path)
    newer = LATEST + 1
    conn = sqlite3.connect(folder / "archive.sqlite3")
    with conn:
        conn.execute("INSERT INTO migrations VALUES (?, 'from the future', 0)", (newer,))
    conn.close()
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    with pytest.raises(ArchiveError) as exc:
        Archive(folder)
    message = str(exc.value)
    assert f"schema version {newer}" in message and f"up to schema version {LATEST}" in message
    assert f"meteorgui {__version__}" in message

    assert cli_main(["--data-dir", str(folder), "events"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"schema version {newer}" in err

    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
