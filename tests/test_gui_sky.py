"""The sky in the GUI, through the real thing: a physically consistent two-camera night
(``make_sky_night``) pushed over loopback HTTP into the real main window's importer, the
Core's sky worker computing as events arrive, and the browser, detail pane, night
summary and meteor export showing what it stored."""

from __future__ import annotations

import csv
import dataclasses
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor

from meteorgui.archive import browse
from meteorgui.archive.browse import ANY_SHOWER, NO_SKY, Query
from meteorgui.archive.nights import night_clock
from meteorgui.archive.sky import SkyResults
from meteorgui.gui.browser.model import CAMERAS, SHOWER
from meteorgui.gui.detail.skychart import PATH, backward_extension, to_vec
from meteorgui.gui.export.dialog import Scope, selection_from_query
from meteorgui.gui.export.meteors import MeteorExportDialog
from meteorgui.gui.tools.summary import NightSummaryDialog
from meteorgui.model import Orientation

WAIT = 60_000


@pytest.fixture(scope="module")
def sky_night():
    from meteorgui.simulate.showers import make_sky_night

    return make_sky_night(3, meteors=14)


@pytest.fixture
def loaded(gui, push, qtbot, sky_night):
    """The night pushed and every row showing its stored sky result."""
    summary = push(sky_night.night)
    assert summary.ok, summary.failures
    b = gui.window.browser
    n = len(sky_night.night.events)
    qtbot.waitUntil(lambda: b.model.rowCount() == n and not b.model.loading, timeout=WAIT)
    qtbot.waitUntil(lambda: all_rows_have_sky(b), timeout=WAIT)
    return b


def unfitted_night(night, camera: str):
    """What a node sends after losing its orientation fit: a new status (error 360,
    valid from before the night) asked for by the importer with a new event, here a
    copy of one of the camera's events."""
    old = next(s for s in night.statuses if s.camera_id == camera)
    status = dataclasses.replace(
        old,
        status_id=uuid.uuid4().hex,
        valid_from=old.valid_from + 1000,
        orientation=Orientation(alt=0, az=0, rot=0, error=360, width=0),
    )
    event = next(e for e in night.events if e.camera_id == camera)
    files = tuple(
        dataclasses.replace(f, file_id=uuid.uuid4().hex, status_id=status.status_id)
        for f in event.files
    )
    content = {
        new.file_id: night.content[f.file_id] for f, new in zip(event.files, files, strict=True)
    }
    copy = dataclasses.replace(
        event,
        event_id=uuid.uuid4().hex,
        status_id=status.status_id,
        event_time=event.event_time + 1,
        files=files,
    )
    return dataclasses.replace(
        night, statuses=(status,), events=(copy,), content={**night.content, **content}
    )


def rows(b):
    return [b.model.row_at(r) for r in range(b.model.rowCount())]


def all_rows_have_sky(b) -> bool:
    return all(r is not None and r.shower is not None for r in rows(b))


def stored(gui) -> dict:
    return {r.event_id: r for r in SkyResults(gui.archive.db).listing()}


def select(b, qtbot, event_id: str) -> None:
    r = next(i for i, row in enumerate(rows(b)) if row.event_id == event_id)
    b.active_view().select_row(r)
    qtbot.waitUntil(lambda: b.current_event_id() == event_id, timeout=WAIT)


def test_tiles_and_table_show_each_events_shower_and_group(gui, loaded, qtbot):
    b = loaded
    results = stored(gui)
    sizes = {}
    for r in results.values():
        if r.group_id:
            sizes[r.group_id] = sizes.get(r.group_id, 0) + 1
    for row in rows(b):
        r = results[row.event_id]
        assert row.shower == (r.shower or "")
        assert row.cameras == sizes.get(r.group_id, 0)
    assert any(row.cameras == 2 for row in rows(b))
    assert {row.shower for row in rows(b)} >= {"PER", "sporadic"}
    b.set_view(1)
    m = b.model
    texts = [m.index(i, SHOWER).data() for i in range(m.rowCount())]
    assert texts == [row.shower for row in rows(b)]
    cams = [m.index(i, CAMERAS).data() for i in range(m.rowCount())]
    assert cams == [str(row.cameras) if row.cameras > 1 else "" for row in rows(b)]
    grouped = next(i for i, row in enumerate(rows(b)) if row.cameras == 2)
    assert "seen by 2 cameras" in m.index(grouped, 0).data(Qt.ItemDataRole.ToolTipRole)


