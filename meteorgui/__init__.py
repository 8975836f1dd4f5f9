"""meteorgui: a desktop archive for meteor cameras speaking the MeteorPi import protocol."""


def __getattr__(name: str) -> str:
    """``__version__``, looked up when first asked for: importlib.metadata (with the email
    and zipfile modules it loads) took half of `meteorgui --help`'s start."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        # The one version number is in pyproject.toml; the installed metadata carries it.
        found = version("meteorgui")
    except PackageNotFoundError:  # a checkout put on sys.path without being installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
