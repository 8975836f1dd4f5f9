"""Browsing the archive: filtered, sorted, paged event rows; reviews; nights and their counts.

Plain Python over SQLite (no Qt). Rows come from ``event_summary``, one
light row per event kept by triggers (migration 2), so a page of a 200k-event
archive is one indexed range read, never a join over files and metadata.

Snapshots: ``event_summary.seq`` grows with every stored event. A browser
that has shown everything up to ``seq <= n`` asks ``arrivals(q, since=n)`` for
what came later, with each new row's position in the new snapshot, so it can
insert rows in place instead of re-reading. ``snapshot()`` wraps a few reads
in one read transaction, so they see the same archive.

Reviews are the user's classification of an event, kept in their own table
beside the received data, which they never alter.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import notify
from . import search
from .exports import not_exported_to as _not_exported_to
from .nights import NightClock
from .where import camera_and_time

LABELS = ("meteor", "plane", "satellite", "bird", "lightning", "other", "rejected")
UNREVIEWED = "unreviewed"  # review filter: no label yet
REVIEWED = "reviewed"  # review filter: any label
SORTS = ("time", "duration", "brightness")
ANY_SHOWER = "any"  # shower filter: a meteor of any established shower
NO_SKY = "none"  # shower filter: events without a sky position
SPORADIC = "sporadic"
DURATION_KEYS = ("meteorpi:duration",)
BRIGHTNESS_KEYS = (
    "meteorpi:peakAmplitude",
    "meteorpi:amplitudePeak",
    "meteorpi:peakBrightness",
    "meteorpi:brightness",
)
UNKNOWN = -1.0  # what event_summary stores for a duration or brightness the camera did not send
STRIP_LIMIT = 5000

_SORT_COLUMNS = {
    "time": ("event_time", "seq"),
    "duration": ("duration", "event_time", "seq"),
    "brightness": ("brightness", "event_time", "seq"),
}


class Row(NamedTuple):
    """One event as a browser lists it."""

    event_id: str
    camera_id: str
    event_time: int
    event_type: str
    n_files: int
    label: str | None  # the review label, None if unreviewed
    still_id: str | None  # the file that best pictures the event
    still_md5: str | None
    still_mime: str | None
    duration: float | None  # seconds
    brightness: float | None  # peak amplitude as the camera reports it
    seq: int  # archive insertion order
    exported: tuple[str, ...] = ()  # ids of the export targets that have the event, sorted
    # The sky: an IAU shower code, "sporadic", "" (no sky position: the result says why)
    # or None (not computed yet); how many cameras saw the meteor (0: not a group).
    shower: str | None = None
    cameras: int = 0

    def sort_key(self, sort: str) -> tuple:
        if sort == "time":
            return (self.event_time, self.seq)
        value = self.duration if sort == "duration" else self.brightness
        return (UNKNOWN if value is None else value, self.event_time, self.seq)


# The export targets that have each row's event: a lookup in export_done's entity index, made
# only for the rows a page returns (rows skipped by OFFSET never compute it). Its shower and
# group size likewise: lookups in sky_results' primary key and group index.
_ROW_COLS = (
    "event_id, camera_id, event_time, event_type, n_files, label, still_id, still_md5,"
    " still_mime, duration, brightness, seq,"
    " (SELECT group_concat(xd.target_id) FROM export_done xd"
    "   WHERE xd.entity_id = event_summary.event_id),"
    " (SELECT IFNULL(sr.shower, '') FROM sky_results sr"
    "   WHERE sr.event_id = event_summary.event_id),"
    " (SELECT COUNT(*) FROM sky_results sg JOIN sky_results sm ON sg.group_id = sm.group_id"
    "   WHERE sm.event_id = event_summary.event_id)"
)


def _row(r: tuple) -> Row:
    duration = None if r[9] < 0 else r[9]
    brightness = None if r[10] < 0 else r[10]
    exported = tuple(sorted(r[12].split(","))) if r[12] else ()
    return Row(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], duration, brightness, r[11], exported,
        r[13], r[14],
    )  # fmt: skip


@dataclass(frozen=True)
class Query:
    """What a browser shows: filters and an order.

    ``review`` is None (any), ``'unreviewed'``, ``'reviewed'`` or one label.
    ``text``: every word must appear in the event's metadata (as
    ``key=value``), its id, camera id, camera name, type or review label
    (case-insensitive; through the full-text index for words of 3+ characters).
    ``keep``: event ids listed whatever their review state now, so an event
    stays in view after it was reviewed out of the filter.
    ``not_exported_to``: a target id; only events that target does not have yet.
    ``shower``: an IAU code, ``'sporadic'``, ``'any'`` (any shower) or ``'none'`` (no
    sky position); ``multi_camera``: only meteors seen by two or more cameras.
    """

    after: int | None = None  # ms, inclusive
    before: int | None = None  # ms, exclusive
    camera_id: str | None = None
    event_type: str | None = None
    review: str | None = None
    text: str = ""
    sort: str = "time"
    descending: bool = True
    keep: frozenset[str] = field(default_factory=frozenset)
    not_exported_to: str | None = None
    shower: str | None = None
    multi_camera: bool = False

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        if self.review not in (None, UNREVIEWED, REVIEWED, *LABELS):
            raise ValueError(f"unknown review filter {self.review!r}")

    def replace(self, **changes) -> Query:
        return dataclasses.replace(self, **changes)

    def matches(self, row: Row, text_hit: bool = True) -> bool:
        """Whether a row passes the filters (text is judged by the caller: ``text_hit``)."""
        if self.after is not None and row.event_time < self.after:
            return False
        if self.before is not None and row.event_time >= self.before:
            return False
        if self.camera_id is not None and row.camera_id != self.camera_id:
            return False
        if self.event_type is not None and row.event_type != self.event_type:
            return False
        if self.review is not None and row.event_id not in self.keep:
            if self.review == UNREVIEWED and row.label is not None:
                return False
            if self.review == REVIEWED and row.label is None:
                return False
            if self.review in LABELS and row.label != self.review:
                return False
        if self.not_exported_to is not None and self.not_exported_to in row.exported:
            return False
        if self.shower is not None and not shower_matches(self.shower, row.shower):
            return False
        if self.multi_camera and row.cameras < 2:
            return False
        return text_hit or not self.text.split()


def shower_matches(wanted: str, shower: str | None) -> bool:
    """Whether a row's shower (``Row.shower``) passes a shower filter."""
    if wanted == ANY_SHOWER:
        return shower not in (None, "", SPORADIC)
    if wanted == NO_SKY:
        return shower == ""
    return shower == wanted


