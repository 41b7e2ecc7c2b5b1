"""sphinx-netviz: draw PyTorch networks into Sphinx documentation.

Add ``"sphinx_netviz"`` to ``extensions`` in ``conf.py`` and write::

    .. netviz:: mypkg.models:CNNModel
       :input-shape: 16, 3, 512, 512

The core pipeline (:mod:`~sphinx_netviz.spec`, :mod:`~sphinx_netviz.loader`,
:mod:`~sphinx_netviz.trace`, :mod:`~sphinx_netviz.graph`,
:mod:`~sphinx_netviz.dot`, :mod:`~sphinx_netviz.render`,
:mod:`~sphinx_netviz.onnx_export`, :mod:`~sphinx_netviz.pipeline`) imports
neither Sphinx nor (until it traces) torch; the Sphinx glue lives in
:mod:`sphinx_netviz.sphinxext`.  From Python or a notebook::

    from sphinx_netviz import draw
    draw(model, input_shape=(1, 3, 224, 224))   # a Drawing: Jupyter shows the viewer

(:mod:`sphinx_netviz.api`).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


__all__ = ["Drawing", "diff", "draw", "setup"]


def __getattr__(name: str) -> Any:
    """``draw``, ``diff`` and ``Drawing``, imported when first asked for (``import sphinx_netviz`` stays light)."""
    if name in ("draw", "diff", "Drawing"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'sphinx_netviz' has no attribute {name!r}")


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point (``extensions = ["sphinx_netviz"]``)."""
    from .sphinxext import setup as _setup

    return _setup(app)
