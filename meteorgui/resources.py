"""The files meteorgui reads at run time, found with importlib.resources.

They live in the repository's top-level ``resources/`` folder, which the build installs
as the package ``meteorgui.assets`` (setup.py); a checkout, a wheel and a frozen build
all find them the same way, never through a path beside the source tree.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

PACKAGE = "meteorgui.assets"

# What the program cannot do without; checked once at start (see missing()).
REQUIRED = (
    ("icons", "meteorgui.svg"),
    ("icons", "damaged.svg"),
    ("icons", "document.svg"),
    ("icons", "loading.svg"),
    ("icons", "missing.svg"),
    ("icons", "play.svg"),
    ("icons", "undecodable.svg"),
    ("icons", "video.svg"),
    ("sky", "showers.csv"),
    ("sky", "stars.csv"),
    ("sky", "constellation_lines.json"),
)
DEMO_CLIPS = "meteor_clip_*.mp4"


class MissingResource(FileNotFoundError):
    """A file the installation should hold is not there; the message says which."""


def _root() -> Path:
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise MissingResource(
            f"meteorgui's resources ({PACKAGE}) are not installed: reinstall meteorgui"
        ) from None
    if not isinstance(root, Path):  # inside a zip: Qt and the store need real files
        raise MissingResource(f"meteorgui's resources are not on disk ({root}): reinstall")
    return root


def resource_path(*parts: str) -> Path:
    """The resource ``<parts...>`` (e.g. ``"icons", "play.svg"``); it may not exist."""
    return _root().joinpath(*parts)


def require(*parts: str) -> Path:
    """The resource ``<parts...>``; MissingResource names it if it is not installed."""
    path = resource_path(*parts)
    if not path.is_file():
        raise MissingResource(
            f"meteorgui's resource {'/'.join(parts)} is missing from {path.parent}: reinstall "
            "meteorgui"
        )
    return path


def demo_clip_paths() -> list[Path]:
    """The demo's meteor clips; MissingResource if there are none."""
    folder = resource_path("demo")
    paths = sorted(folder.glob(DEMO_CLIPS))
    if not paths:
        raise MissingResource(
            f"meteorgui's demo clips ({DEMO_CLIPS}) are missing from {folder}: reinstall meteorgui"
        )
    return paths


def missing() -> list[str]:
    """One line for each required resource that is not installed (empty when all are)."""
    problems = []
    for parts in REQUIRED:
        try:
            require(*parts)
        except MissingResource as exc:
            problems.append(str(exc))
            if "not installed" in str(exc) or "not on disk" in str(exc):
                break  # the whole package is gone: one line says it
    return problems
