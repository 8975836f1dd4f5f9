"""What a login costs the importer's CPU, before (PBKDF2 300,000) and after (600,000).

Measured in one run, through the same code the importer runs for every request
(meteorgui.importer.logins.Logins.check on a real archive):

- a camera's first good login (one key derivation);
- its later logins (credentials verified before: a keyed BLAKE2b digest, no derivation);
- a refused login (wrong password or unknown user: one key derivation each);
- a refusal while the (address, user name) pair is locked out (no derivation).

The ratio after/before is the price of the stronger hash for a guesser and for a camera's
first login after a start; a camera's later requests do not pay it.

Run: .venv/bin/python benchmarks/logins.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from meteorgui import notify
from meteorgui.archive import Archive, passwords
from meteorgui.importer.logins import Logins, LoginThrottle


def _best_ms(fn, rounds: int) -> float:
    """CPU milliseconds of this thread (the cost, whatever else the machine runs)."""
    times = []
    for _ in range(rounds):
        t = time.thread_time()
        fn()
        times.append((time.thread_time() - t) * 1000)
    return min(times)


def measure(iterations: int, rounds: int, folder: Path) -> dict[str, float]:
    passwords.ITERATIONS = iterations
    with Archive(folder) as archive:
        archive.users.add("camera", "night-sky-42", roles=["import"])
        figures = {}
        addr = iter(range(1_000_000))

        def first_login():  # a fresh process: nothing verified yet
            logins = Logins(archive.users, notify.Hub())
            archive.users._verified = passwords.VerifiedCache()
            assert logins.check("camera", "night-sky-42", f"10.0.0.{next(addr) % 250}")[0]

        figures["good login, first"] = _best_ms(first_login, rounds)
        logins = Logins(archive.users, notify.Hub())
        assert logins.check("camera", "night-sky-42", "10.0.0.1")[0]
        figures["good login, verified before"] = _best_ms(
            lambda: logins.check("camera", "night-sky-42", "10.0.0.1"), rounds * 200
        )
        figures["refused: wrong password"] = _best_ms(
            lambda: logins.check("camera", "guess", f"10.1.{next(addr) % 250}.1"), rounds
        )
        figures["refused: unknown user"] = _best_ms(
            lambda: logins.check("nobody", "guess", f"10.2.{next(addr) % 250}.1"), rounds
        )
        locked = Logins(archive.users, notify.Hub(), LoginThrottle(limit=1))
        locked.check("camera", "guess", "10.3.0.1")
        figures["refused while locked out"] = _best_ms(
            lambda: locked.check("camera", "guess", "10.3.0.1"), rounds * 200
        )
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    logging.disable(logging.WARNING)  # one line per refused burst is not the point here
    with tempfile.TemporaryDirectory() as tmp:
        before = measure(300_000, args.rounds, Path(tmp) / "before")
        after = measure(600_000, args.rounds, Path(tmp) / "after")
    head = f"(CPU ms, best of {args.rounds})"
    print(f"{head:34} {'300,000':>10} {'600,000':>10} ratio")
    for key in before:
        ratio = after[key] / before[key] if before[key] else float("nan")
        print(f"{key:34} {before[key]:10.3f} {after[key]:10.3f} {ratio:5.2f}")
    guesses = 1000 / statistics.mean(
        [after["refused: wrong password"], after["refused: unknown user"]]
    )
    print(f"guesses one core can check per second at 600,000: {guesses:.1f}")


if __name__ == "__main__":
    main()
