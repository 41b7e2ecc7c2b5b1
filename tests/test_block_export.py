"""Structure files with each kind of repeated block one ONNX function (``exporter="dynamo-blocks"``)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import big_models
import numpy as np
import onnx
import onnx.inliner
import onnxruntime
import pytest
import torch
from conftest import DOCS, REPO
from example_models.llama import TINY_INPUT_SHAPE, tiny_llama

from sphinx_netviz import export_ladder as ladder
from sphinx_netviz.errors import ExportProblem
from sphinx_netviz.fold import find_runs
from sphinx_netviz.limits import OutOfTime, deadline
from sphinx_netviz.onnx_blocks import BLOCK_DOMAIN
from sphinx_netviz.onnx_export import export_onnx
from sphinx_netviz.pipeline import make_artifacts
from sphinx_netviz.spec import DiagramSpec
from sphinx_netviz.trace import iter_tensors, trace_model

LLAMA_7B = DiagramSpec("example_models.llama:Llama", ((1, 128),), input_dtypes=("int64",), onnx="structure")
#: the docs' GPT-2 at toy size on meta: its blocks write into a shared KV cache object
SMALL_GPT2 = DiagramSpec("example_models.gpt2:GPT2", ((1, 16),), input_dtypes=("int64",), device="meta",
                         onnx="structure", kwargs={"vocab_size": 100, "n_positions": 32, "n_embd": 32,
                                                   "n_layer": 3, "n_head": 4})


def calls(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.domain == BLOCK_DOMAIN]


def blocks_of(model: torch.nn.Module, args: tuple) -> tuple[list[str], list[str]]:
    """The blocks the ladder would give for ``model``, and the names of its outputs."""
    trace, _ = trace_model(model, args, {}, ["input"], "model")
    return ladder.block_paths(trace, find_runs(trace)), [name for name, _ in trace.outputs]


def blocks_export(model: torch.nn.Module, args: tuple) -> tuple[bytes, list[str]]:
    """``model``'s structure file through dynamo-blocks."""
    blocks, outputs = blocks_of(model, args)
    data = export_onnx(model, args, {}, ["input"], outputs, structure=True, exporter="dynamo-blocks",
                       blocks=blocks)
    return data, outputs


@pytest.fixture(scope="module")
def llama_7b():
    return make_artifacts(LLAMA_7B)


def test_llama_7b_structure_file_calls_one_function_32_times(llama_7b):
    assert llama_7b.device == "meta" and llama_7b.onnx_mode == "structure" and llama_7b.problems == []
    assert not any("ONNX" in note for note in llama_7b.notes)  # the first rung made it
    model = onnx.load_from_string(llama_7b.onnx)
    onnx.checker.check_model(model, full_check=True)
    (function,) = model.functions
    assert (function.domain, function.name) == (BLOCK_DOMAIN, "DecoderLayer")
    assert [(n.op_type, n.name) for n in calls(model)] == [("DecoderLayer", f"layers.{k}") for k in range(32)]
    # the parameters: the layer's 4 tensor arguments, then its 9 weights under their names in the layer
    assert list(function.input)[:5] == ["x", "mask", "cos", "sin", "input_layernorm.weight"]
    assert len(function.input) == 13
    # each call gets its own layer's weights, which are graph inputs named as in state_dict
    assert list(calls(model)[5].input)[4:6] == ["layers.5.input_layernorm.weight", "layers.5.self_attn.q_proj.weight"]
    declared = {i.name for i in model.graph.input}
    assert "layers.31.mlp.down_proj.weight" in declared and model.graph.initializer == []
    flat = onnx.inliner.inline_local_functions(model)
    assert len(model.graph.node) * 20 < len(flat.graph.node)  # 72 nodes instead of ~3,800
    assert len(llama_7b.onnx) < 400_000  # the flat file: 2.2 MB
    text = llama_7b.onnx.decode("latin-1")
    assert "stack_trace" not in text and str(REPO) not in text  # nothing of this machine, functions included


@pytest.mark.slow
def test_llama_7b_structure_file_is_byte_identical_across_processes(llama_7b):
    code = (
        "import hashlib\n"
        "from sphinx_netviz.pipeline import make_artifacts\n"
        "from sphinx_netviz.spec import DiagramSpec\n"
        "made = make_artifacts(DiagramSpec('example_models.llama:Llama', ((1, 128),), input_dtypes=('int64',),"
        " onnx='structure'))\n"
        "print(made.onnx_mode, hashlib.sha256(made.onnx).hexdigest())\n"
    )
    # one fresh process (its own hash seed) against this one: a second fresh process proved
    # nothing more and took a LLaMA-7B export (~40 s) of its own
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(DOCS)]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=300, check=True)
    assert done.stdout.split()[-2:] == ["structure", hashlib.sha256(llama_7b.onnx).hexdigest()]


