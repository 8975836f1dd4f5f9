"""The frozen program's entry point: the same as the `meteorgui` console script."""

import sys

from meteorgui.cli import main

if __name__ == "__main__":
    sys.exit(main())
