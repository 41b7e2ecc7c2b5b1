"""Repeated blocks as ONNX functions: the structure file of a model, each kind of block written once.

Pipeline step *export* (:mod:`sphinx_netviz.export_ladder` → :mod:`sphinx_netviz.onnx_export` →
**blocks**).  Used for structure files through the dynamo exporter when the trace has runs of
repeated blocks.

The blocks :func:`~sphinx_netviz.fold.find_runs` folds (LLaMA-7B's 32 decoder
layers) are written once per kind (class, hyper-parameters, argument and
weight shapes), as an ONNX local function in the :data:`BLOCK_DOMAIN`
domain, and the model graph calls it once per block: call nodes named
after the block (``layers.5``), functions after its class
(``DecoderLayer``).  ``torch.export`` runs on the model with each block's
``forward`` replaced by a custom op, one per kind, so it never traces the
blocks' insides; the ops are translated to the calls, and the first block
of each kind is exported alone for its function's body.  On meta, in fresh
processes (median of 3): the docs' LLaMA-7B 10.4 s → 3.8 s and 2.2 MB →
0.19 MB, ViT-B/16 3.9 s → 3.0 s and 1.2 MB → 0.13 MB; checker-valid and
byte-stable, and onnxruntime gives torch's outputs on small models with
real weights.  Blocks that change shared state (GPT-2's KV cache) cannot
be calls: that fails in 0.5 s, and the ladder goes on to the flat dynamo
export.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: the opset of the dynamo exporter's files
DYNAMO_OPSET = 18
#: domain of the ONNX functions standing for repeated blocks (``dynamo-blocks``)
BLOCK_DOMAIN = "netviz.blocks"

#: the torch.library namespace of the ops standing for blocks during one export (then destroyed)
_OP_NAMESPACE = "netviz_blocks"
#: why blocks could not be calls when what the model returns or keeps differs with them as calls
_SHARED_STATE = "the blocks change state the rest of the model reads (such as a KV cache), so they cannot be calls"


@dataclass
class _BlockKind:
    """One kind of block (class, arguments, weights): the op standing for its calls, and its function."""

    #: the ONNX function's name: the block's class, with a suffix if another kind has it
    function: str
    #: ``torch.ops.netviz_blocks.block<k>.default``: tensor arguments then weights in, results out
    op: Any
    #: the first block of the kind, whose forward is exported alone as the function's body
    block: Any
    #: its arguments, every tensor replaced by a :class:`_TensorSpec`
    arguments: tuple[tuple[Any, ...], dict[str, Any]]
    #: the structure of what ``forward`` returns (a pytree spec)
    returns: Any
    #: the block's parameters and buffers by name, in the order the op takes them after the arguments
    weights: list[str]


@dataclass(frozen=True)
class _TensorSpec:
    """What a block's export needs to know of one of its tensors."""

    shape: tuple[int, ...]
    dtype: Any
    device: Any

    @classmethod
    def of(cls, value: Any) -> Any:
        """The spec of a tensor; anything else as it is."""
        import torch

        return cls(tuple(value.shape), value.dtype, value.device) if isinstance(value, torch.Tensor) else value

    def zeros(self) -> Any:
        import torch

        return torch.zeros(self.shape, dtype=self.dtype, device=self.device)


