#!/usr/bin/env python
"""Hierarchical ONNX structure export: each repeated block once as an ONNX local function.

    .venv/bin/python benchmarks/hierarchical_export.py                      # about 11 minutes on 2 cores
    .venv/bin/python benchmarks/hierarchical_export.py --models stack,llama --repeat 2
    .venv/bin/python benchmarks/hierarchical_export.py --one llama stub     # one measurement, JSON
    git archive HEAD sphinx_netviz | tar -x -C /tmp/lib                      # while others edit the tree:
    .venv/bin/python benchmarks/hierarchical_export.py --lib /tmp/lib       # measure a snapshot

Question: instead of today's flat structure file (``sphinx_netviz.onnx_export.export_onnx(...,
structure=True)``: weights are named graph inputs without values), can the blocks that
``sphinx_netviz.fold.find_runs`` finds (the 32 decoder layers of LLaMA) be written once each as an
ONNX ``FunctionProto``, the model graph calling them, and is that faster?

Models (seeded, one torch thread, HF_HUB_OFFLINE=1):

* ``stack``: embedding, 4 x ``nn.TransformerEncoderLayer(128, 4, 512)``, ``nn.Linear`` head; real
  weights on the CPU, input ``(1, 32)`` token ids.
* ``llama``: ``transformers.LlamaForCausalLM`` of a small ``LlamaConfig`` (4 layers, hidden 256,
  8 heads, intermediate 688, vocab 1000); real weights on the CPU, input ``(1, 32)``, ``use_cache=False``
  (then transformers calls ``torch.diff``, which the TorchScript exporter cannot take, so today's
  structure export goes to dynamo).
* ``llama-kv``: the same model called the default way, with a ``DynamicCache`` (the KV tensors are
  outputs too); the TorchScript exporter takes it.
* ``llama7b``: the same class at LLaMA-7B shape (32 layers, hidden 4096, intermediate 11008,
  vocab 32000) built under ``torch.device("meta")``, input ``(1, 128)``, ``use_cache=False``;
  structure only.
* ``gallery-tiny``: the docs gallery's hand-written LLaMA (``docs/example_models/llama.py``) at toy
  size (``tiny_llama()``, 4 layers, dim 64), real weights on the CPU, input ``(1, 16)``.
* ``gallery7b``: the same at LLaMA-7B size (``llama_7b()``) on meta, input ``(1, 128)``: the big
  model a docs build of this project exports today.

Routes (the block classes are those of the outermost runs ``find_runs`` finds on the library's trace,
which is not timed: a docs build has traced the model already):

* ``flat``: today's structure file, the baseline: ``export_onnx(..., structure=True)`` as the
  export ladder's structure rungs call it (TorchScript, then dynamo ``optimize=False`` if
  TorchScript fails; dynamo alone for meta models).
* ``ts-fn``: route (a), the same TorchScript export with ``export_modules_as_functions={classes}``.
  Two work-arounds are needed: torch reads every module's annotated class attributes to make
  function attributes and fails on transformers' (dicts, classes), so the reader is replaced by one
  returning ``{}`` for the export; and torch leaves its attribute hooks on every module, so a second
  export of the same model fails (INTERNAL ASSERT in function_extraction.cpp) unless the hooks are
  put back as they were.  It cannot take meta models (``aten::equal`` and meta constants).
* ``stub``: route (b), dynamo, :func:`structure_with_functions` (the recipe).  ``torch.export``
  of the model with every block's ``forward`` replaced by a custom op
  ``netviz_blocks::block<k>(Tensor[] xs) -> Tensor[]`` (its tensor arguments, then its weights);
  the first block of each kind (class, argument specs, weight shapes) runs its real forward on the
  fake tensors, untraced, for the op's output shapes and for the arguments (zeros of the traced
  shapes; transformers builds an explicit attention mask only when traced) with which that block
  is then exported alone (dynamo, ``optimize=False``) as the function's body: an
  ``onnx_ir.Function`` with the block's tensor arguments then its weights as inputs.  A
  ``custom_translation_table`` entry turns each op into a call node; the functions are added after
  the export, whose version converter would inline them.  A block that updates shared state (the
  KV cache) cannot be a call: the export fails, so today's flat export stays the fallback.
* ``dyn-flat``: the flat dynamo export (what meta models get today).  For CPU models it is the
  lower bound of route (b)'s other variant, cutting a flat dynamo file into functions by its
  ``pkg.torch.onnx.name_scopes`` metadata afterwards, which costs this export plus the cutting.

Measured, each in a fresh process (``--one MODEL ROUTE``): export seconds (the route alone, model
built and traced before), structure-file bytes, the process's peak RSS (before onnxruntime runs), ``onnx.checker.check_model(full_check=True)``,
functions / call nodes / nodes in the main graph / nodes in all, for real weights whether
onnxruntime runs the file with the weights fed from ``state_dict`` and the largest difference from
torch's outputs, and the file's SHA-256 (the same in every repeat = byte-stable across processes).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: where ``sphinx_netviz`` is imported from (``--lib``): the working tree, or a snapshot of a commit
#: (``git archive HEAD sphinx_netviz | tar -x -C DIR``) while others edit the working tree
LIB = Path(os.environ.get("NETVIZ_HX_LIB", ROOT))
TAG = "HIERARCHICAL-RESULT "
MODELS = ("stack", "llama", "llama-kv", "llama7b", "gallery-tiny", "gallery7b")
ROUTES = ("flat", "ts-fn", "stub", "dyn-flat")
DEFAULT_ROUTES = {"stack": ROUTES, "llama": ROUTES, "llama-kv": ROUTES, "llama7b": ("flat", "ts-fn", "stub"),
                  "gallery-tiny": ROUTES, "gallery7b": ("flat", "ts-fn", "stub")}
#: domain of the block functions written by the stub route
DOMAIN = "netviz.blocks"


# ----------------------------------------------------------------------------- models

def build(key: str) -> tuple[Any, tuple[Any, ...], dict[str, Any], list[str], list[str], bool]:
    """``(model, args, kwargs, input_names, output_names, real_weights)``."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    if key == "stack":
        class Stack(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embed = nn.Embedding(1000, 128)
                self.layers = nn.ModuleList(nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)
                                            for _ in range(4))
                self.head = nn.Linear(128, 1000)

            def forward(self, ids: torch.Tensor) -> torch.Tensor:
                x = self.embed(ids)
                for layer in self.layers:
                    x = layer(x)
                return self.head(x)

        return Stack().eval(), (torch.randint(0, 1000, (1, 32)),), {}, ["ids"], ["logits"], True
    if key.startswith("gallery"):  # the docs gallery's hand-written LLaMA-7B, and at toy size
        sys.path.insert(0, str(ROOT / "docs"))
        from example_models.llama import INPUT_SHAPE, TINY_INPUT_SHAPE, llama_7b, tiny_llama

        if key == "gallery-tiny":
            return tiny_llama().eval(), (torch.randint(0, 256, TINY_INPUT_SHAPE),), {}, ["input_ids"], ["logits"], True
        with torch.device("meta"):
            model = llama_7b().eval()
            ids = torch.zeros(INPUT_SHAPE, dtype=torch.long)
        return model, (ids,), {}, ["input_ids"], ["logits"], False
    from transformers import LlamaConfig, LlamaForCausalLM

    if key in ("llama", "llama-kv"):
        config = LlamaConfig(vocab_size=1000, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
                             num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=256)
        model = LlamaForCausalLM(config).eval()
        kwargs = {"use_cache": False} if key == "llama" else {}  # llama-kv: the default call, with a KV cache
        return model, (torch.randint(0, 1000, (1, 32)),), kwargs, ["input_ids"], ["logits"], True
    if key == "llama7b":
        config = LlamaConfig(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                             num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=2048)
        with torch.device("meta"):
            model = LlamaForCausalLM(config).eval()
            ids = torch.zeros((1, 128), dtype=torch.long)
        return model, (ids,), {"use_cache": False}, ["input_ids"], ["logits"], False
    raise SystemExit(f"unknown model {key!r}")


