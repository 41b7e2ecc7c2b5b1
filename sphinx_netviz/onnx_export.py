"""Export a built model to ONNX bytes, deterministically, in full or as structure only.

Pipeline step *export* (load → **export**).

* ``full``: the TorchScript-based exporter (``dynamo=False``) on the real
  model.  On this project's reference machine it took 0.05–0.36 s on the seed
  CNN and wrote the same bytes every run (the dynamo exporter: 3.7–6.5 s).
* ``structure``: every parameter and buffer is a graph input with its name,
  shape and dtype, and no weight values are stored, so Netron shows the whole
  architecture and the file stays small (LLaMA-7B shape: a few MB instead of
  26 GB).  A model with real weights goes through the TorchScript exporter
  (ResNet-50: 0.76 s, 48 KB); a model on the ``meta`` device through the
  dynamo exporter (``optimize=False``: the optimizer cannot run on meta
  tensors; ResNet-50 2.2–3.8 s, 390 KB).  Both are byte-stable across
  processes.  Which exporter is tried when, and what happens when all fail,
  is :mod:`sphinx_netviz.export_ladder`'s choice.
* ``structure`` with repeated blocks (``exporter="dynamo-blocks"``): each
  kind of block as one ONNX function the graph calls once per block, made by
  :mod:`sphinx_netviz.onnx_blocks` (LLaMA-7B: 10.4 s → 3.8 s, 2.2 → 0.19 MB).

Names are fixed (inputs, outputs, parameters as in ``state_dict``) so the
same model gives byte-identical files.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from .errors import ExportProblem, safe_text
from .limits import OutOfTime
from .onnx_blocks import DYNAMO_OPSET, export_with_block_functions

OPSET = 17
#: the wrapper's attribute holding the model; stripped from parameter names
_INNER = "inner"


#: the exporters :func:`export_onnx` can drive
Exporter = Literal["torchscript", "dynamo", "dynamo-blocks"]


def export_onnx(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                input_names: list[str], output_names: list[str], *,
                structure: bool = False, exporter: Exporter | None = None,
                blocks: Sequence[str] = ()) -> bytes:
    """The ONNX bytes of ``model`` called as ``model(*args, **kwargs)``.

    Tensor arguments (positional, then keyword) become the graph's inputs,
    named ``input_names``; other arguments are fixed at their given values.
    Whatever structure the model returns (dataclass, dict, named tuple), the
    graph's outputs are its tensors in order, named ``output_names``.  With
    ``structure=True`` the weights are declared, not stored.  ``exporter``
    picks torch's exporter; by default TorchScript for a model with real
    weights and dynamo for one on meta, which TorchScript cannot take.
    ``dynamo-blocks`` (a structure file) makes each kind of block in
    ``blocks`` (module paths such as ``layers.0``, blocks that take and give
    tensors only) an ONNX function called once per block; without blocks it
    is the plain dynamo export.  A :class:`~sphinx_netviz.limits.OutOfTime`
    raised while exporting goes through.
    """
    import onnx
    import torch

    from .trace import mha_fastpath_disabled

    wrapper = _flat_call(model, args, kwargs)
    tensors = tuple(v for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor))
    names = {"input_names": list(input_names)[: len(tensors)], "output_names": list(output_names)}
    buffer = io.BytesIO()
    proto = None
    on_meta = any(getattr(t, "is_meta", False) for t in (*model.parameters(), *tensors))
    exporter = exporter or ("dynamo" if on_meta else "torchscript")
    try:
        with mha_fastpath_disabled(), warnings.catch_warnings(), _silenced_fds(), _reused_registry():
            warnings.simplefilter("ignore")
            if exporter == "dynamo-blocks" and blocks:
                proto = export_with_block_functions(wrapper, _INNER, tensors, names, blocks)
                structure = True
            elif exporter in ("dynamo", "dynamo-blocks"):  # structure only: full files are not byte-stable
                program = torch.onnx.export(wrapper, tensors, dynamo=True, optimize=False,
                                            verbose=False, opset_version=DYNAMO_OPSET, **names)
                program.save(buffer, include_initializers=False, keep_initializers_as_inputs=True)
                structure = True
            elif structure:
                # every weight stays a named graph input (no constant folding, no eval-mode
                # Conv+BatchNorm fusion); the values are dropped below
                torch.onnx.export(wrapper, tensors, buffer, dynamo=False, opset_version=OPSET,
                                  do_constant_folding=False, keep_initializers_as_inputs=True,
                                  training=torch.onnx.TrainingMode.PRESERVE, **names)
            else:
                torch.onnx.export(wrapper, tensors, buffer, dynamo=False, opset_version=OPSET,
                                  do_constant_folding=True, **names)
    except OutOfTime:
        raise
    except BaseException as exc:  # noqa: BLE001 - the model's code runs again here, even sys.exit()
        raise ExportProblem(_export_failure(exc)) from exc
    if proto is None:
        proto = onnx.load_from_string(buffer.getvalue())
    if structure:
        del proto.graph.initializer[:]  # declared as graph inputs: the weights' values stay out
    _strip_wrapper_prefix(proto)
    _drop_build_details(proto)
    return proto.SerializeToString(deterministic=True)


def _export_failure(exc: BaseException) -> str:
    """What went wrong: the innermost cause, as :func:`safe_text` puts it."""
    cause, seen = exc, {id(exc)}
    try:  # the exporter wraps the real error in "step 1/3 failed"; model code could chain in a loop
        while isinstance(cause.__cause__, BaseException) and id(cause.__cause__) not in seen:
            cause = cause.__cause__
            seen.add(id(cause))
    except BaseException:  # noqa: BLE001 - a model's exception may fake __cause__; keep what we have
        pass
    return safe_text(cause)


# ----------------------------------------------------------------------------------------------------------
# dynamo-blocks: each kind of repeated block one ONNX function

#: node metadata the dynamo exporter writes that names files on this machine (and is most
#: of a structure file's size): dropped, so the bytes do not depend on where the build runs
_DROPPED_METADATA = {"pkg.torch.onnx.stack_trace", "pkg.torch.onnx.fx_node"}


def _drop_build_details(proto: Any) -> None:
    """Drop per-node stack traces, in the graph and its functions; name scopes stay, without the
    export wrapper's own."""
    wrapper = f"{_flat_call.__module__}._flat_call.<locals>.FlatCall"
    for node in [*proto.graph.node, *(node for function in proto.functions for node in function.node)]:
        kept = [(p.key, p.value) for p in node.metadata_props if p.key not in _DROPPED_METADATA]
        del node.metadata_props[:]
        for key, value in kept:
            value = value.replace(f": {wrapper}/{_INNER}: ", ": ").replace(f"'{wrapper}', ", "")
            value = value.replace("['', 'inner', ", "['', ")
            entry = node.metadata_props.add()
            entry.key, entry.value = key, value


