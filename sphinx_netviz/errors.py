"""Error types of the pipeline (load → trace → graph → render/export).

Each error names the pipeline stage that failed; the Sphinx layer turns the
stage into a warning subtype (``netviz.import``, ``netviz.input``,
``netviz.trace``, ``netviz.export``, ``netviz.render``) so that authors can
filter them with ``suppress_warnings``.
"""

from __future__ import annotations


class NetvizError(Exception):
    """A problem with one diagram, explained for the author who wrote it."""

    #: warning subtype, as in ``netviz.<stage>``
    stage: str = "trace"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        #: the message without a hint about the inputs (where one was added)
        self.without_hint = message


class ImportProblem(NetvizError):
    """The model (or inputs) path does not import or does not name a model."""

    stage = "import"


class InputProblem(NetvizError):
    """The directive's options do not parse or do not fit the model."""

    stage = "input"


class TraceProblem(NetvizError):
    """The model could not be built or its forward pass failed."""

    stage = "trace"


class ExportProblem(NetvizError):
    """The ONNX export failed (the diagram may still be drawn)."""

    stage = "export"


class RenderProblem(NetvizError):
    """Graphviz could not lay out the diagram."""

    stage = "render"


class LayoutTimeout(RenderProblem):
    """Graphviz ran out of time (the pipeline then tries a coarser depth)."""