def block_paths(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], input_names: list[str]) -> list[str]:
    """Module paths of every block of the outermost runs ``find_runs`` finds (``model.layers.0`` ...).

    The library's tracer runs the model eagerly, which transformers' LLaMA cannot do on meta
    (``Tensor.item()``): then every ``nn.ModuleList`` of one class stands for a run.
    """
    from sphinx_netviz.fold import find_runs
    from sphinx_netviz.trace import trace_model

    from torch import nn

    try:
        trace, _ = trace_model(model, args, kwargs, input_names, "model")
    except Exception:  # noqa: BLE001 - transformers' LLaMA calls .item() eagerly, so meta cannot run it
        return [f"{name}.{k}" for name, m in model.named_modules() if isinstance(m, nn.ModuleList)
                and len(m) > 1 and len({type(c) for c in m}) == 1 for k in range(len(m))]
    runs = find_runs(trace)
    firsts = [r.first.name for r in runs]
    outer = [r for r in runs if not any(r.first.name.startswith(f + ".") for f in firsts)]
    return [c.name for r in outer for c in r.calls]


# ----------------------------------------------------------------------------- shared helpers

def _finish(proto: Any) -> bytes:
    """What ``export_onnx`` does after exporting: values out, wrapper prefix out, no stack traces."""
    from sphinx_netviz.onnx_export import _drop_build_details, _strip_wrapper_prefix

    del proto.graph.initializer[:]
    _strip_wrapper_prefix(proto)
    _drop_build_details(proto)
    for function in proto.functions:  # the same for the nodes inside functions
        for node in function.node:
            kept = [(p.key, p.value) for p in node.metadata_props
                    if p.key not in ("pkg.torch.onnx.stack_trace", "pkg.torch.onnx.fx_node")]
            del node.metadata_props[:]
            for key, value in kept:
                entry = node.metadata_props.add()
                entry.key, entry.value = key, value
    return proto.SerializeToString(deterministic=True)


