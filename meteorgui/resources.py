"""Where the repository's top-level ``resources/`` folder is."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """``resources/<parts...>`` at the top of the repository (the file may not exist)."""
    return RESOURCES.joinpath(*parts)
