"""Draw an existing ONNX file: read its graph into the same :class:`~sphinx_netviz.ir.Trace` the tracer records.

Pipeline step *read* (spec → **read** → fold → graph → dot → layouts → views),
the stand-in for load → trace when the directive names an ``.onnx`` file
instead of a model.  Everything after it (folding, depths, the viewer, the
summary table) is the same as for a traced model.  Nothing here imports torch
or Sphinx; :mod:`onnx` is imported when a file is read.

What a file becomes:

* **Module calls from scopes.**  A node's scope is read, in order of preference,
  from the ``pkg.torch.onnx.name_scopes`` metadata the dynamo exporter writes
  (``['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d']``, with the classes in
  ``pkg.torch.onnx.class_hierarchy``), or from its name, split at ``/``: the
  TorchScript exporter's ``/layer1/layer1.0/conv1/Conv`` and the TensorFlow/Keras
  converters' ``model/dense/MatMul`` (the last part names the operator itself).
  Scope parts become module paths as PyTorch writes them (``layer1.0.conv1``);
  leading parts every node shares (``model``, ``StatefulPartitionedCall``) are the
  model itself, not a cluster.  A file whose nodes carry no scope at all is drawn
  one box per operator (each a one-operator scope named after the node).
* **Function calls for operators**, named by op type (``Conv``, ``MatMul``).
  Nodes that only compute from weights and constants (``Constant``, an
  ``Identity`` or ``DequantizeLinear`` of an initializer) are not drawn: like
  parameters in a traced model, their values feed the operators that use them.
  An ``If``, ``Loop`` or ``Scan`` is one operator (its subgraphs are not opened);
  so is a call of a model-local ONNX function.
* **Class names**: the class from ``pkg.torch.onnx.class_hierarchy`` where the
  dynamo exporter wrote it (``Conv2d``, with its qualified name for links);
  otherwise the operator types inside the scope (``Conv``, ``MatMul+Add``,
  ``Conv+Relu+…`` for a scope with more kinds), leaving out those that only move
  data (``Transpose``, ``Reshape``…) when there are others.
* **Hyper-parameters** (where a traced module shows its ``extra_repr``): the
  attributes of the scope's own operators (again not those that only move data,
  when there are others), values left at their ONNX defaults omitted
  (``kernel_shape=(3, 3), pads=(1, 1, 1, 1)``).
* **Parameters**: each scope counts the elements of the initializers its
  operators read (through weight-only nodes), each once; ``int64``, ``bool`` and
  string initializers are shapes and indices, not parameters.  Only the shapes
  in the file are read: weights in external data files are never opened.
* **Tensor shapes and dtypes** from the file's ``value_info``, inputs and
  outputs, completed by ONNX shape inference (run on a copy without the weight
  values).  A symbolic dimension keeps its name (``batch×3×224×224``); an
  unknown one (or one named ``unk__N``, as inference and tf2onnx name what they
  do not know) is ``?``, and a tensor of unknown rank is drawn ``?``.
* **MACs** of ``Conv``, ``Gemm`` and ``MatMul`` where the shapes are known.

Node order: the operators are scheduled in a topological order that keeps each
scope's operators together where the data flow allows (a scope split by its data
flow is drawn as several calls, ``attn``, ``attn#2``, like a module called twice).

A file is untrusted input: names, attribute strings and scope names may be any
text.  They are cleaned (no control characters, bounded length) and reach the
page only through the escaping of :mod:`~sphinx_netviz.dot` and the sanitised SVG
(:mod:`~sphinx_netviz.svgsafe`); a file with more than :data:`MAX_NODES` nodes is
refused with a message rather than read for minutes.  A file that does not parse
is an :class:`~sphinx_netviz.errors.ImportProblem`; the parsing runs in the
child process that draws the diagram, like model code.
"""

from __future__ import annotations

import ast
import heapq
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ImportProblem, _clean, safe_text
from .ir import Call, ModuleInfo, TensorMeta, Trace
from .values import size_text

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto, TypeProto

#: a file with more nodes than this is not read (its drawing could not be read either)
MAX_NODES = 100_000
#: protobuf cannot parse a message bigger than this
MAX_FILE_BYTES = 2**31 - 1
#: longest name (scope, path, class, input) kept from the file
MAX_NAME = 200
#: longest hyper-parameter text (as :func:`sphinx_netviz.describe.hyperparameters` cuts ``extra_repr``)
MAX_HPARAMS = 72
#: longest symbolic dimension name kept
MAX_DIM_NAME = 24
#: metadata the dynamo exporter writes on each node
NAME_SCOPES = "pkg.torch.onnx.name_scopes"
CLASS_HIERARCHY = "pkg.torch.onnx.class_hierarchy"
#: longest metadata value parsed (a scope list)
_MAX_METADATA = 20_000
#: graph names that say nothing about the model
_GENERIC_GRAPH_NAMES = {"", "main_graph", "torch_jit", "torch-jit-export", "tf2onnx", "graph", "model",
                        "statefulpartitionedcall", "partitionedcall", "sequential", "functional"}
