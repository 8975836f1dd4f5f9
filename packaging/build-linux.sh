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

# Every bundled library finds what it links to, in the bundle or on any desktop; only
# Qt's GTK theme plugin may miss GTK (Qt then draws its own style).
app=$ROOT/dist/meteorgui
missing=$(find "$app" -type f -name '*.so*' ! -name 'libqgtk3.so' -print0 |
  LD_LIBRARY_PATH="$app/_internal:$app/_internal/PySide6/Qt/lib" xargs -0 -n 50 ldd 2>/dev/null |
  awk '/not found/ {print $1}' | sort -u | grep -v -e '^libwayland-cursor' -e '^libwayland-egl' || true)
if [ -n "$missing" ]; then
  echo "build-linux: bundled libraries link to missing ones: $missing" >&2
  exit 1
fi

# The checks a user would notice first: it runs, it knows its version.
"$app/meteorgui" --version

if [ "${1:-}" != "--no-deb" ]; then
  bash "$ROOT/packaging/debian/build-deb.sh"
fi
