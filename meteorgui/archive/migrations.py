"""Named, versioned schema migrations, each applied in one transaction with its record."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from ..errors import MeteorguiError
from . import dotted

log = logging.getLogger(__name__)

# The triggers that keep event_summary_fts current (migration 10; made again by 15).
_SUMMARY_FTS_TRIGGERS = """
        CREATE TRIGGER event_summary_ai AFTER INSERT ON event_summary BEGIN
            INSERT INTO event_summary_fts
                (rowid, search, event_id, camera_id, event_type, label, camera_name)
            VALUES (new.seq, new.search, new.event_id, new.camera_id, new.event_type,
                    new.label, new.camera_name);
        END;
        CREATE TRIGGER event_summary_ad AFTER DELETE ON event_summary BEGIN
            INSERT INTO event_summary_fts
                (event_summary_fts, rowid, search, event_id, camera_id, event_type, label,
                 camera_name)
            VALUES ('delete', old.seq, old.search, old.event_id, old.camera_id,
                    old.event_type, old.label, old.camera_name);
        END;
        CREATE TRIGGER event_summary_au AFTER UPDATE OF search, label, camera_name
        ON event_summary BEGIN
            INSERT INTO event_summary_fts
                (event_summary_fts, rowid, search, event_id, camera_id, event_type, label,
                 camera_name)
            VALUES ('delete', old.seq, old.search, old.event_id, old.camera_id,
                    old.event_type, old.label, old.camera_name);
            INSERT INTO event_summary_fts
                (rowid, search, event_id, camera_id, event_type, label, camera_name)
            VALUES (new.seq, new.search, new.event_id, new.camera_id, new.event_type,
                    new.label, new.camera_name);
        END;
"""

# The full-text index rebuilt in one segment, with its term list (migrations 13 and 15).
_SUMMARY_FTS_REBUILT = """
        CREATE VIRTUAL TABLE event_summary_fts USING fts5(
            search, event_id, camera_id, event_type, label, camera_name,
            tokenize = 'unicode61', prefix = '1 2 3', content = event_summary, content_rowid = seq
        );
        INSERT INTO event_summary_fts (event_summary_fts) VALUES ('rebuild');
        INSERT INTO event_summary_fts (event_summary_fts) VALUES ('optimize');
        CREATE VIRTUAL TABLE event_summary_terms USING fts5vocab(event_summary_fts, 'row');