#: initializer types that hold shapes or indices rather than parameters
_NOT_PARAMETERS = {"int64", "bool", "string"}
#: attribute values ONNX takes by default (left out of the hyper-parameters): name -> test
_DEFAULT_ATTRIBUTES: dict[str, Any] = {
    "group": 1, "auto_pad": "NOTSET", "ceil_mode": 0, "count_include_pad": 0, "storage_order": 0,
    "keepdims": 1, "noop_with_empty_axes": 0, "transA": 0, "transB": 0, "training_mode": 0,
    "dilations": ("all", 1), "strides": ("all", 1), "pads": ("all", 0),
}
#: attributes whose default depends on the op: (op, name) -> default
_OP_DEFAULTS: dict[tuple[str, str], Any] = {("Gemm", "alpha"): 1.0, ("Gemm", "beta"): 1.0,
                                             ("BatchNormalization", "epsilon"): 1e-5,
                                             ("BatchNormalization", "momentum"): 0.9,
                                             ("LayerNormalization", "epsilon"): 1e-5,
                                             ("LayerNormalization", "axis"): -1}
#: operators that only move data around: left out of a scope's class name and hyper-parameters
#: when it has others (tf2onnx puts a ``Transpose`` into each NHWC convolution's scope)
_PLUMBING = {"Transpose", "Reshape", "Identity", "Cast", "Squeeze", "Unsqueeze", "Flatten"}
#: the names ONNX shape inference and tf2onnx give dimensions they know nothing about
_UNKNOWN_DIM = re.compile(r"^unk__\d+$")
_DOTS = re.compile(r"\.{2,}")
_DOTTED_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_DIM_CHARS = re.compile(r"[^A-Za-z0-9_]")


@dataclass
class OnnxFile:
    """An ONNX file read for drawing: its trace, its bytes (the download) and what the author is told."""

    path: str
    #: the file's own bytes (its external data, if any, is not among them)
    data: bytes
    trace: Trace
    #: info-level notes (what was read, what was inferred)
    notes: list[str] = field(default_factory=list)
    #: the file keeps (some of) its weights in external data files, which were not read
    external_data: bool = False


def is_onnx_path(target: str) -> bool:
    """Whether a directive's target names an ONNX file (it ends in ``.onnx``) rather than a model."""
    return target.strip().lower().endswith(".onnx")


def trace_onnx(path: str | Path) -> Trace:
    """The :class:`~sphinx_netviz.ir.Trace` of an ONNX file, for the rest of the pipeline.

    Raises :class:`~sphinx_netviz.errors.ImportProblem` for a file that cannot
    be read, does not parse as ONNX, or is too big to draw.  The file's
    external data (weights) is never read.
    """
    return read_onnx_file(path).trace


def read_onnx_file(path: str | Path) -> OnnxFile:
    """Read and parse an ONNX file (never its external data); see :func:`trace_onnx`."""
    import onnx
    from google.protobuf.message import DecodeError

    shown = Path(path).name
    data = read_regular_file(path)
    try:
        model = onnx.load_model_from_string(data)  # never reads external data
    except (DecodeError, ValueError, TypeError, RuntimeError) as exc:
        raise ImportProblem(f"{shown} is not an ONNX model: it does not parse ({safe_text(exc, 200)})") from exc
    if not model.HasField("graph") or not (len(model.graph.node) or len(model.graph.input)
                                           or len(model.graph.output)):
        raise ImportProblem(f"{shown} is not an ONNX model: it holds no graph")
    trace, notes = trace_model_proto(model, Path(path).stem)
    external = any(_is_external(t) for t in model.graph.initializer)
    if external:
        notes.append(f"{shown} keeps weights in external data files: they were not read (the parameter "
                     "counts come from the shapes in the file), and the download is the .onnx file alone")
    return OnnxFile(str(path), data, trace, notes, external)


