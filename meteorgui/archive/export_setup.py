"""What the user set up for exports: the rows of ``export_targets`` and ``export_rules``
(migration 3).

The exporter checks a target's or rule's fields and builds its objects from these rows;
the SQL stays here. Rows are tuples in ``TARGET_COLUMNS`` / ``RULE_COLUMNS`` order. A
write the database refuses (a second target with one name, a rule for a target that is
gone) raises ``Conflict``, which the exporter turns into its own message. Each write
publishes a ``notify.TargetChanged`` or ``notify.RuleChanged`` after its commit, whoever
made it (a dialog, the scheduler recording a run, a script).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from .. import notify
from .archive import Conflict

TARGET_COLUMNS = ("target_id", "name", "url", "user", "ca_bundle", "timeout", "created_at")
RULE_COLUMNS = (
    "rule_id", "name", "target_id", "search", "enabled", "window_start", "window_end",
    "bandwidth", "interval_s", "state", "failures", "last_error", "last_run_at", "last_ok_at",
    "next_attempt_at", "created_at",
)  # fmt: skip
_TARGETS = ", ".join(TARGET_COLUMNS)
_RULES = ", ".join(RULE_COLUMNS)


def _checked(values: Mapping[str, object], columns: Sequence[str]) -> None:
    """Column names are put into SQL text, so only the table's own are accepted."""
    unknown = set(values) - set(columns)
    if unknown:
        raise ValueError(f"not a column: {sorted(unknown)}")


@contextmanager
def _write(archive) -> Iterator[sqlite3.Connection]:
    try:
        with archive.db.write() as conn:
            yield conn
    except sqlite3.IntegrityError as exc:
        raise Conflict(str(exc)) from None


def _changed(archive, change: notify.Change) -> None:
    archive.hub.publish(notify.CHANGED, change)


# --------------------------------------------------------------------------- targets


def target_rows(archive) -> list[tuple]:
    """Every target, by name."""
    return (
        archive.db.read().execute(f"SELECT {_TARGETS} FROM export_targets ORDER BY name").fetchall()
    )


def target_row(archive, **equal: object) -> tuple | None:
    """The (oldest) target whose columns equal these values, e.g. ``name=...``."""
    _checked(equal, TARGET_COLUMNS)
    where = " AND ".join(f"{k} = ?" for k in equal) or "1"
    return (
        archive.db.read()
        .execute(
            f"SELECT {_TARGETS} FROM export_targets WHERE {where} ORDER BY created_at LIMIT 1",
            tuple(equal.values()),
        )
        .fetchone()
    )


def insert_target(archive, row: Sequence[object]) -> None:
    """Raises Conflict if another target has the name."""
    with _write(archive) as conn:
        marks = ", ".join("?" * len(TARGET_COLUMNS))
        conn.execute(f"INSERT INTO export_targets ({_TARGETS}) VALUES ({marks})", tuple(row))
    _changed(archive, notify.TargetChanged(str(row[0]), "added"))


def update_target(archive, target_id: str, values: Mapping[str, object]) -> None:
    """Raises Conflict if another target has the new name."""
    _checked(values, TARGET_COLUMNS)
    sets = ", ".join(f"{k} = ?" for k in values)
    with _write(archive) as conn:
        conn.execute(
            f"UPDATE export_targets SET {sets} WHERE target_id = ?", (*values.values(), target_id)
        )
    _changed(archive, notify.TargetChanged(target_id, "changed"))


def delete_target(archive, target_id: str) -> list[str]:
    """Delete a target (its queue and history go with it) unless rules use it: then
    nothing changes and the rules' names are returned."""
    with _write(archive) as conn:
        rules = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM export_rules WHERE target_id = ? ORDER BY name", (target_id,)
            )
        ]
        if not rules:
            conn.execute("DELETE FROM export_targets WHERE target_id = ?", (target_id,))
    if not rules:
        _changed(archive, notify.TargetChanged(target_id, "removed"))
    return rules


# --------------------------------------------------------------------------- rules


def rule_rows(archive) -> list[tuple]:
    """Every rule, by name."""
    return (
        archive.db.read()
        .execute(f"SELECT {_RULES} FROM export_rules ORDER BY name, rule_id")
        .fetchall()
    )


def rule_row(archive, rule_id: int) -> tuple | None:
    return (
        archive.db.read()
        .execute(f"SELECT {_RULES} FROM export_rules WHERE rule_id = ?", (rule_id,))
        .fetchone()
    )


def insert_rule(archive, values: Mapping[str, object]) -> int:
    """The new rule's id. Raises Conflict if its target does not exist."""
    _checked(values, RULE_COLUMNS)
    marks = ", ".join("?" * len(values))
    with _write(archive) as conn:
        cur = conn.execute(
            f"INSERT INTO export_rules ({', '.join(values)}) VALUES ({marks})",
            tuple(values.values()),
        )
        assert cur.lastrowid is not None  # an INSERT of one row always sets it
        rule_id = cur.lastrowid
    _changed(archive, notify.RuleChanged(rule_id, "added"))
    return rule_id


def update_rule(archive, rule_id: int, values: Mapping[str, object]) -> None:
    """Raises Conflict if the rule's new target does not exist. A rule the user disabled
    stays in the 'disabled' state whatever ``values`` say (the scheduler records a run's
    state while the user may be switching the rule off)."""
    _checked(values, RULE_COLUMNS)
    sets = ", ".join(f"{k} = ?" for k in values)
    with _write(archive) as conn:
        if values:
            conn.execute(
                f"UPDATE export_rules SET {sets} WHERE rule_id = ?", (*values.values(), rule_id)
            )
        conn.execute(
            "UPDATE export_rules SET state = 'disabled' WHERE rule_id = ? AND enabled = 0",
            (rule_id,),
        )
    _changed(archive, notify.RuleChanged(rule_id, "changed"))


def delete_rule(archive, rule_id: int) -> None:
    with _write(archive) as conn:
        conn.execute("DELETE FROM export_rules WHERE rule_id = ?", (rule_id,))
    _changed(archive, notify.RuleChanged(rule_id, "removed"))
