"""Find the model the directive names, build it, and make its example inputs.

Pipeline step *load* (spec → **load** → trace → graph → render/export).
Imports the user's code, so every failure is turned into an
:class:`~sphinx_netviz.errors.ImportProblem`,
:class:`~sphinx_netviz.errors.InputProblem` or
:class:`~sphinx_netviz.errors.TraceProblem` that says how to fix it.

Model code is untrusted input.  Whatever it raises while it is imported,
built or asked for its example inputs becomes one of those problems, with
the exception described by :func:`~sphinx_netviz.errors.safe_text` (which
survives exceptions that cannot be printed).  That includes the
``BaseException`` subclasses that are not ``Exception``: a custom
``class Boom(BaseException)``, ``GeneratorExit``, ``sys.exit()`` and even
``KeyboardInterrupt``.  Model code runs in a child process in its own
session that ignores the terminal's SIGINT, so a ``KeyboardInterrupt`` there
can only come from the model itself, never from the author pressing Ctrl-C;
the parent process stops the child by other means.
"""

from __future__ import annotations

import contextvars
import importlib
import inspect
import math
import os
import pkgutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .deps import file_digest, is_project_file
from .errors import ImportProblem, InputProblem, NetvizError, TraceProblem, _type_name, safe_text
from .options import Frontend, frontend, say
from .spec import DiagramSpec
from .values import did_you_mean, nearest, size_text

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
    #: the target named a ready-made instance (not a class or factory): it lives where it was built
    ready_made: bool = False
    #: a model on ``meta`` that may be built with real weights and run on the CPU (its weights and
    #: activations fit): the exporters that run the forward pass build it so (``:device: auto``)
    real_run_fits: bool = False


#: :func:`build_model` imports the spec's target (no object in memory given)
IMPORT: Any = object()
#: what builds a model on a device: :func:`build_model`, or one bound to an object in memory
Builder = Callable[[DiagramSpec, str], "LoadedModel"]


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
        try:  # model code can put anything in sys.modules
            path = getattr(sys.modules[name], "__file__", None)
            if isinstance(name, str) and isinstance(path, str) and is_project_file(path) \
                    and name.partition(".")[0] != __package__:
                _IMPORTED[name] = (path, file_digest(path))
        except BaseException:  # noqa: BLE001 - not a project module, then
            continue


def _import_module(module_name: str, path: str, what: str) -> ModuleType:
    """Import ``module_name``; whatever the import raises becomes an :class:`ImportProblem`.

    Even ``SystemExit``, ``KeyboardInterrupt`` and other ``BaseException``
    subclasses: see the module docstring.  Project modules that the import
    brought in are remembered even when it fails (a sibling module imported
    before the failure stays in ``sys.modules``, and must be dropped once its
    file changes).
    """
    forget_stale_models()
    before = set(sys.modules)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = getattr(exc, "name", None)  # an exception's own attribute: model code may fake it
        missing = missing if type(missing) is str else module_name
        raise ImportProblem(
            f"cannot import the {what} module {module_name!r} of {path!r}: no module named "
            f"{missing!r}. {_missing_module_hint(module_name, missing)}"
        ) from exc
    except BaseException as exc:  # noqa: BLE001 - model code; see the module docstring
        raise ImportProblem(
            f"importing the {what} module {module_name!r} raised {safe_text(exc)}"
        ) from exc
    finally:
        _remember_new_modules(before)


def _get_attr_path(module: ModuleType, attr_path: str, path: str, what: str) -> Any:
    obj: Any = module
    try:
        done = getattr(module, "__name__", None)  # model code can put any object in sys.modules
    except BaseException:  # noqa: BLE001
        done = None
    done = done if type(done) is str else path.partition(":")[0]
    parts = attr_path.split(".")
    for index, part in enumerate(parts):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            # a suggestion is the whole path to write, the part before the failing one included
            written = path[: len(path) - len(attr_path)] + ".".join(parts[:index] + [""])
            raise ImportProblem(_no_attribute(obj, part, done, path, what, written)) from None
        except BaseException as exc:  # noqa: BLE001 - a module __getattr__ or property is model code
            raise ImportProblem(
                f"looking up {part!r} in {done!r} (the {what} {path!r}) raised {safe_text(exc)}"
            ) from exc
        done = f"{done}.{part}"
    return obj


