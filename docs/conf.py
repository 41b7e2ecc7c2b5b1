"""Sphinx configuration of the sphinx-netviz documentation.

No torch here, and none needed: the models live in ``docs/example_models``
and the directives import them, each diagram in a child process of its own.
"""

import os
import sys

DOCS = os.path.abspath(os.path.dirname(__file__))
sys.path.insert(0, DOCS)  # example_models
sys.path.insert(0, os.path.dirname(DOCS))  # sphinx_netviz, without installing it

# diff.rst's ":against: v1" example: a small git repository made now (example_models/git_fixture.py)
from example_models import git_fixture  # noqa: E402

sys.path.insert(0, str(git_fixture.make()))

project = "sphinx-netviz"
author = "sphinx-netviz contributors"
copyright = "2026, sphinx-netviz contributors"

# myst_nb reads MyST Markdown (it brings myst_parser) and runs the notebook pages (python.md)
extensions = ["sphinx_netviz", "myst_nb", "sphinx.ext.autodoc", "sphinx.ext.intersphinx"]

# Layer classes in the diagrams link to PyTorch's documentation through this
# local inventory (written by make_torch_inventory.py: no network at build time)
# and to this site's own API page for the example models.
intersphinx_mapping = {
    "torch": ("https://docs.pytorch.org/docs/stable/", os.path.join(DOCS, "torch-objects.inv")),
}
autodoc_member_order = "bysource"
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
# notebook pages run at build time, in a kernel of their own, cached in _build/.jupyter_cache;
# an error in a cell fails the build (and -W makes its warnings errors)
nb_execution_mode = "cache"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

numfig = True
html_theme = "furo"
html_title = "sphinx-netviz"
html_static_path = ["_static"]
