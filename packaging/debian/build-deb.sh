#!/usr/bin/env bash
# Make dist/meteorgui_<version>_<arch>.deb from the PyInstaller build in dist/meteorgui/
# (packaging/build-linux.sh runs this after building). Needs dpkg-deb only, and the
# build venv's PySide6 to render the icons.
#
# Layout: the one-folder program in /usr/lib/meteorgui/, the command /usr/bin/meteorgui
# (a link), a .desktop entry, the icon in every hicolor size, AppStream metainfo, and
# the systemd unit as an example. Icon and menu caches are refreshed by the triggers of
# hicolor-icon-theme and desktop-file-utils: no maintainer scripts.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
APP=$ROOT/dist/meteorgui
PY=${PY:-$ROOT/build/linux-venv/bin/python}
[ -x "$APP/meteorgui" ] || { echo "build-deb: no $APP/meteorgui; run packaging/build-linux.sh" >&2; exit 1; }

VERSION=$("$APP/meteorgui" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)
STAGE=$ROOT/build/deb/meteorgui_${VERSION}_${ARCH}
DEB=$ROOT/dist/meteorgui_${VERSION}_${ARCH}.deb
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/usr/lib" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/metainfo" "$STAGE/usr/share/doc/meteorgui/examples"

cp -a "$APP" "$STAGE/usr/lib/meteorgui"
ln -s ../lib/meteorgui/meteorgui "$STAGE/usr/bin/meteorgui"
install -m 644 packaging/debian/meteorgui.desktop "$STAGE/usr/share/applications/"
sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$(date -u +%Y-%m-%d)/" \
  packaging/debian/meteorgui.metainfo.xml > "$STAGE/usr/share/metainfo/meteorgui.metainfo.xml"
QT_QPA_PLATFORM=offscreen "$PY" packaging/render_icons.py resources/icons/meteorgui.svg \
  "$STAGE/usr/share/icons/hicolor" meteorgui > /dev/null
install -m 644 packaging/systemd/meteorgui-importer.service \
  "$STAGE/usr/share/doc/meteorgui/examples/"
install -m 644 packaging/debian/copyright "$STAGE/usr/share/doc/meteorgui/"

# Depends: the packages of the system libraries the bundle links to (PyInstaller
# bundles the rest). Libraries that are not found belong to optional Qt plugins
# (the GTK theme, Wayland extras) and go to Recommends by hand in control.in.
libs=$(find "$STAGE/usr/lib/meteorgui" -type f \( -name '*.so*' -o -name meteorgui \) -print0 |
  LD_LIBRARY_PATH="$STAGE/usr/lib/meteorgui/_internal:$STAGE/usr/lib/meteorgui/_internal/PySide6/Qt/lib" \
  xargs -0 -n 50 ldd 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
  grep -v "^$STAGE" | sort -u)
pkgs=$(for lib in $libs; do dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "$lib"; done |
  cut -d: -f1 | sort -u | grep -v '^libc6$')
glibc=$(dpkg-query -W -f='${Version}' libc6 | cut -d- -f1)
depends="libc6 (>= $glibc)"
for p in $pkgs; do depends="$depends, $p"; done

find "$STAGE" -type d -exec chmod 755 {} +
size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$size/" \
  -e "s/@DEPENDS@/$depends/" packaging/debian/control.in > "$STAGE/DEBIAN/control"

dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" > /dev/null
echo "built $DEB: $(du -h "$DEB" | cut -f1); Depends: $depends"
