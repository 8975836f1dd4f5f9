"""The collector's pacing: a second's objects at a time, everything only when idle."""

from __future__ import annotations

import gc
import weakref

import pytest

from meteorgui.memory import CollectorPacer


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def unfrozen():
    gc.collect()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.collect()


def grown() -> list[list[int]]:
    """New objects, a fifth of what is frozen (the whole test process's, in a full run)."""
    return [[i] for i in range(gc.get_freeze_count() // 5 + 1000)]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_tick_collects_the_new_garbage_and_freezes_what_lives(unfrozen):
    pacer = CollectorPacer()
    frozen = gc.get_freeze_count()
    kept = [[i] for i in range(5000)]
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    assert pacer.tick() == "young"
    assert gone() is None
    assert gc.get_freeze_count() >= frozen + len(kept)
    assert gc.get_count() == (0, 0, 0)


def test_a_quiet_tick_does_nothing(unfrozen):
    pacer = CollectorPacer(clock=Clock())
    pacer.tick()
    frozen = gc.get_freeze_count()
    assert pacer.tick() is None
    assert gc.get_freeze_count() == frozen


def frozen_cycle(clock: Clock) -> tuple[CollectorPacer, weakref.ref, list]:
    """A pacer just after a full pass, a reference cycle it froze while alive and that
    is garbage now (no automatic pass reaches it), and what made the frozen objects grow
    by more than a tenth (kept alive by the caller)."""
    pacer = CollectorPacer(idle_s=10.0, clock=clock)
    pacer.full()
    node = Node()
    gone = weakref.ref(node)
    more = grown()
    assert pacer.tick() == "young"  # the node is alive, so it is frozen
    del node
    gc.collect()
    assert gone() is not None
    return pacer, gone, more


def test_what_was_frozen_alive_is_reclaimed_once_the_process_is_idle(unfrozen):
    clock = Clock()
    pacer, gone, more = frozen_cycle(clock)
    assert pacer.tick() is None  # the first quiet tick
    clock.now += 9.0
    assert pacer.tick() is None  # not idle for long enough
    assert gone() is not None
    clock.now += 1.0
    assert pacer.tick() == "full"
    assert gone() is None
    clock.now += 20.0
    assert pacer.tick() is None  # nothing grew since
    del more  # kept alive until here


def test_activity_restarts_the_wait_for_an_idle_moment(unfrozen):
    clock = Clock()
    pacer, gone, more = frozen_cycle(clock)
    pacer.tick()  # the first quiet tick
    clock.now += 9.0
    busy = [[i] for i in range(2000)]  # a young collection runs: not quiet
    assert pacer.tick() == "young"
    del busy
    clock.now += 5.0
    assert pacer.tick() is None  # quiet again, from now
    clock.now += 5.0
    assert pacer.tick() is None
    assert gone() is not None
    clock.now += 5.0
    assert pacer.tick() == "full"
    assert gone() is None
    del more  # kept alive until here


def test_the_window_freezes_what_it_made_a_second_at_a_time(gui, qtbot):
    kept = [[i] for i in range(5000)]
    frozen = gc.get_freeze_count()
    qtbot.waitUntil(lambda: gc.get_freeze_count() >= frozen + len(kept), timeout=5000)