def _sky_clause(cond: str, probe: bool) -> str:
    """Events whose sky result meets ``cond``.

    ``probe``: reads in sort order (pages, positions) of a common result and narrow
    time ranges walk the events and look each one's result up by its primary key,
    stopping at a page; otherwise the matching results are read through the
    sky_results(shower, event_time) or (group_id) index and the events looked up
    (a page sorts those few).
    """
    if probe:
        return (
            "EXISTS (SELECT 1 FROM sky_results sk WHERE sk.event_id = event_summary.event_id"
            f" AND {cond})"
        )
    return f"event_id IN (SELECT event_id FROM sky_results WHERE {cond})"


def _sky_broad(conn: sqlite3.Connection, cond: str, args: list) -> bool:
    """Whether more than one event in ``search.BROAD`` has a sky result meeting ``cond``
    (counting no further). Walking the sort index for a rarer one reads most of the
    archive before a page is full (4 s for "any shower" on a million events, where the
    sky index and a sort of the matches take 12 ms)."""
    limit = max(1000, watermark(conn) // search.BROAD)
    sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM sky_results WHERE {cond} LIMIT ?)"
    return conn.execute(sql, [*args, limit]).fetchone()[0] >= limit


def _shower_cond(wanted: str) -> tuple[str, list]:
    if wanted == ANY_SHOWER:
        return "(shower < ? OR shower > ?)", [SPORADIC, SPORADIC]  # two index ranges
    if wanted == NO_SKY:
        return "shower IS NULL", []
    return "shower = ?", [wanted]


def _conn(src) -> sqlite3.Connection:
    return src if isinstance(src, sqlite3.Connection) else src.db.read()


NARROW_MS = 3 * 86_400_000  # a time range this short is read through the time index