def _tensors(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    import torch
    return tuple(v for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor))


# ----------------------------------------------------------------------------- routes

def export_flat(model, args, kwargs, input_names, output_names, paths) -> bytes:
    """The export ladder's structure rungs: TorchScript then dynamo, or dynamo alone on meta."""
    import inspect

    from sphinx_netviz.errors import ExportProblem
    from sphinx_netviz.onnx_export import export_onnx

    if "exporter" not in inspect.signature(export_onnx).parameters:  # before the ladder: it chose itself
        return export_onnx(model, args, kwargs, input_names, output_names, structure=True)
    meta = any(t.is_meta for t in model.parameters())
    for exporter in ("dynamo",) if meta else ("torchscript", "dynamo"):
        try:
            return export_onnx(model, args, kwargs, input_names, output_names, structure=True,
                               exporter=exporter)
        except ExportProblem:
            if exporter == "dynamo":
                raise
    raise AssertionError("unreachable")


def export_dynamo_flat(model, args, kwargs, input_names, output_names, paths) -> bytes:
    import onnx
    import torch

    from sphinx_netviz.onnx_export import _flat_call, _silenced_fds
    from sphinx_netviz.trace import mha_fastpath_disabled

    wrapper = _flat_call(model, args, kwargs)
    buffer = io.BytesIO()
    with mha_fastpath_disabled(), warnings.catch_warnings(), _silenced_fds():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(wrapper, _tensors(args, kwargs), dynamo=True, optimize=False, verbose=False,
                                    opset_version=18, input_names=input_names, output_names=output_names)
        program.save(buffer, include_initializers=False, keep_initializers_as_inputs=True)
    return _finish(onnx.load_from_string(buffer.getvalue()))


def export_ts_functions(model, args, kwargs, input_names, output_names, paths) -> bytes:
    """Route (a): TorchScript exporter, ``export_modules_as_functions`` = the blocks' classes."""
    import onnx
    import torch
    from torch.onnx._internal.torchscript_exporter import utils as ts_utils

    from sphinx_netviz.onnx_export import OPSET, _flat_call, _silenced_fds
    from sphinx_netviz.trace import mha_fastpath_disabled

    classes = {type(model.get_submodule(p)) for p in paths}
    wrapper = _flat_call(model, args, kwargs)
    hooks = {m: (dict(m._forward_hooks), dict(m._forward_pre_hooks)) for m in wrapper.modules()}
    attributes = ts_utils._get_module_attributes
    ts_utils._get_module_attributes = lambda module: {}  # transformers' class annotations break it
    buffer = io.BytesIO()
    try:
        with mha_fastpath_disabled(), warnings.catch_warnings(), _silenced_fds():
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapper, _tensors(args, kwargs), buffer, dynamo=False, opset_version=OPSET,
                              do_constant_folding=False, keep_initializers_as_inputs=True,
                              training=torch.onnx.TrainingMode.PRESERVE, input_names=input_names,
                              output_names=output_names, export_modules_as_functions=classes)
    finally:
        ts_utils._get_module_attributes = attributes
        for module, (post, pre) in hooks.items():  # torch leaves one hook pair per module behind
            module._forward_hooks.clear()
            module._forward_hooks.update(post)
            module._forward_pre_hooks.clear()
            module._forward_pre_hooks.update(pre)
    proto = onnx.load_from_string(buffer.getvalue())
    _canonical_function_names(proto)
    return _finish(proto)


