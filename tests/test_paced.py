"""The paced refresh shared by the event list's arrivals and camera health."""

from __future__ import annotations

from meteorgui.gui.common.paced import PacedTimer


def test_a_request_after_a_quiet_spell_runs_at_once_and_one_in_a_burst_waits(qtbot):
    runs: list[int] = []
    paced = PacedTimer(30.0, lambda: runs.append(1))
    paced.request()  # nothing ran before: at once
    assert paced.timer.isActive() and paced.timer.interval() == 0
    qtbot.waitUntil(lambda: runs == [1])
    paced.began()
    paced.request()  # a run began just now: in about 30 s
    paced.request()  # folds into the one due
    assert paced.timer.isActive() and 29_000 < paced.timer.interval() <= 30_000
    assert paced.since_began() < 1.0
    paced.stop()
    assert not paced.timer.isActive() and runs == [1]
