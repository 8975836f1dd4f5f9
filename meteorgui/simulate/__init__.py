"""Simulated MeteorPi camera nodes: a realistic night, its push to an importer, the demo camera.

No Qt here: the GUI's demo and the ``simulate`` command both use this package.
"""

from .night import (
    DEFAULT_START_MS,
    NIGHT_MS,
    Night,
    PushSummary,
    demo_clips,
    interleaved,
    make_night,
    push_night,
    run,
)

__all__ = [
    "DEFAULT_START_MS",
    "NIGHT_MS",
    "Night",
    "PushSummary",
    "demo_clips",
    "interleaved",
    "make_night",
    "push_night",
    "run",
]