def _canonical_function_names(proto: Any) -> None:
    """Name the TorchScript exporter's functions in the order of their first call.

    One class can give several functions (``TransformerEncoderLayer``, ``TransformerEncoderLayer.1``:
    the first block's body differs, it makes the constants the later ones are given), and which of
    them gets the ``.1`` changes from one process to the next (about one run in three here), and so
    did the bytes of the file; so did the numbers in the names of the nodes inside the functions, of
    the functions' parameters and of the values they return to the main graph (LLaMA's KV tensors).
    """
    import re

    functions = {(f.domain, f.name): f for f in proto.functions}
    order: list[tuple[str, str]] = []
    pending = [proto.graph.node]
    while pending:  # breadth first: the main graph's calls, then the calls inside those functions
        nodes = pending.pop(0)
        for node in nodes:
            key = (node.domain, node.op_type)
            if key in functions and key not in order:
                order.append(key)
                pending.append(functions[key].node)
    order += [k for k in functions if k not in order]
    renames, count = {}, {}
    for domain, name in order:
        base = re.sub(r"\.\d+$", "", name)
        k = count[(domain, base)] = count.get((domain, base), -1) + 1
        renames[(domain, name)] = base if k == 0 else f"{base}.{k}"
    plain = {old: new for (_, old), new in renames.items()}
    pattern = re.compile(r"(?<=/)(" + "|".join(map(re.escape, sorted(plain, key=len, reverse=True))) + r")(?=_output_\d+$|$)")

    def rename(text: str) -> str:
        return pattern.sub(lambda m: plain[m.group(1)], text) if plain else text

    for nodes in [proto.graph.node, *(f.node for f in proto.functions)]:
        for node in nodes:
            if (node.domain, node.op_type) in renames:
                node.op_type = renames[(node.domain, node.op_type)]
            node.name = rename(node.name)
            node.input[:] = [rename(n) for n in node.input]
            node.output[:] = [rename(n) for n in node.output]
    for value in [*proto.graph.output, *proto.graph.value_info]:
        value.name = rename(value.name)
    for function in proto.functions:
        function.name = renames[(function.domain, function.name)]
        # the body is that of any one of its blocks (layers.3 or layers.1, and numbered in the order
        # the functions were made): every name inside by position; weights keep their name in the block
        local = {}
        for k, name in enumerate(function.input):
            parts = name.split(".")
            digits = [i for i, part in enumerate(parts) if part.isdigit()]
            local[name] = ".".join(parts[digits[-1] + 1:]) if digits and digits[-1] + 1 < len(parts) \
                else f"input_{k}"
        for k, node in enumerate(function.node):
            node.name = f"{node.op_type}_{k}"
            for name in node.output:
                local.setdefault(name, f"v{len(local)}")
        function.input[:] = [local[n] for n in function.input]
        function.output[:] = [local.get(n, n) for n in function.output]
        for node in function.node:
            node.input[:] = [local.get(n, n) for n in node.input]
            node.output[:] = [local.get(n, n) for n in node.output]
    # values the exporter numbered in the main graph (KV outputs of the calls): by order of definition
    graph = proto.graph
    numbered = [o for node in graph.node for o in node.output if o.isdigit()]
    local = {old: f"value_{k}" for k, old in enumerate(numbered)}
    for node in graph.node:
        node.input[:] = [local.get(n, n) for n in node.input]
        node.output[:] = [local.get(n, n) for n in node.output]
    for value in [*graph.output, *graph.value_info]:
        value.name = local.get(value.name, value.name)
    ranked = sorted(proto.functions, key=lambda f: order.index(next(k for k, v in renames.items()
                                                                  if v == f.name and k[0] == f.domain)))
    copies = [type(f)() for f in ranked]
    for copy, f in zip(copies, ranked):
        copy.CopyFrom(f)
    del proto.functions[:]
    proto.functions.extend(copies)


