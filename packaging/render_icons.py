"""Render the app icon (an SVG) as PNGs for the hicolor icon theme, with Qt.

    python render_icons.py resources/icons/meteorgui.svg OUT_DIR [NAME]

Writes OUT_DIR/<size>x<size>/apps/NAME.png for each size and
OUT_DIR/scalable/apps/NAME.svg: the layout of /usr/share/icons/hicolor. Runs with the
PySide6 that meteorgui needs; no other tool.
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


def render(svg: Path, out: Path, name: str) -> list[Path]:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    written = []
    for px in SIZES:
        image = QImage(px, px, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, px, px))
        painter.end()
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
    name = argv[2] if len(argv) == 3 else Path(argv[0]).stem
    for path in render(Path(argv[0]), Path(argv[1]), name):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