class _BlockStubs:
    """Blocks whose ``forward`` calls a custom op instead, one op per kind.

    Inside ``with``, ``torch.export`` sees one op call per block rather than its insides.  The
    first block of each kind runs its real forward, untraced, on the export's fake tensors: for
    the shapes the op returns, and for the arguments its function's body is exported with (as the
    export traced them: an eager run can take other branches).  On leaving, every forward is the
    model's again; :meth:`close` destroys the ops, once the ONNX export that translates them is done.
    """

    def __init__(self, model: Any, paths: Sequence[str]) -> None:
        self.modules = list({id(m): m for m in map(model.get_submodule, paths)}.values())
        self.kinds: dict[str, _BlockKind] = {}
        self.library: Any = None
        #: the blocks whose forward is a stub, with their own instance attribute ``forward`` if any
        self._stubbed: list[tuple[Any, Any]] = []

    def __enter__(self) -> _BlockStubs:
        import torch

        self.library = torch.library.Library(_OP_NAMESPACE, "FRAGMENT")
        for module in self.modules:
            self._stubbed.append((module, module.__dict__.get("forward")))
            module.forward = self._stub(module)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._stubbed:
            module, own = self._stubbed.pop()
            module.__dict__.pop("forward", None)
            if own is not None:
                module.forward = own

    def close(self) -> None:
        """Every forward the model's own, and the ops destroyed: the next export defines its own."""
        self.__exit__()
        if self.library is not None:
            self.library._destroy()
            self.library = None

    def translations(self) -> dict[Any, Callable[..., Any]]:
        """For the ONNX exporter: each op becomes a call of its kind's function."""
        return {kind.op: _call_node(kind.function, kind.returns.num_leaves) for kind in self.kinds.values()}

    def _stub(self, block: Any) -> Callable[..., Any]:
        import torch.utils._pytree as pytree

        def forward(*args: Any, **kwargs: Any) -> Any:
            weights = _weights(block)
            key = repr((type(block), repr(block), pytree.tree_map(_TensorSpec.of, (args, kwargs)),
                        [(name, _TensorSpec.of(w)) for name, w in weights.items()]))
            kind = self.kinds.get(key) or self._new_kind(key, block, args, kwargs, list(weights))
            tensors = [t for t in pytree.tree_leaves((args, kwargs)) if _is_tensor(t)]
            results = kind.op([*tensors, *(weights[name] for name in kind.weights)])
            return pytree.tree_unflatten(list(results), kind.returns)

        return forward

    def _new_kind(self, key: str, block: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  weights: list[str]) -> _BlockKind:
        import torch
        import torch.utils._pytree as pytree
        from torch.fx.experimental.proxy_tensor import disable_proxy_modes_tracing

        with disable_proxy_modes_tracing():
            results, returns = pytree.tree_flatten(type(block).forward(block, *args, **kwargs))
        if not all(_is_tensor(r) for r in results):
            raise TypeError(f"a {type(block).__name__} block returns more than tensors")
        shapes = [_TensorSpec.of(r) for r in results]
        op = f"block{len(self.kinds)}"
        self.library.define(f"{op}(Tensor[] xs) -> Tensor[]")

        def empty(xs: list[Any]) -> list[Any]:
            return [torch.empty(s.shape, dtype=s.dtype, device=s.device) for s in shapes]

        self.library.impl(op, empty, "CompositeExplicitAutograd")
        torch.library.register_fake(f"{_OP_NAMESPACE}::{op}", empty, lib=self.library)
        taken = {k.function for k in self.kinds.values()}
        name = type(block).__name__
        function = name if name not in taken else next(
            f"{name}_{n}" for n in range(2, len(taken) + 2) if f"{name}_{n}" not in taken)
        kind = _BlockKind(function, getattr(getattr(torch.ops, _OP_NAMESPACE), op).default, block,
                          pytree.tree_map(_TensorSpec.of, (args, kwargs)), returns, weights)
        self.kinds[key] = kind
        return kind


def export_with_block_functions(wrapper: Any, inner: str, tensors: tuple[Any, ...],
                                names: dict[str, list[str]], blocks: Sequence[str]) -> Any:
    """The dynamo structure file (a ModelProto) of ``wrapper`` in which each kind of block is an
    ONNX function.

    ``wrapper.<inner>`` is the model, and ``blocks`` are module paths in it; ``tensors`` the
    wrapper's arguments, ``names`` its ``input_names`` and ``output_names``.  Raises what the
    exporter raises (the caller turns it into a message).
    """
    import torch

    stubs = _BlockStubs(getattr(wrapper, inner), blocks)
    try:
        with stubs:
            try:
                exported = torch.export.export(wrapper, tensors, strict=False)
            except Exception as exc:
                if "fake tensor" not in str(exc):
                    raise
                # what the first block of a kind left in shared state (a KV cache), untraced
                raise RuntimeError(_SHARED_STATE) from None
        made = len(exported.graph_signature.user_outputs)
        if made != len(names["output_names"]):
            raise RuntimeError(f"{_SHARED_STATE} (it returns {made} tensors, not {len(names['output_names'])})")
        program = torch.onnx.export(exported, dynamo=True, optimize=False, verbose=False,
                                    opset_version=DYNAMO_OPSET, custom_translation_table=stubs.translations(),
                                    **names)
    finally:
        stubs.close()
    proto = _saved_structure(program)
    # the version converter of the export would inline functions: they are added afterwards
    proto.functions.extend(_function(kind) for kind in stubs.kinds.values())
    _name_calls(proto, {kind.function for kind in stubs.kinds.values()}, inner)
    return proto


