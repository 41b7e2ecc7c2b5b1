"""sphinx_netviz.diff(old, new, **options): a Drawing of the merged architectures whose .changes are
plain records, in this process (objects in memory, import paths, a snapshot file as the old side)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import ROOTS

import sphinx_netviz
from sphinx_netviz.archdiff import Change
from sphinx_netviz.snapshot import snapshot_json

sys.path.insert(0, str(ROOTS / "test-diff"))
from diff_models import Net  # noqa: E402


def test_diff_of_objects_in_memory() -> None:
    drawing = sphinx_netviz.diff(Net(), Net(blocks=6), input_shape=(2, 3, 8, 8), depth=3)
    assert isinstance(drawing, sphinx_netviz.Drawing)
    assert all(isinstance(c, Change) for c in drawing.changes)
    assert [(c.path, c.kind) for c in drawing.changes] == [("blocks.0", "changed"), ("blocks.4", "added"),
                                                          ("blocks.5", "added")]
    assert drawing.changes[1].to_dict() == {"path": "blocks.4", "kind": "added", "class_name": "Block", "what": [],
                                            "params_old": None, "params_new": 272, "inside": 2}
    html = drawing.html()
    assert "netviz-changed" in html and "Changes from the old model" in html
    assert '"diff": {"kind": "changed", "what": ["×4 → ×6"]}' in html  # the viewer's data


def test_diff_of_import_paths_with_side_kwargs_and_a_snapshot(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(ROOTS / "test-diff"))
    drawing = sphinx_netviz.diff("diff_models:make_net", "diff_models:make_net", input_shape="2, 3, 8, 8",
                                 new_kwargs={"classes": 7})
    assert [c.path for c in drawing.changes] == ["", "head"]
    assert drawing.changes[1].what == ("out_features=5 → 7", "parameters 85 → 119", "output 2×5 → 2×7")
    # the old side as a snapshot file: the same changes, nothing of the old model run
    from sphinx_netviz.snapshot import make_snapshot
    from sphinx_netviz.trace import trace_model
    import torch

    trace, _ = trace_model(Net(), (torch.zeros(2, 3, 8, 8),), {}, ["x"], "Net")
    arch = tmp_path / "net.json"
    arch.write_text(snapshot_json(make_snapshot(trace)), encoding="utf-8")
    again = sphinx_netviz.diff(str(arch), "diff_models:make_net", input_shape="2, 3, 8, 8", new_kwargs={"classes": 7})
    assert again.changes == drawing.changes
    same = sphinx_netviz.diff(arch, Net(), input_shape=(2, 3, 8, 8))
    assert same.changes == [] and b"netviz-changed" not in same.artifacts.svg
    assert sphinx_netviz.draw(Net(), input_shape=(2, 3, 8, 8), onnx="none").changes == []


def test_bad_options() -> None:
    with pytest.raises(TypeError, match=r"diff\(\) got unknown option\(s\) colour"):
        sphinx_netviz.diff(Net(), Net(), input_shape=(2, 3, 8, 8), colour="red")
    with pytest.raises(sphinx_netviz.api.InputProblem):
        sphinx_netviz.diff(tmp := "missing.json", Net(), input_shape=(2, 3, 8, 8))
    assert tmp


def test_an_onnx_file_against_a_model_is_refused() -> None:
    from sphinx_netviz.errors import InputProblem

    with pytest.raises(InputProblem, match=r"net5\.onnx is an ONNX file and .* a model"):
        sphinx_netviz.diff("net5.onnx", Net(), input_shape=(2, 3, 8, 8))
