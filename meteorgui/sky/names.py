"""Shower names and the words the GUI uses for a sky result, without the science.

Reads only the code and name columns of ``resources/sky/showers.csv`` (plain
csv, no numpy), so the browser and the night summary can name showers on the
GUI thread's start-up path.
"""

from __future__ import annotations

import csv
import functools

from ..resources import resource_path

SPORADIC = "sporadic"


@functools.cache
def shower_names() -> dict[str, str]:
    """{IAU code: name} of the established showers in the table."""
    try:
        with open(resource_path("sky", "showers.csv"), encoding="utf-8") as f:
            rows = [line for line in f if not line.startswith("#")]
    except OSError:
        return {}
    return {r["code"]: r["name"] for r in csv.DictReader(rows)}


def shower_named(text: str) -> str | None:
    """The shower code a person means by ``text``: a code in any case ('per'), a name
    ('Perseids') or 'sporadic'; None if it names none."""
    wanted = text.strip().casefold()
    if wanted == SPORADIC:
        return SPORADIC
    for code, name in shower_names().items():
        if wanted in (code.casefold(), name.casefold()):
            return code
    return None


def shower_title(code: str | None) -> str:
    """A longer one: 'Perseids (PER)', 'Sporadic', 'No sky position'."""
    if code is None or code == "":
        return "No sky position"
    if code == SPORADIC:
        return "Sporadic"
    name = shower_names().get(code)
    return f"{name} ({code})" if name else code


def shower_choice(code: str) -> str:
    """A filter's entry, code first so a narrow box still shows it: 'PER · Perseids'."""
    name = shower_names().get(code)
    return f"{code} · {name}" if name else code
