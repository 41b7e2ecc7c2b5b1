"""A "graph-only" ONNX file written from the recorded trace, for when no exporter can take the model.

Pipeline step *graph-only export* (trace → **graph-only export**).  When
both real exporters (TorchScript and dynamo, :mod:`sphinx_netviz.onnx_export`)
fail on a model, the download link still gives a file that Netron and other
ONNX tools open: the boxes :func:`~sphinx_netviz.graph.build_diagram` draws at
one depth (by default the deepest: every leaf module call and every
functional op the diagram shows), unfolded, each as one node of the custom
domain :data:`GRAPH_DOMAIN`.  Nothing in it runs: the op types are class and
function names, not ONNX operators, and the file says so.

* A node's op type is the module's class name or the function's name as an
  identifier; its name is the module path (``layers.0.self_attn.q_proj``,
  ``fc#2`` for a second call, as the diagram labels it) or the op name, made
  unique.  Its attributes are ``module_path``, ``class`` (qualified name),
  ``hparams`` (what ``extra_repr`` showed), ``param_count`` and ``macs`` where
  known; functions get ``function`` and ``scope`` (the module they ran in).
* Tensors are values ``t<id>`` with their traced dtype and shape
  (``value_info``); the graph's inputs and outputs carry the trace's names.
  A tensor updated in place (``LeakyReLU(inplace=True)``) gets a new value
  per update (``t3_v2``), as ONNX wants one producer per value.  A tensor
  made inside a box and used outside it comes out of that box, as in the
  diagram; one no drawn box made (a buffer, a constant) is a graph input.
* Each module box's parameters (its own and its submodules', named as in
  ``state_dict``) are graph inputs with shape and dtype, fed to the node; a
  module called twice reads the same, once-declared inputs.  No values.

Model text (class names, ``extra_repr``, paths) is untrusted: it is kept as
plain strings, cut to a bounded length and made valid UTF-8.  The bytes are
the same for the same trace (no versions or times; deterministic
serialization), and the work is linear in the number of calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .graph import build_diagram
from .ir import Call, Trace
from .ir import deepest_level

if TYPE_CHECKING:
    from onnx import GraphProto, NodeProto, ValueInfoProto

#: the custom operator domain of every node
GRAPH_DOMAIN = "ai.sphinx_netviz"
#: what the model and graph say about themselves
GRAPH_DOC = "Graph only: written by sphinx-netviz from a traced forward pass; custom ops, does not run."
#: the default-domain opset declared beside the custom one (no node uses it)
DEFAULT_OPSET = 18
#: IR 10 is the first with node ``metadata_props``; fixed so the bytes do not follow the onnx version
IR_VERSION = 10
#: longest name (node, value, op type, path, class) kept from model text
MAX_NAME = 200
#: longest ``hparams`` text kept
MAX_TEXT = 1000

#: torch dtype (as the trace writes it) → ``onnx.TensorProto`` field name; others are UNDEFINED
_DTYPES = {
    "float32": "FLOAT", "float64": "DOUBLE", "float16": "FLOAT16", "bfloat16": "BFLOAT16",
    "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
    "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32", "uint64": "UINT64",
    "bool": "BOOL", "complex64": "COMPLEX64", "complex128": "COMPLEX128",
    "float8_e4m3fn": "FLOAT8E4M3FN", "float8_e4m3fnuz": "FLOAT8E4M3FNUZ",
    "float8_e5m2": "FLOAT8E5M2", "float8_e5m2fnuz": "FLOAT8E5M2FNUZ",
}
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


def graph_only_onnx(trace: Trace, *, depth: int | None = None) -> bytes:
    """An ONNX model that describes the traced graph and does not claim to run.

    One node per box the diagram draws at ``depth`` (default: the model's
    deepest level), every call its own node (no folding of repeated blocks);
    see the module docstring for names, attributes, values and parameters.
    The result passes ``onnx.checker.check_model`` and is byte-identical for
    the same trace.
    """
    from onnx import ModelProto

    if depth is None:
        depth = deepest_level(trace)
    if depth < 0:
        raise ValueError(f"depth must be 0 or more, not {depth}")
    diagram = build_diagram(trace, depth, fold=False, runs=[])
    boxes = {int(n.id[1:]) for n in diagram.nodes if n.kind in ("module", "function")}
    titles = {int(n.id[1:]): n.title for n in diagram.nodes if n.kind in ("module", "function")}
    writer = _Writer(trace, boxes, titles)
    writer.walk()

    model = ModelProto(ir_version=IR_VERSION, producer_name="sphinx-netviz", doc_string=GRAPH_DOC)
    model.opset_import.add(domain="", version=DEFAULT_OPSET)
    model.opset_import.add(domain=GRAPH_DOMAIN, version=1)
    for key, value in (("netviz.onnx_kind", "graph"), ("netviz.depth", str(depth))):
        model.metadata_props.add(key=key, value=value)
    writer.fill(model.graph, _bounded(trace.model_name) or "model")
    data: bytes = model.SerializeToString(deterministic=True)
    return data


def _bounded(text: str, limit: int = MAX_NAME) -> str:
    """``text`` cut to ``limit`` characters (``…`` marks a cut), as valid UTF-8 (lone surrogates replaced)."""
    text = str.__str__(text) if isinstance(text, str) else ""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def _op_type(name: str) -> str:
    """A class or function name as an identifier: ``[A-Za-z0-9_]``, not empty, not starting with a digit."""
    ident = _NOT_IDENTIFIER.sub("_", name[: MAX_NAME * 2]).strip("_")[:MAX_NAME] or "Op"
    return "_" + ident if ident[0].isdigit() else ident


class _Names:
    """Unique names: ``x``, then ``x#2``, ``x#3``... (linear: one counter per base), at most
    ``MAX_NAME`` characters long (a long base is cut to make room for its number)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.next: dict[str, int] = {}

    def unique(self, base: str) -> str:
        name, k = base, self.next.get(base, 1)
        while name in self.taken:
            k += 1
            suffix = f"#{k}"
            name = base[: MAX_NAME - len(suffix)] + suffix
        self.next[base] = k
        self.taken.add(name)
        return name