#: at most this many names are listed after "it has the classes and functions"
_NAMES_LISTED = 12


def _no_attribute(obj: Any, part: str, done: str, path: str, what: str, written: str) -> str:
    """``'models' has no attribute 'TinyResNte' …; did you mean models:TinyResNet? (…)``.

    Only what could build a model is suggested and listed: classes, functions and
    other callables (a ready-made model instance), not the modules the file imported.
    ``written``: the path as given up to the failing part (``models:``), which a suggestion completes.
    """
    names = _buildable_names(obj)
    hint = did_you_mean(written + name for name in nearest(part, names))
    if names:
        shown = ", ".join(names[:_NAMES_LISTED]) + (f" and {len(names) - _NAMES_LISTED} more"
                                                    if len(names) > _NAMES_LISTED else "")
        listed = f"it has the classes and functions {shown}"
    else:
        listed = "it has no classes or functions"
    return (f"{done!r} has no attribute {part!r} (looking up the {what} {path!r}); "
            + (f"{hint} ({listed})" if hint else listed))


def _buildable_names(obj: Any) -> list[str]:
    """The public classes and callables of ``obj`` (not its modules; of a class, its nested classes
    and static or class methods, not its methods): those defined in the module itself first, then
    those it imported; each group sorted."""
    try:
        if isinstance(obj, ModuleType):
            items = list(dict(vars(obj)).items())  # the module's own dict: no module __getattr__ runs
            home = vars(obj).get("__name__")
        else:
            items = [(n, inspect.getattr_static(obj, n)) for n in dir(obj)]
            home = getattr(obj, "__module__", None)
    except BaseException:  # noqa: BLE001 - a custom __dir__ or __dict__ is model code; the list is a hint
        return []
    own, imported = [], []
    for name, value in items:
        try:
            if type(name) is not str or name.startswith("_") or isinstance(value, ModuleType):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            elif inspect.isclass(obj) and not inspect.isclass(value):
                continue  # a method builds no model
            if not callable(value):
                continue
            (own if getattr(value, "__module__", None) == home else imported).append(name)
        except BaseException:  # noqa: BLE001 - attributes of model objects are model code
            continue
    return sorted(own) + sorted(imported)


#: where a docs build looks for a package that does not import: conf.py's folder and the source
#: folder (set by the child drawing the diagram); empty: the working folder
_SEARCH_FROM: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("netviz_search_from",
                                                                               default=())
#: how many folders up from each start the package is looked for
_LEVELS_UP = 6


@contextmanager
def project_folders(folders: tuple[str, ...]) -> Iterator[None]:
    """Measure sys.path hints from ``folders`` (conf.py's folder first, then the source folder)."""
    token = _SEARCH_FROM.set(tuple(folders))
    try:
        yield
    finally:
        _SEARCH_FROM.reset(token)


def package_folder(top: str, starts: list[Path]) -> Path | None:
    """The folder that holds package or module ``top`` (``top/__init__.py``, ``top/*.py`` or
    ``top.py``): each start folder and those above it, and their ``src/`` (a src layout)."""
    for start in starts:
        for folder in [start, *start.parents][: _LEVELS_UP + 1]:
            for candidate in (folder, folder / "src"):
                package = candidate / top
                try:
                    if (package / "__init__.py").is_file() or (candidate / f"{top}.py").is_file() \
                            or (package.is_dir() and any(package.glob("*.py"))):
                        return candidate
                except OSError:
                    continue
    return None


