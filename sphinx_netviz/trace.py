"""Record what a model's forward pass did: module calls, functional ops, tensors.

Pipeline step *trace* (load → **trace** → graph → render/export).  Forward
pre/post hooks on every module keep a stack of the module calls under way; a
:class:`~torch.overrides.TorchFunctionMode` records the functional operations
(``view``, ``add``, ``cat``, ``softmax``...) called between them.  This draws
what the forward really did, including the branch Python control flow took,
and does not care what the model returns (dataclasses, dicts, sets, cache
objects).

TorchScript modules (``torch.jit.script`` or ``torch.jit.trace``) are opaque:
forward hooks do not fire on them and their operations never reach
``__torch_function__``.  Each outermost one is drawn as one box (its
original class name, its inputs and outputs, no children): its ``forward``
is wrapped for the trace so that the recorder sees one module call.  A model
that is itself scripted is therefore drawn as one box at every depth.

Model code is untrusted input: whatever the forward pass raises (even
``sys.exit()``, ``KeyboardInterrupt`` or another ``BaseException`` that is
not an ``Exception``) becomes a :class:`~sphinx_netviz.errors.TraceProblem`,
described by :func:`~sphinx_netviz.errors.safe_text`.  That is sound because
model code runs in a child process in its own session, which ignores the
terminal's SIGINT: a ``KeyboardInterrupt`` there can only come from the
model, never from the author's Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .describe import function_macs, hyperparameters, module_macs, parameter_count
from .errors import TraceProblem, _type_name, safe_text
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
                 order: Callable[[torch.Tensor], int | None] | None = None,
                 _seen: set[int] | None = None) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(key path, tensor)`` for every tensor inside ``value``.

    Walks tuples, lists, dicts, named tuples, sets and dataclasses (such as
    Hugging Face ``ModelOutput``), and with ``objects`` also the attributes
    of plain objects (such as a cache object in a model's output), so any
    output structure draws.  Arguments are walked without ``objects``: the
    tensors a cache object holds are state, not inputs of the call.

    A set has no order of its own (a set of tensors iterates by memory
    address), so its members are walked in the order ``order`` gives their
    tensors, which the trace makes the order the forward pass produced them;
    then by shape and dtype.  Without ``order``, members with the same
    shapes keep the set's own order.  Their keys are ``[0]``, ``[1]``...,
    as for a list.

    Generators and other iterators are not walked: their values do not
    exist until something iterates them, and iterating would run model code
    outside the forward pass (see :func:`trace_model`).
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
    elif isinstance(value, (set, frozenset)):
        items = [(f"[{i}]", v) for i, v in enumerate(_set_members(value, objects, order, seen))]
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [(f".{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)]
    elif objects and hasattr(value, "__dict__") and not isinstance(value, (nn.Module, type)):
        items = [(f".{k}", v) for k, v in vars(value).items() if not k.startswith("_")]
    else:
        return
    for key, item in items:
        for sub, tensor in iter_tensors(item, objects=objects, order=order, _seen=seen):
            yield key + sub, tensor


def _set_members(members: set[Any] | frozenset[Any], objects: bool,
                 order: Callable[[torch.Tensor], int | None] | None, seen: set[int]) -> list[Any]:
    """The members of a set that hold tensors, in a fixed order (see :func:`iter_tensors`)."""
    keyed = []
    for member in members:
        tensors = [t for _, t in iter_tensors(member, objects=objects, order=order, _seen=set(seen))]
        if not tensors:
            continue
        key = []
        for tensor in tensors:
            rank = order(tensor) if order is not None else None
            key.append(((0, rank) if rank is not None else (1, 0),
                        tuple(int(d) for d in tensor.shape), str(tensor.dtype)))
        keyed.append((key, member))
    keyed.sort(key=lambda pair: pair[0])  # stable: ties keep the set's order
    return [member for _, member in keyed]


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
        #: > 0 while a TorchScript module runs: what happens inside it is not drawn
        self.opaque = 0

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

    def rank(self, tensor: torch.Tensor) -> int | None:
        """The tensor's place in the order the trace first saw tensors (None: not seen yet)."""
        return self._tensor_ids.get(id(tensor))

    def ids(self, value: Any) -> list[int]:
        """Ids of the tensors in a call's arguments or results (not inside plain objects)."""
        out: list[int] = []
        for _, tensor in iter_tensors(value, objects=False, order=self.rank):
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
        if name is None or not self.stack or self.opaque:
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