def _where(
    q: Query,
    upto: int | None,
    ordered: bool = False,
    broad: bool = False,
    conn: sqlite3.Connection | None = None,
    rows: tuple[int, int] | None = None,
) -> tuple[list[str], list]:
    """WHERE clauses for a query. ``ordered``: for reads in sort order (pages, positions);
    ``broad``: its text matches many events (``search.is_broad``); ``conn``: the
    connection that will run them (its index's terms make the text faster to match);
    ``rows``: only the events whose ``seq`` lies in ``(low, high]`` (events archived after
    a watermark, or one event), which are few, so the text is matched among the index's
    entries for them and the sky looked up for each.

    Sorting a wide range by duration or brightness is best done walking that
    column's index; an equality filter on a column with few values (two
    cameras, one event type, "unreviewed") would otherwise make SQLite fetch
    every match and sort them all. A leading ``+`` keeps SQLite off those
    columns' indexes. Review labels keep theirs: labelled events are few.
    """
    wide = q.after is None or q.before is None or q.before - q.after > NARROW_MS
    plain = "+" if ordered and wide and q.sort != "time" else ""
    clauses, args = camera_and_time(
        f"{plain}camera_id", "event_time", q.camera_id, q.after, q.before
    )
    if q.event_type is not None:
        clauses.append(f"{plain}event_type = ?")
        args.append(q.event_type)
    # What a review can change: the review filter and the words (they match labels too).
    # Events the user just reviewed (``keep``) stay listed whatever that makes of them.
    labelled: list[str] = []
    labelled_args: list = []
    if q.review is not None:
        if q.review == UNREVIEWED:  # usually most events: walk the sort index instead
            labelled.append(f"{plain}label IS NULL")
        elif q.review == REVIEWED:
            labelled.append("label IS NOT NULL")
        else:
            labelled.append("label = ?")
            labelled_args.append(q.review)
    text_clauses, text_args = search.clauses(q.text, ordered and broad, conn, rows)
    labelled.extend(text_clauses)
    labelled_args.extend(text_args)
    if labelled and q.keep:
        keep = sorted(q.keep)
        clauses.append(f"(({' AND '.join(labelled)}) OR event_id IN ({','.join('?' * len(keep))}))")
        args.extend([*labelled_args, *keep])
    else:
        clauses.extend(labelled)
        args.extend(labelled_args)
    if q.not_exported_to is not None:
        f = _not_exported_to(q.not_exported_to, "event_id")
        clauses.append(f.sql)
        args.extend(f.args)

    def probe(cond: str, more: list) -> bool:
        # A narrow time range is walked; a wide read in sort order walks the sort index
        # only when the matches are common enough to fill a page soon.
        if not wide or rows is not None:
            return True
        return ordered and (conn is None or _sky_broad(conn, cond, more))

    if q.shower is not None:
        cond, more = _shower_cond(q.shower)
        clauses.append(_sky_clause(cond, probe(cond, more)))
        args.extend(more)
    if q.multi_camera:  # group_id > '': an index range (IS NOT NULL would scan the table)
        clauses.append(_sky_clause("group_id > ''", probe("group_id > ''", [])))
    if _limits(conn, upto):
        clauses.append("seq <= ?")
        args.append(upto)
    if rows is not None:
        clauses.append("seq > ? AND seq <= ?")
        args.extend(rows)
    return clauses, args


def _limits(conn: sqlite3.Connection | None, upto: int | None) -> bool:
    """Whether ``seq <= upto`` leaves anything out. A browser reads a new query in the
    snapshot whose watermark it passes as ``upto``: there the clause holds for every row,
    yet SQLite would answer a count through it by reading every row of the table (a range
    of its rowid) instead of counting an index: 0.6 s instead of 30 ms on a million
    events. One probe of the rowid's end tells."""
    return upto is not None and (conn is None or upto < watermark(conn))


