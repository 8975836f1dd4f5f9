"""Where the window's GUI thread waits while cameras push: a py-spy chrometrace read.

`benchmarks/gui.py --profile DIR` records the push phase with py-spy (every thread,
native frames, idle ones too). This reads one such file and prints, for the GUI thread,
how its time splits between waiting for the GIL, Qt and Python, and, for the time it
waited for the GIL, which thread held it doing what (the thread running Python code
then: one not waiting for the GIL itself and not blocked in a system call).

Run: .venv/bin/python benchmarks/spystalls.py DIR/big.json [--top 15]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict

# Python 3.11's take_gil is not in the symbol table: a GIL wait shows as a condition wait
# (or the mutex around it) called from Shiboken's GIL acquisition, from a thread-state
# restore, or straight from a Python function (the eval loop giving the GIL away).
WAITS = ("pthread_cond_timedwait", "pthread_cond_wait", "pthread_mutex_lock")
GIL_CALLERS = (
    "Shiboken::GilState::acquire",
    "Shiboken::ThreadStateSaver::restore",
    "PyEval_RestoreThread",
    "PyEval_AcquireThread",
    "PyGILState_Ensure",
    "take_gil",
)
BLOCKED = re.compile(
    r"^(poll|__poll|ppoll|select|epoll_wait|accept|accept4|recv|recvfrom|read|__libc_recv|"
    r"__libc_read|sem_wait|sem_timedwait|nanosleep|clock_nanosleep|__clock_nanosleep|"
    r"syscall|pthread_cond_wait|pthread_cond_timedwait|futex_wait|"
    r"lock_PyThread_acquire_lock|acquire_timed|PyThread_acquire_lock_timed|time_sleep)$"
)


def is_python(frame: str) -> bool:
    return "." in frame and "::" not in frame and not frame.startswith(("0x", "thread ("))


def segments(events):
    """(tid, start, end, stack): each thread's stack between two changes, outermost first."""
    stacks: dict[int, list[str]] = defaultdict(list)
    since: dict[int, float] = {}
    out = []
    for e in sorted(events, key=lambda e: (e["ts"], e["ph"] == "B")):
        tid, ts = e["tid"], e["ts"]
        if tid in since and since[tid] < ts and stacks[tid]:
            out.append((tid, since[tid], ts, tuple(stacks[tid])))
        since[tid] = ts
        if e["ph"] == "B":
            stacks[tid].append(e["name"])
        elif stacks[tid]:
            stacks[tid].pop()
    return out


def python_frames(stack) -> list[str]:
    return [f for f in stack if is_python(f)]


def waiting_for_gil(stack) -> bool:
    named = [f for f in stack if not f.startswith("0x")]
    for i in range(len(named) - 1, 0, -1):
        if named[i].startswith(WAITS):
            caller = named[i - 1]
            return caller.startswith(GIL_CALLERS) or is_python(caller)
    return False


def blocked(stack) -> bool:
    """Waiting in a system call or on a lock (not for the GIL): holding no GIL."""
    named = [f for f in stack if not f.startswith("0x")]
    return not named or named[-1].startswith("thread (") or bool(BLOCKED.match(named[-1]))


def where(stack) -> str:
    py = python_frames(stack)
    ours = [f for f in py if not f.startswith(("Thread.", "threading"))]
    return " < ".join(reversed(ours[-3:])) if ours else (stack[-1] if stack else "?")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    events = json.load(open(args.trace))
    names = {e["tid"]: e["name"] for e in events if e["name"].startswith("thread (")}
    segs = segments(events)
    main_tid = next(t for t, n in names.items() if "MainThread" in n)
    mine = [s for s in segs if s[0] == main_tid]
    split: Counter = Counter()
    for _t, a, b, st in mine:
        if waiting_for_gil(st):
            kind = "waiting for the GIL"
        elif any(is_python(f) and "measure" not in f and "wait_until" not in f for f in st):
            kind = "in Python code (slots, delegates, filters)"
        else:
            kind = "in Qt, or waiting for a CPU"
        split[kind] += b - a
    total = sum(split.values()) or 1
    print(f"GUI thread over {total / 1e6:.1f} s of samples:")
    for k, v in split.most_common():
        print(f"  {100 * v / total:5.1f}%  {k}")
    waits = [(a, b) for _t, a, b, st in mine if waiting_for_gil(st)]
    others = [
        s for s in segs if s[0] != main_tid and not waiting_for_gil(s[3]) and not blocked(s[3])
    ]
    others.sort(key=lambda s: s[1])
    holders: Counter = Counter()
    by_thread: Counter = Counter()
    waited = sum(b - a for a, b in waits) or 1
    import bisect

    starts = [s[1] for s in others]
    for a, b in waits:
        i = max(0, bisect.bisect_left(starts, a) - 200)
        for tid, c, d, st in others[i:]:
            if c >= b:
                break
            overlap = min(b, d) - max(a, c)
            if overlap > 0:
                name = re.sub(r"^thread \(\d+\): ", "", names.get(tid, str(tid)))
                holders[(name, where(st))] += overlap
                by_thread[name] += overlap
    print(f"\nWhile the GUI thread waited for the GIL ({waited / 1e6:.2f} s), threads running:")
    for name, v in by_thread.most_common(args.top):
        print(f"  {100 * v / waited:5.1f}%  {name}")
    print("\n... doing:")
    for (name, w), v in holders.most_common(args.top):
        print(f"  {100 * v / waited:5.1f}%  {name}: {w}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