@dataclass(eq=False)
class _Value:
    """One ONNX value: a version of a traced tensor, a parameter, or a graph input."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    #: the call id of the box that makes it; None for a graph input
    producer: int | None = None
    doc: str = ""
    #: whether it is in its producer's outputs yet
    listed: bool = False


@dataclass
class _Node:
    call: Call
    inputs: list[_Value] = field(default_factory=list)
    outputs: list[_Value] = field(default_factory=list)


class _Writer:
    """Follows every tensor from the box that made it to the boxes that use it, in one pass."""

    def __init__(self, trace: Trace, boxes: set[int], titles: dict[int, str]) -> None:
        self.trace, self.boxes, self.titles = trace, boxes, titles
        self.values = _Names()
        self.current: dict[int, _Value] = {}  # tensor id -> its latest value
        self.inputs: list[_Value] = []  # graph inputs, in order of declaration
        self.params: dict[str, _Value] = {}  # state_dict name -> graph input
        self.module_params: dict[str, list[_Value]] = {}  # module path -> the inputs of its parameters
        self.order: list[int] = []  # box call ids, producers first
        self.outputs: list[_Value] = []
        self.versions: dict[int, int] = {}
        self.node_names = _Names()
        self.by_id = {c.id: c for c in trace.calls}
        self.nodes = {box: _Node(self.by_id[box]) for box in sorted(boxes)}
        for name, tid in trace.inputs:
            value = self._declare_input(_bounded(name) or "input", tid)
            self.current.setdefault(tid, value)

    # -- values --------------------------------------------------------------
    def _meta(self, tid: int) -> tuple[tuple[int, ...], str]:
        meta = self.trace.tensors.get(tid)
        return (meta.shape, meta.dtype) if meta is not None else ((), "")

    def _declare_input(self, base: str, tid: int, doc: str = "") -> _Value:
        shape, dtype = self._meta(tid)
        value = _Value(self.values.unique(base), shape, dtype, doc=doc)
        self.inputs.append(value)
        return value

    def _new_version(self, tid: int, box: int) -> _Value:
        version = self.versions.get(tid, 0) + 1
        self.versions[tid] = version
        shape, dtype = self._meta(tid)
        value = _Value(self.values.unique(f"t{tid}" if version == 1 else f"t{tid}_v{version}"), shape, dtype, box)
        self.current[tid] = value
        return value

    def _read(self, tid: int) -> _Value:
        """The value a box or the graph's output reads for tensor ``tid``; a made-inside-a-box tensor
        becomes one of that box's outputs, a tensor no box made a graph input."""
        value = self.current.get(tid)
        if value is None:
            value = self._declare_input(f"t{tid}", tid, "a tensor no drawn box made (a buffer, a constant, "
                                                        "or the result of an operation not drawn)")
            self.current[tid] = value
        elif value.producer is not None and not value.listed:
            self.nodes[value.producer].outputs.append(value)
            value.listed = True
        return value

    def _param_inputs(self, path: str) -> list[_Value]:
        """The parameters of the module at ``path`` and its submodules, declared once each."""
        cached = self.module_params.get(path)
        if cached is not None:  # a module called again
            return cached
        found: list[_Value] = []
        self.module_params[path] = found
        stack = [path]
        while stack:
            info = self.trace.modules.get(stack.pop())
            if info is None:
                continue
            prefix = info.path + "." if info.path else ""
            for pname, shape, dtype in info.param_shapes:
                key = prefix + pname
                value = self.params.get(key)
                if value is None:
                    value = _Value(self.values.unique(_bounded(key)), shape, dtype,
                                   doc="a parameter (shape and dtype only, no values)")
                    self.params[key] = value
                    self.inputs.append(value)
                found.append(value)
            stack.extend(reversed(info.children))
        return found

    # -- the pass ------------------------------------------------------------
    def walk(self) -> None:
        """Every box's inputs and outputs, following the calls in the order they finished."""
        inside: dict[int, int | None] = {}  # call id -> the box it is drawn in (itself, for a box)
        for call in sorted(self.trace.calls, key=lambda c: c.id):  # parents open before their children
            if call.id in self.boxes:
                inside[call.id] = call.id
            else:
                inside[call.id] = inside.get(call.parent) if call.parent is not None else None
        box_inputs: dict[int, set[int]] = {}
        for call in self.trace.calls:  # finishing order: producers before consumers
            box = inside.get(call.id)
            if box is None:
                continue
            if box != call.id:
                # made inside the box and used outside it (a cache entry): it comes out of the box;
                # a tensor the box was given (changed in place inside) is still read from before it
                given = box_inputs.get(box)
                if given is None:
                    given = box_inputs[box] = set(self.nodes[box].call.inputs)
                for tid in call.outputs:
                    if tid not in self.current and tid not in given:
                        self._new_version(tid, box)
                continue
            node = self.nodes[box]
            self.order.append(box)
            node.inputs = [self._read(tid) for tid in call.inputs]
            if call.kind == "module":
                node.inputs = node.inputs + self._param_inputs(call.name)
            for tid in call.outputs:
                value = self.current.get(tid)
                if value is None or value.producer != box:  # a new tensor, or a new version of one
                    value = self._new_version(tid, box)
                if not value.listed:
                    node.outputs.append(value)
                    value.listed = True
        names: dict[_Value, list[str]] = {}
        for name, tid in self.trace.outputs:
            value = self._read(tid)
            if value not in names:
                if value.producer is not None:
                    value.name = self.values.unique(_bounded(name) or "output")
                names[value] = []
                self.outputs.append(value)
            names[value].append(name)
        for value in self.outputs:  # an input returned as it is, or one tensor returned twice
            if len(names[value]) > 1 or value.name != _bounded(names[value][0]):
                value.doc = _bounded("the model's output " + ", ".join(names[value]), MAX_TEXT)

    # -- protos ------------------------------------------------------------
    def fill(self, graph: GraphProto, name: str) -> None:
        """Write the graph into ``graph`` in place (building protos and copying them in would
        take twice as long on a trace of 100,000 calls)."""
        from onnx import TensorProto

        elem_types = {dtype: getattr(TensorProto, field, TensorProto.UNDEFINED) for dtype, field in _DTYPES.items()}
        graph.name, graph.doc_string = name, GRAPH_DOC
        outputs = set(self.outputs)
        for box in self.order:
            self._fill_node(graph.node.add(), self.nodes[box])
        for value in self.inputs:
            _fill_value(graph.input.add(), value, elem_types)
        for value in self.outputs:
            _fill_value(graph.output.add(), value, elem_types)
        for box in self.order:
            for value in self.nodes[box].outputs:
                if value not in outputs:
                    _fill_value(graph.value_info.add(), value, elem_types)

    def _fill_node(self, proto: NodeProto, node: _Node) -> None:
        call = node.call
        attributes: dict[str, str | int] = {}
        if call.kind == "module":
            info = self.trace.modules.get(call.name)
            op, scope = (info.class_name if info else "Module"), call.name
            attributes["module_path"] = _bounded(call.name)
            if info is not None:
                attributes["class"] = _bounded(info.qualname)
                if info.hparams:
                    attributes["hparams"] = _bounded(info.hparams, MAX_TEXT)
                attributes["param_count"] = int(info.param_count)
        else:
            parent = self.by_id.get(call.parent) if call.parent is not None else None
            op, scope = call.name, (parent.name if parent is not None else "")
            attributes["function"] = _bounded(call.name)
            attributes["scope"] = _bounded(scope)
        if call.macs is not None:
            attributes["macs"] = int(call.macs)
        proto.op_type, proto.domain = _op_type(op), GRAPH_DOMAIN
        proto.name = self.node_names.unique(_bounded(self.titles.get(call.id) or call.name or "<root>"))
        proto.input.extend(v.name for v in node.inputs)
        proto.output.extend(v.name for v in node.outputs)
        for key in sorted(attributes):  # the order onnx.helper.make_node writes them in
            value, attribute = attributes[key], proto.attribute.add()
            attribute.name = key
            if isinstance(value, int):
                attribute.type, attribute.i = _INT, value
            else:
                attribute.type, attribute.s = _STRING, value.encode("utf-8")
        proto.metadata_props.add(key="namespace", value=_bounded(scope))


#: ``onnx.AttributeProto.INT`` and ``.STRING`` (fixed by the ONNX spec)
_INT, _STRING = 2, 3


def _fill_value(proto: ValueInfoProto, value: _Value, elem_types: dict[str, int]) -> None:
    """Name, element type and shape of one value; a dtype ONNX has no type for is UNDEFINED, named in the doc."""
    proto.name = value.name
    tensor_type = proto.type.tensor_type
    elem = elem_types.get(value.dtype)
    doc = value.doc
    if elem is None:
        elem, doc = 0, (doc + "; " if doc else "") + _bounded(f"dtype {value.dtype or 'unknown'}")
    tensor_type.elem_type = elem
    shape = tensor_type.shape
    shape.SetInParent()  # a 0-d tensor has a shape with no dimensions, not an unknown shape
    for dim in value.shape:
        shape.dim.add().dim_value = dim
    if doc:
        proto.doc_string = doc
