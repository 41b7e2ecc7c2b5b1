"""Real models at full size: meta tracing, folding, reference boxes, structure ONNX, time limits."""

from __future__ import annotations

import re
import resource
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from big_models import Bert
from conftest import ROOTS, run_sphinx, soup_of

from sphinx_netviz.errors import RenderProblem, TraceProblem
from sphinx_netviz.graph import build_diagram
from sphinx_netviz.loader import build_model
from sphinx_netviz.pipeline import PipelineSettings, make_artifacts
from sphinx_netviz.spec import DiagramSpec
from sphinx_netviz.trace import trace_model


def trace_of(model, *args):
    trace, _ = trace_model(model.eval(), args, {}, ["tokens"], type(model).__name__)
    return trace


def edges_by_title(diagram):
    title = {n.id: n.title for n in diagram.nodes}
    return {(title[e.src], title[e.dst]) for e in diagram.edges}


def test_twelve_layers_fold_into_one_block():
    trace = trace_of(Bert(), torch.ones(2, 7, dtype=torch.long))
    folded, unfolded = build_diagram(trace, 1), build_diagram(trace, 1, fold=False)
    layers = [n for n in folded.nodes if n.class_name == "EncoderLayer"]
    assert len(layers) == 1
    block = layers[0]
    assert block.repeat == 12 and block.title == "layer.0 … layer.11"
    assert block.paths == tuple(f"layer.{i}" for i in range(12))
    assert [n.title for n in unfolded.nodes if n.class_name == "EncoderLayer"] == [f"layer.{i}" for i in range(12)]

    # the same edges into and out of the block as into the first layer and out of the last
    into_first = {src for src, dst in edges_by_title(unfolded) if dst == "layer.0"}
    out_of_last = {dst for src, dst in edges_by_title(unfolded) if src == "layer.11"}
    assert into_first == {"embeddings", "eq"}
    assert {src for src, dst in edges_by_title(folded) if dst == block.title} == into_first
    assert {dst for src, dst in edges_by_title(folded) if src == block.title} == out_of_last == {"getitem"}


def test_folded_cluster_at_a_deeper_depth():
    trace = trace_of(Bert(), torch.ones(2, 7, dtype=torch.long))
    diagram = build_diagram(trace, 3)  # the ModuleList is never called: its items are depth 2
    assert [(c.path, c.repeat) for c in diagram.clusters] == [("layer.0 … layer.11", 12)]
    inner = {n.title for n in diagram.nodes if n.cluster == diagram.clusters[0].id}
    assert {"layer.0.attention", "layer.0.ffn", "layer.0.norm2"} <= inner
    assert not any(n.title.startswith("layer.1.") for n in diagram.nodes)


def test_blocks_that_differ_do_not_fold():
    from big_models import EncoderLayer

    class Mixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([EncoderLayer(32), EncoderLayer(32), EncoderLayer(32, heads=2)])

        def forward(self, x):
            mask = torch.zeros(x.shape[:2], dtype=torch.bool)
            for block in self.blocks:
                x = block(x, mask)
            return x

    trace, _ = trace_model(Mixed().eval(), (torch.randn(2, 5, 32),), {}, ["x"], "Mixed")
    titles = [n.title for n in build_diagram(trace, 2).nodes if n.class_name == "EncoderLayer"]
    # heads=2 has the same parameter shapes but other hyper-parameters: only the first two fold
    assert titles == ["blocks.0 … blocks.1", "blocks.2"]


def test_fan_out_gets_reference_boxes_and_lays_out_fast():
    spec = DiagramSpec("big_models:FanOut", ((4, 8),), fold=False, onnx="none")
    made = make_artifacts(spec, PipelineSettings(layout_timeout=20))
    assert made.problems == []  # laid out within the time limit, at the asked depth
    assert made.depth == 2
    svg = made.svg.decode()
    assert svg.count("↪ sigmoid") >= 55  # the gate goes through sigmoid, then to 60 products
    assert made.timings["layout"] < 20


