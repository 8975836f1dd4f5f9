"""A process that starts writing an upload into a store and then waits to be killed.

``python -m tests.crash_writer DATA_DIR`` prints the partial file's path once some
bytes are written, then sleeps; kill -9 leaves the file as a crash would.
"""

import sys
import time

from meteorgui.archive import Archive

from . import factories as fx

if __name__ == "__main__":
    archive = Archive(sys.argv[1])
    writer = archive.store.writer(fx.uid(), "0" * 32)
    writer.write(b"x" * (1 << 20))
    writer._fh.flush()
    print(writer._tmp, flush=True)
    time.sleep(600)
