"""Where meteorgui keeps its data and settings."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "meteorgui"
ENV_DATA_DIR = "METEORGUI_DATA_DIR"
ENV_CONFIG_DIR = "METEORGUI_CONFIG_DIR"


def data_dir(
    explicit: str | os.PathLike | None = None, configured: str | os.PathLike | None = None
) -> Path:
    """The data directory: --data-dir, else $METEORGUI_DATA_DIR, else the one chosen in
    the settings (``configured``), else the platform default. The app and the command
    line decide alike, so both always work on the same archive."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # imported when asked: it takes longer than the --help it serves

    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_config_path(APP_NAME, appauthor=False)