def export_stub(model, args, kwargs, input_names, output_names, paths) -> bytes:
    """Route (b), as :func:`structure_with_functions` would sit in ``onnx_export.export_onnx``."""
    import onnx

    from sphinx_netviz.onnx_export import _flat_call, _silenced_fds
    from sphinx_netviz.trace import mha_fastpath_disabled

    wrapper = _flat_call(model, args, kwargs)
    names = {"input_names": list(input_names), "output_names": list(output_names)}
    with mha_fastpath_disabled(), warnings.catch_warnings(), _silenced_fds():
        warnings.simplefilter("ignore")
        data = structure_with_functions(wrapper, _tensors(args, kwargs), names, paths)
    return _finish(onnx.load_from_string(data))


# --- the recipe: what would go into sphinx_netviz/onnx_export.py (next to _torchscript_structure)
#: domain of the functions standing for repeated blocks in a structure file
BLOCK_DOMAIN = "netviz.blocks"


def structure_with_functions(wrapper: Any, tensors: tuple[Any, ...], names: dict[str, list[str]],
                             blocks: list[str]) -> bytes:
    """A dynamo structure export in which each kind of block in ``blocks`` (module paths: the runs
    ``find_runs`` folds) is one ONNX function, and the model graph calls it once per block.

    For the export each block's ``forward`` is a custom op taking its tensor arguments then its
    weights; the first block of a kind runs its real forward on the fake tensors, untraced, for the
    output shapes and the arguments it is then exported with, alone, as the function's body.
    Functions are added after the export (its version converter inlines any it finds).
    """
    import onnx_ir as ir
    import onnxscript
    import torch
    import torch.utils._pytree as pytree
    from torch.fx.experimental.proxy_tensor import disable_proxy_modes_tracing

    lib, kinds, table = torch.library.Library("netviz_blocks", "FRAGMENT"), {}, {}

    def spec(t: Any) -> Any:
        return (tuple(t.shape), t.dtype, t.device) if isinstance(t, torch.Tensor) else repr(t)

    def zeros(t: Any) -> Any:
        return torch.zeros(t.shape, dtype=t.dtype, device=t.device) if isinstance(t, torch.Tensor) else t

    def stub(block: Any) -> Any:
        def forward(*a: Any, **k: Any) -> Any:
            weights = {**dict(block.named_parameters()), **dict(block.named_buffers())}
            key = repr((type(block), pytree.tree_map(spec, (a, k)), [(n, spec(w)) for n, w in weights.items()]))
            if key not in kinds:  # first of its kind
                with disable_proxy_modes_tracing():
                    leaves, tree = pytree.tree_flatten(type(block).forward(block, *a, **k))
                op, shapes = f"block{len(kinds)}", [(t.shape, t.dtype) for t in leaves]
                lib.define(f"{op}(Tensor[] xs) -> Tensor[]")
                lib.impl(op, fake := lambda xs, s=shapes: [xs[0].new_empty(z, dtype=d) for z, d in s],
                         "CompositeExplicitAutograd")
                torch.library.register_fake(f"netviz_blocks::{op}", fake, lib=lib)
                target, name = getattr(torch.ops.netviz_blocks, op).default, f"{type(block).__name__}_{len(kinds)}"

                def translate(xs: Any, name: str = name, n: int = len(leaves)) -> Any:
                    node = ir.Node(BLOCK_DOMAIN, name, list(xs), num_outputs=n, version=1)
                    onnxscript.evaluator.default().nodes.append(node)
                    return list(node.outputs)

                table[target] = translate
                kinds[key] = (target, name, block, pytree.tree_map(zeros, (a, k)), tree, list(weights))
            target, *_, tree, order = kinds[key]
            xs = [t for t in pytree.tree_leaves((a, k)) if isinstance(t, torch.Tensor)] + [weights[n] for n in order]
            return pytree.tree_unflatten(list(target(xs)), tree)
        return forward

    modules = [(m, m.__dict__.get("forward")) for m in map(wrapper.inner.get_submodule, blocks)]
    try:
        for m, _ in modules:
            m.forward = stub(m)
        exported = torch.export.export(wrapper, tensors, strict=False)
    finally:
        for m, own in modules:
            del m.forward
            if own is not None:
                m.forward = own
    try:
        return _add_functions(kinds, torch.onnx.export(
            exported, dynamo=True, optimize=False, verbose=False, opset_version=18,
            custom_translation_table=table, **names))
    finally:
        lib._destroy()  # the ops' names are free for the next export in this process