def _call_node(function: str, outputs: int) -> Callable[..., Any]:
    """The translation of a block's op: one node calling ``function``.

    The exporter records the nodes a translation makes through onnxscript's current evaluator
    (its ``OpRecorder``); an op of an unknown domain has no schema to go through it, so the node
    is made and recorded directly.
    """
    def translate(xs: Sequence[Any]) -> list[Any]:
        import onnx_ir as ir
        import onnxscript

        node = ir.Node(BLOCK_DOMAIN, function, list(xs), num_outputs=outputs, version=1)
        onnxscript.evaluator.default().nodes.append(node)
        return list(node.outputs)

    return translate


def _function(kind: _BlockKind) -> Any:
    """A kind's first block exported alone, as the FunctionProto its calls call.

    Its parameters are the block's tensor arguments, then its weights (in the op's order); other
    values the export stored become ``Constant`` nodes.
    """
    import onnx_ir as ir
    import torch
    import torch.utils._pytree as pytree

    args, kwargs = pytree.tree_map(lambda v: v.zeros() if isinstance(v, _TensorSpec) else v, kind.arguments)
    part = torch.onnx.export(kind.block, args, kwargs=kwargs, dynamo=True, optimize=False, verbose=False,
                             opset_version=DYNAMO_OPSET)
    graph = part.model.graph
    # the export takes the tensors in the order the op does (``(args, kwargs)`` flattened): checked
    expected = [v.shape for v in pytree.tree_leaves(kind.arguments) if isinstance(v, _TensorSpec)]
    if [tuple(int(d) for d in v.shape) for v in graph.inputs] != expected or part.model.functions:
        raise RuntimeError(f"a {kind.function} block alone does not export as one function of its "
                           f"{len(expected)} tensor arguments")
    weights = {}
    for name in list(graph.initializers):
        value = graph.initializers.pop(name)
        if name in kind.weights:
            weights[name] = value
        else:
            graph.insert_before(graph[0], ir.Node("", "Constant", [], outputs=[value],
                                                  attributes=[ir.AttrTensor("value", value.const_value)]))
    graph.inputs.extend(weights[name] if name in weights else ir.Value(name=name) for name in kind.weights)
    return ir.serde.serialize_function(ir.Function(BLOCK_DOMAIN, kind.function, "", graph=graph, attributes=[]))


def _saved_structure(program: Any) -> Any:
    """The ModelProto of an ONNX program, weights declared as inputs and not stored."""
    import onnx

    buffer = io.BytesIO()
    program.save(buffer, include_initializers=False, keep_initializers_as_inputs=True)
    return onnx.load_from_string(buffer.getvalue())


def _name_calls(proto: Any, functions: set[str], inner: str) -> None:
    """Name each call node after its block's module path (``layers.5``; ``fc@2`` for a module's third call).

    The path is the innermost module scope the exporter recorded for the call.
    """
    import ast

    seen: dict[str, int] = {}
    for node in proto.graph.node:
        if node.domain != BLOCK_DOMAIN or node.op_type not in functions:
            continue
        scopes = next((ast.literal_eval(p.value) for p in node.metadata_props
                       if p.key == "pkg.torch.onnx.name_scopes"), [])
        path = scopes[-2].removeprefix(inner + ".") if len(scopes) >= 2 else node.op_type
        count = seen[path] = seen.get(path, -1) + 1
        node.name = path if count == 0 else f"{path}@{count}"


def _weights(block: Any) -> dict[str, Any]:
    """A block's parameters and buffers by name (as its own ``state_dict`` names them)."""
    return {**dict(block.named_parameters()), **dict(block.named_buffers())}


def _is_tensor(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor)