#: what a path that is not a regular file is, for messages
_FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def check_regular_file(path: str | Path) -> os.stat_result:
    """The status of ``path`` (symbolic links followed) if it is a regular file, without opening it.

    Anything else is an :class:`~sphinx_netviz.errors.ImportProblem` that names
    what it is: reading a named pipe waits for a writer forever, a device such
    as ``/dev/zero`` never ends.  Every front end reads a file through here
    (the directive checks with it too, before it starts a child).
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ImportProblem(f"cannot read the ONNX file {path}: {exc.strerror or safe_text(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a file")
        real = os.path.realpath(path)
        what = f"links to {real}, {kind}" if real != os.path.abspath(path) else f"is {kind}"
        raise ImportProblem(f"the ONNX file {path} {what}, not a regular file; name the .onnx file itself")
    if info.st_size > MAX_FILE_BYTES:
        raise ImportProblem(f"the ONNX file {path} is {size_text(info.st_size)}; ONNX files keep at most 2 GB "
                            "in the file itself (bigger models keep their weights in external data)")
    return info


def read_regular_file(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (see :func:`check_regular_file`), at most ``limit``.

    The file is opened without waiting (``O_NONBLOCK``: a named pipe put in
    its place after the check does not block) and checked again once open;
    a file that grows past ``limit`` while it is read is refused.
    """
    check_regular_file(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ImportProblem(f"the ONNX file {path} changed into something other than a regular "
                                    "file while it was read; name the .onnx file itself")
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ImportProblem(f"cannot read the ONNX file {path}: {exc.strerror or safe_text(exc)}") from None
    if len(data) > limit:
        raise ImportProblem(f"the ONNX file {path} grew past {size_text(limit)} while it was read")
    return data


def _is_external(tensor: Any) -> bool:
    from onnx import TensorProto

    return tensor.HasField("data_location") and tensor.data_location == TensorProto.EXTERNAL


# -- the model -----------------------------------------------------------------------------------

def trace_model_proto(model: ModelProto, fallback_name: str = "model") -> tuple[Trace, list[str]]:
    """The trace of a parsed ONNX model, and notes on how it was read (see the module docstring)."""
    graph = model.graph
    if len(graph.node) > MAX_NODES:
        raise ImportProblem(
            f"the ONNX file has {len(graph.node):,} nodes, more than the {MAX_NODES:,} netviz reads (a "
            "drawing of so many operators cannot be read, nor laid out in reasonable time); draw a "
            "smaller model, e.g. one block exported on its own")
    notes: list[str] = []
    types, inferred = _value_types(model, notes)
    reader = _GraphReader(model, types, fallback_name)
    trace = reader.trace()
    opsets = ", ".join(f"{d or 'ai.onnx'} {o.version}" for o in model.opset_import for d in [_clean(o.domain, 40)])
    producer = _clean(f"{model.producer_name} {model.producer_version}".strip(), 80)
    notes.insert(0, f"read {len(graph.node):,} ONNX nodes (opset {opsets or 'not given'}"
                    f"{', made by ' + producer if producer else ''}): {reader.drawn:,} operators drawn, "
                    f"{len(trace.modules) - 1:,} scopes")
    if inferred:
        notes.append(f"ONNX shape inference gave the shapes of {inferred:,} tensor{'s' if inferred > 1 else ''} "
                     "the file did not")
    if reader.unknown_shapes and reader.unknown_shapes == reader.edges:
        notes.append("the file has no shape information and ONNX shape inference found none: edges show ?")
    return trace, notes


def _value_types(model: ModelProto, notes: list[str]) -> tuple[dict[str, TypeProto], int]:
    """Each value's type: the file's own ``value_info``, inputs and outputs, then ONNX shape inference.

    Inference runs on a copy whose big initializers have no values (their
    shapes are enough), so a file's weights are not copied.
    """
    import onnx

    graph = model.graph
    types: dict[str, TypeProto] = {}
    for info in [*graph.input, *graph.output, *graph.value_info]:
        if info.HasField("type") and (info.name not in types or _has_shape(info.type)):
            types[info.name] = info.type
    for tensor in graph.initializer:
        if tensor.name not in types:
            types[tensor.name] = onnx.helper.make_tensor_type_proto(tensor.data_type, list(tensor.dims))
    produced = {out for node in graph.node for out in node.output if out}
    if all(name in types and _has_shape(types[name]) for name in produced):
        return types, 0
    skeleton = onnx.ModelProto(ir_version=model.ir_version)
    skeleton.opset_import.extend(model.opset_import)
    skeleton.functions.extend(model.functions)
    skeleton.graph.name = graph.name
    for part in ("node", "input", "output", "value_info", "sparse_initializer"):
        getattr(skeleton.graph, part).extend(getattr(graph, part))
    for tensor in graph.initializer:
        if _numel(tensor.dims) <= 64 and not _is_external(tensor):  # shape tensors: inference reads them
            skeleton.graph.initializer.add().CopyFrom(tensor)
        else:  # a weight: its shape is enough
            skeleton.graph.initializer.add(name=tensor.name, data_type=tensor.data_type, dims=tensor.dims)
    try:
        inferred = onnx.shape_inference.infer_shapes(skeleton, check_type=False, strict_mode=False,
                                                     data_prop=True)
    except Exception as exc:  # noqa: BLE001 - a malformed file's own problem: draw what the file says
        notes.append(f"ONNX shape inference failed ({safe_text(exc, 200)}); edges show the shapes the file gives")
        return types, 0
    count = 0
    for info in [*inferred.graph.value_info, *inferred.graph.output]:
        known = types.get(info.name)
        if info.HasField("type") and _has_shape(info.type) and (known is None or not _has_shape(known)):
            types[info.name] = info.type
            count += 1
    return types, count


def _has_shape(type_proto: TypeProto) -> bool:
    return type_proto.HasField("tensor_type") and type_proto.tensor_type.HasField("shape")


def _numel(dims: Iterable[int]) -> int:
    count = 1
    for dim in dims:
        count *= max(int(dim), 0)
    return count


def _dtype_name(elem_type: int) -> str:
    """``float32`` for ``TensorProto.FLOAT``: torch's names, as a trace writes them."""
    from onnx import TensorProto

    try:
        name = TensorProto.DataType.Name(elem_type)
    except ValueError:
        return ""
    return {"FLOAT": "float32", "DOUBLE": "float64", "UNDEFINED": ""}.get(name, name.lower())


def _dim_text(dim: Any) -> int | str:
    if dim.HasField("dim_value") and dim.dim_value >= 0:
        return int(dim.dim_value)
    if dim.HasField("dim_param") and not _UNKNOWN_DIM.match(dim.dim_param):
        return _DIM_CHARS.sub("", dim.dim_param)[:MAX_DIM_NAME] or "?"
    return "?"


def tensor_meta(type_proto: TypeProto | None) -> TensorMeta:
    """Shape and dtype of a value's type (``?`` for what the file does not say)."""
    if type_proto is None:
        return TensorMeta(("?",), "")  # type: ignore[arg-type]
    kind = type_proto.WhichOneof("value")
    if kind != "tensor_type":
        return TensorMeta(("?",), {"sequence_type": "sequence", "map_type": "map",  # type: ignore[arg-type]
                                   "optional_type": "optional"}.get(kind or "", ""))
    tensor = type_proto.tensor_type
    dtype = _dtype_name(tensor.elem_type)
    if not tensor.HasField("shape"):
        return TensorMeta(("?",), dtype)  # type: ignore[arg-type]
    return TensorMeta(tuple(_dim_text(d) for d in tensor.shape.dim), dtype)  # type: ignore[arg-type]


# -- attributes ----------------------------------------------------------------------------------

def _attribute_value(attribute: Any) -> object:
    """An attribute's value as plain Python (tensors and graphs as short descriptions)."""
    from onnx import AttributeProto

    kind = attribute.type
    if kind == AttributeProto.INT:
        return int(attribute.i)
    if kind == AttributeProto.FLOAT:
        return float(attribute.f)
    if kind == AttributeProto.STRING:
        return attribute.s.decode("utf-8", "replace")
    if kind == AttributeProto.INTS:
        return tuple(int(v) for v in attribute.ints[:9])
    if kind == AttributeProto.FLOATS:
        return tuple(float(v) for v in attribute.floats[:9])
    if kind == AttributeProto.STRINGS:
        return tuple(s.decode("utf-8", "replace") for s in attribute.strings[:9])
    if kind == AttributeProto.TENSOR:
        return _Raw(f"tensor {'×'.join(str(d) for d in attribute.t.dims) or 'scalar'}")
    if kind in (AttributeProto.GRAPH, AttributeProto.GRAPHS):
        return _Raw("graph")
    return _Raw(AttributeProto.AttributeType.Name(kind).lower() if kind else "?")


class _Raw(str):
    """An attribute value shown as it is (not quoted)."""


def _format(value: object, cut: int) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, str):
        return repr(_clean(value, 40))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        items = [_format(v, cut) for v in value[:8]] + (["…"] if cut > 8 or len(value) > 8 else [])
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    return str(value)


