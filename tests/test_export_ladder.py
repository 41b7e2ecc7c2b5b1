"""The ONNX exporter ladder: TorchScript, dynamo, then a graph-only file, within the export time."""

from __future__ import annotations

import time

import onnx
import pytest

from sphinx_netviz import export_ladder as ladder
from sphinx_netviz.errors import ExportProblem
from sphinx_netviz.graph_onnx import GRAPH_DOMAIN
from sphinx_netviz.limits import Budget
from sphinx_netviz.pipeline import PipelineSettings, make_artifacts
from sphinx_netviz.spec import DiagramSpec

CNN = DiagramSpec("example_models.cnn:CNNModel", ((1, 3, 512, 512),))


def checked(data: bytes) -> onnx.ModelProto:
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model)
    return model


def test_the_rungs_follow_the_mode_and_the_device():
    assert [(r.kind, r.exporter) for r in ladder.rungs("full", "cpu")] == [
        ("full", "torchscript"), ("structure", "torchscript"), ("structure", "dynamo")]
    assert [(r.kind, r.exporter) for r in ladder.rungs("structure", "cpu")] == [
        ("structure", "torchscript"), ("structure", "dynamo")]
    assert [(r.kind, r.exporter) for r in ladder.rungs("structure", "meta")] == [("structure", "dynamo")]


def test_a_model_no_exporter_takes_gets_a_graph_only_file_and_auto_only_notes_it():
    """torch._grouped_mm (MoE experts) has no ONNX export: the download is the graph-only file."""
    made = make_artifacts(DiagramSpec("big_models:GroupedExperts", ((8, 16),), device="meta",
                                      dtype="bfloat16"))
    assert made.onnx_mode == "graph" and made.problems == []
    model = checked(made.onnx)
    assert {n.domain for n in model.graph.node} == {GRAPH_DOMAIN}
    note = next(n for n in made.notes if n.startswith("the ONNX download is a graph-only file"))
    assert "dynamo (structure): " in note and "Grouped matmul" in note


def test_a_kind_named_by_the_author_that_cannot_be_made_is_a_warning():
    made = make_artifacts(DiagramSpec("big_models:GroupedExperts", ((8, 16),), device="meta",
                                      dtype="bfloat16", onnx="structure"))
    assert made.onnx_mode == "graph"
    (problem,) = made.problems
    assert problem.stage == "export"
    assert problem.message.startswith("the structure ONNX export failed (dynamo (structure): ")
    assert "so the download is a graph-only file; set :onnx: auto" in problem.message


def test_when_torchscript_fails_dynamo_makes_the_structure_file(monkeypatch):
    real = ladder.export_onnx

    def no_torchscript(*args, exporter=None, **kwargs):
        if exporter == "torchscript":
            raise ExportProblem("RuntimeError: an op TorchScript cannot export")
        return real(*args, exporter=exporter, **kwargs)

    monkeypatch.setattr(ladder, "export_onnx", no_torchscript)
    made = make_artifacts(CNN)  # auto: full first, then structure through TorchScript, then dynamo
    assert made.onnx_mode == "structure" and made.problems == []
    model = checked(made.onnx)
    assert model.graph.initializer == [] and "conv.0.weight" in {i.name for i in model.graph.input}
    assert any("TorchScript (full): RuntimeError: an op TorchScript cannot export" in n for n in made.notes)


def test_an_export_past_its_time_gives_way_to_the_graph_only_file():
    spec = DiagramSpec("big_models:SlowToExport", ((2, 8),), onnx="structure", kwargs={"seconds": 60})
    start = time.monotonic()
    made = make_artifacts(spec, PipelineSettings(export_timeout=2))
    assert time.monotonic() - start < 15  # not 60 s of sleep, nor one per exporter
    assert made.onnx_mode == "graph"
    assert "ran past the 2 s the exports may take (netviz_export_timeout)" in made.problems[0].message
    assert made.time_limited  # with more time the file would be better: drawn again next time
    checked(made.onnx)


def test_the_exports_stay_within_the_diagrams_own_budget():
    spec = DiagramSpec("big_models:SlowToExport", ((2, 8),), kwargs={"seconds": 60})
    start = time.monotonic()
    made = make_artifacts(spec, budget=Budget(6))  # export_timeout is 60 s; the diagram has 6
    assert time.monotonic() - start < 12
    assert made.onnx_mode == "graph" and made.problems == []  # auto: a note, not a warning
    checked(made.onnx)


def test_a_full_file_of_a_model_too_big_to_build_is_a_structure_file_with_a_warning():
    spec = DiagramSpec("example_models.cnn:CNNModel", ((1, 3, 512, 512),), device="meta", onnx="full")
    made = make_artifacts(spec, PipelineSettings(cpu_max_mb=0))
    assert made.onnx_mode == "structure"
    assert "a full file needs the real weights" in made.problems[0].message
    assert "netviz_cpu_max_mb = 0 MB" in made.problems[0].message
    assert checked(made.onnx).graph.initializer == []


@pytest.mark.parametrize("kind", ["full", "structure", "graph"])
def test_the_download_link_says_which_kind_of_file_it_is(kind):
    from sphinx_netviz.markup import ONNX_LABELS as _ONNX_LABELS, ONNX_TITLES as _ONNX_TITLES

    assert kind in _ONNX_LABELS and kind in _ONNX_TITLES


def test_a_file_made_for_lack_of_time_is_not_shared_through_the_cache(tmp_path):
    """Another drawing of the model (or the next build, with more time) must export again."""
    from sphinx_netviz.cache import DiagramCache
    from sphinx_netviz.pipeline import cached_diagram, spec_key

    settings = PipelineSettings(export_timeout=2)
    spec = DiagramSpec("big_models:SlowToExport", ((2, 8),), kwargs={"seconds": 60})
    cache = DiagramCache(tmp_path)
    drawn, traced = cached_diagram(spec, cache, settings)
    assert traced and drawn.onnx_mode == "graph"
    assert cache.lookup_export(spec_key(spec.export_view(), settings)) is None
    quick = DiagramSpec("big_models:SlowToExport", ((2, 8),), kwargs={"seconds": 0})
    drawn, _ = cached_diagram(quick, cache, settings)
    assert drawn.onnx_mode == "full"
    assert cache.lookup_export(spec_key(quick.export_view(), settings)) is not None
