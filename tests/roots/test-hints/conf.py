import os
import sys

sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
