"""Find the model the directive names, build it, and make its example inputs.

Pipeline step *load* (spec → **load** → trace → graph → render/export).
Imports the user's code, so every failure is turned into an
:class:`~sphinx_netviz.errors.ImportProblem` or
:class:`~sphinx_netviz.errors.TraceProblem` that says how to fix it.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .deps import file_digest, is_project_file
from .errors import ImportProblem, InputProblem, TraceProblem
from .spec import DiagramSpec

#: seed for weights and example inputs, so that outputs are byte-identical
SEED = 0


@dataclass
class LoadedModel:
    """A built model in eval mode with the example inputs to call it with."""

    model: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    input_names: list[str]
    name: str
    #: modules whose source decides the diagram (for cache invalidation)
    source_modules: list[ModuleType]
    #: ``cpu`` (real weights) or ``meta`` (shapes only)
    device: str = "cpu"
    #: size of the weights and buffers, real or not
    weight_bytes: int = 0


def import_object(path: str, what: str = "model") -> tuple[Any, ModuleType]:
    """Resolve ``pkg.mod:Outer.Inner`` or ``pkg.mod.Name``; return the object and its module."""
    if ":" in path:
        module_name, _, attr_path = path.partition(":")
        candidates = [(module_name, attr_path)]
    else:
        parts = path.split(".")
        candidates = [(".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts) - 1, 0, -1)]
        if not candidates:
            raise ImportProblem(
                f"{what} path {path!r} names no module; write it as 'package.module:Name'"
            )
    first_error: ImportProblem | None = None
    for module_name, attr_path in candidates:
        try:
            module = _import_module(module_name, path, what)
        except ImportProblem as exc:
            if not isinstance(exc.__cause__, ModuleNotFoundError):
                raise
            first_error = first_error or exc
            continue
        return _get_attr_path(module, attr_path, path, what), module
    assert first_error is not None
    raise first_error


#: project modules this loader imported: name -> (file, digest of the file then)
_IMPORTED: dict[str, tuple[str, str | None]] = {}


def forget_stale_models() -> None:
    """Drop the project modules this loader imported if any of their files changed.

    A long-lived process (``sphinx-autobuild``, a test session) must draw the
    model as its file is now, not as it was first imported.  Only modules
    that the loader's own imports brought in are dropped: never installed
    packages, sphinx-netviz itself, or modules that conf.py or a test
    imported.
    """
    if any(file_digest(path) != digest for path, digest in _IMPORTED.values()):
        for name in _IMPORTED:
            sys.modules.pop(name, None)
        _IMPORTED.clear()
        importlib.invalidate_caches()


def _remember_new_modules(before: set[str]) -> None:
    for name in set(sys.modules) - before:
        path = getattr(sys.modules[name], "__file__", None)
        if is_project_file(path) and name.partition(".")[0] != __package__:
            assert path is not None
            _IMPORTED[name] = (path, file_digest(path))


def _import_module(module_name: str, path: str, what: str) -> ModuleType:
    try:
        forget_stale_models()
        before = set(sys.modules)
        module = importlib.import_module(module_name)
        _remember_new_modules(before)
        return module
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        raise ImportProblem(
            f"cannot import the {what} module {module_name!r} of {path!r}: no module named "
            f"{missing!r}. Check the spelling, and that conf.py puts the package on sys.path "
            "(e.g. sys.path.insert(0, os.path.abspath('..'))) or that it is installed"
        ) from exc
    except Exception as exc:
        detail = str(exc)
        if isinstance(exc, SyntaxError) and exc.filename:
            detail = f"{exc.msg} ({exc.filename}, line {exc.lineno})"
        raise ImportProblem(
            f"importing the {what} module {module_name!r} raised "
            f"{exc.__class__.__name__}: {detail}"
        ) from exc


def _get_attr_path(module: ModuleType, attr_path: str, path: str, what: str) -> Any:
    obj: Any = module
    done = module.__name__
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            available = sorted(n for n in dir(obj) if not n.startswith("_"))[:12]
            raise ImportProblem(
                f"{done!r} has no attribute {part!r} (looking up the {what} {path!r}); "
                f"it has: {', '.join(available) or 'nothing public'}"
            ) from None
        done = f"{done}.{part}"
    return obj


def build_model(spec: DiagramSpec, device: str = "cpu") -> LoadedModel:
    """Import and instantiate the spec's model on ``device`` and make its example inputs.

    On ``cpu`` the weights are real (seeded, so exports are byte-identical);
    on ``meta`` nothing is allocated: parameters and inputs carry only shape
    and dtype.
    """
    import torch

    target, module = import_object(spec.target)
    source_modules = [module]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        with torch.device(device), _skip_meta_initialisers() if device == "meta" else nullcontext():
            model = _instantiate(target, spec, torch.nn.Module)
        # a ready-made instance lives where it was built; its inputs must too
        device = next((p.device.type for p in model.parameters()), device)
        defining = inspect.getmodule(type(model))
        if defining is not None and defining is not module:
            source_modules.append(defining)
        if spec.inputs:
            args, kwargs, names, inputs_module = _inputs_from_callable(spec.inputs)
            source_modules.append(inputs_module)
            args, kwargs = _to_device((args, kwargs), device)
        else:
            args, kwargs, names = _inputs_from_shapes(spec, device), {}, _shape_input_names(spec)
    model.eval()
    name = getattr(target, "__name__", type(model).__name__)
    return LoadedModel(model, args, kwargs, names, name, source_modules, device, weight_bytes(model))


#: in-place ops that only set values (what ``torch.nn.init`` does); pointless on meta tensors
_VALUE_SETTERS = frozenset({
    "uniform_", "normal_", "fill_", "zero_", "random_", "exponential_", "bernoulli_", "cauchy_",
    "log_normal_", "geometric_", "erfinv_", "mul_", "add_", "sub_", "div_", "clamp_", "copy_",
})


@contextmanager
def _skip_meta_initialisers() -> Iterator[None]:
    """While a model is built on meta, skip the value-setting ops of its weight initialisers.

    Meta tensors hold no values, yet running an initialiser on one loads
    torch's Python meta kernels (it imports ``torch._dynamo``: 1.0 s here for
    a small transformer), and ``device = auto`` builds every model on meta
    first, only to learn its size.  Shapes are untouched.
    """
    from torch.overrides import TorchFunctionMode

    class SkipValueSetters(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
            kwargs = kwargs or {}
            target = args[0] if args else kwargs.get("tensor")  # torch.nn.init passes it by name
            if getattr(func, "__name__", "") in _VALUE_SETTERS and getattr(target, "is_meta", False):
                return target
            return func(*args, **kwargs)

    with SkipValueSetters():
        yield


def weight_bytes(model: Any) -> int:
    """Bytes the model's parameters and buffers take (or would take, on ``meta``)."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(int(t.numel()) * t.element_size() for t in tensors)