def _missing_module_hint(module_name: str, missing: str) -> str:
    """How to make ``missing`` import, for the front end at work (see :func:`sys_path_hint`)."""
    if not (module_name == missing or module_name.startswith(missing + ".")):
        return (f"The module imports {missing!r}, which is not installed here: install it where "
                "the diagram is drawn")
    parent, _, last = missing.rpartition(".")
    if parent:  # the package imports: a submodule is misspelt
        try:
            found = [m.name for m in pkgutil.iter_modules(sys.modules[parent].__path__)]
        except BaseException:  # noqa: BLE001 - a hint only
            found = []
        near = did_you_mean(f"{parent}.{n}" for n in nearest(last, found))
        return f"Check the spelling{': ' + near if near else ''}"
    return sys_path_hint(missing)


def sys_path_hint(top: str) -> str:
    """What puts package ``top`` on ``sys.path``, worded for the front end at work and computed
    from where it is: the exact ``sys.path.insert`` line for ``conf.py``, ``-p DIR`` on the command
    line, or the folder to insert in Python; where no folder holds it, that, and where to put it."""
    frontend_now = frontend()
    starts = [Path(f) for f in _SEARCH_FROM.get() if f] or [Path.cwd()]
    starts = [Path(os.path.abspath(f)) for f in starts]
    found = package_folder(top, starts)
    base = starts[0]  # conf.py's folder, or the working folder
    if found is not None:
        relative = Path(os.path.relpath(found, base)).as_posix()
        there = f"{top!r} is in {found}, which is not on sys.path"
        if frontend_now is Frontend.CLI:
            return f"{there}: give -p {relative}, or install it"
        if frontend_now is Frontend.API:
            return f"{there}: sys.path.insert(0, {str(found)!r}) first, or install it"
        return f"{there}: add sys.path.insert(0, os.path.abspath({relative!r})) to {base / 'conf.py'}, or install it"
    where = " or ".join(str(s) for s in dict.fromkeys(starts))
    missing = (f"Check the spelling: no folder holding {top}/ or {top}.py was found in {where}, the folders "
               "above, or their src/")
    if frontend_now is Frontend.CLI:
        return f"{missing}; install it, or give -p DIR with the folder that holds it"
    if frontend_now is Frontend.API:
        return f"{missing}; install it, or sys.path.insert(0, DIR) with the folder that holds it"
    return (f"{missing}; install it (pip install -e on its project), or put it in {base.parent} and add "
            f"sys.path.insert(0, os.path.abspath('..')) to {base / 'conf.py'}")