def test_meta_failure_falls_back_to_cpu_and_says_so():
    spec = DiagramSpec("big_models:NeedsData", ((2, 16),), device="auto")
    made = make_artifacts(spec, PipelineSettings(meta_above_mb=0))  # every model is "big": meta first
    assert made.device == "cpu"
    assert "with real weights on the CPU" in made.notes[0]
    assert "because on the meta device" in made.notes[0] and "item" in made.notes[0]
    assert b'class="node nv-linear"' in made.svg  # re-serialised by the sanitizer: '-' as itself


def test_forced_meta_reports_the_data_dependent_layer():
    from sphinx_netviz.errors import TraceProblem

    with pytest.raises(TraceProblem, match="forward of NeedsData failed"):
        make_artifacts(DiagramSpec("big_models:NeedsData", ((2, 16),), device="meta"))


def test_fallback_refused_over_the_cpu_limit():
    from sphinx_netviz.errors import TraceProblem

    settings = PipelineSettings(meta_above_mb=0, cpu_max_mb=0)
    with pytest.raises(TraceProblem, match="would allocate .* netviz_cpu_max_mb = 0 MB"):
        make_artifacts(DiagramSpec("big_models:NeedsData", ((2, 16),)), settings)


def test_auto_traces_on_meta_and_builds_small_models_for_real_only_for_their_onnx():
    import onnxruntime as ort

    small = make_artifacts(DiagramSpec("example_models.cnn:CNNModel", ((2, 3, 512, 512),)))
    assert small.device == "meta" and "allocating none of its" in small.notes[0]
    assert small.onnx_mode == "full"  # built for real after the trace, for the weights in the file
    session = ort.InferenceSession(small.onnx, providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: np.ones((2, 3, 512, 512), np.float32)})
    assert out.shape == (2, 10) and np.allclose(out.sum(axis=1), 1, atol=1e-5) and out.std() > 0
    big = make_artifacts(DiagramSpec("example_models.gpt2:GPT2", ((1, 128),), input_dtypes=("int64",),
                                     onnx="none"))
    assert big.device == "meta"
    assert "allocating none of its 498 MB of weights" in big.notes[0]


def test_a_small_model_whose_activations_do_not_fit_is_not_run_for_real():
    spec = DiagramSpec("example_models.cnn:CNNModel", ((16, 3, 512, 512),))
    made = make_artifacts(spec, memory_bytes=200 * 10**6)  # half of it: less than the activations
    assert made.device == "meta" and made.onnx_mode == "structure"
    assert "not run for real (for a full ONNX file), because that would take" in made.notes[0]


def test_structure_onnx_declares_every_weight_and_runs_with_them():
    """A structure file is a valid model: feed it the real weights and it computes the real output."""
    spec = DiagramSpec("example_models.resnet:SmallResNet", ((1, 3, 64, 64),), onnx="structure")
    made = make_artifacts(spec)
    assert made.onnx_mode == "structure"
    model = onnx.load_from_string(made.onnx)
    onnx.checker.check_model(model, full_check=True)
    assert len(model.graph.initializer) == 0
    declared = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}

    net = build_model(spec, "cpu")
    state = dict(net.model.named_parameters()) | dict(net.model.named_buffers())
    # every parameter is an input of the structure file, and each weight it declares has its shape
    assert set(dict(net.model.named_parameters())) <= set(declared)
    weights = {name: list(tensor.shape) for name, tensor in state.items() if name in declared}
    assert {name: declared[name] for name in weights} == weights

    feeds = {name: t.detach().numpy() for name, t in state.items() if name in declared}
    feeds["input"] = net.args[0].numpy()
    session = onnxruntime.InferenceSession(made.onnx, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, feeds)
    with torch.no_grad():
        expected = net.model(*net.args).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.slow