REAL_WEIGHTS = {
    "tiny_llama": (tiny_llama, lambda: torch.randint(0, 256, TINY_INPUT_SHAPE), ["DecoderLayer"], 4),
    "encoder_stack": (big_models.EncoderStack, lambda: torch.randint(0, 100, (2, 12)),
                      ["TransformerEncoderLayer"], 4),
    "bert_mask": (lambda: big_models.Bert(layers=3), lambda: torch.randint(0, 100, (2, 7)), ["EncoderLayer"], 3),
    "two_widths": (big_models.TwoWidths, lambda: torch.randn(2, 5, 8), ["Residual", "Residual_2"], 6),
    "nested_runs": (lambda: big_models.ManyLayers(blocks=3, layers=4), lambda: torch.randn(2, 4), ["Sequential"], 3),
}


@pytest.mark.parametrize("key", REAL_WEIGHTS)
def test_real_weights_fed_to_the_structure_file_give_torchs_outputs(key):
    build, make_input, functions, n_calls = REAL_WEIGHTS[key]
    torch.manual_seed(0)
    model, x = build().eval(), make_input()
    data, outputs = blocks_export(model, (x,))
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    assert [f.name for f in proto.functions] == functions and len(calls(proto)) == n_calls
    weights = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    feeds = {i.name: x.numpy() if i.name == "input" else weights[i.name].detach().numpy() for i in proto.graph.input}
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    got = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"]).run(None, feeds)
    with torch.no_grad():
        expected = [t.numpy() for _, t in iter_tensors(model(x))]
    assert len(got) == len(expected) == len(outputs)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-4, rtol=0)


def test_only_the_outermost_runs_are_blocks():
    model = big_models.ManyLayers(blocks=3, layers=4)
    trace, _ = trace_model(model, (torch.randn(1, 4),), {}, ["input"], "many")
    runs = find_runs(trace)
    assert len(runs) == 4  # blocks.0 … blocks.2, and the linear layers inside each
    assert ladder.block_paths(trace, runs) == ["blocks.0", "blocks.1", "blocks.2"]


def test_the_block_rung_comes_before_each_dynamo_rung_when_there_are_blocks():
    def kinds(*args):
        return [f"{r.exporter} ({r.kind})" for r in ladder.rungs(*args)]

    assert kinds("structure", "meta", True) == ["dynamo-blocks (structure)", "dynamo (structure)"]
    assert kinds("full", "cpu", True) == ["torchscript (full)", "torchscript (structure)",
                                          "dynamo-blocks (structure)", "dynamo (structure)"]
    assert kinds("structure", "meta") == ["dynamo (structure)"]
    assert ladder._name(ladder.Rung("structure", "dynamo-blocks")) == "dynamo with block functions (structure)"


def test_blocks_sharing_a_kv_cache_fall_back_to_the_plain_dynamo_rung():
    made = make_artifacts(SMALL_GPT2)
    assert made.onnx_mode == "structure" and made.problems == []
    (note,) = [n for n in made.notes if "ONNX" in n]
    assert note.startswith("the ONNX download is a structure-only file (dynamo with block functions (structure): ")
    assert "change state the rest of the model reads (such as a KV cache)" in note
    model = onnx.load_from_string(made.onnx)
    onnx.checker.check_model(model, full_check=True)
    assert list(model.functions) == [] and calls(model) == []
    assert len(model.graph.output) == 1 + 2 * 3  # the logits, and each layer's keys and values


@pytest.mark.slow
def test_exports_in_one_process_after_success_failure_and_time_out():
    """The ops standing for blocks are gone after each export, and every forward is the model's again."""
    torch.manual_seed(0)
    llama = tiny_llama().eval()
    ids = torch.randint(0, 256, TINY_INPUT_SHAPE)
    first, _ = blocks_export(llama, (ids,))
    shared = big_models.SharedCounter().eval()
    with pytest.raises(ExportProblem, match="change state the rest of the model reads"):
        export_onnx(shared, (torch.randn(2, 8),), {}, ["input"], ["x", "s0", "s1", "s2"], structure=True,
                    exporter="dynamo-blocks", blocks=["blocks.0", "blocks.1", "blocks.2"])
    blocks, outputs = blocks_of(llama, (ids,))
    with pytest.raises(OutOfTime), deadline(0.2):  # inside torch.export, with the blocks stubbed
        export_onnx(llama, (ids,), {}, ["input"], outputs, structure=True, exporter="dynamo-blocks", blocks=blocks)
    assert not any("forward" in vars(m) for m in [*llama.modules(), *shared.modules()])
    assert blocks_export(llama, (ids,))[0] == first
    other, _ = blocks_export(big_models.TwoWidths().eval(), (torch.randn(2, 5, 8),))
    assert [f.name for f in onnx.load_from_string(other).functions] == ["Residual", "Residual_2"]