def _is_default(op_type: str, name: str, value: object) -> bool:
    default = _OP_DEFAULTS.get((op_type, name), _DEFAULT_ATTRIBUTES.get(name, _NO_DEFAULT))
    if isinstance(default, tuple) and default[:1] == ("all",):
        return isinstance(value, tuple) and all(v == default[1] for v in value)
    if isinstance(default, float) and isinstance(value, float):
        return abs(value - default) <= 1e-9 * max(1.0, abs(default))
    return default is not _NO_DEFAULT and value == default


_NO_DEFAULT = object()


def node_hparams(node: NodeProto | _Node) -> str:
    """``kernel_shape=(3, 3), pads=(1, 1, 1, 1)``: a node's attributes, defaults left out."""
    parts = []
    for attribute in node.attribute:
        name = _clean(attribute.name, 40)
        value = _attribute_value(attribute)
        if _is_default(node.op_type, attribute.name, value):
            continue
        total = len(attribute.ints) or len(attribute.floats) or len(attribute.strings)
        parts.append(f"{name}={_format(value, total)}")
    return ", ".join(parts)


def _shorten(text: str, limit: int = MAX_HPARAMS) -> str:
    text = _clean(text, 10 * limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- scopes --------------------------------------------------------------------------------------

def _metadata(node: _Node) -> dict[str, str]:
    return {p.key: p.value for p in node.metadata_props if p.key in (NAME_SCOPES, CLASS_HIERARCHY)}


def _string_list(text: str | None) -> list[str] | None:
    """A list of strings written as a Python literal (the dynamo exporter's metadata), else None."""
    if not text or len(text) > _MAX_METADATA:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


@dataclass(frozen=True)
class _Scope:
    """Where a node ran: its raw scope parts (outermost first) and their classes where known."""

    parts: tuple[str, ...]
    classes: tuple[str | None, ...]
    #: the parts are full module paths (the dynamo exporter's), not names relative to the parent
    full_paths: bool = False
    #: the name starts at the model's root (``/layer1/Conv``: the TorchScript exporter's)
    rooted: bool = False


def _raw_scope(node: _Node) -> _Scope:
    meta = _metadata(node)
    scopes = _string_list(meta.get(NAME_SCOPES))
    if scopes and len(scopes) >= 2:
        classes = _string_list(meta.get(CLASS_HIERARCHY)) or []
        start = 1 if scopes[0] == "" else 0
        parts = tuple(scopes[start:-1])
        found = tuple(classes[i] if i < len(classes) else None for i in range(start, len(scopes) - 1))
        return _Scope(parts, found, full_paths=True)
    segments = [s for s in node.name.split("/") if s]
    return _Scope(tuple(segments[:-1]), (None,) * max(0, len(segments) - 1), rooted=node.name.startswith("/"))


def _segment(text: str) -> str:
    """A scope part as a piece of a module path, on one clean line.

    Its dots stay: the TorchScript exporter names a ``ModuleList``'s children
    ``layer.0`` under the module that holds the list (which is never called
    itself), and a traced model's path is ``encoder.layer.0`` too.
    """
    return _clean(_DOTS.sub(".", text).strip("."), 60) or "_"


def module_paths(parts: Sequence[str], full_paths: bool = False) -> tuple[str, ...]:
    """The module path of each scope level: ``('layer1', 'layer1.0', 'conv1')`` →
    ``('layer1', 'layer1.0', 'layer1.0.conv1')``.

    The TorchScript exporter names a numbered child of a ``Sequential`` with its
    parent's name (``layer1.0`` under ``layer1``) and a ``ModuleList``'s children
    with the list's (``layer.0`` under ``encoder``: ``encoder.layer.0``); the
    dynamo exporter writes full paths (``layer1.0.conv1``).  Either way the paths
    are those of the traced model.
    """
    paths: list[str] = []
    previous = ""
    for part in parts:
        base = paths[-1] if paths else ""
        if full_paths and base and part.startswith(base + "."):
            own = part[len(base) + 1:]
        elif previous and part.startswith(previous + "."):
            own = part[len(previous) + 1:]
        else:
            own = part
        path = f"{base}.{_segment(own)}" if base else _segment(own)
        paths.append(path[: 4 * MAX_NAME])
        previous = part
    return tuple(paths)


def _short_class(qualified: str | None) -> tuple[str, str]:
    """``('Conv2d', 'torch.nn.modules.conv.Conv2d')`` from a class hierarchy entry (qualname only if a
    dotted name: it becomes a cross-reference)."""
    if not qualified:
        return "", ""
    text = _clean(qualified, MAX_NAME)
    short = text.rsplit(".", 1)[-1] or text
    return short, text if _DOTTED_NAME.match(text) else ""


def _ops_class(op_types: list[str]) -> str:
    """``Conv``, ``MatMul+Add``, ``Conv+Relu+Add``, ``Conv+Relu+…``: the operators inside a scope
    (those that only move data around left out, unless there are no others)."""
    op_types = [op for op in op_types if op not in _PLUMBING] or op_types
    shown = op_types[:3] if len(op_types) <= 3 else [*op_types[:2], "…"]
    return "+".join(shown)


# -- the graph -----------------------------------------------------------------------------------

class _Node:
    """A node's fields read once from the protobuf (whose every field access is slow) as plain data."""

    __slots__ = ("name", "op_type", "input", "output", "attribute", "metadata_props")

    def __init__(self, proto: NodeProto) -> None:
        self.name: str = proto.name
        self.op_type: str = proto.op_type
        self.input: tuple[str, ...] = tuple(proto.input)
        self.output: tuple[str, ...] = tuple(proto.output)
        self.attribute = proto.attribute
        self.metadata_props = proto.metadata_props


class _GraphReader:
    """One pass over a graph: constants, schedule, scopes, then the trace's calls, modules and tensors."""

    def __init__(self, model: ModelProto, types: dict[str, TypeProto], fallback_name: str) -> None:
        self.model = model
        self.graph = model.graph
        self.types = types
        self.fallback_name = fallback_name
        self.drawn = 0
        self.edges = 0
        self.unknown_shapes = 0

    def trace(self) -> Trace:
        graph = self.graph
        initializers = {t.name: t for t in graph.initializer}
        initializers.update({t.values.name: t.values for t in graph.sparse_initializer})
        # values known without the inputs: initializers, and what nodes make from them alone
        constant_sources: dict[str, frozenset[str]] = {name: frozenset([name]) for name in initializers}
        nodes: list[_Node] = []
        for node in map(_Node, graph.node):
            inputs = [name for name in node.input if name]
            if all(name in constant_sources for name in inputs) and node.op_type not in ("If", "Loop", "Scan"):
                sources = frozenset().union(*(constant_sources[name] for name in inputs))
                for out in node.output:
                    if out:
                        constant_sources[out] = sources
            else:
                nodes.append(node)
        self.drawn = len(nodes)
        self.constant_sources = constant_sources
        self.initializers = initializers
        scopes = self._scopes(nodes)
        order = _schedule(nodes, scopes, constant_sources)
        return self._build(nodes, scopes, order)

    # -- scopes ----------------------------------------------------------------------------------
    def _scopes(self, nodes: list[_Node]) -> list[tuple[str, ...]]:
        """Each node's module paths, outermost first (shared leading parts dropped)."""
        raw = [_raw_scope(node) for node in nodes]
        self.root_class: str | None = None
        self.model_name = ""
        for node, scope in zip(nodes, raw):  # the dynamo exporter's root class names the model
            if scope.full_paths:
                node_classes = _string_list(_metadata(node).get(CLASS_HIERARCHY)) or []
                self.root_class = node_classes[0] if node_classes else None
                break
        # leading parts every node shares are the model itself (Keras' ``model/``, tf2onnx's
        # ``StatefulPartitionedCall/``): not a cluster around everything.  PyTorch's names start
        # below the model (``/fc/Gemm``), their first part a module.
        shared = 0
        if raw and not any(s.full_paths or s.rooted for s in raw):
            while all(len(s.parts) > shared for s in raw) and len({s.parts[shared] for s in raw}) == 1:
                shared += 1
            named = [p for p in raw[0].parts[:shared] if p.strip().lower() not in _GENERIC_GRAPH_NAMES]
            self.model_name = _clean(named[-1], MAX_NAME) if named else ""
        self.classes: dict[str, tuple[str, str]] = {}
        paths: list[tuple[str, ...]] = []
        for scope in raw:
            parts = scope.parts[shared:]
            levels = module_paths(parts, scope.full_paths)
            for path, qualified in zip(levels, scope.classes[shared:]):
                if qualified and path not in self.classes:
                    self.classes[path] = _short_class(qualified)
            paths.append(levels)
        if nodes and not any(paths):  # no scopes at all: one box per operator
            paths = self._one_scope_per_node(nodes)
        return paths

    def _one_scope_per_node(self, nodes: list[_Node]) -> list[tuple[str, ...]]:
        used: dict[str, int] = {}
        paths = []
        for index, node in enumerate(nodes):
            name = _segment(node.name.rsplit("/", 1)[-1]) if node.name.strip() else f"{node.op_type.lower()}_{index}"
            name = _segment(name)
            count = used.get(name, 0)
            used[name] = count + 1
            paths.append((name if not count else f"{name}_{count + 1}",))
        return paths

    # -- the trace -------------------------------------------------------------------------------
    def _build(self, nodes: list[_Node], scopes: list[tuple[str, ...]], order: list[int]) -> Trace:
        tensors: dict[int, TensorMeta] = {}
        tensor_ids: dict[str, int] = {}

        def tid(name: str) -> int:
            found = tensor_ids.get(name)
            if found is None:
                found = tensor_ids[name] = len(tensor_ids)
                meta = tensor_meta(self.types.get(name))
                tensors[found] = meta
            return found

        graph = self.graph
        inputs = [(_clean(v.name, MAX_NAME) or f"input_{i}", tid(v.name))
                  for i, v in enumerate(v for v in graph.input if v.name not in self.initializers)]
        calls: list[Call] = []
        next_id = 0
        repeats: dict[str, int] = {}
        root = Call(id=next_id, kind="module", name="", parent=None)
        next_id += 1
        stack: list[tuple[str, Call]] = []  # open module calls below the root, outermost first
        members: dict[int, list[int]] = {root.id: []}  # call id -> positions of its operators
        position_of: dict[int, int] = {}
        functions: list[Call] = []
        for position, index in enumerate(order):
            node, path = nodes[index], scopes[index]
            common = 0
            while common < min(len(stack), len(path)) and stack[common][0] == path[common]:
                common += 1
            while len(stack) > common:
                calls.append(stack.pop()[1])
            for level in path[common:]:
                parent = stack[-1][1] if stack else root
                call = Call(id=next_id, kind="module", name=level, parent=parent.id, repeat=repeats.get(level, 0))
                repeats[level] = call.repeat + 1
                next_id += 1
                stack.append((level, call))
                members[call.id] = []
            parent = stack[-1][1] if stack else root
            function = Call(id=next_id, kind="function", name=_clean(node.op_type, MAX_NAME) or "?",
                            parent=parent.id,
                            inputs=list(dict.fromkeys(tid(n) for n in node.input
                                                      if n and n not in self.constant_sources)),
                            outputs=list(dict.fromkeys(tid(n) for n in node.output if n)))
            next_id += 1
            function.macs = self._macs(node, function)
            calls.append(function)
            functions.append(function)
            position_of[function.id] = position
            for _, open_call in [("", root), *stack]:
                members[open_call.id].append(position)
        while stack:
            calls.append(stack.pop()[1])
        calls.append(root)
        outputs = [(_clean(v.name, MAX_NAME) or f"output_{i}", tid(v.name)) for i, v in enumerate(graph.output)]
        self._wire_modules(calls, functions, members, {t for _, t in outputs})
        self.edges = len({t for f in functions for t in f.inputs})
        self.unknown_shapes = len({t for f in functions for t in f.inputs if tensors[t].shape == ("?",)})
        modules = self._modules(nodes, scopes, order)
        name = self._model_name()
        root_short, root_qualname = _short_class(self.root_class)
        modules[""] = ModuleInfo(path="", class_name=root_short or name, qualname=root_qualname,
                                 hparams="", param_count=self._count(self.initializers),
                                 children=tuple(self.top_level))
        modules = {"": modules.pop(""), **modules}
        return Trace(model_name=name, modules=modules, calls=calls, tensors=tensors, inputs=inputs,
                     outputs=outputs)

    def _wire_modules(self, calls: list[Call], functions: list[Call], members: dict[int, list[int]],
                      graph_outputs: set[int]) -> None:
        """A module call's inputs: tensors its operators use that it did not make; its outputs: tensors it
        made that something after it (or the graph's output) uses."""
        producer: dict[int, int] = {}
        first_use: dict[int, int] = {}
        last_use: dict[int, int] = {}
        for position, function in enumerate(functions):
            for t in function.outputs:
                producer.setdefault(t, position)
            for t in function.inputs:
                first_use.setdefault(t, position)
                last_use[t] = position
        for call in calls:
            if call.kind != "module":
                continue
            positions = members.get(call.id, [])
            if not positions:
                continue
            start, end = positions[0], positions[-1]
            ins: dict[int, None] = {}
            outs: dict[int, None] = {}
            for position in positions:
                function = functions[position]
                for t in function.inputs:
                    made = producer.get(t)
                    if made is None or not start <= made <= end:
                        ins[t] = None
                for t in function.outputs:
                    if t in graph_outputs or last_use.get(t, -1) > end or first_use.get(t, end + 1) < start:
                        outs[t] = None
            call.inputs, call.outputs = list(ins), list(outs)

    def _modules(self, nodes: list[_Node], scopes: list[tuple[str, ...]],
                 order: list[int]) -> dict[str, ModuleInfo]:
        """One :class:`ModuleInfo` per scope path, in the order the schedule first enters it."""
        ops: dict[str, list[str]] = {}
        own_nodes: dict[str, list[_Node]] = {}
        params: dict[str, set[str]] = {}
        children: dict[str, dict[str, None]] = {}
        self.top_level: dict[str, None] = {}
        for index in order:
            node, path = nodes[index], scopes[index]
            if path:
                self.top_level[path[0]] = None
            used = self._weights(node)
            op_type = _clean(node.op_type, 60)
            for depth, level in enumerate(path):
                ops.setdefault(level, [])
                if op_type not in ops[level]:
                    ops[level].append(op_type)
                params.setdefault(level, set()).update(used)
                children.setdefault(level, {})
                if depth + 1 < len(path):
                    children[level][path[depth + 1]] = None
            if path:
                own_nodes.setdefault(path[-1], []).append(node)
        modules: dict[str, ModuleInfo] = {}
        for path in ops:
            short, qualname = self.classes.get(path, ("", ""))
            mine = own_nodes.get(path, [])
            working = [n for n in mine if n.op_type not in _PLUMBING] or mine
            texts = list(dict.fromkeys((n.op_type, node_hparams(n)) for n in working))
            texts = [(op, text) for op, text in texts if text]
            hparams = texts[0][1] if len(texts) == 1 else "; ".join(f"{op}({text})" for op, text in texts)
            modules[path] = ModuleInfo(
                path=path, class_name=short or _ops_class(ops[path]), qualname=qualname,
                hparams=_shorten(hparams), param_count=self._count(params[path]),
                children=tuple(children[path]), param_shapes=self._own_params(mine))
        return modules

    def _weights(self, node: _Node) -> set[str]:
        """The initializers a node reads, directly or through weight-only nodes."""
        found: set[str] = set()
        for name in node.input:
            found.update(self.constant_sources.get(name, ()))
        return found

    def _count(self, names: Iterable[str]) -> int:
        total = 0
        for name in names:
            tensor = self.initializers.get(name)
            if tensor is not None and _dtype_name(tensor.data_type) not in _NOT_PARAMETERS:
                total += _numel(tensor.dims)
        return total

    def _own_params(self, nodes: list[_Node]) -> tuple[tuple[str, tuple[int, ...], str], ...]:
        """A scope's own weights for folding: named by the operator input they feed (``Conv[1]``), so
        that identical blocks match whatever the file calls their initializers."""
        shapes = []
        for node in nodes:
            for position, name in enumerate(node.input):
                for source in sorted(self.constant_sources.get(name, ())):
                    tensor = self.initializers[source]
                    shapes.append((f"{node.op_type}[{position}]", tuple(int(d) for d in tensor.dims),
                                   _dtype_name(tensor.data_type)))
        return tuple(shapes)

    def _model_name(self) -> str:
        """The dynamo exporter's root class, else the graph's name, the scope all nodes share, the file's."""
        short, _ = _short_class(self.root_class)
        graph_name = _clean(self.graph.name, MAX_NAME)
        if graph_name.strip().lower() in _GENERIC_GRAPH_NAMES:
            graph_name = ""
        return short or graph_name or self.model_name or _clean(self.fallback_name, MAX_NAME) or "model"

    def _shape(self, name: str) -> tuple[int, ...] | None:
        """A value's shape if every dimension is known."""
        if name in self.initializers:
            return tuple(int(d) for d in self.initializers[name].dims)
        meta = tensor_meta(self.types.get(name))
        return meta.shape if all(isinstance(d, int) for d in meta.shape) else None

    def _macs(self, node: _Node, call: Call) -> int | None:
        """Multiply-accumulates of ``Conv``, ``Gemm`` and ``MatMul`` where the shapes are known."""
        if node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.input) < 2 or not node.output:
            return None
        out, a, b = self._shape(node.output[0]), self._shape(node.input[0]), self._shape(node.input[1])
        if out is None:
            return None
        if node.op_type == "Conv" and b is not None and len(b) >= 2:
            return _numel(out) * _numel(b[1:])
        if node.op_type == "MatMul" and a:
            return _numel(out) * a[-1]
        if node.op_type == "Gemm" and a is not None and len(a) == 2:
            trans_a = any(at.name == "transA" and at.i for at in node.attribute)
            return _numel(out) * a[0 if trans_a else 1]
        return None