def test_llama_7b_builds_in_a_docs_build_under_a_memory_cap(tmp_path):
    """6.7 B parameters would be 27 GB; the whole build runs with 3 GB of address space."""
    cap = 3 * 1024**3

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    done = run_sphinx(ROOTS / "test-big", tmp_path / "out", "-W", preexec_fn=limit, timeout=600, ok=True)
    assert "on the meta device, allocating none of its 27 GB of weights" in done.stdout
    assert done.peak_rss_mb < 1536, done.peak_rss_mb

    page = soup_of(tmp_path / "out" / "index.html")
    svg = page.select_one("div.netviz svg")
    texts = [g.find("text").get_text() for g in svg.select("g.cluster")]
    assert "layers.0 … layers.31 ×32: DecoderLayer" in texts
    link = page.select_one("a.netviz-onnx")
    assert link.get_text().startswith("ONNX (structure only), ")  # then its size
    data = (tmp_path / "out" / link["href"]).read_bytes()
    assert len(data) < 5 * 1024 * 1024
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model)
    declared = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert declared["embed_tokens.weight"] == [32000, 4096]
    assert declared["layers.31.mlp.down_proj.weight"] == [4096, 11008]
    assert sum(1 for name in declared if name.endswith("_proj.weight")) == 32 * 7


def test_layout_time_limit_falls_back_to_a_coarser_depth(slow_dot):
    spec = DiagramSpec("example_models.cnn:CNNModel", ((16, 3, 512, 512),), depth=2, onnx="none")
    made = make_artifacts(spec, PipelineSettings(dot=str(slow_dot), layout_timeout=1))
    assert made.depth == 1
    assert [p.stage for p in made.problems] == ["render"]
    assert "did not lay out depth 2 (17 boxes) within 1 s, so depth 1 is drawn instead" in made.problems[0].message
    titles = made.svg.decode()
    assert "conv.0" not in titles and ">conv<" in titles


def test_layout_fallback_is_a_warning_in_the_page_build(build, slow_dot):
    app = build("seed", netviz_dot=str(slow_dot), netviz_layout_timeout=1, netviz_onnx="none")
    warnings = app.warning.getvalue()
    assert "index.rst:4: WARNING: example_models.cnn:CNNModel: Graphviz did not lay out depth 2" in warnings
    assert "[netviz.render]" in warnings
    page = soup_of(Path(app.outdir) / "index.html")
    assert len(page.select("div.netviz svg g.node")) == 5  # depth 1: input, conv, view, ful_layer, output
    assert page.select_one("a.netviz-onnx") is None


def test_instances_are_traced_where_they_live():
    from sphinx_netviz.errors import TraceProblem

    made = make_artifacts(DiagramSpec("big_models:INSTANCE", ((2, 4),), onnx="none"),
                          PipelineSettings(meta_above_mb=0))
    assert made.device == "cpu"
    with pytest.raises(TraceProblem, match="is a model instance, already built on cpu"):
        make_artifacts(DiagramSpec("big_models:INSTANCE", ((2, 4),), device="meta"))


def test_other_drawings_of_a_model_reuse_its_onnx_file(tmp_path, monkeypatch):
    from sphinx_netviz import onnx_export
    from sphinx_netviz.cache import DiagramCache
    from sphinx_netviz.pipeline import cached_diagram

    cache = DiagramCache(tmp_path)
    first, traced = cached_diagram(DiagramSpec("example_models.cnn:CNNModel", ((16, 3, 512, 512),)), cache)
    assert traced and first.onnx_mode == "full"

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "export_onnx", no_export)
    for variant in ({"depth": 1}, {"direction": "LR"}, {"fold": False}):
        spec = DiagramSpec("example_models.cnn:CNNModel", ((16, 3, 512, 512),), **variant)
        other, traced = cached_diagram(spec, cache)
        assert traced and other.svg_path != first.svg_path
        assert other.onnx_path == first.onnx_path and other.onnx_mode == "full"


