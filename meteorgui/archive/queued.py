"""What an export queue holds, as its views show it: each entity's camera, time and files, and
per target how much is queued, sending or failed."""

from __future__ import annotations

from dataclasses import dataclass

from .where import id_batches


@dataclass(frozen=True)
class EntityInfo:
    """What the progress view says about a queued entity."""

    entity_id: str
    kind: str  # 'event' or 'file'
    entity_time: int
    camera_id: str
    files: tuple[tuple[str, int], ...]  # (file_id, size), in the event's order

    @property
    def size(self) -> int:
        return sum(s for _, s in self.files)


def entity_infos(archive, ids: list[str]) -> dict[str, EntityInfo]:
    """Camera, time and files of events or standalone files, by id (a worker reads it)."""
    conn = archive.db.read()
    out: dict[str, EntityInfo] = {}
    for chunk, marks in id_batches(ids):
        files: dict[str, list[tuple[str, int]]] = {}
        for event_id, file_id, size in conn.execute(
            f"SELECT event_id, file_id, file_size FROM files WHERE event_id IN ({marks})"
            " ORDER BY event_id, file_index",
            chunk,
        ):
            files.setdefault(event_id, []).append((file_id, size))
        for event_id, camera, t in conn.execute(
            f"SELECT event_id, camera_id, event_time FROM events WHERE event_id IN ({marks})", chunk
        ):
            out[event_id] = EntityInfo(event_id, "event", t, camera, tuple(files.get(event_id, ())))
        for file_id, camera, t, size in conn.execute(
            f"SELECT file_id, camera_id, file_time, file_size FROM files"
            f" WHERE event_id IS NULL AND file_id IN ({marks})",
            chunk,
        ):
            out[file_id] = EntityInfo(file_id, "file", t, camera, ((file_id, size),))
    return out


@dataclass(frozen=True)
class QueueSummary:
    target_id: str
    queued: int
    sending: int
    failed: int
    pending_bytes: int  # file bytes of the queued entities (an upper bound: the target
    # may already have some files)

    @property
    def pending(self) -> int:
        return self.queued + self.sending


def queue_summary(archive, target_id: str) -> QueueSummary:
    conn = archive.db.read()
    counts = dict.fromkeys(("queued", "sending", "failed"), 0)
    counts.update(
        conn.execute(
            "SELECT state, COUNT(*) FROM export_queue WHERE target_id = ? GROUP BY state",
            (target_id,),
        ).fetchall()
    )
    size = conn.execute(
        "SELECT IFNULL(SUM(s), 0) FROM ("
        " SELECT (SELECT SUM(f.file_size) FROM files f WHERE f.event_id = q.entity_id) AS s"
        "  FROM export_queue q WHERE q.target_id = ? AND q.kind = 'event'"
        "  AND q.state IN ('queued', 'sending')"
        " UNION ALL"
        " SELECT (SELECT f.file_size FROM files f WHERE f.file_id = q.entity_id)"
        "  FROM export_queue q WHERE q.target_id = ? AND q.kind = 'file'"
        "  AND q.state IN ('queued', 'sending'))",
        (target_id, target_id),
    ).fetchone()[0]
    return QueueSummary(
        target_id, counts["queued"], counts["sending"], counts["failed"], int(size or 0)
    )
