"""Record what a model's forward pass did: module calls, functional ops, tensors.

Pipeline step *trace* (load → **trace** → graph → render/export).  Forward
pre/post hooks on every module keep a stack of the module calls under way; a
:class:`~torch.overrides.TorchFunctionMode` records the functional operations
(``view``, ``add``, ``cat``, ``softmax``...) called between them.  This draws
what the forward really did, including the branch Python control flow took,
and does not care what the model returns (dataclasses, dicts, cache objects).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .describe import function_macs, hyperparameters, module_macs, parameter_count
from .errors import TraceProblem
from .ir import Call, ModuleInfo, TensorMeta, Trace

#: functions that return tensors but never deserve a box of their own
_SKIP_FUNCTIONS = {
    "contiguous", "detach", "requires_grad_", "clone", "to", "cpu", "type_as",
}
#: tensor properties that are real operations (``x.T``); other properties are skipped
_PROPERTY_OPS = {"T": "transpose", "mT": "transpose", "H": "adjoint", "mH": "adjoint"}


def function_name(func: Any) -> str | None:
    """``add`` for ``Tensor.__add__``/``torch.add``, ``getitem`` for ``x[...]``.

    ``None`` for calls that do not belong in a diagram (metadata reads,
    copies, device moves).
    """
    name = getattr(func, "__name__", None) or type(func).__name__
    if name == "__get__":
        prop = getattr(getattr(func, "__self__", None), "__name__", "")
        return _PROPERTY_OPS.get(prop)
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        if name[:1] in ("r", "i") and name[1:] in (
            "add", "sub", "mul", "truediv", "floordiv", "matmul", "and", "or", "pow", "mod"
        ):
            name = name[1:]
    name = name.strip("_") or name
    return None if name in _SKIP_FUNCTIONS else name


def iter_tensors(value: Any, *, objects: bool = True,
                 _seen: set[int] | None = None) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(key path, tensor)`` for every tensor inside ``value``.

    Walks tuples, lists, dicts, named tuples and dataclasses (such as Hugging
    Face ``ModelOutput``), and with ``objects`` also the attributes of plain
    objects (such as a cache object in a model's output), so any output
    structure draws.  Arguments are walked without ``objects``: the tensors a
    cache object holds are state, not inputs of the call.
    """
    seen = set() if _seen is None else _seen
    if isinstance(value, torch.Tensor):
        yield "", value
        return
    if id(value) in seen or isinstance(value, (str, bytes, int, float, bool, type(None))):
        return
    seen.add(id(value))
    items: list[tuple[str, Any]]
    if isinstance(value, Mapping):
        items = [(f".{k}" if isinstance(k, str) else f"[{k!r}]", v) for k, v in value.items()]
    elif isinstance(value, tuple) and hasattr(value, "_fields"):
        items = [(f".{k}", getattr(value, k)) for k in value._fields]
    elif isinstance(value, (list, tuple)):
        items = [(f"[{i}]", v) for i, v in enumerate(value)]
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [(f".{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)]
    elif objects and hasattr(value, "__dict__") and not isinstance(value, (nn.Module, type)):
        items = [(f".{k}", v) for k, v in vars(value).items() if not k.startswith("_")]
    else:
        return
    for key, item in items:
        for sub, tensor in iter_tensors(item, objects=objects, _seen=seen):
            yield key + sub, tensor


class _Recorder(TorchFunctionMode):
    """Collects calls and tensors for one forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.tensors: dict[int, TensorMeta] = {}
        self.stack: list[Call] = []
        self._next_call = 0
        self._tensor_ids: dict[int, int] = {}
        self._keep: list[torch.Tensor] = []  # keeps id() values unique during the trace
        self._repeats: dict[str, int] = {}

    # -- tensors -------------------------------------------------------
    def tensor_id(self, tensor: torch.Tensor) -> int:
        key = id(tensor)
        tid = self._tensor_ids.get(key)
        if tid is None:
            tid = len(self._tensor_ids)
            self._tensor_ids[key] = tid
            self._keep.append(tensor)
        self.tensors[tid] = TensorMeta(tuple(int(d) for d in tensor.shape), str(tensor.dtype).removeprefix("torch."))
        return tid

    def ids(self, value: Any) -> list[int]:
        """Ids of the tensors in a call's arguments or results (not inside plain objects)."""
        out: list[int] = []
        for _, tensor in iter_tensors(value, objects=False):
            if isinstance(tensor, nn.Parameter):
                continue
            tid = self.tensor_id(tensor)
            if tid not in out:
                out.append(tid)
        return out

    # -- calls -----------------------------------------------------------
    def open_call(self, kind: str, name: str, inputs: list[int]) -> Call:
        repeat = 0
        if kind == "module":
            repeat = self._repeats.get(name, 0)
            self._repeats[name] = repeat + 1
        call = Call(
            id=self._next_call,
            kind=kind,  # type: ignore[arg-type]
            name=name,
            parent=self.stack[-1].id if self.stack else None,
            inputs=inputs,
            repeat=repeat,
        )
        self._next_call += 1
        return call

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        name = function_name(func)
        if name is None or not self.stack:
            return result
        outputs = [t for _, t in iter_tensors(result, objects=False)]
        if not outputs:
            return result
        call = self.open_call("function", name, self.ids((args, kwargs)))
        call.outputs = self.ids(result)
        inputs = [t for _, t in iter_tensors((args, kwargs), objects=False)]
        call.macs = function_macs(name, inputs, outputs)
        self.calls.append(call)
        return result


@contextmanager
def _hooks(model: nn.Module, recorder: _Recorder) -> Iterator[None]:
    handles = []
    paths = {id(m): p for p, m in model.named_modules()}

    def pre(module: nn.Module, args: tuple, kwargs: dict) -> None:
        call = recorder.open_call("module", paths[id(module)], recorder.ids((args, kwargs)))
        recorder.stack.append(call)

    def post(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        call = recorder.stack.pop()
        call.outputs = recorder.ids(output)
        with torch._C.DisableTorchFunction():  # shape reads only; not part of the model
            call.macs = module_macs(module, [t for _, t in iter_tensors((args, kwargs), objects=False)],
                                    [t for _, t in iter_tensors(output, objects=False)])
        recorder.calls.append(call)

    for module in {id(m): m for m in model.modules()}.values():
        handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(module.register_forward_hook(post, with_kwargs=True))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _module_table(model: nn.Module) -> dict[str, ModuleInfo]:
    table: dict[str, ModuleInfo] = {}
    for path, module in model.named_modules():
        cls = type(module)
        prefix = path + "." if path else ""
        table[path] = ModuleInfo(
            path=path,
            class_name=cls.__name__,
            qualname=f"{cls.__module__}.{cls.__qualname__}",
            hparams=hyperparameters(module),
            param_count=parameter_count(module),
            children=tuple(prefix + name for name, _ in module.named_children()),
            param_shapes=tuple((name, tuple(int(d) for d in p.shape), str(p.dtype).removeprefix("torch."))
                               for name, p in module.named_parameters(recurse=False)),
        )
    return table


def _describe_failure(exc: BaseException, stack: list[Call], recorder: _Recorder, modules: dict[str, ModuleInfo]) -> str:
    first_line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    reason = f"{exc.__class__.__name__}: {first_line}"
    module_calls = [c for c in stack if c.kind == "module"]
    if not module_calls:
        return f"the forward pass raised {reason}"
    where = module_calls[-1]
    info = modules.get(where.name)
    cls = info.class_name if info else "?"
    shapes = ", ".join(recorder.tensors[t].shape_text() for t in where.inputs) or "no tensors"
    if where.name == "":
        return f"the forward of {cls} failed on input {shapes}: {reason}"
    return f"layer {where.name} ({cls}) failed on input {shapes}: {reason}"


def trace_model(
    model: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    input_names: list[str],
    model_name: str,
) -> tuple[Trace, Any]:
    """Run ``model(*args, **kwargs)`` once and record it; return the trace and the output."""
    recorder = _Recorder()
    modules = _module_table(model)
    inputs: list[tuple[str, int]] = []
    flat_inputs = list(iter_tensors(args)) + list(iter_tensors(kwargs))
    for (key, tensor), name in zip(flat_inputs, input_names + [f"input{k}" for k, _ in flat_inputs[len(input_names):]]):
        inputs.append((name, recorder.tensor_id(tensor)))
    try:
        with mha_fastpath_disabled(), _hooks(model, recorder), recorder:
            output = model(*args, **kwargs)
    except TraceProblem:
        raise
    except Exception as exc:
        raise TraceProblem(_describe_failure(exc, recorder.stack, recorder, modules)) from exc
    outputs = [
        ("output" + key, recorder.tensor_id(tensor)) for key, tensor in iter_tensors(output)
    ]
    if not outputs:
        raise TraceProblem(
            f"the forward pass of {model_name} returned {type(output).__name__} with no tensors in it; "
            "netviz draws models that return tensors (or structures holding tensors)"
        )
    trace = Trace(
        model_name=model_name,
        modules=modules,
        calls=recorder.calls,
        tensors=dict(recorder.tensors),
        inputs=inputs,
        outputs=outputs,
    )
    return trace, output


@contextmanager
def mha_fastpath_disabled() -> Iterator[None]:
    """Turn off the fused attention fast path: it hides the layers inside and cannot be exported."""
    mha = getattr(torch.backends, "mha", None)
    if mha is None or not hasattr(mha, "set_fastpath_enabled"):
        yield
        return
    before = mha.get_fastpath_enabled()
    mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        mha.set_fastpath_enabled(before)
