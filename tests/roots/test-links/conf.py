import os
import sys

sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz", "sphinx.ext.autodoc", "sphinx.ext.intersphinx"]
# a local copy of part of PyTorch's inventory: no network in tests
intersphinx_mapping = {"torch": ("https://docs.pytorch.org/docs/stable/", os.path.abspath("torch-objects.inv"))}
intersphinx_disabled_reftypes = []