def test_a_refitted_camera_updates_the_rows_in_place(gui, loaded, push, qtbot, sky_night):
    """A status saying the orientation is unknown (error 360) puts that camera's events out
    of date; the worker recomputes them and the loaded rows change without a reset."""
    b = loaded
    resets = []
    b.model.modelAboutToBeReset.connect(lambda: resets.append(1))
    night = sky_night.night
    camera = night.cameras[0]
    summary = push(unfitted_night(night, camera))
    assert summary.ok, summary.failures

    def refitted():
        mine = [r for r in rows(b) if r.camera_id == camera]
        return mine and all(r.shower == "" for r in mine)

    qtbot.waitUntil(refitted, timeout=WAIT)
    assert all(r.cameras == 0 for r in rows(b))  # no other camera to pair with
    assert resets == []
    b.set_view(1)
    i = next(i for i, r in enumerate(rows(b)) if r.camera_id == camera)
    assert b.model.index(i, SHOWER).data() == "—"


def test_the_shower_filter_lists_one_shower_and_multi_camera_meteors(gui, loaded, qtbot):
    b = loaded
    results = stored(gui)
    f = b.filters
    qtbot.waitUntil(lambda: f.has_shower("PER"), timeout=WAIT)
    f.shower.setCurrentIndex(f.shower.findData("PER"))
    per = {e for e, r in results.items() if r.shower == "PER"}
    qtbot.waitUntil(
        lambda: not b.model.loading and {r.event_id for r in rows(b)} == per, timeout=WAIT
    )
    f.multi_camera.setChecked(True)
    both = {e for e in per if results[e].group_id}
    assert both
    qtbot.waitUntil(
        lambda: not b.model.loading and {r.event_id for r in rows(b)} == both, timeout=WAIT
    )
    f.multi_camera.setChecked(False)
    f.shower.setCurrentIndex(f.shower.findData(ANY_SHOWER))
    showers = {e for e, r in results.items() if r.shower not in (None, "sporadic")}
    qtbot.waitUntil(
        lambda: not b.model.loading and {r.event_id for r in rows(b)} == showers, timeout=WAIT
    )
    # What an export of this list takes: the listed events, not a selection without the shower.
    assert selection_from_query(b.filters.query()) is None


def test_the_shower_filter_reads_through_the_shower_index(gui, loaded):
    conn = gui.archive.db.read()
    clauses, args = browse._where(Query(multi_camera=True), None)
    sql = "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM event_summary" + browse._sql_where(clauses)
    assert "sky_results_group" in " ".join(str(r[-1]) for r in conn.execute(sql, args))
    grouped = sum(1 for r in stored(gui).values() if r.group_id)
    assert browse.count(conn, Query(multi_camera=True)) == grouped > 0
    # A page walks the time index and looks each event's result up by its key.
    q = Query(shower="PER")
    clauses, args = browse._where(q, None, ordered=True)
    sql = (
        "EXPLAIN QUERY PLAN SELECT event_id FROM event_summary"
        + browse._sql_where(clauses)
        + browse._order(q)
        + " LIMIT 120"
    )
    plan = " ".join(str(r[-1]) for r in conn.execute(sql, args))
    assert "event_summary_time" in plan and "sqlite_autoindex_sky_results_1" in plan, plan
    for shower in ("PER", ANY_SHOWER, NO_SKY):
        clauses, args = browse._where(Query(shower=shower), None)
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM event_summary" + browse._sql_where(clauses),
            args,
        ).fetchall()
        text = " ".join(str(r[-1]) for r in plan)
        assert "sky_results_shower_time" in text, text
        n = browse.count(conn, Query(shower=shower))
        expected = sum(
            1
            for r in stored(gui).values()
            if browse.shower_matches(shower, r.shower if r.shower is not None else "")
        )
        assert n == expected


