#!/usr/bin/env bash
# Build meteorgui for Linux: a one-folder PyInstaller build in dist/meteorgui/, then
# (unless --no-deb) a Debian package dist/meteorgui_<version>_<arch>.deb from it.
#
#   bash packaging/build-linux.sh [--no-deb]
#
# Needs python3 (3.11 or newer, with its shared library) and network access to PyPI; the
# build venv is kept in build/linux-venv and reused. Nothing here is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
VENV=$ROOT/build/linux-venv

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# meteorgui itself is installed (not editable) so the spec collects it as a wheel has it.
"$VENV/bin/pip" install -q --upgrade "pyinstaller>=6.10" "$ROOT"

start=$(date +%s)
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" \
  "$ROOT/packaging/pyinstaller/meteorgui.spec"
echo "built dist/meteorgui/ in $(( $(date +%s) - start )) s: $(du -sh dist/meteorgui | cut -f1)"

# The checks a user would notice first: it runs, it knows its version.
"$ROOT/dist/meteorgui/meteorgui" --version

if [ "${1:-}" != "--no-deb" ]; then
  bash "$ROOT/packaging/debian/build-deb.sh"
fi
