"""An importer in its own process on 127.0.0.1, for the benchmarks: `meteorgui serve` on a
fresh archive, or the floor (benchmarks/floor_importer.py; "durable-floor" is the floor
keeping its files and entities in a fresh folder; "meteorgui-before" is `meteorgui serve`
from another source tree, BEFORE_TREE, e.g. `git worktree add` or `git archive` of an
earlier commit, for before/after figures in one run)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from floor_importer import PASSWORD, USER

ROOT = Path(__file__).resolve().parent.parent
# meteorgui's sky worker imports its science 3 s after start: a measurement starts later.
START_S = 4.0
IDLE_S = 0.3
BEFORE_TREE = os.environ.get("METEORGUI_BEFORE_TREE")


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
        cwd = ROOT
        if kind == "meteorgui-before":
            if not BEFORE_TREE:
                raise RuntimeError("meteorgui-before needs METEORGUI_BEFORE_TREE")
            cwd = Path(BEFORE_TREE)  # `python -m meteorgui` finds the package there first
        if kind.startswith("meteorgui"):
            data = Path(tempfile.mkdtemp(prefix="bench-archive-", dir=workdir))
            subprocess.run(
                [sys.executable, "-m", "meteorgui", "--data-dir", str(data), "user", "add", USER],
                input=PASSWORD + "\n",
                text=True,
                check=True,
                capture_output=True,
                cwd=cwd,
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
            cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.started = time.monotonic()
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

    def thread_cpu(self) -> dict[int, float]:
        """CPU seconds so far of each thread (native id) still running."""
        return task_cpu(self.proc.pid)

    def thread_names(self) -> dict[int, str]:
        """Python's name of each thread (native id), from `py-spy dump`; {} without py-spy
        (or without the right to trace the process)."""
        spy = Path(sys.executable).with_name("py-spy")
        try:
            dump = subprocess.run(
                [str(spy), "dump", "--pid", str(self.proc.pid)],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return {}
        return {int(m[1]): m[2] for m in re.finditer(r'^Thread (\d+) .*?"(.*)"$', dump, re.M)}

    def cpu_by_thread(self, before: dict[int, float]) -> dict[str, float]:
        """CPU seconds since ``before`` (a thread_cpu()) by thread name, numbered
        threads together ("waitress-0".."waitress-7" as "waitress-*")."""
        names = self.thread_names()
        out: dict[str, float] = {}
        for tid, cpu in self.thread_cpu().items():
            name = re.sub(r"[-_]\d+$", "-*", names.get(tid, "?"))
            out[name] = out.get(name, 0.0) + cpu - before.get(tid, 0.0)
        return out

    def settle(self, login: bool = True, timeout: float = 20) -> None:
        """Let start-up work finish before a measurement: log in once (the first login
        runs the password KDF, later ones hit the verified cache), then wait until the
        process is at least START_S old and has used no CPU for IDLE_S."""
        if login:
            requests.post(
                self.url,
                json={"type": "cached_entity", "cached_entity_id": "0" * 32},
                auth=(USER, PASSWORD),
                timeout=60,
            ).raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu_seconds()
            time.sleep(IDLE_S)
            if time.monotonic() - self.started >= START_S and self.cpu_seconds() == before:
                return

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


def task_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of each thread (native id) of a process."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except FileNotFoundError:  # ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def per_thread(by_thread: dict[str, float], n: int) -> str:
    """CPU ms per entity by thread name, busiest first."""
    busy = sorted(by_thread.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{name} {cpu / n * 1000:.2f}" for name, cpu in busy if cpu > 0)