def test_the_sky_tab_charts_the_path_and_names_the_shower(gui, loaded, qtbot):
    b = loaded
    detail = gui.window.detail
    results = stored(gui)
    # The longest path on the sky of a Perseid two cameras saw: plenty of pixels to paint.
    event_id, r = max(
        ((e, r) for e, r in results.items() if r.shower == "PER" and r.group_id),
        key=lambda er: abs(er[1].first[0] - er[1].last[0]) + abs(er[1].first[1] - er[1].last[1]),
    )
    select(b, qtbot, event_id)
    sky = detail.sky
    qtbot.waitUntil(lambda: sky.info is not None and sky.info.event_id == event_id, timeout=WAIT)
    panel = sky.panel
    assert panel.heading.text() == "Perseids (PER)"
    assert f"{r.distance_deg:.1f}°" in panel.decided.text()
    assert sky.chip.text().startswith("PER · ") and "2 cameras" in sky.chip.text()
    chart = panel.chart.chart
    assert chart.ok and len(chart.path) >= 6 and chart.radiant is not None
    assert chart.stars and chart.lines and chart.frame
    before = detail.splitter.sizes()
    assert before[1] < 0.55 * sum(before)  # the picture has most of the pane at first
    detail.tabs.setCurrentIndex(sky.sky_index)
    after = (
        detail.splitter.sizes()
    )  # opening the chart gives it room, down to the picture's minimum
    assert after[1] > before[1]
    assert after[1] >= min(0.55 * sum(after), sum(after) - detail.stack.minimumHeight())
    panel.chart.resize(420, 420)
    image = panel.chart.grab().toImage()
    assert count_colour(image, PATH) > 20  # the path was painted

    # The Cameras tab: both cameras' events side by side, each with a still and a chart.
    assert detail.tabs.isTabVisible(sky.cameras_index)
    views = sky.info.views
    assert {v.event_id for v in views} == {
        e for e, x in results.items() if x.group_id == r.group_id
    }
    assert len({v.camera_id for v in views}) == 2 and views[0].event_id == event_id
    assert all(v.still is not None and not v.still.isNull() for v in views)
    assert all(v.chart.ok and v.chart.path for v in views)
    assert len(sky.cameras.columns) == 2
    # Camera names come from cameras: shown as plain text.
    assert all(title.textFormat() == Qt.TextFormat.PlainText for title, *_ in sky.cameras.columns)
    assert views[0].camera_name in sky.cameras.columns[0][0].text()
    # Each camera sees the meteor from its own place: different alt/az paths.
    assert views[0].chart.path[0] != views[1].chart.path[0]


def test_the_sky_tab_says_why_there_is_no_sky_position(gui, loaded, push, qtbot, sky_night):
    b = loaded
    night = sky_night.night
    camera = night.cameras[1]
    assert push(unfitted_night(night, camera)).ok
    mine = [e.event_id for e in night.events if e.camera_id == camera]
    qtbot.waitUntil(
        lambda: all(stored(gui)[e].shower is None for e in mine if e in stored(gui)),
        timeout=WAIT,
    )
    select(b, qtbot, mine[0])
    sky = gui.window.detail.sky
    qtbot.waitUntil(
        lambda: sky.info is not None and sky.info.event_id == mine[0] and not sky.info.chart.ok,
        timeout=WAIT,
    )
    assert "error 360" in sky.info.chart.reason
    assert sky.panel.heading.text() == "No sky position"
    assert "error 360" in sky.panel.decided.text()
    assert not gui.window.detail.tabs.isTabVisible(sky.cameras_index)
    assert sky.chip.text() == "no sky position"


def test_the_night_summary_counts_meteors_per_shower_and_hour(gui, loaded, qtbot, sky_night):
    clock = night_clock(gui.archive, gui.settings.night_starts_hour)
    start = clock.start(sky_night.night.events[0].event_time)
    dlg = NightSummaryDialog(gui, start, gui.window)
    qtbot.addWidget(dlg)
    dlg.show()
    table = dlg.showers
    qtbot.waitUntil(lambda: bool(table.counts), timeout=WAIT)
    sky = SkyResults(gui.archive.db)
    after, before = start, clock.end(start)
    assert table.counts == sky.counts(after, before)
    meteors = len({r.group_id or r.event_id for r in sky.listing()})
    assert sum(table.counts.values()) == meteors
    assert sum(table.rate("PER")) == table.counts["PER"]
    names = [table.table.item(i, 0).text() for i in range(table.table.rowCount())]
    assert "Perseids (PER)" in names and names[-1] == "Sporadic"
    per = names.index("Perseids (PER)")
    assert table.table.item(per, 1).text() == str(table.counts["PER"])


