"""Named, versioned schema migrations, each applied in one transaction with its record."""

from __future__ import annotations

import sqlite3
import time

# (version, name, SQL). Never edit a released migration: append a new one.
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial",
        """
        CREATE TABLE statuses (
            status_id      TEXT PRIMARY KEY,
            camera_id      TEXT NOT NULL,
            valid_from     INTEGER NOT NULL,
            valid_to       INTEGER,          -- computed: the next status's valid_from
            sent_valid_to  INTEGER,          -- what the camera said, if anything
            body           TEXT NOT NULL,    -- canonical wire JSON
            received_at    INTEGER NOT NULL,
            received_by    TEXT
        );
        CREATE INDEX statuses_camera_time ON statuses(camera_id, valid_from);

        CREATE TABLE status_regions (
            status_id    TEXT NOT NULL REFERENCES statuses(status_id) ON DELETE CASCADE,
            region_index INTEGER NOT NULL,
            point_index  INTEGER NOT NULL,
            x            INTEGER NOT NULL,
            y            INTEGER NOT NULL,
            PRIMARY KEY (status_id, region_index, point_index)
        );

        CREATE TABLE events (
            event_id     TEXT PRIMARY KEY,
            camera_id    TEXT NOT NULL,
            status_id    TEXT NOT NULL REFERENCES statuses(status_id),
            event_time   INTEGER NOT NULL,
            event_type   TEXT NOT NULL,
            received_at  INTEGER NOT NULL,
            received_by  TEXT
        );
        CREATE INDEX events_time ON events(event_time);
        CREATE INDEX events_camera_time ON events(camera_id, event_time);
        CREATE INDEX events_type_time ON events(event_type, event_time);

        CREATE TABLE files (
            file_id       TEXT PRIMARY KEY,
            event_id      TEXT REFERENCES events(event_id) ON DELETE CASCADE,
            file_index    INTEGER,           -- order within its event
            camera_id     TEXT NOT NULL,
            status_id     TEXT NOT NULL REFERENCES statuses(status_id),
            file_time     INTEGER NOT NULL,
            file_size     INTEGER NOT NULL,
            file_name     TEXT,
            mime_type     TEXT NOT NULL,
            semantic_type TEXT,
            md5           TEXT NOT NULL,
            received_at   INTEGER NOT NULL,
            received_by   TEXT
        );
        CREATE INDEX files_event ON files(event_id, file_index);
        CREATE INDEX files_time ON files(file_time);
        CREATE INDEX files_camera_time ON files(camera_id, file_time);
        CREATE INDEX files_semantic_time ON files(semantic_type, file_time);

        CREATE TABLE meta (
            owner_id  TEXT NOT NULL,         -- an event_id or a file_id
            idx       INTEGER NOT NULL,
            type      TEXT NOT NULL,
            key       TEXT NOT NULL,
            value     TEXT NOT NULL,         -- the JSON value, exactly as sent
            num       REAL,                  -- numbers and dates, for sorting
            PRIMARY KEY (owner_id, idx)
        );
        CREATE INDEX meta_key_num ON meta(key, num);

        CREATE TABLE users (
            name          TEXT PRIMARY KEY,
            roles         TEXT NOT NULL,     -- space separated
            password_hash TEXT NOT NULL,     -- pbkdf2_sha256$iterations$salt$hash
            created_at    INTEGER NOT NULL
        );

        CREATE TABLE conversations (
            id           INTEGER PRIMARY KEY,
            user         TEXT NOT NULL,
            remote_addr  TEXT,
            kind         TEXT NOT NULL,
            entity_id    TEXT NOT NULL,
            camera_id    TEXT,
            state        TEXT NOT NULL,
            started_at   INTEGER NOT NULL,
            updated_at   INTEGER NOT NULL,
            bytes        INTEGER NOT NULL DEFAULT 0,
            attempts     INTEGER NOT NULL DEFAULT 0,
            final        INTEGER NOT NULL DEFAULT 0,
            message      TEXT
        );
        CREATE INDEX conversations_updated ON conversations(updated_at);
        CREATE INDEX conversations_open ON conversations(user, entity_id, final);
        CREATE INDEX conversations_state ON conversations(state, updated_at);

        CREATE TABLE conversation_steps (
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            at              INTEGER NOT NULL,
            state           TEXT NOT NULL,
            detail          TEXT
        );
        CREATE INDEX conversation_steps_conv ON conversation_steps(conversation_id, at);

        CREATE TABLE resend_files (
            file_id      TEXT PRIMARY KEY,
            offer_kind   TEXT NOT NULL,      -- 'event' or 'file': what the exporter offers
            offer_id     TEXT NOT NULL,
            requested_at INTEGER NOT NULL,
            reason       TEXT
        );
        CREATE INDEX resend_files_offer ON resend_files(offer_id);
        """,
    ),
]


def apply(conn: sqlite3.Connection) -> list[str]:
    """Bring the schema up to date. Returns the names of the migrations applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM migrations")}
    applied = []
    for version, name, sql in MIGRATIONS:
        if version in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, int(time.time() * 1000)),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(f"{version:04d}_{name}")
    return applied


def _statements(sql: str) -> list[str]:
    # executescript() would commit implicitly; split so the whole migration is one transaction.
    out, buf = [], []
    for line in sql.splitlines():
        buf.append(line.split("--", 1)[0])
        joined = "\n".join(buf)
        if sqlite3.complete_statement(joined):
            if joined.strip():
                out.append(joined.strip())
            buf = []
    return out