def _add_functions(kinds: dict[str, Any], program: Any) -> bytes:
    """The structure file of ``program`` with the function each kind of block calls."""
    import onnx
    import onnx_ir as ir
    import torch

    buffer = io.BytesIO()
    program.save(buffer, include_initializers=False, keep_initializers_as_inputs=True)
    proto = onnx.load_from_string(buffer.getvalue())
    for _, name, block, (a, k), _, order in kinds.values():  # each kind alone: the function's body
        part = torch.onnx.export(block, a, kwargs=k, dynamo=True, optimize=False, verbose=False, opset_version=18)
        graph, weights = part.model.graph, {}
        for key in list(graph.initializers):  # weights become inputs after the arguments, the rest Constants
            value = graph.initializers.pop(key)
            if key in order:
                weights[key] = value
            else:
                graph.insert_before(graph[0], ir.Node("", "Constant", [], outputs=[value],
                                                      attributes=[ir.AttrTensor("value", value.const_value)]))
        graph.inputs.extend(weights[n] if n in weights else ir.Value(name=n) for n in order)
        proto.functions.append(ir.serde.serialize_function(ir.Function(BLOCK_DOMAIN, name, "", graph=graph,
                                                                       attributes=[])))
    if all(o.domain != BLOCK_DOMAIN for o in proto.opset_import):  # the exporter adds it for the calls
        proto.opset_import.append(onnx.helper.make_opsetid(BLOCK_DOMAIN, 1))
    return proto.SerializeToString()


EXPORTS = {"flat": export_flat, "ts-fn": export_ts_functions, "stub": export_stub, "dyn-flat": export_dynamo_flat}


# ----------------------------------------------------------------------------- one measurement

