"""Render the app icon (an SVG) as PNGs for the hicolor icon theme, with Qt.

    python render_icons.py resources/icons/meteorgui.svg OUT_DIR [NAME]
    python render_icons.py resources/icons/meteorgui.svg OUT.ico   (Windows)
    python render_icons.py resources/icons/meteorgui.svg OUT.icns  (macOS)

Writes OUT_DIR/<size>x<size>/apps/NAME.png for each size and
OUT_DIR/scalable/apps/NAME.svg: the layout of /usr/share/icons/hicolor; or one icon
file for the Windows or macOS build. Runs with the PySide6 that meteorgui needs; no
other tool.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

# Every size the hicolor theme's index lists for fixed-size application icons.
SIZES = (16, 22, 24, 32, 48, 64, 96, 128, 256, 512)


# One image for a platform's icon file: the largest each format takes from Qt.
ICON_FILES = {".ico": (256, "ICO"), ".icns": (512, "ICNS")}


def _image(renderer: QSvgRenderer, px: int) -> QImage:
    image = QImage(px, px, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, px, px))
    painter.end()
    return image


def _renderer(svg: Path) -> QSvgRenderer:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    return renderer


def icon_file(svg: Path, out: Path) -> Path:
    px, fmt = ICON_FILES[out.suffix.lower()]
    out.parent.mkdir(parents=True, exist_ok=True)
    if not _image(_renderer(svg), px).save(str(out), fmt):
        raise SystemExit(f"render_icons: Qt cannot write {fmt} here ({out})")
    return out


def render(svg: Path, out: Path, name: str) -> list[Path]:
    renderer = _renderer(svg)
    written = []
    for px in SIZES:
        image = _image(renderer, px)
        path = out / f"{px}x{px}" / "apps" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"render_icons: cannot write {path}")
        written.append(path)
    scalable = out / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    return [*written, scalable]


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (Qt needs one)
    if Path(argv[1]).suffix.lower() in ICON_FILES:
        print(icon_file(Path(argv[0]), Path(argv[1])))
        return 0
    name = argv[2] if len(argv) == 3 else Path(argv[0]).stem
    for path in render(Path(argv[0]), Path(argv[1]), name):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
