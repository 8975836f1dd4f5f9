"""Serve a WSGI app for a test on 127.0.0.1 with an ephemeral port, and close it all after."""

from __future__ import annotations

import contextlib
import threading

from waitress import wasyncore
from waitress.server import create_server


@contextlib.contextmanager
def serving(app, path: str = "", threads: int = 2, **adjustments):
    """Yield the app's base URL (plus ``path``); stop the server and join its thread after."""
    adjustments.setdefault("max_request_body_size", 1 << 40)
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, **adjustments)
    stopping = threading.Event()

    def loop():
        while not stopping.is_set():
            wasyncore.loop(timeout=0.2, map=server._map, count=1)

    thread = threading.Thread(target=loop, name="test-wsgi-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}{path}"
    finally:
        stopping.set()
        server.pull_trigger()
        thread.join(10)
        server.task_dispatcher.shutdown(timeout=10)
        wasyncore.close_all(server._map, ignore_all=True)
        assert not thread.is_alive()
