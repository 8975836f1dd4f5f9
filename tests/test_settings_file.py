"""The settings file: read with libyaml's safe loader, anything malformed falls back."""

import yaml

from meteorgui import settings as settings_mod
from meteorgui.settings import Settings


def test_settings_are_parsed_in_c_when_pyyaml_has_libyaml(tmp_path):
    """Read before the window is built: the C parser, where the installed PyYAML has it."""
    path = tmp_path / "settings.yaml"
    Settings(port=9123, times_utc=True).save(path)
    s = Settings.load(path)
    assert (s.port, s.times_utc, s.problems) == (9123, True, [])
    assert yaml.__with_libyaml__  # the PyYAML wheels are built with it
    assert settings_mod._SafeLoader is yaml.CSafeLoader


def test_a_malformed_or_unsafe_settings_file_falls_back_to_the_defaults(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("port: [1, 2\n", encoding="utf-8")
    s = Settings.load(path)
    assert s.port == Settings().port
    assert len(s.problems) == 1 and str(path) in s.problems[0]
    # The safe subset only: a tag that would build a Python object is refused.
    path.write_text("port: !!python/object/apply:os.getcwd []\n", encoding="utf-8")
    s = Settings.load(path)
    assert s.port == Settings().port and len(s.problems) == 1, s.problems