def _sql_where(clauses: list[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def _order(q: Query) -> str:
    direction = "DESC" if q.descending else "ASC"
    return " ORDER BY " + ", ".join(f"{c} {direction}" for c in _SORT_COLUMNS[q.sort])


def _before_clause(q: Query, row: Row) -> tuple[str, list]:
    """Rows that come before ``row`` in the query's order (strictly)."""
    cols = _SORT_COLUMNS[q.sort]
    key = list(row.sort_key(q.sort))
    op = ">" if q.descending else "<"
    # The bound on the leading column lets SQLite range-scan the sort index; the row value
    # comparison makes it exact.
    sql = f"{cols[0]} {op}= ? AND ({', '.join(cols)}) {op} ({', '.join('?' * len(cols))})"
    return sql, [key[0], *key]


def _after_clause(q: Query, row: Row) -> tuple[str, list]:
    """Rows that come after ``row`` in the query's order (strictly)."""
    return _before_clause(q.replace(descending=not q.descending), row)


# --------------------------------------------------------------------------- snapshots


def watermark(src) -> int:
    """The newest event_summary.seq: everything archived so far is seq <= this."""
    return _conn(src).execute("SELECT IFNULL(MAX(seq), 0) FROM event_summary").fetchone()[0]


@contextmanager
def snapshot(archive) -> Iterator[tuple[sqlite3.Connection, int]]:
    """This thread's reader inside one read transaction, and the watermark it sees."""
    conn = archive.db.read()
    if conn.in_transaction:
        yield conn, watermark(conn)
        return
    conn.execute("BEGIN")
    try:
        yield conn, watermark(conn)  # the first read fixes the snapshot
    finally:
        conn.execute("COMMIT")


# --------------------------------------------------------------------------- rows


def count(src, q: Query, upto: int | None = None, *, exact: bool = True) -> int | None:
    """How many events match ``q`` (of those up to ``upto``). ``exact=False``: None where
    only a long count would tell, a text that at least one event in ``search.DENSE``
    holds (``search.count_matches``); its first page is then read at once."""
    conn = _conn(src)
    words = q.text.split()
    if len(words) > 1 or q.replace(text="", sort="time", descending=True) != Query():
        # A word every event holds leaves every event in: beside a camera, checking each
        # of the camera's events against the list of its matches took 280 ms on a million.
        # (One word alone is counted by the look-up of its terms, below.)
        q = _without_universal_text(conn, q)
    elif words and _in_every_type(conn, words[0]):
        q = q.replace(text="")
    limited = _limits(conn, upto)  # one probe of the rowid's end for the choices below
    match, scanned = search.match(q.text, conn)
    if (
        match is not None
        and not scanned
        and q.replace(text="", sort="time", descending=True) == Query()
    ):
        # Only words: the index counts them without reading the events; one word of one
        # term was counted by the look-up of its terms.
        known = None if limited else search.term_count(conn, q.text, _total(conn))
        if known is not None:
            return known
        if not limited:
            return search.count_matches(conn, match, exact)
        sql = "SELECT COUNT(*) FROM event_summary_fts WHERE event_summary_fts MATCH ?"
        sql += " AND rowid <= ?"
        return conn.execute(sql, [match, upto]).fetchone()[0]
    sky = None if limited else _sky_only(q)
    if sky is not None:
        # Only the sky: every result is of an archived event (they go with it), so the
        # results count it, without looking up hundreds of thousands of events.
        sql = "SELECT COUNT(*) FROM sky_results WHERE " + sky[0]
        return conn.execute(sql, sky[1]).fetchone()[0]
    rest = None if limited else _complement(q)
    if rest is not None:
        # The events without that filter less the others, which are few. SQLite counts a
        # whole table from its pages' entry counts without reading the entries (10 ms on
        # a million events, where counting 950,000 entries of an index takes 100-200 ms)
        # and a camera's events in its index; the others are read through the index of
        # the filter's column (SQLite, left to itself, reads the whole table for them).
        base, index, cond, more = rest
        clauses, args = _where(base.replace(sort="duration"), None, ordered=True, conn=conn)
        sql = f"SELECT COUNT(*) FROM event_summary INDEXED BY {index}" + _sql_where(
            [*clauses, cond]
        )
        return count(conn, base) - conn.execute(sql, [*args, *more]).fetchone()[0]
    clauses, args = _where(q, upto, conn=conn)
    # Reviewed events are few: counted through the label index. Beside a time range
    # SQLite walked the range's events instead (364,000 for a year: 100-190 ms).
    index = " INDEXED BY event_summary_label" if q.review == REVIEWED and not q.keep else ""
    sql = f"SELECT COUNT(*) FROM event_summary{index}" + _sql_where(clauses)
    return conn.execute(sql, args).fetchone()[0]


def _without_universal_text(conn: sqlite3.Connection, q: Query) -> Query:
    """``q`` without the words of its text that every archived event holds (the look-up
    of a word's terms tells, see ``search.term_count``): such a word leaves every event in.
    Finding a row's place through the full-text index read every match first (6-15 s for
    a row 19,000 deep among a million events, where the sort index takes 1 ms), and
    "duration 1.5" made FTS5 intersect a million entries with the matches of "1.5"."""
    words = q.text.split()
    if not words:
        return q
    counted: list[int] = []

    def total() -> int:  # counted once, whether term_count asks for it or not
        if not counted:
            counted.append(_total(conn)())
        return counted[0]

    def everywhere(word: str) -> bool:
        if _in_every_type(conn, word):
            return True
        # There are no more events than the newest seq: as many as that hold the word,
        # every event does (after deletions the word is simply kept: the same rows).
        known = search.term_count(conn, word, total)
        return bool(known) and known == watermark(conn)

    kept = [w for w in words if not everywhere(w)]
    return q if len(kept) == len(words) else q.replace(text=" ".join(kept))


def _in_every_type(conn: sqlite3.Connection, word: str) -> bool:
    """Whether every event holds ``word`` in its type ("meteor": every event of a
    MeteorPi archive is a "meteorpi:meteor"), told by the few types there are (a probe of
    the type index each). Searched, a word begins a term of an event's type as the index
    splits it, ASCII letters and digits; the look-up of the terms "meteor" begins read
    two million index entries (80 ms on a million events) to learn as much."""
    if not (word.isascii() and word.isalnum()):
        return False
    types = event_types(conn)
    low = word.lower()
    return bool(types) and all(
        kind.isascii() and any(t.startswith(low) for t in re.findall("[a-z0-9]+", kind.lower()))
        for kind in types
    )


def _total(conn: sqlite3.Connection):
    """A function counting every event (from the table's pages: 10 ms on a million)."""
    return lambda: conn.execute("SELECT COUNT(*) FROM event_summary").fetchone()[0]


def _sky_only(q: Query) -> tuple[str, list] | None:
    """The condition on sky_results of a query with a shower or multi-camera filter and
    nothing else; None for any other query."""
    plain = q.replace(sort="time", descending=True)
    if q.shower is not None and plain == Query(shower=q.shower):
        return _shower_cond(q.shower)
    if plain == Query(multi_camera=True):
        return "group_id > ''", []
    return None


def _complement(q: Query) -> tuple[Query, str, str, list] | None:
    """For a query with a filter that most events pass (unreviewed; an event type, of
    which an archive usually has one) beside a camera and a wide time range at most: the query
    without it, and the clause for the events it leaves out, which ``count`` subtracts;
    None for any other query."""
    if q.after is not None and q.before is not None and q.before - q.after <= NARROW_MS:
        return None  # a few nights: counted through the time index as they are
    simple = Query(after=q.after, before=q.before, camera_id=q.camera_id)
    plain = q.replace(sort="time", descending=True)
    if plain == simple.replace(review=UNREVIEWED, event_type=q.event_type):
        return q.replace(review=None), "event_summary_label", "label IS NOT NULL", []
    if q.event_type is not None and plain == simple.replace(event_type=q.event_type):
        # Two ranges of the type index.
        return (
            q.replace(event_type=None),
            "event_summary_type",
            "(event_type < ? OR event_type > ?)",
            [q.event_type] * 2,
        )
    return None


def page(
    src, q: Query, offset: int, limit: int, upto: int | None = None, after: Row | None = None
) -> list[Row]:
    """``limit`` rows from position ``offset`` in the query's order.

    With ``after`` (a row of the same query and snapshot), ``offset`` counts
    from the row following it, so reading on from a known row never scans
    what lies before it.
    """
    conn = _conn(src)
    q = _without_universal_text(conn, q)
    events = watermark(conn)
    if offset + limit <= DENSE_WINDOW and not q.keep and search.is_dense(conn, q.text, events):
        rows = _dense_page(conn, q, offset, limit, upto, after)
        if rows is not None:
            return rows
    broad = search.is_broad(conn, q.text, events)
    labels = None
    if q.review == REVIEWED and not q.keep and q.sort == "time" and not q.text:
        labels, q = _labels(conn), q.replace(review=None)
    clauses, args = _where(q, upto, ordered=True, broad=broad, conn=conn)
    return _read_page(conn, q, clauses, args, offset, limit, after, labels)


def _labels(conn) -> list[str]:
    """Every review label events have (a probe of the label index per label)."""
    labels = _distinct(conn, "event_summary", "label")
    if conn.execute("SELECT 1 FROM event_summary WHERE label = ''").fetchone():
        labels.append("")  # no label the window gives, yet "reviewed" lists it
    return labels


def _read_page(
    conn, q: Query, clauses: list[str], args: list, offset, limit, after, labels=None
) -> list[Row]:
    """``labels``: only events with one of these labels (all there are: "reviewed"),
    newest first. Walking the time index to them looked up every event's row on the way
    (20,000 a page, one night in twenty being reviewed: 30-340 ms on a million events);
    each label's newest are read from its range of the label index instead, and merged."""
    if after is not None:
        sql, more = _after_clause(q, after)
        clauses.append(sql)
        args.extend(more)
    order, pick = _order(q), " LIMIT ? OFFSET ?"
    if labels is None:
        page_sql = "SELECT seq FROM event_summary" + _sql_where(clauses) + order + pick
        args = [*args, int(limit), int(offset)]
    elif not labels:
        return []
    else:
        each = (
            "SELECT seq, event_time FROM (SELECT seq, event_time FROM event_summary"
            f" INDEXED BY event_summary_label{_sql_where([*clauses, 'label = ?'])}{order}"
            " LIMIT ?)"
        )
        page_sql = f"SELECT seq FROM ({' UNION ALL '.join([each] * len(labels))}){order}{pick}"
        args = [a for label in labels for a in (*args, label, offset + limit)]
        args += [int(limit), int(offset)]
    # The page's rows are chosen first, then their columns computed: a sort of every
    # match (a rare word's thousands) otherwise computed each one's export, shower and
    # group look-ups before keeping a page of them (52 ms for 4,036 on a million events,
    # where choosing the page takes 18). NOT INDEXED: the rows are read by their rowid.
    sql = f"SELECT {_ROW_COLS} FROM event_summary NOT INDEXED WHERE seq IN ({page_sql})"
    return [_row(r) for r in conn.execute(sql + order, args)]


ID_PAGE = 5000  # rows read at a time for a list's event ids (a selection, an export)
DENSE_WINDOW = 1000  # rows (offset + limit) a dense word's page is read from, at most


def _dense_page(conn, q: Query, offset: int, limit: int, upto, after) -> list[Row] | None:
    """A page of a word most events hold: the rows in sort order without the word, each
    checked against the index until the page is full; None if the first rows hold too
    few matches (the page is then read the usual way).

    Listing every match, to check rows against it, cost 150-330 ms on a million events.
    Rows are checked in runs: a run whose ids lie close together (a time order, as the
    archive stores events in the order they arrive) in one read of the index over that
    id range, others one id at a time."""
    found = search.row_check(q.text, conn)
    if found is None:
        return None
    clauses, args = _where(q.replace(text=""), upto, ordered=True, conn=conn)
    if after is not None:
        sql, more = _after_clause(q, after)
        clauses.append(sql)
        args.extend(more)
    want = offset + limit
    sql = f"SELECT seq FROM event_summary{_sql_where(clauses)}{_order(q)} LIMIT ?"
    window = [r[0] for r in conn.execute(sql, [*args, DENSE_RUNS * want])]
    hits: list[int] = []
    for i in range(0, len(window), DENSE_RUN):
        run = window[i : i + DENSE_RUN]
        held = found(run)
        hits.extend(seq for seq in run if seq in held)
        if len(hits) >= want:
            break
    if len(hits) < want:
        return None
    seqs = hits[offset:want]
    marks = ",".join("?" * len(seqs))
    sql = f"SELECT {_ROW_COLS} FROM event_summary WHERE seq IN ({marks}){_order(q)}"
    return [_row(r) for r in conn.execute(sql, seqs)]


DENSE_RUN = 64  # rows checked against the index together
DENSE_RUNS = 2 * search.DENSE  # a dense text's page is looked for among this many times its rows


def get_row(src, event_id: str) -> Row | None:
    r = (
        _conn(src)
        .execute(f"SELECT {_ROW_COLS} FROM event_summary WHERE event_id = ?", (event_id,))
        .fetchone()
    )
    return None if r is None else _row(r)


def _matching_row(conn, q: Query, event_id: str, upto: int | None) -> Row | None:
    """The event's row if it passes the query's filters. They are checked for its row
    alone: as a list of matches, the text or a common sky result listed hundreds of
    thousands of events first (0.2-5 s on a million)."""
    found = conn.execute("SELECT seq FROM event_summary WHERE event_id = ?", (event_id,))
    seq = found.fetchone()
    if seq is None:
        return None
    clauses, args = _where(q, upto, conn=conn, rows=(seq[0] - 1, seq[0]))
    r = conn.execute(
        f"SELECT {_ROW_COLS} FROM event_summary NOT INDEXED" + _sql_where(clauses), args
    ).fetchone()
    return None if r is None else _row(r)


def _position(conn, q: Query, row: Row, upto: int | None, broad: bool | None = None) -> int:
    """The number of rows before ``row``. The sort index is walked to it; a text that
    matches many events is checked against the list of its matches (``+seq``), as a page
    is: left to itself, SQLite looked up every match's row to compare it with ``row``
    (a million lookups, 1-3 s, for a row a few nights deep). ``broad``: whether the text
    is broad, if the caller knows (``arrivals`` asks once for all its rows)."""
    if broad is None:
        broad = search.is_broad(conn, q.text, watermark(conn))
    clauses, args = _where(q, upto, ordered=True, broad=broad, conn=conn)
    sql, more = _before_clause(q, row)
    clauses.append(sql)
    args.extend(more)
    # Reviewed events are few: their index entries are read, not every event's row on
    # the way down to ``row``.
    index = " INDEXED BY event_summary_label" if q.review == REVIEWED and not q.keep else ""
    return conn.execute(
        f"SELECT COUNT(*) FROM event_summary{index}" + _sql_where(clauses), args
    ).fetchone()[0]


def position_of(src, q: Query, event_id: str, upto: int | None = None) -> int | None:
    """The row index of an event in the query's order, or None if it does not match."""
    place = _place(_conn(src), q, event_id, upto)
    return None if place is None else place[0]


def _place(conn, q: Query, event_id: str, upto: int | None) -> tuple[int, Row] | None:
    q = _without_universal_text(conn, q)
    row = _matching_row(conn, q, event_id, upto)
    return None if row is None else (_position(conn, q, row, upto), row)


def around(
    src, q: Query, event_id: str, rows: int, upto: int | None = None
) -> tuple[int, list[Row]] | None:
    """An event's place in the query's order and about ``rows`` rows around it (the event's
    among them), as ``(index of the first, rows)``; None if the event does not match.

    The rows are read from the event's row both ways (keyset pages), not from an offset,
    which would walk the sort index down to the event a second time."""
    conn = _conn(src)
    place = _place(conn, q, event_id, upto)
    if place is None:
        return None
    at, row = place
    half = rows // 2
    before = page(conn, q.replace(descending=not q.descending), 0, half, upto, after=row)
    after = page(conn, q, 0, rows - half - 1, upto, after=row)
    return at - len(before), [*reversed(before), row, *after]


@dataclass(frozen=True)
class Arrivals:
    watermark: int  # the snapshot the positions refer to
    rows: list[tuple[int, Row]]  # (position in that snapshot, row), ascending positions


def arrivals(src, q: Query, since: int, upto: int | None = None) -> Arrivals:
    """Events archived after ``since`` that match, each with its final position.

    Positions count rows in the snapshot ``seq <= watermark``, so inserting
    the rows in ascending position order into a list that held the snapshot
    ``seq <= since`` reproduces the new snapshot exactly.
    """
    conn = _conn(src)
    top = watermark(conn) if upto is None else upto
    if top <= since:
        return Arrivals(top, [])  # nothing new: the usual answer, and at once
    q = _without_universal_text(conn, q)  # once, not for each row's position
    clauses, args = _where(q, top, ordered=True, conn=conn, rows=(since, top))
    # The new rows are a range of the rowid at the table's end. Left to itself, SQLite
    # walked the sort index from the top checking ``seq > since`` on every entry, and
    # listed every match of the text first: 40-400 ms on a million events, after every
    # filter change and every burst of arrivals, to find nothing or a few rows.
    rows = [
        _row(r)
        for r in conn.execute(
            f"SELECT {_ROW_COLS} FROM event_summary NOT INDEXED" + _sql_where(clauses) + _order(q),
            args,
        )
    ]
    broad = search.is_broad(conn, q.text, watermark(conn)) if rows else False
    return Arrivals(top, [(_position(conn, q, row, top, broad), row) for row in rows])


# --------------------------------------------------------------------------- choices


def cameras(src) -> list[tuple[str, str]]:
    """(camera_id, installation name) of every camera that sent a status, by id."""
    names: dict[str, str] = {}
    for camera_id, body in _conn(src).execute(
        "SELECT camera_id, body FROM statuses ORDER BY camera_id, valid_from"
    ):
        try:
            names[camera_id] = json.loads(body).get("inst_name") or ""
        except (ValueError, AttributeError):
            names[camera_id] = ""
    return sorted(names.items())


def _distinct(src, table: str, column: str) -> list[str]:
    """The distinct values of an indexed column, sorted: a loose index scan, one index
    probe per value."""
    conn = _conn(src)
    out: list[str] = []
    last = ""
    while True:
        v = conn.execute(
            f"SELECT MIN({column}) FROM {table} WHERE {column} > ?", (last,)
        ).fetchone()[0]
        if v is None:
            return out
        out.append(v)
        last = v


def event_types(src) -> list[str]:
    return _distinct(src, "event_summary", "event_type")


def showers(src) -> list[str]:
    """The shower codes the archive's sky results name ('sporadic' included), sorted."""
    return _distinct(src, "sky_results", "shower")


# --------------------------------------------------------------------------- nights


@dataclass(frozen=True)
class Night:
    start_ms: int
    end_ms: int
    events: int  # UNCOUNTED: not counted yet (nights(counted=...))
    files: int  # standalone (time-lapse) files


UNCOUNTED = -1


_LATEST_EVENT = "SELECT MAX(event_time) FROM event_summary WHERE event_time < ?"
# Standalone files through their own (partial) index: left to itself, SQLite takes the
# files_event index for "event_id IS NULL" and reads the time of every standalone file
# for each night (0.85 ms a night with 5,200 time-lapse stills: 1,001 nights took 0.7 s,
# which the night chooser's count spent on a worker beside the first filter changes).
_STANDALONE = "files INDEXED BY files_standalone_time WHERE event_id IS NULL"
_LATEST_FILE = f"SELECT MAX(file_time) FROM {_STANDALONE} AND file_time < ?"
_FAR_FUTURE = 1 << 62


def _starts(conn, sql: str, clock: NightClock) -> set[int]:
    starts = set()
    t = conn.execute(sql, (_FAR_FUTURE,)).fetchone()[0]
    while t is not None:  # a loose index scan: one probe per night
        s = clock.start(t)
        starts.add(s)
        t = conn.execute(sql, (s,)).fetchone()[0]
    return starts


def nights(src, clock: NightClock | None = None, *, counted: int | None = None) -> list[Night]:
    """Every night with events or time-lapse files, newest first, with their counts.

    ``clock`` says where nights turn (nights.night_clock: the cameras' solar noon).
    ``counted``: count the newest ``counted`` nights only, the others UNCOUNTED; counting
    every night reads every event's index entry (tens of ms on 200,000 events)."""
    conn = _conn(src)
    clock = clock or NightClock()
    starts = _starts(conn, _LATEST_EVENT, clock) | _starts(conn, _LATEST_FILE, clock)
    out = []
    for i, s in enumerate(sorted(starts, reverse=True)):
        e = clock.end(s)
        if counted is not None and i >= counted:
            out.append(Night(s, e, UNCOUNTED, UNCOUNTED))
            continue
        n_events = conn.execute(
            "SELECT COUNT(*) FROM event_summary WHERE event_time >= ? AND event_time < ?", (s, e)
        ).fetchone()[0]
        n_files = conn.execute(
            f"SELECT COUNT(*) FROM {_STANDALONE} AND file_time >= ? AND file_time < ?", (s, e)
        ).fetchone()[0]
        out.append(Night(s, e, n_events, n_files))
    return out


@dataclass
class NightCounts:
    """Events of one night per hour, per camera and per review state."""

    start_ms: int
    end_ms: int
    hours: list[int]  # start (ms) of each hour of the night
    cameras: list[str]
    by_camera: dict[str, list[int]]  # camera -> events per hour
    by_label: dict[str | None, list[int]]  # label (None: unreviewed) -> events per hour
    table: dict[str, dict[str | None, int]]  # camera -> label -> events
    standalone: dict[str, int]  # camera -> time-lapse files

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.by_camera.values())


def hourly_counts(src, night_start_ms: int, clock: NightClock | None = None) -> NightCounts:
    """Events of the night starting at ``night_start_ms`` per hour, camera and review state.
    The hours are the clock's (as the shower table's are): a night starting at the cameras'
    solar noon, 11:58, had bars for 19:58-20:58 beside meteor rates for 20:00-21:00."""
    conn = _conn(src)
    start, end = night_start_ms, (clock or NightClock()).end(night_start_ms)
    first = start - start % 3_600_000
    n_hours = max(1, -(-(end - first) // 3_600_000))
    hours = [first + h * 3_600_000 for h in range(n_hours)]
    by_camera: dict[str, list[int]] = {}
    by_label: dict[str | None, list[int]] = {}
    table: dict[str, dict[str | None, int]] = {}
    for t, camera, label in conn.execute(
        "SELECT event_time, camera_id, label FROM event_summary"
        " WHERE event_time >= ? AND event_time < ?",
        (start, end),
    ):
        h = min(n_hours - 1, (t - first) // 3_600_000)
        by_camera.setdefault(camera, [0] * n_hours)[h] += 1
        by_label.setdefault(label, [0] * n_hours)[h] += 1
        per = table.setdefault(camera, {})
        per[label] = per.get(label, 0) + 1
    standalone = dict(
        conn.execute(
            f"SELECT camera_id, COUNT(*) FROM {_STANDALONE} AND file_time >= ?"
            " AND file_time < ? GROUP BY camera_id",
            (start, end),
        ).fetchall()
    )
    cams = sorted(set(by_camera) | set(standalone))
    for c in cams:
        by_camera.setdefault(c, [0] * n_hours)
        table.setdefault(c, {})
    return NightCounts(start, end, hours, cams, by_camera, by_label, table, standalone)


# --------------------------------------------------------------------------- time-lapse


class StripFile(NamedTuple):
    file_id: str
    camera_id: str
    file_time: int
    mime_type: str
    md5: str
    semantic_type: str | None
    file_name: str | None


def standalone_files(
    src,
    after: int | None,
    before: int | None,
    camera_id: str | None = None,
    limit: int = STRIP_LIMIT,
) -> list[StripFile]:
    """Standalone (time-lapse) files in a time range, oldest first, at most ``limit``."""
    clauses: list[str] = ["event_id IS NULL"]
    args: list[int | str] = []
    if after is not None:
        clauses.append("file_time >= ?")
        args.append(after)
    if before is not None:
        clauses.append("file_time < ?")
        args.append(before)
    if camera_id is not None:
        clauses.append("camera_id = ?")
        args.append(camera_id)
    sql = (
        "SELECT file_id, camera_id, file_time, mime_type, md5, semantic_type, file_name"
        " FROM files INDEXED BY files_standalone_time"
        + _sql_where(clauses)
        + " ORDER BY file_time, file_id LIMIT ?"
    )
    args.append(int(limit))
    return [StripFile(*r) for r in _conn(src).execute(sql, args)]


# --------------------------------------------------------------------------- reviews


def reviews(src, event_ids: Iterable[str]) -> dict[str, str]:
    """The labels of those events that have one."""
    ids = list(event_ids)
    out: dict[str, str] = {}
    conn = _conn(src)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        out.update(
            conn.execute(f"SELECT event_id, label FROM reviews WHERE event_id IN ({marks})", chunk)
        )
    return out


def review_of(archive, event_id: str) -> tuple[str, int | None] | None:
    """``(label, reviewed_at)`` of one event, or None (also in an archive from before reviews)."""
    try:
        row = (
            archive.db.read()
            .execute("SELECT label, reviewed_at FROM reviews WHERE event_id = ?", (event_id,))
            .fetchone()
        )
    except sqlite3.OperationalError:  # no reviews table yet
        return None
    return None if row is None or row[0] is None else (row[0], row[1])


def set_reviews(archive, changes: dict[str, str | None], at_ms: int | None = None) -> None:
    """Label events (None clears a label), in one transaction."""
    for label in changes.values():
        if label is not None and label not in LABELS:
            raise ValueError(f"unknown review label {label!r}")
    at = int(time.time() * 1000) if at_ms is None else at_ms
    with archive.db.write() as conn:
        for event_id, label in changes.items():
            if label is None:
                conn.execute("DELETE FROM reviews WHERE event_id = ?", (event_id,))
            else:
                conn.execute(
                    "INSERT INTO reviews (event_id, label, reviewed_at) VALUES (?, ?, ?)"
                    " ON CONFLICT(event_id) DO UPDATE SET label = excluded.label,"
                    " reviewed_at = excluded.reviewed_at",
                    (event_id, label, at),
                )
    archive.hub.publish(notify.CHANGED, notify.Reviewed(dict(changes)))


def review(archive, event_ids: Iterable[str], label: str | None) -> dict[str, str | None]:
    """Give events one label (None clears); returns their previous labels, for undo."""
    ids = list(dict.fromkeys(event_ids))
    with archive.db.write() as conn:  # read the old labels and write in one transaction
        before = reviews(conn, ids)
        set_reviews(archive, {i: label for i in ids})
    return {i: before.get(i) for i in ids}
