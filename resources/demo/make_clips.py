"""Make the demo meteor clips meteor_clip_<n>.mp4 shipped beside this script.

Run once by a developer (needs ffmpeg with libx264 on PATH):

    .venv/bin/python resources/demo/make_clips.py

Each clip is 160x120 at 25 fps, about 1.6 s: a star field with a meteor that
streaks across it and leaves a fading trail, drawn with meteorgui.skyimage
and encoded as baseline H.264 so every player can show it. The simulator only
reads the finished files; it never runs ffmpeg.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from meteorgui.skyimage import Sky, draw_streak, horizon_profile  # noqa: E402

WIDTH, HEIGHT, FPS, FRAMES = 160, 120, 25, 40
CLIPS = 4


def frames(seed: int) -> bytes:
    rng = random.Random(seed)
    sky = Sky(seed, WIDTH, HEIGHT, horizon_profile(rng, WIDTH, HEIGHT))
    start = (rng.uniform(15, WIDTH - 15), rng.uniform(5, HEIGHT * 0.35))
    end = (rng.uniform(15, WIDTH - 15), rng.uniform(HEIGHT * 0.45, HEIGHT * 0.7))
    peak = rng.uniform(190, 255)
    first, last = 8, 8 + rng.randint(12, 20)  # frames in which the meteor burns
    out = bytearray()
    for k in range(FRAMES):
        buf = sky.frame(0.0004 * k)
        if k >= first:
            head = min(1.0, (k - first + 1) / (last - first))
            fade = 1.0 if k <= last else max(0.0, 1 - (k - last) / 6)
            if fade > 0:
                trail = max(0.0, head - 0.35)
                draw_streak(buf, WIDTH, HEIGHT, start, end, peak * fade, upto=head, since=trail)
        out += buf
    return bytes(out)


def encode(raw: bytes, path: Path) -> None:
    command = [
        "ffmpeg", "-y", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-",
        "-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryslow", "-crf", "20",
        "-pix_fmt", "yuv420p", "-movflags", "+faststart",
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        str(path),
    ]  # fmt: skip
    subprocess.run(command, input=raw, check=True)


def main() -> None:
    for n in range(CLIPS):
        path = HERE / f"meteor_clip_{n}.mp4"
        encode(frames(1000 + n), path)
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
