"""Export to a folder or zip through the API the GUI uses: selected ids, damage, cancel."""

from __future__ import annotations

import json

import pytest

from meteorgui.exporter import FolderExportError, export_to_folder

from .export_helpers import small_night, source_archive


def test_selected_events_with_a_damaged_file(tmp_path):
    night = small_night(events=3, timelapse=2)
    with source_archive(tmp_path / "src", night) as (archive, _):
        event = night.events[1]
        damaged = event.files[0]
        path = archive.file_path(damaged)
        path.write_bytes(b"X" + path.read_bytes()[1:])
        progress = []
        # A file id of an event selects its event; a standalone file selects itself.
        result = export_to_folder(
            archive,
            tmp_path / "sel",
            ids=[event.files[1].file_id, night.files[0].file_id],
            on_progress=lambda d, t: progress.append((d, t)),
        )
    assert (result.events, result.files) == (1, len(event.files) - 1 + 1)
    assert result.problems == [(damaged.file_id, result.problems[0][1])]
    assert "damaged" in result.problems[0][1] and not result.ok
    assert progress == [(1, 2), (2, 2)]
    manifest = json.loads((tmp_path / "sel" / "manifest.json").read_text())
    assert manifest["missing"] == [damaged.file_id]
    [m] = manifest["events"]
    assert m["event"] == event.to_dict() and m["paths"][0] is None
    assert not list((tmp_path / "sel").rglob(f"*{damaged.file_id}*"))


def test_cancel_leaves_nothing_behind(tmp_path):
    night = small_night(events=3, timelapse=0)
    with source_archive(tmp_path / "src", night) as (archive, _):
        result = export_to_folder(
            archive, tmp_path / "out.zip", as_zip=True, cancelled=lambda: True
        )
        assert result.cancelled
        with pytest.raises(FolderExportError, match="does not exist"):
            export_to_folder(archive, tmp_path / "no" / "such" / "dir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no partial zip


def test_a_zip_holds_only_what_its_manifest_lists(tmp_path):
    import os
    import zipfile

    night = small_night(events=2, timelapse=0)
    with source_archive(tmp_path / "src", night) as (archive, _):
        event = night.events[0]
        damaged, unreadable = event.files[0], event.files[1]
        path = archive.file_path(damaged)
        path.write_bytes(b"X" + path.read_bytes()[1:])
        # A stored file that cannot be read (here: a folder in its place, EISDIR).
        archive.file_path(unreadable).unlink()
        os.mkdir(archive.file_path(unreadable))
        result = export_to_folder(archive, tmp_path / "out", as_zip=True)
    assert {i for i, _ in result.problems} == {damaged.file_id, unreadable.file_id}
    assert any("cannot be read" in m for _, m in result.problems)
    with zipfile.ZipFile(tmp_path / "out.zip") as z:
        manifest = json.loads(z.read("manifest.json"))
        listed = {p for e in manifest["events"] for p in e["paths"] if p} | {"manifest.json"}
        assert set(z.namelist()) == listed  # nothing the manifest does not describe
    assert set(manifest["missing"]) == {damaged.file_id, unreadable.file_id}
    # Every status a replay will be asked for, the files' ones too.
    wanted = {e.status_id for e in night.events} | {
        f.status_id for e in night.events for f in e.files
    }
    assert {s["status_id"] for s in manifest["statuses"]} == wanted


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_exports_get_the_permissions_of_any_new_file(tmp_path, umask):
    import os

    night = small_night(events=1, timelapse=0)
    old = os.umask(umask)
    try:
        with source_archive(tmp_path / "src", night) as (archive, _):
            export_to_folder(archive, tmp_path / "out", as_zip=True)
            export_to_folder(archive, tmp_path / "dir")
    finally:
        os.umask(old)
    assert (tmp_path / "out.zip").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "dir").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (tmp_path / "dir" / "manifest.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_zip_that_fails_to_write_leaves_nothing_and_says_why(tmp_path, monkeypatch):
    import zipfile

    night = small_night(events=2, timelapse=0)
    real_write, real_close = zipfile._ZipWriteFile.write, zipfile.ZipFile.close

    def full_disk(self, data):  # the disk fills up during the second file
        if self._zipfile.fp.tell() > 3000:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    def close(self):  # and closing, which writes the zip's directory, fails again
        first = self.fp is not None
        real_close(self)
        if first:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile._ZipWriteFile, "write", full_disk)
    monkeypatch.setattr(zipfile.ZipFile, "close", close)
    with source_archive(tmp_path / "src", night) as (archive, _):
        with pytest.raises(FolderExportError, match="No space left on device"):
            export_to_folder(archive, tmp_path / "out", as_zip=True)
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))]
    assert left == []


def test_names_keep_their_extension_and_odd_destinations_are_resolved(tmp_path, monkeypatch):
    from meteorgui.exporter.folder import safe_name

    assert safe_name("x" * 200 + ".jpg", "f").endswith(".jpg")
    assert len(safe_name("x" * 200 + ".jpg", "f")) == 80
    night = small_night(events=1, timelapse=0)
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    with source_archive(tmp_path / "src", night) as (archive, _):
        result = export_to_folder(archive, tmp_path / "link")  # a link to an empty folder
        assert result.ok and (tmp_path / "empty" / "manifest.json").is_file()
        monkeypatch.chdir(tmp_path / "src")
        with pytest.raises(FolderExportError, match="not an empty folder"):
            export_to_folder(archive, ".")
        result = export_to_folder(archive, ".", as_zip=True)  # beside it: src.zip
    assert result.ok and (tmp_path / "src.zip").is_file()


@pytest.mark.parametrize("as_zip", [False, True])
def test_cancel_stops_in_the_middle_of_a_large_file(tmp_path, as_zip):
    import io

    from . import factories as fx

    with source_archive(tmp_path / "src") as (archive, _):
        st = fx.status()
        archive.store_status(st)
        data = fx.blob(3 << 20)  # three chunks
        video = fx.file_record(st, data, mime_type="video/mp4", file_name="clip.mp4")
        archive.store_file(video)
        assert archive.store.put(video.file_id, video.md5, io.BytesIO(data))
        calls = []

        def cancelled():  # the user presses Cancel while the file is being copied
            calls.append(1)
            return len(calls) > 2

        result = export_to_folder(archive, tmp_path / "out", as_zip=as_zip, cancelled=cancelled)
    assert result.cancelled and len(calls) == 3  # not after the whole file
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))]


def test_a_write_failure_is_exit_1_not_a_usage_error(tmp_path, capsys, monkeypatch):
    import zipfile

    from .factories import run_cli

    night = small_night(events=1, timelapse=0)
    with source_archive(tmp_path / "src", night):
        pass

    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile._ZipWriteFile, "write", full)
    code, _, err = run_cli(
        capsys,
        monkeypatch,
        "--data-dir",
        str(tmp_path / "src"),
        "export",
        "--to-folder",
        str(tmp_path / "out"),
        "--zip",
    )
    assert code == 1 and "No space left on device" in err and err.count("\n") == 1