def _named_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``model.named_modules()``, except that the insides of TorchScript modules are left out.

    The same order and the same first path for a module registered twice;
    iterative, so a very deep module tree does not exhaust Python's stack.
    """
    found: list[tuple[str, nn.Module]] = []
    seen: set[int] = set()
    stack: list[tuple[str, nn.Module]] = [("", model)]
    while stack:
        path, module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        found.append((path, module))
        if isinstance(module, torch.jit.ScriptModule):
            continue
        children = [(f"{path}.{name}" if path else name, child)
                    for name, child in module._modules.items() if child is not None]
        stack.extend(reversed(children))
    return found


@contextmanager
def _hooks(model: nn.Module, recorder: _Recorder, model_name: str) -> Iterator[None]:
    """Record every module call: hooks on Python modules, a wrapped ``forward`` on script modules."""
    handles = []
    wrapped: list[tuple[nn.Module, Any]] = []
    modules = _named_modules(model)
    paths = {id(m): p for p, m in modules}

    def pre(module: nn.Module, args: tuple, kwargs: dict) -> None:
        call = recorder.open_call("module", paths[id(module)], recorder.ids((args, kwargs)))
        recorder.stack.append(call)

    def post(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        call = recorder.stack.pop()
        try:
            call.outputs = recorder.ids(output)
        except BaseException as exc:  # noqa: BLE001 - the output's own methods are model code
            where = f"layer {call.name}" if call.name else f"the forward pass of {model_name}"
            raise TraceProblem(f"the output of {where} ({_type_name(type(output))}) cannot be read: "
                               f"{safe_text(exc)}") from exc
        with torch._C.DisableTorchFunction():  # shape reads only; not part of the model
            try:
                call.macs = module_macs(module, [t for _, t in iter_tensors((args, kwargs), objects=False)],
                                        [t for _, t in iter_tensors(output, objects=False)])
            except BaseException:  # noqa: BLE001 - a custom class named like a torch layer; a count is optional
                call.macs = None
        recorder.calls.append(call)

    try:
        for _, module in modules:
            if isinstance(module, torch.jit.ScriptModule):
                wrapped.append((module, module.__dict__.get("forward", _MISSING)))
                module.__dict__["forward"] = _recorded_forward(module, recorder, pre, post)
            else:
                handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
                handles.append(module.register_forward_hook(post, with_kwargs=True))
        yield
    finally:
        for handle in handles:
            handle.remove()
        for module, forward in wrapped:
            if forward is _MISSING:
                module.__dict__.pop("forward", None)
            else:
                module.__dict__["forward"] = forward


#: marks a script module that had no ``forward`` in its instance dict before the trace
_MISSING = object()


def _recorded_forward(module: nn.Module, recorder: _Recorder, pre: Callable[..., None],
                      post: Callable[..., None]) -> Callable[..., Any]:
    """``module.forward`` (a script method), recorded as one module call.

    Forward hooks cannot be registered on a ScriptModule, but its
    ``__call__`` is ``nn.Module``'s, which looks ``forward`` up on the
    instance: this wrapper stands there for the trace.  Inside, the recorder
    is told to record nothing (``@torch.jit.ignore`` functions run Python).
    """
    forward = module.forward

    def recorded(*args: Any, **kwargs: Any) -> Any:
        pre(module, args, kwargs)
        recorder.opaque += 1
        try:
            output = forward(*args, **kwargs)
        finally:
            recorder.opaque -= 1
        post(module, args, kwargs, output)
        return output

    return recorded


def _module_table(model: nn.Module) -> dict[str, ModuleInfo]:
    table: dict[str, ModuleInfo] = {}
    for path, module in _named_modules(model):
        cls = type(module)
        prefix = path + "." if path else ""
        scripted = isinstance(module, torch.jit.ScriptModule)
        if scripted:  # one opaque box: its original class, every parameter inside it, no children
            original = getattr(module, "original_name", None)
            class_name = original if isinstance(original, str) and original else "ScriptModule"
            hparams = "TorchScript"
            children: tuple[str, ...] = ()
        else:
            class_name = _type_name(cls)
            hparams = _hyperparameters(module)
            children = tuple(prefix + name for name, _ in module.named_children())
        table[path] = ModuleInfo(
            path=path,
            class_name=class_name,
            qualname=_qualified_name(cls, class_name),
            hparams=hparams,
            param_count=parameter_count(module),
            children=children,
            param_shapes=tuple((name, tuple(int(d) for d in p.shape), str(p.dtype).removeprefix("torch."))
                               for name, p in module.named_parameters(recurse=scripted)),
        )
    return table


def _qualified_name(cls: type, fallback: str) -> str:
    try:  # a metaclass can make these anything
        module_name, qualname = cls.__module__, cls.__qualname__
    except BaseException:  # noqa: BLE001
        return fallback
    if type(module_name) is str and type(qualname) is str:
        return f"{module_name}.{qualname}"
    return fallback


def _hyperparameters(module: nn.Module) -> str:
    try:
        text = hyperparameters(module)
    except BaseException:  # noqa: BLE001 - extra_repr is model code; the label can do without
        return ""
    return text if type(text) is str else ""


def _describe_failure(exc: BaseException, stack: list[Call], recorder: _Recorder, modules: dict[str, ModuleInfo]) -> str:
    reason = safe_text(exc)
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
    """Run ``model(*args, **kwargs)`` once and record it; return the trace and the output.

    Whatever model code raises (see the module docstring) becomes a
    :class:`TraceProblem`.  A forward that returns a generator, iterator or
    coroutine is a :class:`TraceProblem` too: its work has not happened yet
    when the forward returns, and iterating it here would run model
    operations after the root module's call has ended, outside any module
    (so they could not be drawn where they belong), possibly without end,
    and the ONNX export, which flattens the output again, could not follow.
    """
    recorder = _Recorder()
    try:
        modules = _module_table(model)
        inputs: list[tuple[str, int]] = []
        flat_inputs = list(iter_tensors(args)) + list(iter_tensors(kwargs))
    except BaseException as exc:  # noqa: BLE001 - named_children(), parameters()... are model code
        raise TraceProblem(f"reading the modules and inputs of {model_name} raised {safe_text(exc)}") from exc
    for (key, tensor), name in zip(flat_inputs, input_names + [f"input{k}" for k, _ in flat_inputs[len(input_names):]]):
        inputs.append((name, recorder.tensor_id(tensor)))
    try:
        with mha_fastpath_disabled(), _hooks(model, recorder, model_name), recorder:
            output = model(*args, **kwargs)
    except TraceProblem:
        raise
    except BaseException as exc:  # noqa: BLE001 - model code, even sys.exit(); see the module docstring
        raise TraceProblem(_describe_failure(exc, recorder.stack, recorder, modules)) from exc
    try:
        outputs = [
            ("output" + key, recorder.tensor_id(tensor))
            for key, tensor in iter_tensors(output, order=recorder.rank)
        ]
    except BaseException as exc:  # noqa: BLE001 - the output's own properties are model code
        raise TraceProblem(
            f"the output of the forward pass of {model_name} ({_type_name(type(output))}) cannot be "
            f"read: {safe_text(exc)}"
        ) from exc
    if not outputs:
        try:
            lazy = _lazy_part(output)
        except BaseException:  # noqa: BLE001 - only for a better message
            lazy = None
        if lazy is not None:
            key, kind = lazy
            what = f"a {_type_name(type(output))} holding {kind} at output{key}" if key else kind
            raise TraceProblem(
                f"the forward pass of {model_name} returned {what}: a lazily evaluated result "
                "that netviz cannot draw, because its operations run only when something iterates "
                "it, after the forward pass; return the tensors in a tuple or list instead "
                "(e.g. return tuple(...))"
            )
        raise TraceProblem(
            f"the forward pass of {model_name} returned {_type_name(type(output))} with no tensors in "
            "it; netviz draws models that return tensors (or structures holding tensors)"
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


def _lazy_part(value: Any, depth: int = 3) -> tuple[str, str] | None:
    """Where a generator, iterator or coroutine is in a forward's result (a key path), and what it is.

    ``("", "a generator")`` for the result itself, ``("[0]", "a generator")``
    for one in a tuple.  A coroutine that never ran is closed (which runs
    none of its code) to spare the "never awaited" warning.
    """
    kind = None
    if inspect.isgenerator(value):
        kind = "a generator"
    elif inspect.isasyncgen(value):
        kind = "an async generator"
    elif inspect.iscoroutine(value):
        kind = "a coroutine (is forward an async def?)"
        if inspect.getcoroutinestate(value) == inspect.CORO_CREATED:
            value.close()
    elif isinstance(value, Iterator) and not isinstance(value, torch.Tensor):
        kind = f"an iterator ({_type_name(type(value))})"
    if kind is not None:
        return "", kind
    if depth == 0:
        return None
    if isinstance(value, Mapping):
        items = [(f".{k}" if isinstance(k, str) else "[…]", v) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [(f"[{i}]", v) for i, v in enumerate(value)]
    else:
        return None
    for key, item in items:
        found = _lazy_part(item, depth - 1)
        if found is not None:
            return key + found[0], found[1]
    return None


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
