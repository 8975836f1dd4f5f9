"""meteorgui: a desktop archive for meteor cameras speaking the MeteorPi import protocol."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The one version number is in pyproject.toml; the installed metadata carries it.
    __version__ = version("meteorgui")
except PackageNotFoundError:  # a checkout put on sys.path without being installed
    __version__ = "0+unknown"
