"""Start an installed meteorgui's demo and time it: launch to the first archived event.

    python3 packaging/smoke-test.py [--events N] [--screenshot FILE] -- COMMAND...

COMMAND is the program (dist/meteorgui/meteorgui, /usr/bin/meteorgui, a venv's
meteorgui). Runs with the environment's QT_QPA_PLATFORM and DISPLAY: offscreen, or an
X server such as Xvfb; with --screenshot (needs DISPLAY and ImageMagick's `import`) the
screen is saved once the first event is in. Exit 0 when N events were archived.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=3)
    p.add_argument("--screenshot")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("command", nargs="+")
    args = p.parse_args()
    env = dict(os.environ)
    # A settings folder of its own: the user's settings are neither read nor changed.
    env.setdefault("METEORGUI_CONFIG_DIR", tempfile.mkdtemp(prefix="meteorgui-smoke-"))
    env.setdefault("METEORGUI_KEYRING", "file")
    start = time.monotonic()
    proc = subprocess.Popen(
        [*args.command, "--demo", "--demo-exit-after", str(args.events)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    watchdog = threading.Timer(args.timeout, proc.kill)  # a hung program fails, not waits
    watchdog.start()
    first = None
    try:
        for line in proc.stdout:
            if "archived" in line and first is None:
                first = time.monotonic() - start
                print(f"first event archived {first:.1f} s after launch", flush=True)
                if args.screenshot:
                    time.sleep(1.5)  # let the browser paint the row and its thumbnail
                    subprocess.run(["import", "-window", "root", args.screenshot], check=True)
        code = proc.wait()
    finally:
        watchdog.cancel()
        proc.kill()
    total = time.monotonic() - start
    print(f"exit {code} after {total:.1f} s", flush=True)
    return 0 if code == 0 and first is not None else 1


if __name__ == "__main__":
    sys.exit(main())