def measure(key: str, route: str) -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(LIB))
    import torch

    torch.set_num_threads(1)
    model, args, kwargs, input_names, output_names, real = build(key)
    paths = block_paths(model, args, kwargs, input_names)
    result: dict[str, Any] = {"model": key, "route": route, "blocks": len(paths)}
    start = time.perf_counter()
    try:
        data = EXPORTS[route](model, args, kwargs, input_names, output_names, paths)
    except BaseException as exc:  # noqa: BLE001 - a failed route is a result
        result["seconds_to_fail"] = time.perf_counter() - start
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
        cause = exc
        while cause.__cause__ is not None:
            cause = cause.__cause__
        if cause is not exc:
            result["error"] += f" <- {type(cause).__name__}: {str(cause).splitlines()[0][:160] if str(cause) else ''}"
        return result
    result["seconds"] = time.perf_counter() - start
    result["bytes"] = len(data)
    result["sha256"] = hashlib.sha256(data).hexdigest()
    import onnx

    proto = onnx.load_from_string(data)
    try:
        onnx.checker.check_model(proto, full_check=True)
        result["checker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        result["checker"] = f"FAIL {str(exc).splitlines()[0][:120]}"
    names = {(f.domain, f.name) for f in proto.functions}
    result["functions"] = len(proto.functions)
    result["calls"] = sum((n.domain, n.op_type) in names for n in proto.graph.node)
    result["main_nodes"] = len(proto.graph.node)
    result["all_nodes"] = len(proto.graph.node) + sum(len(f.node) for f in proto.functions)
    import resource

    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before onnxruntime runs
    if real:
        result.update(run_ort(model, args, kwargs, data, proto))
    return result


def run_ort(model, args, kwargs, data: bytes, proto: Any) -> dict[str, Any]:
    """The structure file in onnxruntime with the real weights fed in, against torch."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from sphinx_netviz.trace import iter_tensors

    with torch.no_grad():
        expected = [t.numpy() for _, t in iter_tensors(model(*args, **kwargs))]
    state = {**dict(model.named_parameters(remove_duplicate=False)), **dict(model.named_buffers(remove_duplicate=False))}
    given = list(_tensors(args, kwargs))
    feed = {}
    for k, value in enumerate(proto.graph.input):
        if k < len(given):
            feed[value.name] = given[k].numpy()
        elif value.name in state:
            feed[value.name] = state[value.name].detach().numpy()
        else:
            return {"ort": f"FAIL no value for input {value.name}"}
    try:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        got = session.run(None, feed)
    except Exception as exc:  # noqa: BLE001
        return {"ort": f"FAIL {str(exc).splitlines()[0][:120]}"}
    if len(got) != len(expected) or any(g.shape != e.shape for g, e in zip(got, expected)):
        return {"ort": f"FAIL {len(got)} outputs, torch has {len(expected)}"}
    diff = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected))
    return {"ort": "ok", "max_abs_diff": diff}


# ----------------------------------------------------------------------------- driver

def child(key: str, route: str) -> dict[str, Any]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(LIB), NETVIZ_HX_LIB=str(LIB))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--one", key, route], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=900)
    wall = time.perf_counter() - started
    for line in done.stdout.splitlines():
        if line.startswith(TAG):
            result = json.loads(line[len(TAG):])
            result["process_seconds"] = wall
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"model": key, "route": route, "error": f"process exit {done.returncode}: {tail[0][:160]}"}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    row = dict(good[0])
    row["seconds"] = median(r["seconds"] for r in good)
    row["all_seconds"] = [round(r["seconds"], 2) for r in good]
    row["stable"] = len({r["sha256"] for r in good}) == 1 if len(good) > 1 else None
    return row


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| model | route | export s (median; runs) | vs flat | KB | peak RSS MB | checker | functions / calls | "
            "main-graph nodes (all) | ORT with real weights, max abs diff | byte-stable |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    flat = {r["model"]: r["seconds"] for r in rows if r["route"] == "flat" and "seconds" in r}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['route']} | fails: {r['error'].replace('|', '/')} | | | | | | | | |")
            continue
        ratio = f"{r['seconds'] / flat[r['model']]:.2f}x" if r["model"] in flat else "—"
        ort = "—" if "ort" not in r else (f"ok, {r['max_abs_diff']:.1e}" if r["ort"] == "ok" else r["ort"])
        stable = {True: "yes", False: "NO", None: "—"}[r.get("stable")]
        lines.append(f"| {r['model']} | {r['route']} | {r['seconds']:.2f} ({', '.join(map(str, r['all_seconds']))}) "
                     f"| {ratio} | {r['bytes'] / 1024:.0f} | {r['rss_mb']:.0f} | {r['checker']} | {r['functions']} / {r['calls']} "
                     f"| {r['main_nodes']} ({r['all_nodes']}) | {ort} | {stable} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--routes", default=",".join(ROUTES))
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per model and route (median)")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "ROUTE"), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the rows as JSON here")
    parser.add_argument("--lib", help="directory holding the sphinx_netviz to measure (default: this checkout)")
    ns = parser.parse_args()
    if ns.lib:
        global LIB
        LIB = Path(ns.lib).resolve()
    if ns.one:
        print(TAG + json.dumps(measure(*ns.one)), flush=True)
        return
    rows = []
    for key in ns.models.split(","):
        for route in [r for r in ns.routes.split(",") if r in DEFAULT_ROUTES[key]]:
            runs = []
            for _ in range(ns.repeat):
                runs.append(child(key, route))
                print(f"  {key} {route}: " + (runs[-1].get("error") or f"{runs[-1]['seconds']:.2f} s"),
                      file=sys.stderr, flush=True)
                if "error" in runs[-1]:
                    break
            rows.append(summarise(runs))
    print(f"{_dt.date.today()}  python {platform.python_version()}  {os.cpu_count()} cores  repeat {ns.repeat}"
          f"  sphinx_netviz from {LIB}")
    print(table(rows))
    if ns.json:
        Path(ns.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