def _to_device(value: Any, device: str) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    return value


def _instantiate(target: Any, spec: DiagramSpec, module_cls: type) -> Any:
    if isinstance(target, module_cls):
        if spec.kwargs:
            raise InputProblem(
                f"{spec.target} is already a model instance; :kwargs: only apply to a class or factory"
            )
        return target
    if not callable(target):
        raise ImportProblem(
            f"{spec.target} is of type {type(target).__name__}, not a torch.nn.Module subclass "
            "or a function that returns one"
        )
    try:
        model = target(**spec.kwargs)
    except TypeError as exc:
        raise InputProblem(
            f"calling {spec.target} with :kwargs: {spec.kwargs!r} failed: {exc}"
        ) from exc
    except Exception as exc:
        raise TraceProblem(
            f"building {spec.target} raised {exc.__class__.__name__}: {exc}"
        ) from exc
    if not isinstance(model, module_cls):
        raise ImportProblem(
            f"{spec.target} returned an object of type {type(model).__name__}, not a torch.nn.Module; "
            "name an nn.Module subclass or a function that returns a model"
        )
    return model


def _shape_input_names(spec: DiagramSpec) -> list[str]:
    if len(spec.input_shapes) == 1:
        return ["input"]
    return [f"input_{i}" for i in range(len(spec.input_shapes))]


def _inputs_from_shapes(spec: DiagramSpec, device: str) -> tuple[Any, ...]:
    import torch

    generator = torch.Generator().manual_seed(SEED)
    tensors = []
    for shape, dtype_name in zip(spec.input_shapes, spec.dtypes_per_input):
        dtype = getattr(torch, dtype_name)
        if device == "meta":
            tensors.append(torch.empty(shape, dtype=dtype, device="meta"))
        elif dtype.is_floating_point:
            tensors.append(torch.randn(shape, generator=generator).to(dtype))
        else:
            tensors.append(torch.zeros(shape, dtype=dtype))
    return tuple(tensors)


def _inputs_from_callable(path: str) -> tuple[tuple[Any, ...], dict[str, Any], list[str], ModuleType]:
    import torch

    factory, module = import_object(path, what=":inputs:")
    if not callable(factory):
        raise ImportProblem(f":inputs: {path} is of type {type(factory).__name__}, not a function")
    try:
        value = factory()
    except Exception as exc:
        raise InputProblem(
            f":inputs: {path}() raised {exc.__class__.__name__}: {exc}"
        ) from exc
    if isinstance(value, torch.Tensor):
        return (value,), {}, ["input"], module
    if isinstance(value, dict):
        return (), dict(value), list(value), module
    if isinstance(value, (tuple, list)):
        names = ["input"] if len(value) == 1 else [f"input_{i}" for i in range(len(value))]
        return tuple(value), {}, names, module
    raise InputProblem(
        f":inputs: {path}() returned an object of type {type(value).__name__}; return a tensor, "
        "a tuple of positional inputs, or a dict of keyword inputs"
    )
