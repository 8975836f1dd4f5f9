"""A status a 2015 central archive cannot take (no lens, sensor, location or orientation:
its importer answers HTTP 500) is sent again with the protocol's neutral values, so the
night arrives; when even that is refused, the message names the status and why."""

import dataclasses

from meteorgui.archive import Archive
from meteorgui.exporter.client import NEUTRAL_2015
from meteorgui.importer import ImporterServer
from meteorgui.simulate import make_night

from . import seed_importer as seed_module
from .export_helpers import seed_importer, source_archive
from .test_export_runs import add_target


def bare_night():
    """A night whose statuses say nothing but ids and times (as a new camera's may)."""
    night = make_night(5, events=2, timelapse=1)
    night.statuses = [
        dataclasses.replace(s, lens=None, sensor=None, location=None, orientation=None)
        for s in night.statuses
    ]
    return night


def test_a_bare_status_reaches_a_2015_importer_with_neutral_values(tmp_path):
    night = bare_night()
    with (
        seed_importer(tmp_path / "seed") as seed,
        source_archive(tmp_path / "src", night) as (src, exporter),
    ):
        target = add_target(exporter, seed.url)
        exporter.queue.enqueue_ids(target.target_id, [e.event_id for e in night.events])
        result = exporter.export(target.target_id)
        assert result.ok and result.complete == 2, result
        assert seed.refused_statuses  # the status as it is was refused once
        for status in night.statuses:
            if status.status_id in seed.statuses:
                got = seed.statuses[status.status_id]
                assert {k: got[k] for k in NEUTRAL_2015} == NEUTRAL_2015
                assert got["camera_id"] == status.camera_id
        assert set(seed.events) == {e.event_id for e in night.events}


def test_a_meteorgui_importer_gets_the_status_as_it_is(tmp_path):
    night = bare_night()
    central = Archive(tmp_path / "central")
    central.users.add("exporter", "export-pw-1", roles=["import"])
    server = ImporterServer(central, "127.0.0.1", 0)
    server.start()
    try:
        with source_archive(tmp_path / "src", night) as (src, exporter):
            target = add_target(exporter, server.url)
            exporter.queue.enqueue_ids(target.target_id, [night.events[0].event_id])
            assert exporter.export(target.target_id).ok
        status = central.get_status(night.events[0].status_id)
        assert status.lens is None and status.location is None and status.orientation is None
    finally:
        server.stop()
        server.importer.close()
        central.close()


def test_when_even_the_neutral_status_is_refused_the_message_says_which_and_why(
    tmp_path, monkeypatch
):
    night = bare_night()
    monkeypatch.setattr(seed_module, "_complete_2015_status", lambda d: False)
    event = night.events[0]
    with (
        seed_importer(tmp_path / "seed") as seed,
        source_archive(tmp_path / "src", night) as (src, exporter),
    ):
        target = add_target(exporter, seed.url)
        exporter.queue.enqueue_ids(target.target_id, [event.event_id])
        result = exporter.export(target.target_id)
        assert not result.ok
    [(kind, ident, message)] = result.failures
    assert (kind, ident) == ("event", event.event_id)
    camera = next(s.camera_id for s in night.statuses if s.status_id == event.status_id)
    assert f"posting camera status {event.status_id} of camera {camera}" in message
    assert "HTTP 500" in message
    assert "which has no lens, sensor, location, orientation" in message
    assert "neutral values" in message
