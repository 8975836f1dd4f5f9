"""Small synthetic night-sky pictures for the camera simulator, and a PNG writer.

Pure Python (zlib + struct), fast enough for hundreds of images a second:
the per-pixel work (sky gradient, sensor noise) is done once per camera with
``bytes.translate``; each picture then copies that background and draws a
few hundred stars and one meteor streak. Images are 8-bit grayscale, like the
monochrome video cameras MeteorPi nodes use.
"""

from __future__ import annotations

import math
import random
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(pixels: bytes | bytearray, width: int, height: int, channels: int = 1) -> bytes:
    """Encode 8-bit grayscale (channels=1) or RGB (channels=3) rows as a PNG."""
    if channels not in (1, 3):
        raise ValueError("channels must be 1 (grayscale) or 3 (RGB)")
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError(f"expected {stride * height} bytes of pixels, got {len(pixels)}")
    view = memoryview(pixels)
    # Filter type 0 (None) on every row: the pictures are mostly noise and stars,
    # which the other filters do not shrink, and it keeps encoding quick.
    raw = b"".join(b"\x00" + view[y * stride : (y + 1) * stride] for y in range(height))
    color_type = 0 if channels == 1 else 2
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", _deflate(raw)),
            _chunk(b"IEND", b""),
        )
    )


def _deflate(data: bytes) -> bytes:
    # Run-length matching only: sensor noise leaves little for LZ77 to find, and
    # Huffman coding alone gives smaller files several times faster.
    z = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return z.compress(data) + z.flush()


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def horizon_profile(rng: random.Random, width: int, height: int) -> list[tuple[int, int]]:
    """Points (x, y) along the bottom edge of the visible sky: rooftops and trees."""
    points = []
    n = 7
    for i in range(n + 1):
        x = round(i * (width - 1) / n)
        y = round(height * rng.uniform(0.72, 0.9))
        points.append((x, y))
    return points


def _horizon_rows(profile: list[tuple[int, int]], width: int) -> list[int]:
    """For each column x, the first row below the sky."""
    rows = []
    for x in range(width):
        for (x0, y0), (x1, y1) in zip(profile, profile[1:], strict=False):
            if x0 <= x <= x1:
                f = 0.0 if x1 == x0 else (x - x0) / (x1 - x0)
                rows.append(round(y0 + f * (y1 - y0)))
                break
        else:
            rows.append(profile[-1][1])
    return rows


class Sky:
    """One camera's view: a fixed background, stars that turn about the pole,
    and a dark foreground below the horizon profile."""

    def __init__(
        self,
        seed: int,
        width: int,
        height: int,
        profile: list[tuple[int, int]],
        post: tuple[int, int] | None = None,
    ):
        """``profile`` is the horizon (see ``horizon_profile``); ``post``, if
        given, is a column range hidden by a pole from top to bottom."""
        rng = random.Random(seed)
        self.width, self.height = width, height
        self.horizon = _horizon_rows(profile, width)
        if post is not None:
            for x in range(post[0], post[1] + 1):
                self.horizon[x] = 0
        # Sensor noise: a byte per pixel, mapped through per-row tables so that
        # the sky brightens toward the (light-polluted) horizon.
        noise = rng.randbytes(width * height)
        rows = []
        for y in range(height):
            level = 14 + int(26 * (y / height) ** 2)
            table = bytes(min(255, level + (n & 7)) for n in range(256))
            rows.append(noise[y * width : (y + 1) * width].translate(table))
        background = bytearray(b"".join(rows))
        for x, top in enumerate(self.horizon):
            for y in range(top, height):
                background[y * width + x] = 6
        self.background = bytes(background)
        self.noise_only = noise.translate(bytes((n & 7) // 3 for n in range(256)))
        self.pole = (width * rng.uniform(0.3, 0.7), -height * rng.uniform(0.2, 0.8))
        self.stars = [
            (
                rng.uniform(-width, 2 * width),
                rng.uniform(-height, 2 * height),
                int(min(255, 60 + rng.expovariate(1 / 40))),
            )
            for _ in range(int(width * height / 60))
        ]

    def frame(self, angle: float, gain: float = 1.0) -> bytearray:
        """The sky with the stars turned by ``angle`` radians about the pole;
        ``gain`` < 1 dims the background and stars (twilight is brighter: > 1)."""
        w = self.width
        if gain == 1.0:
            buf = bytearray(self.background)
        else:
            table = bytes(min(255, int(v * gain)) for v in range(256))
            buf = bytearray(self.background.translate(table))
        px, py = self.pole
        c, s = math.cos(angle), math.sin(angle)
        horizon = self.horizon
        for sx, sy, mag in self.stars:
            dx, dy = sx - px, sy - py
            x = int(px + c * dx - s * dy)
            y = int(py + s * dx + c * dy)
            if 1 <= x < w - 1 and 1 <= y < horizon[x] - 1:
                i = y * w + x
                if mag > buf[i]:
                    buf[i] = mag
                if mag > 140:
                    halo = mag // 3
                    for j in (i - 1, i + 1, i - w, i + w):
                        if halo > buf[j]:
                            buf[j] = halo
        return buf

    def subtracted(self) -> bytearray:
        """A background-subtracted frame: residual noise only."""
        return bytearray(self.noise_only)


def draw_streak(
    buf: bytearray,
    width: int,
    height: int,
    start: tuple[float, float],
    end: tuple[float, float],
    peak: float,
    upto: float = 1.0,
    since: float = 0.0,
) -> None:
    """Draw a meteor from ``start`` toward ``end``: it brightens then fades along
    its path. Only the part between fractions ``since`` and ``upto`` is drawn
    (video frames draw it growing)."""
    (x0, y0), (x1, y1) = start, end
    length = max(1.0, math.hypot(x1 - x0, y1 - y0))
    steps = int(length * 2)
    for k in range(int(steps * since), int(steps * upto) + 1):
        f = k / steps
        bright = peak * math.sin(math.pi * min(1.0, f * 1.1)) ** 0.7
        x = x0 + f * (x1 - x0)
        y = y0 + f * (y1 - y0)
        xi, yi = int(x), int(y)
        for dx, dy, fall in ((0, 0, 1.0), (1, 0, 0.45), (-1, 0, 0.45), (0, 1, 0.45), (0, -1, 0.45)):
            xx, yy = xi + dx, yi + dy
            if 0 <= xx < width and 0 <= yy < height:
                v = int(bright * fall)
                i = yy * width + xx
                if v > buf[i]:
                    buf[i] = min(255, v)
