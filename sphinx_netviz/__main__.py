"""``python -m sphinx_netviz``: the command line of :mod:`sphinx_netviz.cli`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
