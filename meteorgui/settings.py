"""User settings, kept as YAML in the platform's config folder."""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import paths

log = logging.getLogger(__name__)
FILE_NAME = "settings.yaml"


@dataclass
class Settings:
    data_dir: str = ""  # empty: the platform default
    host: str = "0.0.0.0"
    port: int = 8080
    importer_autostart: bool = True
    thumbnail_size: int = 160
    silence_warning_minutes: int = 30
    notifications: bool = True
    night_starts_hour: int = 12  # a "night" runs from noon to noon, local time
    extra: dict = field(default_factory=dict)  # keys from newer versions, kept as they are

    @classmethod
    def path(cls) -> Path:
        return paths.config_dir() / FILE_NAME

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read settings; anything missing or malformed falls back to its default (logged)."""
        path = path or cls.path()
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            return cls()
        except (OSError, yaml.YAMLError) as exc:
            log.warning("ignoring unreadable settings file %s: %s", path, exc)
            return cls()
        if not isinstance(raw, dict):
            log.warning("ignoring settings file %s: not a mapping", path)
            return cls()
        s = cls()
        known = {f.name: f for f in dataclasses.fields(cls) if f.name != "extra"}
        for key, value in raw.items():
            f = known.get(key)
            if f is None:
                s.extra[key] = value
                continue
            default = getattr(s, key)
            if isinstance(default, bool) and not isinstance(value, bool):
                log.warning("settings: %s should be true or false; using %s", key, default)
            elif (
                isinstance(default, int)
                and not isinstance(default, bool)
                and (isinstance(value, bool) or not isinstance(value, int))
            ):
                log.warning("settings: %s should be a whole number; using %s", key, default)
            elif isinstance(default, str) and not isinstance(value, str):
                log.warning("settings: %s should be text; using %r", key, default)
            else:
                setattr(s, key, value)
        if not 0 <= s.port <= 65535:
            log.warning("settings: port %s is out of range; using 8080", s.port)
            s.port = 8080
        return s

    def save(self, path: Path | None = None) -> Path:
        path = path or self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {k: v for k, v in dataclasses.asdict(self).items() if k != "extra"} | self.extra
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        os.replace(tmp, path)
        return path