def test_a_depth_too_big_to_lay_out_is_not_attempted():
    """3,000 layers (and input, output) at depth 3: not given to Graphviz; depth 2 is drawn, bounded."""
    from sphinx_netviz.limits import MAX_INLINE_BYTES, MAX_LAYOUT_BOXES, Budget

    spec = DiagramSpec("big_models:ManyLayers", ((1, 4),), depth=7, fold=False, onnx="none")
    start = time.monotonic()
    made = make_artifacts(spec, budget=Budget(60))
    assert time.monotonic() - start < 30
    assert made.depth == 2  # depth 7 draws what depth 3 draws: 3,000 boxes
    assert [p.stage for p in made.problems] == ["render"]
    assert (f"depth 3 has 3,002 boxes, more than the {MAX_LAYOUT_BOXES:,} Graphviz can lay out in "
            "reasonable time, so depth 2 is drawn instead") in made.problems[0].message
    assert len(re.findall(rb'class="node[" ]', made.svg)) == 60 + 2  # the blocks, input and output
    # the viewer's deeper depth is left out, and the page says which
    assert made.details["omitted"] == [3]
    assert sum(len(svg) for svg in made.layouts.values()) < MAX_INLINE_BYTES


def test_the_layouts_share_the_diagrams_time_budget(slow_dot):
    """With a slow Graphviz, every layout together stays within the budget (not 30 s each)."""
    from sphinx_netviz.limits import Budget

    spec = DiagramSpec("example_models.cnn:CNNModel", ((16, 3, 512, 512),), depth=2, onnx="none")
    start = time.monotonic()
    with pytest.raises(RenderProblem, match="not even depth 0 could be drawn"):
        make_artifacts(spec, PipelineSettings(dot=str(slow_dot), layout_timeout=30), budget=Budget(4))
    assert time.monotonic() - start < 8


def test_a_model_built_on_meta_with_stray_cpu_tensors_lives_on_meta():
    loaded = build_model(DiagramSpec("big_models:LegacyConstructed", ((2, 8),)), "meta")
    assert loaded.device == "meta"
    assert all(t.is_meta for t in [*loaded.model.parameters(), *loaded.model.buffers()])
    assert loaded.weight_bytes == (8 * 8 + 8 + 8) * 4
    made = make_artifacts(DiagramSpec("big_models:LegacyConstructed", ((2, 8),), device="meta", onnx="none"))
    assert made.device == "meta" and made.problems == []


def test_device_meta_names_a_factory_that_pins_its_weights_to_the_cpu_as_such():
    with pytest.raises(TraceProblem) as caught:
        make_artifacts(DiagramSpec("big_models:pinned_to_cpu", ((2, 8),), device="meta", onnx="none"))
    assert "built its model on cpu even on the meta device" in caught.value.message
    assert "model instance" not in caught.value.message


def test_dtype_builds_the_model_and_its_inputs_in_that_dtype():
    loaded = build_model(DiagramSpec("big_models:GroupedExperts", ((8, 16),), dtype="bfloat16"), "meta")
    assert {p.dtype for p in loaded.model.parameters()} == {torch.bfloat16}
    assert loaded.args[0].dtype == torch.bfloat16
    float32 = build_model(DiagramSpec("big_models:GroupedExperts", ((8, 16),)), "meta")
    assert loaded.weight_bytes * 2 == float32.weight_bytes  # sizes (and so meta/CPU) follow the dtype


def test_dtype_also_casts_what_a_constructor_made_in_a_fixed_dtype():
    loaded = build_model(DiagramSpec("big_models:LegacyConstructed", ((2, 8),), dtype="float16"), "meta")
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float16}
    assert torch.get_default_dtype() == torch.float32  # put back after the build


def test_a_meta_kernel_that_rejects_the_dtype_gets_a_dtype_hint():
    spec = DiagramSpec("big_models:GroupedExperts", ((8, 16),), device="meta", onnx="none")
    with pytest.raises(TraceProblem) as caught:
        make_artifacts(spec)
    assert "With :dtype: bfloat16 the model traces on the meta device" in caught.value.message
    made = make_artifacts(replace(spec, dtype="bfloat16"))
    assert made.device == "meta" and made.problems == []
    svg = made.svg.decode()
    assert "grouped_mm" in svg and "8×16 bfloat16" in svg  # the op drawn; the input follows :dtype:


def test_auto_draws_a_small_model_the_meta_kernels_reject_on_the_cpu():
    made = make_artifacts(DiagramSpec("big_models:GroupedExperts", ((8, 16),), onnx="none"))
    assert made.device == "cpu"
    assert any("with real weights on the CPU" in note for note in made.notes)
