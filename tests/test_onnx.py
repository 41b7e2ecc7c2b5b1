"""ONNX files of the example models: valid, runnable, equal to PyTorch, byte-stable."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from conftest import DOCS, REPO
from torch import nn

from sphinx_netviz.graph import build_diagram
from sphinx_netviz.loader import build_model
from sphinx_netviz.pipeline import make_artifacts
from sphinx_netviz.spec import DiagramSpec
from sphinx_netviz.trace import trace_model

GALLERY = [
    DiagramSpec("example_models.cnn:CNNModel", ((16, 3, 512, 512),)),
    DiagramSpec("example_models.resnet:SmallResNet", ((1, 3, 64, 64),)),
    DiagramSpec("example_models.transformer:TinyTransformer", ((2, 16),), input_dtypes=("int64",)),
    DiagramSpec("example_models.transformer:TinyTransformer", inputs="example_models.transformer:example_inputs"),
]


def run_onnx(data: bytes, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


@pytest.mark.parametrize("spec", GALLERY, ids=lambda s: s.target.split(":")[-1] + ("+inputs" if s.inputs else ""))
def test_gallery_onnx_matches_torch(spec):
    made = make_artifacts(spec)
    assert made.problems == [] and made.onnx_mode == "full"
    model = onnx.load_from_string(made.onnx)
    onnx.checker.check_model(model, full_check=True)

    loaded = build_model(spec)  # same seed: same weights as the exported model
    inputs = list(loaded.args) + list(loaded.kwargs.values())
    feeds = {name: t.numpy() for name, t in zip(loaded.input_names, inputs)}
    assert [i.name for i in model.graph.input] == list(feeds)
    with torch.no_grad():
        expected = loaded.model(*loaded.args, **loaded.kwargs)
    (got,) = run_onnx(made.onnx, feeds)
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5, rtol=1e-4)


def test_library_transformer_layer_is_drawn_and_exported():
    """``nn.TransformerEncoderLayer``'s fused eval fast path would hide its layers and break export."""
    layer = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False).eval()
    x = torch.randn(2, 5, 32)
    trace, _ = trace_model(model, (x,), {}, ["input"], "enc")
    titles = {n.title for n in build_diagram(trace, 3, fold=False).nodes}
    assert {"layers.0.self_attn", "layers.0.linear1", "layers.1.norm2"} <= titles

    from sphinx_netviz.onnx_export import export_onnx

    data = export_onnx(model, (x,), {}, ["input"], ["output"])
    onnx.checker.check_model(onnx.load_from_string(data))
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(run_onnx(data, {"input": x.numpy()})[0], expected, atol=1e-5, rtol=1e-4)


def test_structured_outputs_export_as_named_outputs():
    from sphinx_netviz.onnx_export import export_onnx

    class DictOut(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            y = self.fc(x)
            return {"logits": y, "probs": y.softmax(-1)}

    model = DictOut().eval()
    data = export_onnx(model, (torch.randn(2, 4),), {}, ["input"], ["output.logits", "output.probs"])
    assert [o.name for o in onnx.load_from_string(data).graph.output] == ["output.logits", "output.probs"]


ARTIFACT_BYTES = """
import hashlib, sys
from sphinx_netviz.pipeline import make_artifacts
from sphinx_netviz.spec import DiagramSpec
made = make_artifacts(DiagramSpec("example_models.resnet:SmallResNet", ((1, 3, 64, 64),)))
print(hashlib.sha256(made.svg).hexdigest(), hashlib.sha256(made.onnx).hexdigest(), hashlib.sha256(made.dot.encode()).hexdigest())
"""


def test_outputs_are_byte_identical_across_processes():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(DOCS)]))
    runs = [subprocess.run([sys.executable, "-c", ARTIFACT_BYTES], capture_output=True, text=True,
                           env=env, check=True, timeout=300).stdout for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0].split()) == 3
