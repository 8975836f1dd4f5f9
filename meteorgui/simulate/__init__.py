"""Simulated MeteorPi camera nodes: a realistic night, its push to an importer, the demo camera.

No Qt here: the GUI's demo, the ``simulate`` command and the tests all use this package.
"""

from .demo import DEMO_USER, DemoCamera, demo_night_start
from .night import DEFAULT_START_MS, NIGHT_MS, Night, demo_clips, make_night
from .push import PushSummary, interleaved, push_night, run

__all__ = [
    "DEFAULT_START_MS",
    "DEMO_USER",
    "NIGHT_MS",
    "DemoCamera",
    "Night",
    "PushSummary",
    "demo_clips",
    "demo_night_start",
    "interleaved",
    "make_night",
    "push_night",
    "run",
]
