"""The browser's text search: the WHERE clauses a typed text makes over ``event_summary``.

Every word must appear in one of the searched columns (metadata, ids, type, review label,
camera name), matched from the start of a word and case-insensitively, through the FTS5
index of migration 10. A word of punctuation alone has no token in the index and is
matched by scanning the columns with LIKE.

A word is a prefix ("bury" finds "Bury St Edmunds"). A dotted word ("1.5", "3.89") is
the prefix of one term the archive writes for each dotted run (dotted.py, migration 15).

FTS5 answers a prefix query of a length it has no prefix index for (they hold 1, 2 and 3
characters since migration 13) by merging the doclists of every term that starts so into
one buffer before it returns its first row, and does that again for each statement that
names it: on 200,000 events, "meteor" (the terms "meteor" and "meteorpi", 800,000
entries) cost about 20 ms a statement. So a word that begins only a few terms is looked
up in the index's term list (``event_summary_terms``, migration 11) and searched as
those whole terms, OR-ed: FTS5 reads those lazily, in rowid order. The look-up reads the
terms' doclists too, so its answer is kept on the connection until the archive changes
(``db.Connection.memo``): the count and the page the browser reads next share it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from . import dotted
from .db import Connection

_TEXT_COLUMNS = (
    "search",
    "event_id",
    "camera_id",
    "event_type",
    "IFNULL(label, '')",
    "camera_name",
)
_SCAN_CLAUSE = "(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in _TEXT_COLUMNS) + ")"
_FTS = "SELECT rowid FROM event_summary_fts WHERE event_summary_fts MATCH ?"
BROAD = 100  # a search matching more than 1 event in this many is read in sort order
# An event's or a camera's id is matched from this many characters: "b" in "Site B" is no
# id (every Raspberry Pi camera's id begins "b827eb", so "site b" found every site).
ID_PREFIX = 4
EXPAND = 8  # a word beginning more terms than this stays a prefix query
DENSE = 8  # a text at least 1 event in this many holds is checked row by row for a page


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def match(text: str, conn: sqlite3.Connection | None = None) -> tuple[str | None, list[str]]:
    """The FTS5 query for ``text`` (None if no word has a letter or digit), and the words
    only a scan can match. With ``conn``, prefixes are expanded to the terms they begin
    (the same matches, read faster)."""
    words = text.split()
    indexed = [w for w in words if any(ch.isalnum() for ch in w)]
    query = " AND ".join(_phrase(w, conn) for w in indexed) or None
    return query, [w for w in words if w not in indexed]


def _phrase(word: str, conn: sqlite3.Connection | None) -> str:
    joined = dotted.term(word)
    if joined is not None:  # "1.5": one term's list, not the phrase "1" "5"* (dotted.py)
        return '"' + joined + '"*'
    phrase = '"' + word.replace('"', '""') + '"*'
    if len(word) < ID_PREFIX and not _several_tokens(word):
        return "- {event_id camera_id} : " + phrase
    terms = _terms(conn, word) if conn is not None else None
    if terms is None:
        return phrase
    if not terms:
        return '"' + word + '"'  # no term begins so: nothing matches, as the prefix would
    return "(" + " OR ".join(f'"{t}"' for t in terms) + ")"


def _several_tokens(word: str) -> bool:
    """Whether the index splits ``word`` into more than one token ("1.5": "1", "5").
    Such a phrase cannot match an event id (32 hex digits, one token), so it needs no
    column filter, which FTS5 checks against every match's positions ("1.5" on a million
    events: 53 -> 45 ms). Told for ASCII alone, where the tokenizer's letters and digits
    are known; other words keep the filter (the same matches, a little slower)."""
    return word.isascii() and len(re.findall("[A-Za-z0-9]+", word)) > 1


def _terms(conn: sqlite3.Connection, word: str) -> list[str] | None:
    """The index's terms that begin with ``word``, or None if there are more than EXPAND
    or the word's tokens are not simply its lower case (several tokens, or letters whose
    accents the tokenizer removes)."""
    if not (word.isascii() and word.isalnum()):
        return None
    low = word.lower()
    # Listing terms reads their doclists (fts5vocab counts them): about as costly as the
    # prefix query, so once per word while the archive is unchanged (the count and the page).
    memo = conn.memo() if isinstance(conn, Connection) else {}
    key = ("terms", low)
    if key not in memo:
        end = low[:-1] + chr(ord(low[-1]) + 1)  # the first string after every "low…"
        try:
            # The number of events with each term comes with the look-up at little cost.
            rows = conn.execute(
                "SELECT term, doc FROM event_summary_terms WHERE term >= ? AND term < ? LIMIT ?",
                (low, end, EXPAND + 1),
            ).fetchall()
        except sqlite3.OperationalError:  # an archive before migration 11 (read as it is)
            rows = [("", 0)] * (EXPAND + 1)
        memo[key] = None if len(rows) > EXPAND else [r[0] for r in rows]
        memo[("docs", low)] = None if len(rows) > EXPAND else [r[1] for r in rows]
    return memo[key]


def _docs(conn: sqlite3.Connection, text: str) -> list[int] | None:
    """For a text of one word searched as whole terms, the number of events holding each
    of its terms (from the look-up ``_terms`` made); None for any other text."""
    words = text.split()
    if len(words) != 1 or len(words[0]) < ID_PREFIX or not isinstance(conn, Connection):
        return None
    if _terms(conn, words[0]) is None:
        return None
    return conn.memo().get(("docs", words[0].lower()))


def term_count(conn: sqlite3.Connection, text: str, events: Callable[[], int]) -> int | None:
    """How many events a text of one word matches, when the look-up of its terms tells
    without reading their index entries again: a single term (or none), or a term every
    one of ``events()`` holds ("meteor": "meteorpi" is in every event's metadata); None
    if that is not known."""
    docs = _docs(conn, text)
    if docs is None:
        return None
    if len(docs) <= 1:
        return docs[0] if docs else 0
    total = events()
    return total if max(docs) >= total else None


def is_dense(conn: sqlite3.Connection, text: str, events: int) -> bool:
    """Whether at least one event in DENSE of ``events`` matches ``text``: a page in sort
    order then finds its rows among the first few it checks. Told for one word by the
    look-up of its terms, for other texts by the count of their matches made just before
    (``count_matches``, as the browser counts before it reads the first page): "site b"
    on a million events otherwise listed 999,700 matches to check a page against them."""
    docs = _docs(conn, text)
    if docs is not None:
        return len(docs) > 0 and max(docs) * DENSE >= events
    if not isinstance(conn, Connection):
        return False
    query, scanned = match(text, conn)
    if query is None or scanned:
        return False
    memo = conn.memo()
    if memo.get(("dense", query)):  # the count's probe found its matches that close
        return True
    known = memo.get(("matches", query))
    return known is not None and known * DENSE >= events


def row_check(text: str, conn: sqlite3.Connection) -> Callable[[list[int]], set[int]] | None:
    """A function telling which of some events (their ``event_summary.seq``) match
    ``text``, asking the index about those rows only; None if the text has a word only a
    scan matches. Ids close together are read as one range of the index, others one by
    one."""
    query, scanned = match(text, conn)
    if query is None or scanned:
        return None
    ranged = _FTS + " AND rowid >= ? AND rowid <= ?"
    single = _FTS + " AND rowid = ?"

    def held(seqs: list[int]) -> set[int]:
        low, high = min(seqs), max(seqs)
        if high - low < 4 * len(seqs):
            return {r[0] for r in conn.execute(ranged, (query, low, high))}
        return {s for s in seqs if conn.execute(single, (query, s)).fetchone()}

    return held


def clauses(
    text: str,
    broad: bool,
    conn: sqlite3.Connection | None = None,
    rows: tuple[int, int] | None = None,
) -> tuple[list[str], list]:
    """WHERE clauses (joined with AND) and their arguments: every word of ``text``.

    ``broad``: the words match many events, so a page is read walking the sort index and
    checking each row against the matches (``+seq``) rather than sorting every match.
    ``rows``: only events whose ``seq`` lies in ``(low, high]`` are read; the matches are
    listed among those alone (FTS5 reads that range of its entries, not every match).
    """
    query, scanned = match(text, conn)
    out: list[str] = []
    args: list = []
    if query is not None and rows is not None:
        out.append(f"seq IN ({_FTS} AND rowid > ? AND rowid <= ?)")
        args.extend([query, *rows])
    elif query is not None:
        listed = conn.memo().get(("listed", query)) if isinstance(conn, Connection) else None
        if listed is not None:  # counted just now: the same matches, not asked again
            out.append(f"{'+' if broad else ''}seq IN (SELECT value FROM json_each(?))")
            args.append(listed)
        else:
            out.append(f"{'+' if broad else ''}seq IN ({_FTS})")
            args.append(query)
    for word in scanned:
        out.append(_SCAN_CLAUSE)
        args.extend([_like(word)] * len(_TEXT_COLUMNS))
    return out, args


KEEP = 200_000  # a count of at most this many matches keeps their list for the page
PROBE = 500  # matches read first to tell whether a text is dense (``count_matches``)


def count_matches(conn: sqlite3.Connection, query: str, exact: bool = True) -> int | None:
    """How many events the FTS5 query matches. When they are at most KEEP, their list is
    kept while the archive is unchanged (``db.Connection.memo``): the page the browser
    reads next checks rows against it, where FTS5 would evaluate the query again (a
    phrase of two long lists, "1.5": "1" then any term beginning with "5", costs it
    about 45 ms on a million events, however few rows a statement asks about). SQLite
    writes the list (55,000 matches: 10 ms less than building it in Python).

    A text that at least one event in DENSE holds needs no list: its page is read row by
    row in sort order (``is_dense``). Its first PROBE matches tell how closely they lie
    (0.3-3 ms); when they lie that close it is only counted. "amplitudePeak=2" (213,679 of
    a million) otherwise listed 200,001 matches and then, finding more, counted them all
    again: two walks of a phrase over a million events instead of one.

    ``exact=False``: None for such a text, which the probe marks dense for ``is_dense``.
    Counting it is FTS5 walking a phrase or an intersection over the whole index (80-116
    ms on a million events): the browser shows its first page first and counts after."""
    memo = conn.memo() if isinstance(conn, Connection) else {}
    count = "SELECT COUNT(*) FROM event_summary_fts WHERE event_summary_fts MATCH ?"
    probe = f"SELECT COUNT(*), MIN(rowid), MAX(rowid) FROM ({_FTS} LIMIT ?)"
    n, low, high = conn.execute(probe, (query, PROBE)).fetchone()
    if n == PROBE and high - low < PROBE * DENSE:
        memo[("dense", query)] = True
        if not exact:
            return None
        memo[("matches", query)] = conn.execute(count, (query,)).fetchone()[0]
        return memo[("matches", query)]
    sql = f"SELECT COUNT(*), json_group_array(rowid) FROM ({_FTS} LIMIT ?)"
    n, listed = conn.execute(sql, (query, KEEP + 1)).fetchone()
    if n > KEEP:
        memo[("matches", query)] = conn.execute(count, (query,)).fetchone()[0]
    else:
        memo[("matches", query)] = n
        memo[("listed", query)] = listed
    return memo[("matches", query)]


def is_broad(conn: sqlite3.Connection, text: str, events: int) -> bool:
    """Whether ``text`` matches more than one in BROAD of ``events`` (counting no further).
    A count of its matches made before (``count_matches``) tells at once."""
    query, _ = match(text, conn)
    if query is None:
        return False
    limit = max(1000, events // BROAD)
    known = conn.memo().get(("matches", query)) if isinstance(conn, Connection) else None
    if known is not None:
        return known >= limit
    sql = f"SELECT COUNT(*) FROM ({_FTS} LIMIT ?)"
    return conn.execute(sql, (query, limit)).fetchone()[0] >= limit
