"""An importer in its own process on 127.0.0.1, for the benchmarks: `meteorgui serve` on a
fresh archive, or the floor (benchmarks/floor_importer.py; "durable-floor" is the floor
keeping its files and entities in a fresh folder)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from floor_importer import PASSWORD, USER

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """Started and healthy on construction; the user USER / PASSWORD may import."""

    def __init__(self, kind: str, workdir: Path | None = None, timeout: float = 30):
        self.kind = kind
        self.port = free_port()
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        if kind == "meteorgui":
            data = Path(tempfile.mkdtemp(prefix="bench-archive-", dir=workdir))
            subprocess.run(
                [sys.executable, "-m", "meteorgui", "--data-dir", str(data), "user", "add", USER],
                input=PASSWORD + "\n",
                text=True,
                check=True,
                capture_output=True,
                cwd=ROOT,
                env=env,
            )
            cmd = [
                sys.executable,
                "-m",
                "meteorgui",
                "--data-dir",
                str(data),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
        else:
            cmd = [sys.executable, str(ROOT / "benchmarks" / "floor_importer.py"), str(self.port)]
            if kind == "durable-floor":
                cmd += ["--durable", tempfile.mkdtemp(prefix="bench-floor-", dir=workdir)]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self._wait_healthy(timeout)
        self.url = f"http://127.0.0.1:{self.port}/import"

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited: {self.proc.stderr.read()}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} server did not come up")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (all its threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