def _strip_wrapper_prefix(proto: Any) -> None:
    """Rename ``inner.conv.0.weight`` to ``conv.0.weight`` everywhere in the graph and its functions."""
    prefix = _INNER + "."

    def renames(names: list[str]) -> dict[str, str]:
        return {name: name[len(prefix):] for name in names if name.startswith(prefix)}

    graph = proto.graph
    declared = renames([v.name for v in graph.input] + [t.name for t in graph.initializer])
    for value in [*graph.input, *graph.value_info, *graph.initializer]:
        value.name = declared.get(value.name, value.name)
    for node in graph.node:
        node.input[:] = [declared.get(n, n) for n in node.input]
    for function in proto.functions:  # names in a function are its own: its parameters
        local = renames(list(function.input))
        if local:
            function.input[:] = [local.get(n, n) for n in function.input]
            for node in function.node:
                node.input[:] = [local.get(n, n) for n in node.input]


def _flat_call(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``model`` wrapped to take its tensor arguments positionally and return a flat tuple."""
    import torch
    from torch import nn

    from .trace import iter_tensors

    slots = [(None, v) for v in args] + list(kwargs.items())

    class FlatCall(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            setattr(self, _INNER, inner)

        def forward(self, *tensors: Any) -> tuple[Any, ...]:
            supplied = iter(tensors)
            call_args, call_kwargs = [], {}
            for key, value in slots:
                value = next(supplied) if isinstance(value, torch.Tensor) else value
                if key is None:
                    call_args.append(value)
                else:
                    call_kwargs[key] = value
            inner = getattr(self, _INNER)
            return tuple(t for _, t in iter_tensors(inner(*call_args, **call_kwargs)))

    # export restores the wrapper's mode recursively afterwards: keep the model's own
    return FlatCall(model).train(model.training)


#: torchlib's ONNX registry per opset, built once per process (see :func:`_reused_registry`)
_REGISTRIES: dict[int, dict[Any, list[Any]]] = {}


@contextmanager
def _reused_registry() -> Iterator[None]:
    """Build the dynamo exporter's registry of ONNX functions once per process, not per export.

    ``torch.onnx.export(dynamo=True)`` rebuilds it from onnxscript's torchlib on
    every call: 0.65 s here each time, so 1.3 s of a block-functions export (two
    calls).  The worker's warm-up export fills this cache before it forks, so every
    child starts with it.  Each export gets its own copy of the lists, since custom
    translations are added to the registry it is given.
    """
    from torch.onnx._internal.exporter import _registration

    registry_class = _registration.ONNXRegistry
    own = registry_class.__dict__["from_torchlib"]

    def from_torchlib(cls: Any, opset_version: int = _registration._constants.TORCHLIB_OPSET) -> Any:
        if opset_version not in _REGISTRIES:
            _REGISTRIES[opset_version] = own.__func__(cls, opset_version).functions
        registry = cls()
        registry._opset_version = opset_version
        registry.functions = {target: list(metas) for target, metas in _REGISTRIES[opset_version].items()}
        return registry

    registry_class.from_torchlib = classmethod(from_torchlib)
    try:
        yield
    finally:
        registry_class.from_torchlib = own


@contextmanager
def _silenced_fds() -> Iterator[None]:
    """Swallow what the exporters print (C++ IR dumps on failure, dynamo's log lines)."""
    logging.disable(logging.WARNING)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            logging.disable(logging.NOTSET)
