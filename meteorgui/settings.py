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
# libyaml's loader where PyYAML was built with it (the wheels are): the same safe subset,
# parsed in C; the settings are read before the window is built.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Settings:
    data_dir: str = ""  # empty: the platform default
    host: str = "0.0.0.0"
    port: int = 8080
    importer_autostart: bool = True
    thumbnail_size: int = 160
    silence_warning_minutes: int = 30
    notifications: bool = True
    night_starts_hour: int = 12  # a "night" runs from noon to noon, the cameras' solar time
    times_utc: bool = False  # show times in UTC rather than the computer's local time
    # A camera is bound to the login that first sent it; others cannot post for it.
    bind_cameras: bool = True
    disk_warning_mb: int = 1024  # warn when the archive's disk has less free than this
    extra: dict = field(default_factory=dict)  # keys from newer versions, kept as they are
    # What load() could not use, in a user's words (logged once logging is set up).
    problems: list = field(default_factory=list, repr=False, compare=False)

    # The ranges the Settings dialog offers; a value outside is replaced by the default.
    RANGES = {
        "port": (0, 65535),
        "thumbnail_size": (64, 512),
        "silence_warning_minutes": (1, 24 * 60),
        "night_starts_hour": (0, 23),
        "disk_warning_mb": (0, 10 << 20),
    }

    @classmethod
    def path(cls) -> Path:
        return paths.config_dir() / FILE_NAME

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read settings; anything missing or malformed falls back to its default (listed
        in ``problems`` and logged)."""
        path = path or cls.path()
        s = cls()

        def problem(text: str) -> None:
            s.problems.append(text)
            log.debug("settings: %s", text)  # logged by the app once its log is set up

        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader) or {}
        except FileNotFoundError:
            return s
        except (OSError, ValueError, yaml.YAMLError) as exc:  # ValueError: not UTF-8
            problem(f"ignoring the unreadable settings file {path}: {exc}")
            return s
        if not isinstance(raw, dict):
            problem(f"ignoring the settings file {path}: not a mapping")
            return s
        known = {f.name: f for f in dataclasses.fields(cls) if f.name not in ("extra", "problems")}
        for key, value in raw.items():
            f = known.get(key)
            if f is None:
                s.extra[key] = value
                continue
            default = getattr(s, key)
            if isinstance(default, bool) and not isinstance(value, bool):
                problem(f"{key} should be true or false; using {default}")
            elif (
                isinstance(default, int)
                and not isinstance(default, bool)
                and (isinstance(value, bool) or not isinstance(value, int))
            ):
                problem(f"{key} should be a whole number; using {default}")
            elif isinstance(default, str) and not isinstance(value, str):
                problem(f"{key} should be text; using {default!r}")
            elif key in cls.RANGES and not cls.RANGES[key][0] <= value <= cls.RANGES[key][1]:
                low, high = cls.RANGES[key]
                problem(f"{key} {value} is not between {low} and {high}; using {default}")
            else:
                setattr(s, key, value)
        return s

    def save(self, path: Path | None = None) -> Path:
        path = path or self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            k: v for k, v in dataclasses.asdict(self).items() if k not in ("extra", "problems")
        } | self.extra
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        os.replace(tmp, path)
        return path
