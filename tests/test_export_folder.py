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
        result = export_to_folder(archive, tmp_path / "sel",
                                  ids=[event.files[1].file_id, night.files[0].file_id],
                                  on_progress=lambda d, t: progress.append((d, t)))
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
        result = export_to_folder(archive, tmp_path / "out.zip", as_zip=True,
                                  cancelled=lambda: True)
        assert result.cancelled
        with pytest.raises(FolderExportError, match="does not exist"):
            export_to_folder(archive, tmp_path / "no" / "such" / "dir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no partial zip
