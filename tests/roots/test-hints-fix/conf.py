import os
import sys

sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz"]
netviz_dpeth = 2  # misspelt on purpose: netviz_depth

# conf.py's own imports and helpers are not settings, whatever their names
from sphinx_netviz.sphinxext.diagram_node import netviz_diagram  # noqa: E402,F401


def netviz_helper():  # a function of conf.py's own
    return None
