"""The import contracts in pyproject.toml: only meteorgui.gui imports Qt, the layers import
downwards, GUI features share only gui.common, and sibling modules import without cycles."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a test dependency"
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken" in result.stdout


def _tool(name: str) -> str:
    exe = shutil.which(name, path=str(Path(sys.executable).parent))
    assert exe, f"{name} is a test dependency"
    return exe


def test_ruff_finds_nothing():
    result = subprocess.run(
        [_tool("ruff"), "check", "--no-cache", "meteorgui", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tree_is_ruff_formatted():
    result = subprocess.run(
        [_tool("ruff"), "format", "--check", "--no-cache", "meteorgui", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes_on_the_qt_free_packages(tmp_path):
    # The files to check are listed in pyproject's [tool.mypy]; the cache stays out of the tree.
    result = subprocess.run(
        [_tool("mypy"), "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_skips_no_qt_free_package():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    qt_free = [
        p.relative_to(ROOT).as_posix()
        for p in sorted((ROOT / "meteorgui").iterdir())
        if p.name not in {"gui", "__pycache__", "__init__.py", "__main__.py", "cli.py"}
        and (p.is_dir() or p.suffix == ".py")
    ]
    assert sorted(set(qt_free) - set(config["files"])) == []
    skipped = [o["module"] for o in config.get("overrides", []) if o.get("ignore_errors")]
    assert skipped == []


def test_the_gui_names_its_colours_in_one_module():
    import re
    from dataclasses import fields

    from meteorgui.gui.common import style

    hex_colour = re.compile(r"#[0-9a-fA-F]{6}")
    for palette in (style.LIGHT, style.DARK):
        for f in fields(palette):
            assert hex_colour.fullmatch(getattr(palette, f.name)), (palette, f.name)
    literal = re.compile(r"[\"'][^\"'\n]*#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?\b|QColor\(\d")
    allowed = {ROOT / "meteorgui/gui/common/style.py"}
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "meteorgui" / "gui").rglob("*.py"))
        if path not in allowed
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []


# SQL text or a statement run: what only meteorgui/archive/ may hold.
_SQL = (
    r"\.execute(many|script)?\(|\b(SELECT\s+[A-Za-z_*{]|INSERT\s+(OR\s+\w+\s+)?INTO"
    r"|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|VIEW|TRIGGER)|PRAGMA\s)"
)
# Modules outside archive/ allowed to hold SQL, each with the reason. None today.
SQL_ALLOWED: dict[str, str] = {}


def test_sql_lives_in_the_archive_only():
    import re

    sql = re.compile(_SQL)
    package = ROOT / "meteorgui"

    def places(paths):
        return [
            f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
            for path in paths
            for n, line in enumerate(path.read_text().splitlines(), 1)
            if sql.search(line)
        ]

    archive = sorted((package / "archive").rglob("*.py"))
    assert len(places(archive)) > 50  # the pattern does see the archive's own SQL
    outside = [
        p
        for p in sorted(package.rglob("*.py"))
        if package / "archive" not in p.parents
        and p.relative_to(ROOT).as_posix() not in SQL_ALLOWED
    ]
    assert places(outside) == []