@pytest.mark.parametrize("fmt", ["csv", "ftpdetectinfo"])
def test_export_meteors_writes_the_selection(gui, loaded, qtbot, tmp_path, fmt):
    b = loaded
    picked = [rows(b)[i].event_id for i in (0, 1, 2)]
    for event_id in picked:
        r = next(i for i, row in enumerate(rows(b)) if row.event_id == event_id)
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        b.selection.select(b.model.index(r, 0), flags)
    assert sorted(b.selected_event_ids()) == sorted(picked)
    dlg = MeteorExportDialog(gui, Scope.of(b), gui.window)
    qtbot.addWidget(dlg)
    assert dlg.chooser.use_selection()
    dlg.format.setCurrentIndex(dlg.format.findData(fmt))
    dlg.path.setText(str(tmp_path / "out"))
    dlg.start_button.click()
    qtbot.waitUntil(lambda: dlg.written is not None or bool(dlg.error), timeout=WAIT)
    assert not dlg.error and dlg.written
    if fmt == "csv":
        with open(dlg.written[0], encoding="utf-8") as f:
            got = list(csv.DictReader(f))
        assert sorted(r["event_id"] for r in got) == sorted(picked)
        results = stored(gui)
        assert all(r["shower"] == (results[r["event_id"]].shower or "") for r in got)
    else:
        counts = 0
        for path in dlg.written:
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first.startswith("Meteor Count = ")
            counts += int(first.split("=")[1])
        assert counts == len(picked)
    assert "Wrote" in dlg.message.text()
    # Export again goes to a new folder beside it, never over the files just written.
    again = Path(dlg.path.text())
    assert again.parent == tmp_path and again.name.startswith("meteorgui-meteors-")
    assert not again.exists()


def test_backward_extension_ends_nearest_the_radiant():
    import math

    path = [(40.0, 100.0), (38.0, 110.0), (36.0, 120.0)]
    radiant = (46.0, 70.0)
    ext = backward_extension(path, radiant)
    assert ext[0] == pytest.approx(path[0], abs=1e-6)
    f, last, r = to_vec(*path[0]), to_vec(*path[-1]), to_vec(*radiant)
    n = cross(f, last)
    off = abs(90 - math.degrees(math.acos(dot(r, unit(n)))))  # radiant to the great circle
    end = to_vec(*ext[-1])
    assert math.degrees(math.acos(min(1.0, dot(end, r)))) == pytest.approx(off, abs=0.05)
    # On the circle, behind the first point: farther from the last point than the first is.
    assert abs(dot(end, unit(n))) < 1e-9
    assert dot(end, last) < dot(f, last)
    assert backward_extension(path, (30.0, 140.0)) == []  # a radiant ahead: no extension


def dot(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def unit(v):
    n = dot(v, v) ** 0.5
    return tuple(x / n for x in v)


def count_colour(image, colour: QColor, tolerance: int = 40) -> int:
    n = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if (
                abs(c.red() - colour.red()) < tolerance
                and abs(c.green() - colour.green()) < tolerance
                and abs(c.blue() - colour.blue()) < tolerance
            ):
                n += 1
    return n


def test_the_gui_starts_without_the_sky_science():
    """The chart's data is made in the task pool: the window's modules do not import
    the science (pyerfa) when the app starts."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, meteorgui.gui.startup, meteorgui.gui.main_window;"
        "print(sorted(m for m in ('erfa', 'meteorgui.sky.astro', 'meteorgui.sky.chart')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def test_the_export_menu_opens_the_meteor_export_for_the_selection(gui, loaded, qtbot):
    b = loaded
    first = rows(b)[0].event_id
    select(b, qtbot, first)
    ui = gui.window.export_ui
    assert ui.act_meteors in ui.menu.actions()
    ui.act_meteors.trigger()
    dlg = ui.meteors_dialog
    assert isinstance(dlg, MeteorExportDialog) and dlg.isVisible()
    assert dlg.scope.n_events == 1 and dlg.scope.selected_ids() == [first]
    dlg.reject()
