"""What one diagram asks for: the validated values of the options that decide its content.

Second step of the pipeline (options → **spec** → load → trace → graph →
render/export).  Every field but the target is an option of
:mod:`sphinx_netviz.options`, which declares its default and checks its
value; the directive, the command line and Python callers all build a
:class:`DiagramSpec`.  Nothing here imports torch or Sphinx.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace

from .errors import InputProblem
from .onnx_import import is_onnx_path
from .options import OPTIONS, say
from .shading import ColorBy
from .values import Device, Direction, ModelDtype, OnnxMode, ValueProblem, check_import_path


def _default(name: str) -> object:
    return OPTIONS[name].default


@dataclass(frozen=True)
class DiagramSpec:
    """Everything that decides one diagram's content (and so its cache key)."""

    #: the model: ``package.module:Name`` (a class, a factory, or an instance), or an ONNX file to
    #: draw (a path ending in ``.onnx``; made absolute, from the working folder, when checked)
    target: str
    input_shapes: tuple[tuple[int, ...], ...] = _default("input_shapes")  # type: ignore[assignment]
    input_dtypes: tuple[str, ...] = _default("input_dtypes")  # type: ignore[assignment]
    inputs: str | None = _default("inputs")  # type: ignore[assignment]
    kwargs: dict[str, object] = field(default_factory=lambda: dict(OPTIONS["kwargs"].default))
    depth: int = _default("depth")  # type: ignore[assignment]
    direction: Direction = _default("direction")  # type: ignore[assignment]
    onnx: OnnxMode = _default("onnx")  # type: ignore[assignment]
    device: Device = _default("device")  # type: ignore[assignment]
    fold: bool = _default("fold")  # type: ignore[assignment]
    #: the dtype the model is built in (``auto``: as it builds itself)
    dtype: ModelDtype = _default("dtype")  # type: ignore[assignment]
    #: shade the module boxes by their share of the parameters or MACs (``none``: by layer family)
    color_by: ColorBy = _default("color_by")  # type: ignore[assignment]

    def __post_init__(self) -> None:
        check_target(self.target)
        for f in fields(self):
            if f.name != "target":
                object.__setattr__(self, f.name, OPTIONS[f.name].validated(getattr(self, f.name)))
        if self.is_onnx_file:
            object.__setattr__(self, "target", os.path.abspath(self.target))
            self._check_file_options()
            return
        if bool(self.input_shapes) == bool(self.inputs):
            raise InputProblem(
                f"give exactly one of {say('input_shapes')} (e.g. '1, 3, 224, 224') "
                f"or {say('inputs')} (the import path of a function returning example inputs)"
            )
        if self.input_dtypes and len(self.input_dtypes) not in (1, len(self.input_shapes)):
            raise InputProblem(
                f"{say('input_dtypes')} lists {len(self.input_dtypes)} dtypes for "
                f"{len(self.input_shapes)} inputs; give one dtype, or one per input"
            )

    @property
    def is_onnx_file(self) -> bool:
        """Whether the target is an ONNX file to draw, rather than a model to build and trace."""
        return is_onnx_path(self.target)

    def _check_file_options(self) -> None:
        """An ONNX file is drawn as it is: options that build or run a model are an :class:`InputProblem`."""
        given = [name for name in ("input_shapes", "input_dtypes", "inputs", "kwargs", "device", "dtype")
                 if getattr(self, name) != OPTIONS[name].default]
        if self.onnx not in ("auto", "none"):
            given.append("onnx")
        if given:
            names = ", ".join(say(name, self.onnx) if name == "onnx" else say(name) for name in given)
            raise InputProblem(
                f"{names} {'does' if len(given) == 1 else 'do'} not apply to an ONNX file, which is drawn as "
                "it is (no model is built or run); leave " + ("it" if len(given) == 1 else "them") + " out"
                + (f" (for a file, {say('onnx')} takes auto, its download being the file itself, or none)"
                   if "onnx" in given else ""))

    @property
    def dtypes_per_input(self) -> tuple[str, ...]:
        """One dtype name per shape (where none was given: ``:dtype:``, else ``float32``)."""
        if not self.input_dtypes:
            return (self.float_dtype,) * len(self.input_shapes)
        if len(self.input_dtypes) == 1:
            return self.input_dtypes * len(self.input_shapes)
        return self.input_dtypes

    @property
    def float_dtype(self) -> str:
        """The dtype of floating-point inputs nobody chose a dtype for: the model's."""
        return "float32" if self.dtype == "auto" else self.dtype

    def export_view(self) -> DiagramSpec:
        """The spec as far as the ONNX file goes: drawing options do not change the model."""
        return replace(self, depth=0, direction="TB", fold=True, color_by="none")

    def key(self, *salt: str) -> str:
        """A stable hex digest of the spec (plus any ``salt`` strings)."""
        payload = asdict(self)
        payload["kwargs"] = stable_repr(sorted(self.kwargs.items()))
        blob = json.dumps([payload, list(salt)], sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()


#: the options of scope ``spec`` that apply to an ONNX file (the others build or run a model)
FILE_OPTIONS = ("depth", "direction", "fold", "onnx", "color_by")


def file_defaults(defaults: Mapping[str, object]) -> dict[str, object]:
    """Project-wide option values (``conf.py``'s) as they apply to an ONNX file.

    Options that build or run a model are left out, and an ONNX mode other
    than ``none`` means the file itself (``auto``): project-wide values never
    stop a file from drawing, while the same options given for the file are
    an :class:`InputProblem` (see :meth:`DiagramSpec._check_file_options`).
    """
    kept = {name: value for name, value in defaults.items() if name in FILE_OPTIONS}
    if "onnx" in kept:
        kept["onnx"] = "none" if OPTIONS["onnx"].validated(kept["onnx"]) == "none" else "auto"
    return kept


def check_target(text: str) -> str:
    """The model's import path or an ONNX file's path, or an :class:`InputProblem`."""
    if isinstance(text, str) and is_onnx_path(text):
        if not text.strip()[:-len(".onnx")].strip(" /\\"):
            raise InputProblem(f"ONNX file path {text!r} names no file")
        return text
    try:
        return check_import_path(text)
    except ValueProblem as why:
        raise InputProblem(f"model {why}") from None


def stable_repr(value: object) -> str:
    """``repr(value)``, except that sets list their members in a fixed order.

    A set's own order follows string hashes, which differ from process to
    process; a spec key built from it would miss the cache on every build.
    """
    if isinstance(value, (set, frozenset)):
        members = sorted(stable_repr(v) for v in value)
        if not members:
            return f"{type(value).__name__}()"
        return ("{%s}" if type(value) is set else "frozenset({%s})") % ", ".join(members)
    if isinstance(value, dict):
        return "{%s}" % ", ".join(f"{stable_repr(k)}: {stable_repr(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[%s]" % ", ".join(stable_repr(v) for v in value)
    if isinstance(value, tuple):
        inner = ", ".join(stable_repr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)
