"""sphinx-netviz: draw PyTorch networks into Sphinx documentation.

Add ``"sphinx_netviz"`` to ``extensions`` in ``conf.py`` and write::

    .. netviz:: mypkg.models:CNNModel
       :input-shape: 16, 3, 512, 512

The core pipeline (:mod:`~sphinx_netviz.spec`, :mod:`~sphinx_netviz.loader`,
:mod:`~sphinx_netviz.trace`, :mod:`~sphinx_netviz.graph`,
:mod:`~sphinx_netviz.dot`, :mod:`~sphinx_netviz.render`,
:mod:`~sphinx_netviz.onnx_export`, :mod:`~sphinx_netviz.pipeline`) imports
neither Sphinx nor (until it traces) torch; the Sphinx glue lives in
:mod:`sphinx_netviz.sphinxext`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point (``extensions = ["sphinx_netviz"]``)."""
    from .sphinxext import setup as _setup

    return _setup(app)
