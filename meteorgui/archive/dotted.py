"""Dotted words ("1.5", "3.89", "192.168.1.40", "clip.mp4") as single terms of the
full-text index, so a search for one reads one short list.

FTS5's unicode61 tokenizer splits "1.5" into the tokens "1" and "5", so a search for
"1.5" was the phrase "1" then any term beginning with "5": on a million events the
walk of two long lists ("1" is in most events' metadata, terms beginning with "5" in
most others), 50-90 ms however few events held "1.5". A tokenizer of our own cannot be
registered through Python's sqlite3, so the archive writes each dotted run of an
event's searched text a second time, at the end of its search text, as one term:
its parts joined by MARK, a private-use character (a token character to unicode61,
typed by nobody), with MARK in front so that no typed word's prefix can reach into
these terms. From each of a run's parts on, up to MAX_PARTS parts are written
("192.168.1.40": also "168.1.40" and "1.40"), so a dotted word of at most MAX_PARTS
parts finds what the phrase found, from any part on; a text of any length gets at most
five times its length of terms (a camera controls its metadata). A typed word that is
such a run ("1.5") is searched as the prefix MARK+"1"+MARK+"5": "1.5", "1.52", "1.5.3",
and not "1,5" or "1 5" as the phrase did. A longer dotted word is searched as before.
"""

from __future__ import annotations

import re

MARK = "\ue000"
MAX_PARTS = 4  # an IPv4 address; a version number has 2-4
# An ASCII run of letters and digits with dots between, not inside a longer token (a
# Unicode letter or digit on either side would make the tokenizer's token longer).
_RUN = re.compile(r"(?<![^\W_])[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)+(?![^\W_])")
_WORD = re.compile(r"[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)+")


def tail(text: str | None) -> str:
    """The terms to append to a searched text: ' ' + term for each part of each dotted
    run but its last, the run from that part on (at most MAX_PARTS parts); '' when the
    text has none."""
    if not text or "." not in text:
        return ""
    terms = []
    for run in _RUN.findall(text):
        parts = run.split(".")
        for i in range(len(parts) - 1):
            terms.append(MARK + MARK.join(parts[i : i + MAX_PARTS]))
    return "".join(" " + t for t in terms)


def term(word: str) -> str | None:
    """The index's term that a typed dotted word begins ("1.5" -> MARK 1 MARK 5), or None
    for a word that is not one dotted run of at most MAX_PARTS parts."""
    if not 0 < word.count(".") < MAX_PARTS or not _WORD.fullmatch(word):
        return None
    return MARK + word.replace(".", MARK)