def build_model(spec: DiagramSpec, device: str = "cpu", model: Any = IMPORT, inputs: Any = IMPORT) -> LoadedModel:
    """Import and instantiate the spec's model on ``device`` and make its example inputs.

    On ``cpu`` the weights are real (seeded, so exports are byte-identical);
    on ``meta`` nothing is allocated: parameters and inputs carry only shape
    and dtype.  ``model``: the class, factory or instance itself, already in
    memory (:func:`sphinx_netviz.draw`), instead of importing ``spec.target``;
    ``inputs``: likewise, the function that returns the example inputs, instead
    of importing ``spec.inputs``.
    """
    import torch

    if model is IMPORT:
        target, module = import_object(spec.target)
    else:
        target = model
        module = inspect.getmodule(model if inspect.isclass(model) or inspect.isfunction(model) else type(model))
    source_modules = [module] if module is not None else []
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            with torch.device(device), _default_dtype(spec.dtype), \
                    _skip_meta_initialisers() if device == "meta" else nullcontext():
                model = _instantiate(target, spec, torch.nn.Module)
            if device == "meta" and model is not target:
                _strays_to_meta(model)
            if spec.dtype != "auto":  # also what the constructor made in a fixed dtype
                model.to(getattr(torch, spec.dtype))
            # a ready-made instance lives where it was built; its inputs must too
            device = next((p.device.type for p in model.parameters()), device)
            # a scripted model's class is torch's RecursiveScriptModule: not a source of the diagram
            defining = None if isinstance(model, torch.jit.ScriptModule) else inspect.getmodule(type(model))
            if defining is not None and defining is not module:
                source_modules.append(defining)
            if spec.inputs:
                if inputs is IMPORT:
                    args, kwargs, names, inputs_module = _inputs_from_callable(spec.inputs)
                    source_modules.append(inputs_module)
                else:
                    args, kwargs, names = _inputs_of(inputs, spec.inputs)
                try:
                    cast = None if spec.dtype == "auto" else getattr(torch, spec.dtype)
                    args, kwargs = _to_device((args, kwargs), device, cast)
                except BaseException as exc:  # noqa: BLE001 - the inputs' own types are model code
                    raise InputProblem(
                        f"{say('inputs')} {spec.inputs}() returned inputs that cannot be moved to {device}: "
                        f"{safe_text(exc)}"
                    ) from exc
            else:
                args, kwargs, names = _inputs_from_shapes(spec, device), {}, _shape_input_names(spec)
        model.eval()
        name = _model_name(target, model)
        size = weight_bytes(model)
    except NetvizError:
        raise
    except BaseException as exc:  # noqa: BLE001 - model code (its parameters(), eval()...); see above
        raise TraceProblem(f"building {spec.target} raised {safe_text(exc)}") from exc
    return LoadedModel(model, args, kwargs, names, name, source_modules, device, size,
                       ready_made=model is target)


def _strays_to_meta(model: Any) -> None:
    """Move the parameters and buffers a model built on meta made elsewhere to meta too.

    Legacy constructors (``torch.FloatTensor(n).uniform_()``) ignore the
    ``torch.device("meta")`` context, so a model can come out with tensors on
    meta *and* on the CPU; its device must be one, and its size counted whole.
    """
    tensors = [*model.parameters(), *model.buffers()]
    if any(not t.is_meta for t in tensors) and any(t.is_meta for t in tensors):
        model.to("meta")


def _model_name(target: Any, model: Any) -> str:
    """The name the diagram shows: the class or factory named, else the model's class."""
    import torch

    try:
        if isinstance(model, torch.jit.ScriptModule):  # its class is RecursiveScriptModule
            name = getattr(target, "__name__", None) if target is not model else None
            name = name or getattr(model, "original_name", None)
        else:
            name = getattr(target, "__name__", None)
        if type(name) is str and name:
            return name[:200]
    except BaseException:  # noqa: BLE001 - a name is best effort
        pass
    return _type_name(type(model))


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


def _to_device(value: Any, device: str, float_dtype: Any = None) -> Any:
    """``value`` with its tensors on ``device``, floating-point ones cast to ``float_dtype`` if given."""
    import torch

    if isinstance(value, torch.Tensor):
        cast = float_dtype is not None and value.is_floating_point()
        return value.to(device, float_dtype) if cast else value.to(device)
    if isinstance(value, dict):
        return {k: _to_device(v, device, float_dtype) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple takes its fields
        return type(value)(*(_to_device(v, device, float_dtype) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device, float_dtype) for v in value)
    return value


@contextmanager
def _default_dtype(name: str) -> Iterator[None]:
    """Make ``name`` torch's default floating dtype while a model is built (``auto``: leave it)."""
    import torch

    if name == "auto":
        yield
        return
    before = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, name))
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def _instantiate(target: Any, spec: DiagramSpec, module_cls: type) -> Any:
    if isinstance(target, module_cls):
        if spec.kwargs:
            raise InputProblem(
                f"{spec.target} is already a model instance; {say('kwargs')} only apply to a class or factory"
            )
        return target
    if not callable(target):
        raise ImportProblem(
            f"{spec.target} is of type {_type_name(type(target))}, not a torch.nn.Module subclass "
            "or a function that returns one"
        )
    try:
        model = target(**spec.kwargs)
    except TypeError as exc:
        raise InputProblem(
            f"calling {spec.target} with {say('kwargs', repr(spec.kwargs))} failed: {safe_text(exc)}"
        ) from exc
    except BaseException as exc:  # noqa: BLE001 - model code, even sys.exit(); see the module docstring
        raise TraceProblem(f"building {spec.target} raised {safe_text(exc)}") from exc
    if not isinstance(model, module_cls):
        raise ImportProblem(
            f"{spec.target} returned an object of type {_type_name(type(model))}, not a "
            "torch.nn.Module; name an nn.Module subclass or a function that returns a model"
        )
    return model


