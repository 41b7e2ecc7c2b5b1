"""What one diagram asks for: its target and the checked values of the options that decide its content.

Second step of the pipeline (options → **spec** → load → trace → graph →
render/export).  :class:`DiagramSpec` is the target plus the fields of
:class:`~sphinx_netviz.options.SpecOptions`, where each option is declared
with its default and rules; nothing here restates them.  The front ends build
a spec with :meth:`DiagramSpec.of` from the values
:func:`~sphinx_netviz.options.sort_values` checked (not checked again);
a value given straight to ``DiagramSpec(...)`` is checked there.  Nothing
here imports torch or Sphinx.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .errors import InputProblem
from .onnx_import import is_onnx_path
from .options import OPTIONS, OPTIONS_LIST, OptionValues, SpecOptions, option_names, say, values_checked
from .values import ValueProblem, check_import_path

#: the options that build or run a model (an ONNX file, drawn as it is, takes none of them)
MODEL_OPTIONS = tuple(o.name for o in OPTIONS_LIST if o.scope == "spec" and o.model)
#: the options of scope ``spec`` that apply to an ONNX file (the others build or run a model)
FILE_OPTIONS = tuple(o.name for o in OPTIONS_LIST if o.scope == "spec" and not o.model)


@dataclass(frozen=True)
class _Target:
    #: the model: ``package.module:Name`` (a class, a factory, or an instance), or an ONNX file to
    #: draw (a path ending in ``.onnx``; made absolute, from the working folder, when checked)
    target: str


@dataclass(frozen=True)
class DiagramSpec(SpecOptions, _Target):
    """Everything that decides one diagram's content (and so its cache key): the target, then the
    options of :class:`~sphinx_netviz.options.SpecOptions` (``DiagramSpec(target, input_shapes, …)``)."""

    def __post_init__(self) -> None:
        check_target(self.target)
        super().__post_init__()  # each option's value, unless checked where it entered
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

    @classmethod
    def of(cls, target: str, values: OptionValues) -> DiagramSpec:
        """The spec of ``target`` with the spec values of ``values`` (:func:`~.options.sort_values`'s:
        checked where they entered, not checked again; the target and the rules between options are
        checked here).  For an ONNX file, values not given by this front end (``conf.py``'s) apply
        as :func:`file_defaults` says; given ones that do not apply are an :class:`InputProblem`."""
        chosen = {name: getattr(values.spec, name) for name in option_names(SpecOptions)}
        if isinstance(target, str) and is_onnx_path(target):
            inherited = {name: value for name, value in chosen.items() if name not in values.given}
            chosen = {**file_defaults(inherited), **{n: v for n, v in chosen.items() if n in values.given}}
        with values_checked():
            return cls(target, **chosen)

    def replaced(self, **changes: Any) -> DiagramSpec:
        """A copy with ``changes``: values checked where they entered (or fixed ones), not checked
        again; the target and the rules between options are."""
        return super().replaced(**changes)  # type: ignore[no-any-return]

    @property
    def is_onnx_file(self) -> bool:
        """Whether the target is an ONNX file to draw, rather than a model to build and trace."""
        return is_onnx_path(self.target)

    def _check_file_options(self) -> None:
        """An ONNX file is drawn as it is: options that build or run a model are an :class:`InputProblem`."""
        given = [name for name in MODEL_OPTIONS if getattr(self, name) != OPTIONS[name].default]
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
        return self.replaced(depth=0, direction="TB", fold=True, color_by="none")

    def key(self, *salt: str) -> str:
        """A stable hex digest of the spec (plus any ``salt`` strings)."""
        payload = asdict(self)
        payload["kwargs"] = stable_repr(sorted(self.kwargs.items()))
        blob = json.dumps([payload, list(salt)], sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()


def file_defaults(defaults: Mapping[str, object]) -> dict[str, object]:
    """Project-wide option values (``conf.py``'s) as they apply to an ONNX file.

    Options that build or run a model are left out, and an ONNX mode other
    than ``none`` means the file itself (``auto``): project-wide values never
    stop a file from drawing, while the same options given for the file are
    an :class:`InputProblem` (see :meth:`DiagramSpec._check_file_options`).
    """
    kept = {name: value for name, value in defaults.items() if name in FILE_OPTIONS}
    if "onnx" in kept:  # checked values (conf.py's): a mode
        kept["onnx"] = "none" if kept["onnx"] == "none" else "auto"
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
