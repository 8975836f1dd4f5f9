"""The file store's layout on disk: one folder level for new stores, two kept for old ones."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os

import pytest

from meteorgui.archive import Archive, Conflict
from meteorgui.archive.store import SHARDS, FileStore
from tests import factories as fx


def _put(store: FileStore, data: bytes) -> tuple[str, str]:
    file_id = hashlib.md5(data + b"id", usedforsecurity=False).hexdigest()
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert store.put(file_id, md5, io.BytesIO(data))
    return file_id, md5


def test_a_new_store_has_its_folders_and_layout_from_the_start(tmp_path):
    store = FileStore(tmp_path / "files", tmp_path / "quarantine")
    try:
        assert store.levels == 1
        assert sorted(p.name for p in store.root.iterdir() if p.is_dir()) == sorted(
            [*SHARDS, "tmp"]
        )
        file_id, md5 = _put(store, b"meteor")
        assert store.path(file_id, md5) == store.root / file_id[:2] / f"{file_id}.{md5}"
        assert store.path(file_id, md5).read_bytes() == b"meteor"
        assert store.check(file_id, md5) == "ok"
    finally:
        store.close()
    again = FileStore(tmp_path / "files", tmp_path / "quarantine")
    try:
        assert again.levels == 1 and again.has(file_id, md5)
    finally:
        again.close()


def test_a_store_from_before_the_layout_file_keeps_two_levels(tmp_path):
    root = tmp_path / "files"
    data = b"an old still"
    file_id = hashlib.md5(data + b"id", usedforsecurity=False).hexdigest()
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    old = root / file_id[:2] / file_id[2:4] / f"{file_id}.{md5}"
    old.parent.mkdir(parents=True)
    old.write_bytes(data)
    store = FileStore(root, tmp_path / "quarantine")
    try:
        assert store.levels == 2
        assert not (root / "layout").exists()
        assert store.has(file_id, md5) and store.path(file_id, md5) == old
        new_id, new_md5 = _put(store, b"a new still")
        assert store.path(new_id, new_md5).parent.parent.parent == root
        assert store.check(new_id, new_md5) == "ok"
    finally:
        store.close()


def test_a_shard_folder_removed_behind_the_stores_back_is_made_again(tmp_path):
    store = FileStore(tmp_path / "files", tmp_path / "quarantine")
    try:
        data = b"after a clean-up"
        file_id = hashlib.md5(data + b"id", usedforsecurity=False).hexdigest()
        os.rmdir(store.root / file_id[:2])
        _put(store, data)
        assert store.check(file_id, hashlib.md5(data, usedforsecurity=False).hexdigest()) == "ok"
    finally:
        store.close()


def test_quarantined_bytes_no_longer_count_as_settled(tmp_path):
    store = FileStore(tmp_path / "files", tmp_path / "quarantine")
    try:
        file_id, md5 = _put(store, b"damaged later")
        assert store.settle([(file_id, md5)]) == []
        assert store.quarantine(file_id, md5) is not None
        assert store.settle([(file_id, md5)]) == [file_id]
        assert not store.has(file_id, md5)
    finally:
        store.close()


def test_bytes_moved_by_another_process_do_not_count_as_settled(tmp_path):
    store = FileStore(tmp_path / "files", tmp_path / "quarantine")
    other = FileStore(tmp_path / "files", tmp_path / "quarantine")  # e.g. a CLI resend
    try:
        file_id, md5 = _put(store, b"moved behind our back")
        assert store.settle([(file_id, md5)]) == []
        assert other.quarantine(file_id, md5) is not None
        assert store.settle([(file_id, md5)]) == [file_id]
    finally:
        other.close()
        store.close()


def test_an_unreadable_stored_file_is_damaged_not_an_error(tmp_path):
    store = FileStore(tmp_path / "files", tmp_path / "quarantine")
    try:
        file_id, md5 = _put(store, b"soon unreadable")
        path = store.path(file_id, md5)
        path.unlink()
        path.mkdir()  # reading it fails (EISDIR), as a failing disk's EIO would
        assert store.check(file_id, md5) == "damaged"
    finally:
        store.close()


def test_a_file_of_an_archived_event_cannot_join_another(tmp_path):
    with Archive(tmp_path / "a") as archive:
        st = fx.status()
        archive.store_status(st)
        first = fx.event_pack(st, n_files=3).entity
        assert archive.store_event(first)
        other = fx.event_pack(st, n_files=2).entity
        thief = dataclasses.replace(other, files=(*other.files, first.files[1]))
        with pytest.raises(
            Conflict,
            match=f"file {first.files[1].file_id} is already "
            f"archived as part of event {first.event_id}",
        ):
            archive.store_event(thief)
        assert not archive.has_event(other.event_id)