"""

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
    (
        2,
        "browse_and_reviews",
        """
        CREATE TABLE reviews (
            event_id    TEXT PRIMARY KEY,    -- the user's classification, beside the received data
            label       TEXT NOT NULL,
            reviewed_at INTEGER NOT NULL
        );

        CREATE TABLE event_summary (
            seq         INTEGER PRIMARY KEY, -- insertion order: a browsing snapshot is seq <= n
            event_id    TEXT NOT NULL UNIQUE,
            camera_id   TEXT NOT NULL,
            event_time  INTEGER NOT NULL,
            event_type  TEXT NOT NULL,
            duration    REAL NOT NULL DEFAULT -1,   -- seconds; -1 when the camera did not say
            brightness  REAL NOT NULL DEFAULT -1,   -- peak amplitude; -1 when unknown
            n_files     INTEGER NOT NULL DEFAULT 0,
            still_id    TEXT,
            still_md5   TEXT,
            still_mime  TEXT,
            still_rank  INTEGER NOT NULL DEFAULT 99,  -- lower is better, as thumbnails.still_rank
            label       TEXT,                 -- copy of reviews.label, kept by triggers
            search      TEXT NOT NULL DEFAULT ''  -- the event's metadata as key=value words
        );
        CREATE INDEX event_summary_time ON event_summary(event_time);
        CREATE INDEX event_summary_camera ON event_summary(camera_id, event_time);
        CREATE INDEX event_summary_type ON event_summary(event_type, event_time);
        CREATE INDEX event_summary_label ON event_summary(label, event_time);
        CREATE INDEX event_summary_duration ON event_summary(duration, event_time);
        CREATE INDEX event_summary_brightness ON event_summary(brightness, event_time);
        CREATE INDEX files_standalone_time ON files(file_time) WHERE event_id IS NULL;

        CREATE TRIGGER event_summary_event AFTER INSERT ON events BEGIN
            INSERT INTO event_summary (event_id, camera_id, event_time, event_type, label)
            VALUES (NEW.event_id, NEW.camera_id, NEW.event_time, NEW.event_type,
                    (SELECT label FROM reviews WHERE event_id = NEW.event_id));
        END;

        CREATE TRIGGER event_summary_search AFTER INSERT ON meta BEGIN
            UPDATE event_summary SET search = search || ' ' || NEW.key || '=' || NEW.value
             WHERE event_id = NEW.owner_id;
        END;

        CREATE TRIGGER event_summary_duration AFTER INSERT ON meta
        WHEN NEW.key = 'meteorpi:duration' AND NEW.num IS NOT NULL BEGIN
            UPDATE event_summary SET duration = NEW.num WHERE event_id = NEW.owner_id;
        END;

        CREATE TRIGGER event_summary_brightness AFTER INSERT ON meta
        WHEN NEW.key IN ('meteorpi:peakAmplitude', 'meteorpi:amplitudePeak',
                         'meteorpi:peakBrightness', 'meteorpi:brightness')
             AND NEW.num IS NOT NULL BEGIN
            UPDATE event_summary SET brightness = NEW.num WHERE event_id = NEW.owner_id;
        END;

        -- Which file pictures an event best, as thumbnails.still_rank (lower is better).
        CREATE VIEW file_still_rank AS
        SELECT file_id, event_id, file_index, md5, mime_type,
               CASE
                   WHEN IFNULL(semantic_type, '') LIKE '%maxbrightness%'
                        AND IFNULL(semantic_type, '') LIKE '%lenscorr%' THEN 0
                   WHEN IFNULL(semantic_type, '') LIKE '%maxbrightness%'
                        OR (IFNULL(semantic_type, '') LIKE '%lenscorr%'
                            AND mime_type LIKE 'image/%') THEN 1
                   WHEN lower(mime_type) = 'image/png' THEN 2
                   WHEN mime_type LIKE 'image/%' THEN 3
                   WHEN mime_type LIKE 'video/%' THEN 4
                   ELSE 99
               END AS still_rank
        FROM files;

        CREATE TRIGGER event_summary_file AFTER INSERT ON files
        WHEN NEW.event_id IS NOT NULL BEGIN
            UPDATE event_summary SET n_files = n_files + 1 WHERE event_id = NEW.event_id;
            UPDATE event_summary
               SET (still_id, still_md5, still_mime, still_rank) =
                   (SELECT file_id, md5, mime_type, still_rank FROM file_still_rank
                     WHERE file_id = NEW.file_id)
             WHERE event_id = NEW.event_id
               AND still_rank > (SELECT still_rank FROM file_still_rank
                                  WHERE file_id = NEW.file_id);
        END;

        CREATE TRIGGER reviews_insert AFTER INSERT ON reviews BEGIN
            UPDATE event_summary SET label = NEW.label WHERE event_id = NEW.event_id;
        END;
        CREATE TRIGGER reviews_update AFTER UPDATE ON reviews BEGIN
            UPDATE event_summary SET label = NEW.label WHERE event_id = NEW.event_id;
        END;
        CREATE TRIGGER reviews_delete AFTER DELETE ON reviews BEGIN
            UPDATE event_summary SET label = NULL WHERE event_id = OLD.event_id;
        END;

        INSERT INTO event_summary (event_id, camera_id, event_time, event_type)
        SELECT event_id, camera_id, event_time, event_type FROM events ORDER BY rowid;
        UPDATE event_summary SET
            duration = IFNULL((SELECT num FROM meta WHERE owner_id = event_summary.event_id
                               AND key = 'meteorpi:duration' AND num IS NOT NULL
                               ORDER BY idx DESC LIMIT 1), -1),
            brightness = IFNULL((SELECT num FROM meta WHERE owner_id = event_summary.event_id
                                 AND key IN ('meteorpi:peakAmplitude', 'meteorpi:amplitudePeak',
                                             'meteorpi:peakBrightness', 'meteorpi:brightness')
                                 AND num IS NOT NULL ORDER BY idx DESC LIMIT 1), -1),
            n_files = (SELECT COUNT(*) FROM files WHERE files.event_id = event_summary.event_id),
            search = IFNULL((SELECT ' ' || group_concat(key || '=' || value, ' ')
                             FROM (SELECT key, value FROM meta
                                    WHERE owner_id = event_summary.event_id ORDER BY idx)), '');
        UPDATE event_summary
           SET (still_id, still_md5, still_mime, still_rank) =
               (SELECT file_id, md5, mime_type, still_rank FROM file_still_rank v
                 WHERE v.event_id = event_summary.event_id AND v.still_rank < 99
                 ORDER BY v.still_rank, v.file_index LIMIT 1)
         WHERE EXISTS (SELECT 1 FROM file_still_rank v
                        WHERE v.event_id = event_summary.event_id AND v.still_rank < 99);
        """,
    ),
    (
        3,
        "exports",
        """
        -- Where the archive can be exported to. The password is never here: it is in the
        -- OS keyring (or a user-only file) under the target_id.
        CREATE TABLE export_targets (
            target_id   TEXT PRIMARY KEY,    -- 32 hex digits
            name        TEXT NOT NULL UNIQUE,
            url         TEXT NOT NULL,       -- the import URL, e.g. https://host/import
            user        TEXT NOT NULL,
            ca_bundle   TEXT,                -- CA bundle for a self-signed server; NULL = system CAs
            timeout     REAL NOT NULL DEFAULT 120,   -- seconds to wait for an answer
            created_at  INTEGER NOT NULL
        );

        -- What is still to be sent (or failed); a row leaves when the target says complete.
        CREATE TABLE export_queue (
            target_id   TEXT NOT NULL REFERENCES export_targets(target_id) ON DELETE CASCADE,
            entity_id   TEXT NOT NULL,
            kind        TEXT NOT NULL,       -- 'event' or 'file' (a standalone file record)
            entity_time INTEGER NOT NULL,    -- oldest first, as a MeteorPi node sends
            state       TEXT NOT NULL,       -- 'queued', 'sending' or 'failed'
            force       INTEGER NOT NULL DEFAULT 0,  -- send even if already exported
            source      TEXT NOT NULL,       -- 'manual', 'cli', 'resend', 'rule:<id>'
            attempts    INTEGER NOT NULL DEFAULT 0,
            bytes_sent  INTEGER NOT NULL DEFAULT 0,
            last_error  TEXT,
            queued_at   INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL,
            PRIMARY KEY (target_id, entity_id)
        );
        CREATE INDEX export_queue_next ON export_queue(target_id, state, entity_time);

        -- What each target answered 'complete' for.
        CREATE TABLE export_done (
            target_id    TEXT NOT NULL REFERENCES export_targets(target_id) ON DELETE CASCADE,
            entity_id    TEXT NOT NULL,
            kind         TEXT NOT NULL,
            completed_at INTEGER NOT NULL,
            bytes_sent   INTEGER NOT NULL DEFAULT 0,
            times        INTEGER NOT NULL DEFAULT 1,  -- complete answers, forced resends included
            PRIMARY KEY (target_id, entity_id)
        );
        CREATE INDEX export_done_entity ON export_done(entity_id);

        -- Scheduled exports: a search, a target, a time window, a bandwidth cap, and the
        -- visible state of their last runs.
        CREATE TABLE export_rules (
            rule_id         INTEGER PRIMARY KEY AUTOINCREMENT,
            name            TEXT NOT NULL,
            target_id       TEXT NOT NULL REFERENCES export_targets(target_id),
            search          TEXT NOT NULL,   -- JSON of exports.Selection
            enabled         INTEGER NOT NULL DEFAULT 1,
            window_start    INTEGER,         -- minutes after local midnight; NULL = any time
            window_end      INTEGER,         -- exclusive; may be before start (overnight)
            bandwidth       INTEGER,         -- bytes/s while streaming; NULL = no cap
            interval_s      INTEGER NOT NULL DEFAULT 900,
            state           TEXT NOT NULL DEFAULT 'idle',
            failures        INTEGER NOT NULL DEFAULT 0,  -- in a row
            last_error      TEXT,
            last_run_at     INTEGER,
            last_ok_at      INTEGER,
            next_attempt_at INTEGER,
            created_at      INTEGER NOT NULL
        );
        CREATE INDEX export_rules_target ON export_rules(target_id);
        """,
    ),
    (
        4,
        "arrival_indexes",
        """
        -- Camera health counts what arrived tonight, whatever night it was recorded in.
        CREATE INDEX events_received ON events(received_at);
        CREATE INDEX files_received ON files(received_at);
        """,
    ),
    (
        5,
        "drop_unused_indexes",
        """
        -- No query reads these (browsing sorts on event_summary; nothing filters files by
        -- semantic type), yet every event commit rewrote a page of them per meta item and
        -- per file: about a third of the pages each commit writes and syncs.
        DROP INDEX IF EXISTS meta_key_num;
        DROP INDEX IF EXISTS files_semantic_time;
        """,
    ),
    (
        6,
        "search_text_once",
        """
        -- The archive writes an event's search text once, after its meta: this trigger
        -- rebuilt it for every meta row, which grew with the square of the meta's size.
        DROP TRIGGER IF EXISTS event_summary_search;
        """,
    ),
    (
        7,
        "conversations_by_entity_state",
        """
        -- Whether a failure was made good later (conversations.MADE_GOOD): one seek, even
        -- for an entity refused thousands of times.
        CREATE INDEX conversations_entity_state ON conversations(user, entity_id, state, id);
        """,
    ),
    (
        8,
        "sky_results",
        """
        -- What meteorgui.sky computed for each event. shower: an IAU code, 'sporadic',
        -- or NULL when the event has no sky position (reason says why).
        CREATE TABLE sky_results (
            event_id        TEXT PRIMARY KEY REFERENCES events(event_id) ON DELETE CASCADE,
            camera_id       TEXT NOT NULL,
            event_time      INTEGER NOT NULL,
            status_id       TEXT,
            computed_at     INTEGER NOT NULL,
            version         INTEGER NOT NULL,
            shower          TEXT,
            reason          TEXT,
            distance_deg    REAL,
            radiant_ra      REAL,
            radiant_dec     REAL,
            first_ra        REAL,
            first_dec       REAL,
            last_ra         REAL,
            last_dec        REAL,
            group_id        TEXT,
            begin_height_km REAL,
            end_height_km   REAL,
            speed_km_s      REAL
        );
        CREATE INDEX sky_results_shower_time ON sky_results(shower, event_time);
        CREATE INDEX sky_results_group ON sky_results(group_id);
        CREATE INDEX sky_results_time ON sky_results(event_time);
        """,
    ),
    (
        9,
        "camera_owners",
        """
        -- A camera is bound to the login that first sent its status (archive/cameras.py).
        CREATE TABLE camera_owners (
            camera_id TEXT PRIMARY KEY,
            user      TEXT NOT NULL,
            bound_at  INTEGER NOT NULL
        );
        -- Cameras archived before: the login of each one's earliest status.
        INSERT INTO camera_owners (camera_id, user, bound_at)
            SELECT camera_id, received_by, MIN(received_at) FROM statuses
            WHERE received_by IS NOT NULL GROUP BY camera_id;
        """,
    ),
    (
        10,
        "full_text_search",
        """
        -- Search through an FTS5 index instead of scanning every event's text with LIKE:
        -- words are matched from their beginning (prefix queries, helped by the 2- and
        -- 3-character prefix indexes), case-insensitively. The index is the external-content table
        -- sqlite-utils' enable_fts makes, kept current by triggers; its update trigger
        -- fires only when a searched column changes (a file arriving changes n_files and
        -- the still, which are not searched).
        ALTER TABLE event_summary ADD COLUMN camera_name TEXT NOT NULL DEFAULT '';
        UPDATE event_summary SET camera_name = IFNULL(
            (SELECT json_extract(s.body, '$.inst_name') FROM events e
               JOIN statuses s ON s.status_id = e.status_id
              WHERE e.event_id = event_summary.event_id), '');
        CREATE VIRTUAL TABLE event_summary_fts USING fts5(
            search, event_id, camera_id, event_type, label, camera_name,
            tokenize = 'unicode61', prefix = '2 3', content = event_summary, content_rowid = seq
        );
        INSERT INTO event_summary_fts (event_summary_fts) VALUES ('rebuild');
        """
        + _SUMMARY_FTS_TRIGGERS,
    ),
    (
        11,
        "search_terms",
        """
        -- The full-text index's terms, so a typed word that begins only a few of them is
        -- searched as those terms (search.py): FTS5 merges every term of a prefix query
        -- into one buffer first, which on a big archive costs more than the search.
        CREATE VIRTUAL TABLE event_summary_terms USING fts5vocab(event_summary_fts, 'row');
        """,
    ),
    (
        12,
        "arrivals_by_camera",
        """
        -- Camera health counts tonight's arrivals camera by camera from an index alone:
        -- with received_at only, each counted row cost a table look-up for its camera and
        -- a sort by camera, which a camera uploading a week's backlog made hundreds of
        -- thousands per refresh. Nothing else reads events or files by received_at.
        DROP INDEX IF EXISTS events_received;
        CREATE INDEX events_camera_received ON events(camera_id, received_at);
        -- Only standalone files (stills) are counted by arrival, so the index no longer
        -- holds an event's files. event_id (always NULL here) is in it so that the
        -- count's own event_id IS NULL is read from the index too.
        DROP INDEX IF EXISTS files_received;
        CREATE INDEX files_standalone_received ON files(camera_id, received_at, event_id)
            WHERE event_id IS NULL;
        """,
    ),
    (
        13,
        "one_character_prefixes",
        """
        -- A typed word ending in a one-character token ("1.5": "1" then any term
        -- beginning with "5"; "b") is a prefix query shorter than the 2- and 3-character
        -- prefix indexes, which FTS5 answered by merging the entries of every term
        -- beginning so before its first row (160-250 ms on a million events). With a
        -- 1-character prefix index it reads one list; 'optimize' merges the rebuilt
        -- index into one segment, which the phrase's walk through two long lists needs.
        -- The triggers name the table, not its options: they stay as they are.
        DROP TABLE event_summary_terms;
        DROP TABLE event_summary_fts;
        """
        + _SUMMARY_FTS_REBUILT,
    ),
    (
        14,
        "summary_in_one_insert",
        """
        -- An event's summary row, and with it its full-text row, is written once by the
        -- archive (Archive.store_event, the only writer of events, their meta and their
        -- files), after the event's meta and files, with the values these triggers
        -- wrote: they inserted the row with an empty search text, updated it for each
        -- duration or brightness meta item and twice for each file, and the full-text
        -- index took the row, deleted it and took it again when the search text followed.
        -- Every meta row (a file's too) ran two of them.
        DROP TRIGGER IF EXISTS event_summary_event;
        DROP TRIGGER IF EXISTS event_summary_duration;
        DROP TRIGGER IF EXISTS event_summary_brightness;
        DROP TRIGGER IF EXISTS event_summary_file;
        """,
    ),
    (
        15,
        "dotted_terms",
        """
        -- Each dotted run of an event's searched text ("1.5", "192.168.1.40") is written
        -- again at the end of its search text as one term (dotted.py): a typed "1.5" reads
        -- that term's list instead of walking the long lists of "1" and of the terms
        -- beginning with "5". The index is rebuilt from the new texts in one segment; its
        -- triggers are dropped first (each row's update would delete and insert its
        -- full-text row) and made again as migration 10 made them.
        DROP TRIGGER event_summary_ai;
        DROP TRIGGER event_summary_ad;
        DROP TRIGGER event_summary_au;
        DROP TABLE event_summary_terms;
        DROP TABLE event_summary_fts;
        UPDATE event_summary SET search = search || meteorgui_dotted(
            search || ' ' || event_id || ' ' || camera_id || ' ' || event_type || ' '
            || camera_name)
        WHERE instr(search || event_id || camera_id || event_type || camera_name, '.');
        """
        + _SUMMARY_FTS_REBUILT
        + _SUMMARY_FTS_TRIGGERS,
    ),
]


class NewerArchive(MeteorguiError):
    """The archive was upgraded by a newer meteorgui than this one."""


def apply(conn: sqlite3.Connection) -> list[str]:
    """Bring the schema up to date. Returns the names of the migrations applied.

    Everything, including reading which migrations are done, happens inside one
    write transaction, so two processes opening a new archive at once cannot both
    apply the same migration.
    """
    # Migration 15 appends the dotted terms of every search text with it (dotted.py).
    conn.create_function("meteorgui_dotted", 1, dotted.tail, deterministic=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM migrations")}
        known = {version for version, _, _ in MIGRATIONS}
        if done - known:
            from .. import __version__  # looked up only here: it costs every start

            # Its schema may hold what this version would misread or overwrite.
            raise NewerArchive(
                f"the archive was upgraded by a newer meteorgui (schema version "
                f"{max(done - known)}; this meteorgui {__version__} knows up to schema "
                f"version {max(known)}); run that version or a newer one"
            )
        applied = []
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            if done:  # an archive made by an earlier version: said, since it can take a while
                log.info("Upgrading the archive: %04d_%s", version, name)
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, int(time.time() * 1000)),
            )
            applied.append(f"{version:04d}_{name}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
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


def pending(path: Path) -> list[str]:
    """The migrations an existing archive database still needs, read without changing
    it (nothing for a database not made yet, or one that cannot be read: opening it
    says why). Rebuilding an index can take a minute on a large archive: the window
    says so while it happens."""
    if not Path(path).is_file():
        return []
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return []
    try:
        done = {row[0] for row in conn.execute("SELECT version FROM migrations")}
    except sqlite3.Error:  # no table yet: an empty database, made in a moment
        return []
    finally:
        conn.close()
    return [f"{v:04d}_{name}" for v, name, _ in MIGRATIONS if v not in done]