def _shape_input_names(spec: DiagramSpec) -> list[str]:
    if len(spec.input_shapes) == 1:
        return ["input"]
    return [f"input_{i}" for i in range(len(spec.input_shapes))]


def _inputs_from_shapes(spec: DiagramSpec, device: str) -> tuple[Any, ...]:
    """Seeded example inputs; an input too big for memory is an :class:`InputProblem`."""
    import torch

    generator = torch.Generator().manual_seed(SEED)
    tensors = []
    for shape, dtype_name in zip(spec.input_shapes, spec.dtypes_per_input):
        dtype = getattr(torch, dtype_name)
        try:
            if device == "meta":
                tensors.append(torch.empty(shape, dtype=dtype, device="meta"))
            elif dtype.is_floating_point:
                tensors.append(torch.randn(shape, generator=generator).to(dtype))
            else:
                tensors.append(torch.zeros(shape, dtype=dtype))
        except (RuntimeError, MemoryError) as exc:  # "can't allocate memory", or past torch's own limits
            size = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
            raise InputProblem(
                f"{say('input_shapes', ', '.join(map(str, shape)))} ({dtype_name}) needs {size_text(size)} "
                f"for its example input on the CPU, which could not be allocated ({safe_text(exc, 200)}); "
                f"give a smaller shape, or {say('device', 'meta')} to trace without allocating"
            ) from exc
    return tuple(tensors)


def _inputs_from_callable(path: str) -> tuple[tuple[Any, ...], dict[str, Any], list[str], ModuleType]:
    factory, module = import_object(path, what=say("inputs"))
    return (*_inputs_of(factory, path), module)


def _inputs_of(factory: Any, path: str) -> tuple[tuple[Any, ...], dict[str, Any], list[str]]:
    """The example inputs ``factory()`` returns (``path`` names it in messages)."""
    import torch

    if not callable(factory):
        raise ImportProblem(f"{say('inputs')} {path} is of type {_type_name(type(factory))}, not a function")
    try:
        value = factory()
    except BaseException as exc:  # noqa: BLE001 - model code, even sys.exit(); see the module docstring
        raise InputProblem(f"{say('inputs')} {path}() raised {safe_text(exc)}") from exc
    try:  # the value's own methods (a dict or list subclass) are model code too
        if isinstance(value, torch.Tensor):
            return (value,), {}, ["input"]
        if isinstance(value, dict):
            kwargs = dict(value)
            if all(type(k) is str for k in kwargs):
                return (), kwargs, list(kwargs)
            raise InputProblem(f"{say('inputs')} {path}() returned a dict whose keys are not all strings; "
                               "return a dict of keyword inputs, e.g. {'x': torch.randn(1, 4)}")
        if isinstance(value, (tuple, list)):
            args = tuple(value)
            names = ["input"] if len(args) == 1 else [f"input_{i}" for i in range(len(args))]
            return args, {}, names
    except NetvizError:
        raise
    except BaseException as exc:  # noqa: BLE001
        raise InputProblem(
            f"{say('inputs')} {path}() returned a {_type_name(type(value))} that cannot be read: {safe_text(exc)}"
        ) from exc
    raise InputProblem(
        f"{say('inputs')} {path}() returned an object of type {_type_name(type(value))}; return a tensor, "
        "a tuple of positional inputs, or a dict of keyword inputs"
    )
