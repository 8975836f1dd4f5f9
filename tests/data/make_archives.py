"""Make the small archives in tests/data/archives/: one at each schema version.

    .venv/bin/python tests/data/make_archives.py

Each ``v<N>.zip`` holds a data folder as a meteorgui at schema version N left it: the
migrations up to N (from meteorgui/archive/migrations.py) and rows written with the SQL
of that time, so that later code must migrate it. The file store uses the layout of its
time too: two folder levels and no layout file up to version 5, one level after.
tests/test_upgrades.py opens each with the current code and reads everything back,
file bytes included. Run this again when a migration is added; commit the new zip and
never change an old one.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
OUT = HERE / "archives"
sys.path.insert(0, str(HERE.parent.parent))

from meteorgui.archive import migrations  # noqa: E402
from meteorgui.archive.passwords import hash_password  # noqa: E402

CAMERA = "b827eb0a1c2d"
USER, PASSWORD = "camera", "night-sky-42"
T0 = 1_448_400_000_123  # 2015-11-24 21:20 UTC, a night the 2015 nodes could have sent
RECEIVED = T0 + 3_600_000
# The last schema version whose file store had two folder levels and no layout file.
TWO_LEVEL_STORE_UNTIL = 5


def _bytes(seed: str, n: int) -> bytes:
    """Deterministic bytes with every value in them (not text)."""
    out = bytearray()
    block = seed.encode()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def _status(status_id: str, valid_from: int, inst: str) -> dict:
    return {
        "status_id": status_id,
        "camera_id": CAMERA,
        "valid_from": valid_from,
        "lens": "Fujinon YV2.8x2.8SA",
        "sensor": "Watec 902H2 Ultimate",
        "inst_name": inst,
        "inst_url": "https://example.org/cam",
        "software_version": 2,
        "location": {"lat": 52.2053, "long": 0.1218, "gps": True, "error": 12.5},
        "orientation": {"alt": 45.0, "az": 180.25, "rot": 0.5, "error": 1.0, "width": 60.0},
        "regions": [[{"x": 0, "y": 0}, {"x": 719, "y": 0}, {"x": 719, "y": 500}]],
    }


def _file(file_id: str, status_id: str, t: int, data: bytes, name: str, mime: str, sem: str):
    return {
        "file_id": file_id,
        "camera_id": CAMERA,
        "status_id": status_id,
        "file_time": t,
        "file_size": len(data),
        "file_name": name,
        "mime_type": mime,
        "semantic_type": sem,
        "md5": hashlib.md5(data).hexdigest(),
        "meta": [{"type": "number", "key": "meteorpi:exposure", "value": 0.04}],
    }


def entities() -> dict:
    """What every archive holds, in the wire format, and the bytes of its files."""
    s1, s2 = "a1" * 16, "a2" * 16
    content = {
        "f1" * 16: _bytes("still", 1500),
        "f2" * 16: _bytes("video", 2600),
        "f3" * 16: _bytes("timelapse", 900),
    }
    e1_files = [
        _file(
            "f1" * 16,
            s1,
            T0 + 10_000,
            content["f1" * 16],
            "still.png",
            "image/png",
            "meteorpi:triggers/event/maxBrightness/lensCorr",
        ),
        _file(
            "f2" * 16,
            s1,
            T0 + 10_001,
            content["f2" * 16],
            "clip.mp4",
            "video/mp4",
            "meteorpi:triggers/event/video",
        ),
    ]
    events = [
        {
            "event_id": "e1" * 16,
            "camera_id": CAMERA,
            "status_id": s1,
            "event_time": T0 + 10_000,
            "event_type": "meteorpi:meteor",
            "files": e1_files,
            "meta": [
                {"type": "number", "key": "meteorpi:duration", "value": 0.62},
                {"type": "date", "key": "meteorpi:peak", "value": T0 + 10_250},
                {"type": "string", "key": "meteorpi:note", "value": "bright, \u00e9t\u00e9"},
            ],
        },
        {
            "event_id": "e2" * 16,
            "camera_id": CAMERA,
            "status_id": s2,
            "event_time": T0 + 7_300_000,
            "event_type": "meteorpi:plane",
            "files": [],
            "meta": [],
        },
    ]
    standalone = _file(
        "f3" * 16,
        s2,
        T0 + 7_400_000,
        content["f3" * 16],
        "timelapse.png",
        "image/png",
        "meteorpi:timelapse/frame/lensCorr",
    )
    return {
        "statuses": [_status(s1, T0, "Back garden"), _status(s2, T0 + 7_200_000, "Shed roof")],
        "events": events,
        "files": [standalone],
        "content": content,
        "review": ("e1" * 16, "meteor"),
        "target": ("7a" * 16, "club", "https://club.example.org/import", "uploader"),
        "rule": "nightly to the club",
        "sky": ("e1" * 16, "LEO"),
    }


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _meta_rows(owner: str, meta: list[dict]) -> list[tuple]:
    return [
        (
            owner,
            i,
            m["type"],
            m["key"],
            json.dumps(m["value"]),
            None if m["type"] == "string" else float(m["value"]),
        )
        for i, m in enumerate(meta)
    ]


def _write(conn: sqlite3.Connection, version: int, data: dict) -> None:
    """The rows, written with the tables and habits of schema ``version``."""
    x = conn.execute
    statuses = data["statuses"]
    for i, s in enumerate(statuses):
        nxt = statuses[i + 1]["valid_from"] if i + 1 < len(statuses) else None
        x(
            "INSERT INTO statuses (status_id, camera_id, valid_from, valid_to, sent_valid_to,"
            " body, received_at, received_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (s["status_id"], CAMERA, s["valid_from"], nxt, None, _dumps(s), RECEIVED, USER),
        )
        for r, poly in enumerate(s["regions"]):
            for p, point in enumerate(poly):
                x(
                    "INSERT INTO status_regions VALUES (?, ?, ?, ?, ?)",
                    (s["status_id"], r, p, point["x"], point["y"]),
                )

    if version >= 9:  # a camera is bound to the login that first sent its status
        x("INSERT INTO camera_owners VALUES (?, ?, ?)", (CAMERA, USER, RECEIVED))

    def insert_file(f: dict, event_id: str | None, index: int | None) -> None:
        x(
            "INSERT INTO files (file_id, event_id, file_index, camera_id, status_id, file_time,"
            " file_size, file_name, mime_type, semantic_type, md5, received_at, received_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f["file_id"],
                event_id,
                index,
                CAMERA,
                f["status_id"],
                f["file_time"],
                f["file_size"],
                f["file_name"],
                f["mime_type"],
                f["semantic_type"],
                f["md5"],
                RECEIVED,
                USER,
            ),
        )
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?)", _meta_rows(f["file_id"], f["meta"])
        )

    for e in data["events"]:
        x(
            "INSERT INTO events (event_id, camera_id, status_id, event_time, event_type,"
            " received_at, received_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                e["event_id"],
                CAMERA,
                e["status_id"],
                e["event_time"],
                e["event_type"],
                RECEIVED,
                USER,
            ),
        )
        rows = _meta_rows(e["event_id"], e["meta"])
        conn.executemany("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?)", rows)
        search = "".join(f" {r[3]}={r[4]}" for r in rows)
        if version >= 14:
            pass  # the archive writes the summary row once, after the files (below)
        elif version >= 10:  # the camera's name joined the searched text
            x(
                "UPDATE event_summary SET search = ?, camera_name = IFNULL((SELECT"
                " json_extract(body, '$.inst_name') FROM statuses WHERE status_id = ?), '')"
                " WHERE event_id = ?",
                (search, e["status_id"], e["event_id"]),
            )
        elif version >= 6 and rows:  # the trigger that wrote the search text was gone
            x("UPDATE event_summary SET search = ? WHERE event_id = ?", (search, e["event_id"]))
        for i, f in enumerate(e["files"]):
            insert_file(f, e["event_id"], i)
        if version >= 14:
            x(
                "INSERT INTO event_summary (event_id, camera_id, event_time, event_type,"
                " duration, brightness, n_files, still_id, still_md5, still_mime, still_rank,"
                " search, camera_name)"
                " SELECT e.event_id, e.camera_id, e.event_time, e.event_type,"
                " IFNULL((SELECT num FROM meta WHERE owner_id = e.event_id"
                "  AND key = 'meteorpi:duration' AND num IS NOT NULL"
                "  ORDER BY idx DESC LIMIT 1), -1),"
                " IFNULL((SELECT num FROM meta WHERE owner_id = e.event_id AND key IN"
                "  ('meteorpi:peakAmplitude', 'meteorpi:amplitudePeak',"
                "   'meteorpi:peakBrightness', 'meteorpi:brightness') AND num IS NOT NULL"
                "  ORDER BY idx DESC LIMIT 1), -1),"
                " (SELECT COUNT(*) FROM files WHERE event_id = e.event_id),"
                " v.file_id, v.md5, v.mime_type, IFNULL(v.still_rank, 99),"
                + (
                    # The dotted words' terms at the end (dotted.py).
                    " ?1 || meteorgui_dotted(?1 || ' ' || e.event_id || ' ' || e.camera_id"
                    "  || ' ' || e.event_type || ' ' || IFNULL((SELECT json_extract(body,"
                    "  '$.inst_name') FROM statuses WHERE status_id = e.status_id), '')),"
                    if version >= 15
                    else " ?1,"
                )
                + " IFNULL((SELECT json_extract(body, '$.inst_name') FROM statuses"
                "  WHERE status_id = e.status_id), '')"
                " FROM events e LEFT JOIN (SELECT * FROM file_still_rank WHERE event_id = ?2"
                "  AND still_rank < 99 ORDER BY still_rank, file_index LIMIT 1) v"
                " WHERE e.event_id = ?2",
                (search, e["event_id"]),
            )
    for f in data["files"]:
        insert_file(f, None, None)

    x(
        "INSERT INTO users VALUES (?, ?, ?, ?)",
        (USER, "import", hash_password(PASSWORD, iterations=1000), T0),
    )
    x(
        "INSERT INTO conversations (user, remote_addr, kind, entity_id, camera_id, state,"
        " started_at, updated_at, bytes, attempts, final, message)"
        " VALUES (?, ?, 'event', ?, ?, 'complete', ?, ?, ?, 1, 1, NULL)",
        (USER, "192.0.2.7", "e1" * 16, CAMERA, RECEIVED, RECEIVED + 40, 4100),
    )
    x(
        "INSERT INTO conversation_steps VALUES (1, ?, 'complete', 'archived')",
        (RECEIVED + 40,),
    )
    if version >= 2:
        event_id, label = data["review"]
        x("INSERT INTO reviews VALUES (?, ?, ?)", (event_id, label, RECEIVED + 60_000))
    if version >= 3:
        target_id, name, url, user = data["target"]
        x(
            "INSERT INTO export_targets (target_id, name, url, user, ca_bundle, timeout,"
            " created_at) VALUES (?, ?, ?, ?, NULL, 120, ?)",
            (target_id, name, url, user, T0),
        )
        x(
            "INSERT INTO export_done VALUES (?, ?, 'event', ?, 4100, 1)",
            (target_id, "e1" * 16, RECEIVED + 90_000),
        )
        x(
            "INSERT INTO export_queue (target_id, entity_id, kind, entity_time, state, force,"
            " source, attempts, bytes_sent, last_error, queued_at, updated_at)"
            " VALUES (?, ?, 'file', ?, 'queued', 0, 'manual', 0, 0, NULL, ?, ?)",
            (target_id, "f3" * 16, T0 + 7_400_000, RECEIVED, RECEIVED),
        )
        x(
            "INSERT INTO export_rules (name, target_id, search, window_start, window_end,"
            " bandwidth, interval_s, created_at) VALUES (?, ?, ?, 120, 360, 65536, 900, ?)",
            (data["rule"], target_id, json.dumps({"camera_id": CAMERA}), T0),
        )
    if version >= 8:
        event_id, shower = data["sky"]
        x(
            "INSERT INTO sky_results (event_id, camera_id, event_time, status_id, computed_at,"
            " version, shower, distance_deg, radiant_ra, radiant_dec)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, 2.5, 152.0, 22.0)",
            (event_id, CAMERA, T0 + 10_000, "a1" * 16, RECEIVED, shower),
        )


def _store(folder: Path, version: int, data: dict) -> None:
    files = folder / "files"
    files.mkdir()
    records = [f for e in data["events"] for f in e["files"]] + data["files"]
    two_levels = version <= TWO_LEVEL_STORE_UNTIL
    if not two_levels:
        for i in range(256):
            (files / f"{i:02x}").mkdir()
        (files / "layout").write_text(
            "1 level of folders: <first two hex digits of the id>/<id>.<md5>\n"
        )
    for f in records:
        shard = files / f["file_id"][:2]
        if two_levels:
            shard = shard / f["file_id"][2:4]
        shard.mkdir(parents=True, exist_ok=True)
        (shard / f"{f['file_id']}.{f['md5']}").write_bytes(data["content"][f["file_id"]])


def make(version: int) -> bytes:
    """A zip of a data folder at schema ``version``."""
    data = entities()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        conn = sqlite3.connect(folder / "archive.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")  # as every meteorgui has kept its archive
        with mock.patch.object(migrations, "MIGRATIONS", migrations.MIGRATIONS[:version]):
            migrations.apply(conn)
        conn.execute("UPDATE migrations SET applied_at = ?", (T0,))
        conn.execute("BEGIN")
        _write(conn, version, data)
        conn.execute("COMMIT")
        conn.execute("VACUUM")
        conn.close()
        _store(folder, version, data)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(folder.rglob("*")):
                name = path.relative_to(folder).as_posix()
                info = zipfile.ZipInfo(
                    name + ("/" if path.is_dir() else ""), (2015, 11, 24, 0, 0, 0)
                )
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, b"" if path.is_dir() else path.read_bytes())
        return buf.getvalue()


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for version, name, _ in migrations.MIGRATIONS:
        path = OUT / f"v{version}.zip"
        if path.exists():
            print(f"kept {path.name} (schema {version}, {name}): a released archive never changes")
            continue
        path.write_bytes(make(version))
        print(f"wrote {path.name} (schema {version}, {name}): {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