def _schedule(nodes: list[_Node], scopes: list[tuple[str, ...]],
              constants: dict[str, frozenset[str]]) -> list[int]:
    """A topological order of ``nodes`` that keeps each scope's operators together where it can.

    Kahn's algorithm; of the ready nodes it takes one in the innermost scope it
    is in (then its parent's, …), the first in file order.  A file whose
    graph is not topologically sorted, or has a cycle, still gets every node.
    """
    producer: dict[str, int] = {}
    for index, node in enumerate(nodes):
        for out in node.output:
            if out:
                producer.setdefault(out, index)
    waiting = [0] * len(nodes)
    consumers: list[list[int]] = [[] for _ in nodes]
    for index, node in enumerate(nodes):
        deps = {producer[n] for n in node.input if n and n not in constants and n in producer} - {index}
        waiting[index] = len(deps)
        for dep in deps:
            consumers[dep].append(index)
    ready: dict[tuple[str, ...], list[int]] = {}
    done = [False] * len(nodes)

    def make_ready(index: int) -> None:
        path = scopes[index]
        for depth in range(len(path) + 1):
            heapq.heappush(ready.setdefault(path[:depth], []), index)

    for index in range(len(nodes)):
        if waiting[index] == 0:
            make_ready(index)
    order: list[int] = []
    current: tuple[str, ...] = ()
    forced = 0
    while len(order) < len(nodes):
        chosen = None
        for depth in range(len(current), -1, -1):
            heap = ready.get(current[:depth])
            while heap and done[heap[0]]:
                heapq.heappop(heap)
            if heap:
                chosen = heapq.heappop(heap)
                break
        if chosen is None:  # a cycle (a malformed file): take the first node left
            while done[forced]:
                forced += 1
            chosen = forced
        done[chosen] = True
        order.append(chosen)
        current = scopes[chosen]
        for consumer in consumers[chosen]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0 and not done[consumer]:
                make_ready(consumer)
    return order
