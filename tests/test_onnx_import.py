"""Drawing an existing ONNX file (sphinx_netviz.onnx_import): scopes, shapes, parameters, hostile files.

Files are made here: with ``torch.onnx.export`` (both exporters) and with
``onnx.helper`` in other producers' naming styles (TensorFlow/Keras
converters' ``model/dense/MatMul``, files with no scopes or no shapes).
Nothing is downloaded.  The Sphinx build and command-line tests are at the end.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sphinx_netviz import cli, onnx_import
from sphinx_netviz.dot import to_dot
from sphinx_netviz.errors import ImportProblem, InputProblem
from sphinx_netviz.fold import find_runs
from sphinx_netviz.graph import build_diagram
from sphinx_netviz.ir import Trace
from sphinx_netviz.onnx_import import is_onnx_path, module_paths, read_onnx_file, trace_onnx
from sphinx_netviz.pipeline import make_artifacts
from sphinx_netviz.render import run_dot
from sphinx_netviz.spec import DiagramSpec, file_defaults
from sphinx_netviz.svgsafe import sanitized_svg_file
from sphinx_netviz.views import viewer_details

SVG_NS = "{http://www.w3.org/2000/svg}"


# -- files made with onnx.helper -----------------------------------------------------------------

def _weight(rng: np.random.RandomState, name: str, *shape: int) -> TensorProto:
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def keras_mlp(*, opset: int = 17, value_info: bool = False, batch: str | int = "batch",
              graph_name: str = "mnist_mlp") -> onnx.ModelProto:
    """A two-layer MLP named as TensorFlow/Keras converters name nodes: ``model/dense/MatMul``.

    A ``ReduceMean`` and an ``Unsqueeze`` whose axes moved from attributes to
    inputs across opsets (13 and 18) exercise shape inference in every opset.
    """
    rng = np.random.RandomState(0)
    inits = [_weight(rng, "model/dense/MatMul/ReadVariableOp:0", 784, 64),
             _weight(rng, "model/dense/BiasAdd/ReadVariableOp:0", 64),
             _weight(rng, "model/dense_1/MatMul/ReadVariableOp:0", 64, 10),
             _weight(rng, "model/dense_1/BiasAdd/ReadVariableOp:0", 10)]
    nodes = [
        helper.make_node("MatMul", ["input_1", "model/dense/MatMul/ReadVariableOp:0"], ["model/dense/MatMul:0"],
                         name="model/dense/MatMul"),
        helper.make_node("Add", ["model/dense/MatMul:0", "model/dense/BiasAdd/ReadVariableOp:0"],
                         ["model/dense/BiasAdd:0"], name="model/dense/BiasAdd"),
        helper.make_node("Relu", ["model/dense/BiasAdd:0"], ["model/dense/Relu:0"], name="model/dense/Relu"),
        helper.make_node("MatMul", ["model/dense/Relu:0", "model/dense_1/MatMul/ReadVariableOp:0"],
                         ["model/dense_1/MatMul:0"], name="model/dense_1/MatMul"),
        helper.make_node("Add", ["model/dense_1/MatMul:0", "model/dense_1/BiasAdd/ReadVariableOp:0"],
                         ["model/dense_1/BiasAdd:0"], name="model/dense_1/BiasAdd"),
        helper.make_node("Softmax", ["model/dense_1/BiasAdd:0"], ["dense_1"], name="model/dense_1/Softmax",
                         axis=-1),
    ]
    # the mean over the classes, as a second output: its axes are an attribute before opset 18
    if opset >= 18:
        inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "model/mean/axes:0"))
        nodes.append(helper.make_node("ReduceMean", ["dense_1", "model/mean/axes:0"], ["model/mean/Mean:0"],
                                      name="model/mean/Mean", keepdims=0))
    else:
        nodes.append(helper.make_node("ReduceMean", ["dense_1"], ["model/mean/Mean:0"], name="model/mean/Mean",
                                      axes=[1], keepdims=0))
    if opset >= 13:
        inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "model/mean/ExpandDims/dim:0"))
        nodes.append(helper.make_node("Unsqueeze", ["model/mean/Mean:0", "model/mean/ExpandDims/dim:0"],
                                      ["mean"], name="model/mean/ExpandDims"))
    else:
        nodes.append(helper.make_node("Unsqueeze", ["model/mean/Mean:0"], ["mean"], name="model/mean/ExpandDims",
                                      axes=[1]))
    graph = helper.make_graph(
        nodes, graph_name,
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [batch, 784])],
        [helper.make_tensor_value_info("dense_1", TensorProto.FLOAT, [batch, 10]),
         helper.make_tensor_value_info("mean", TensorProto.FLOAT, [batch, 1] if value_info else None)],
        inits)
    if value_info:
        graph.value_info.extend(
            helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, width])
            for name, width in [("model/dense/MatMul:0", 64), ("model/dense/BiasAdd:0", 64),
                                ("model/dense/Relu:0", 64), ("model/dense_1/MatMul:0", 10),
                                ("model/dense_1/BiasAdd:0", 10), ("model/mean/Mean:0", 1)])
    return helper.make_model(graph, producer_name="tf2onnx", opset_imports=[helper.make_opsetid("", opset)])


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString(deterministic=True))
    return path


def trace_of(model: onnx.ModelProto, name: str = "file") -> Trace:
    return onnx_import.trace_model_proto(model, name)[0]


def svg_of(trace: Trace, depth: int = 2) -> bytes:
    """Lay the trace out as the pipeline does (the SVG sanitised); fails unless Graphviz takes the DOT."""
    diagram = build_diagram(trace, depth, runs=find_runs(trace))
    return sanitized_svg_file(run_dot(to_dot(diagram, "TB", "nv"), "svg", "dot", 60))


def edge_labels(trace: Trace, depth: int = 2) -> list[str]:
    return [e.label for e in build_diagram(trace, depth).edges]


# -- exported by torch ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torchscript_resnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmallResNet (docs/example_models) through the TorchScript exporter: ``/layer1/layer1.0/conv1/Conv``."""
    import torch

    from example_models.resnet import SmallResNet

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ts") / "resnet.onnx"
    torch.onnx.export(SmallResNet().eval(), (torch.randn(1, 3, 32, 32),), str(path), dynamo=False,
                      input_names=["input"], output_names=["logits"], opset_version=17)
    return path


def test_torchscript_scopes_become_the_module_tree(torchscript_resnet: Path) -> None:
    trace = trace_onnx(torchscript_resnet)
    assert "/layer1/layer1.0/conv1/Conv" in {n.name for n in onnx.load(str(torchscript_resnet)).graph.node}
    assert {"stem", "layer1", "layer1.0", "layer1.0.conv1", "layer2.0.downsample.0", "fc"} <= set(trace.modules)
    assert trace.modules["layer1"].children == ("layer1.0", "layer1.1")
    assert trace.modules["layer1.0.conv1"].class_name == "Conv"
    assert trace.modules["layer1.0.conv1"].hparams == "kernel_shape=(3, 3), pads=(1, 1, 1, 1)"
    assert trace.modules["layer1.0.conv1"].param_count > 0
    assert trace.modules["fc"].param_count == 64 * 10 + 10
    # every float initializer counts once, at the root
    model = onnx.load(str(torchscript_resnet))
    assert trace.modules[""].param_count == sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    diagram = build_diagram(trace, 2, runs=find_runs(trace))
    assert [c.path for c in diagram.clusters] == ["stem", "layer1", "layer2", "layer3"]
    titles = {n.title for n in diagram.nodes}
    assert "layer1.0 … layer1.1" in titles  # identical blocks fold, as for a traced model
    assert "1×16×16×16" in {e.label for e in diagram.edges}  # shapes from ONNX shape inference
    # :depth: 1 draws the stages as boxes; depth 3 opens the blocks
    assert {n.title for n in build_diagram(trace, 1).nodes} >= {"stem", "layer1", "layer2", "layer3", "fc"}
    assert "layer1.0.conv1" in {n.title for n in build_diagram(trace, 3, fold=False).nodes}
    # the summary table: a row per leaf scope
    details = viewer_details(trace, "nv", 2, {2: b""}, {c.id for c in trace.calls}, find_runs(trace))
    rows = {row["path"]: row for row in details["rows"]}
    assert rows["fc"]["class"] == "Gemm" and rows["fc"]["params"] == 650 and rows["fc"]["out"] == "1×10"
    assert rows["layer1.0.conv1"]["macs"] == 16 * 16 * 16 * 16 * 9  # Conv MACs from the shapes
    assert details["totals"]["params"] == trace.modules[""].param_count
    assert b"layer1.0" in svg_of(trace)


@pytest.mark.filterwarnings("ignore")
def test_torchscript_module_list_paths_are_the_traced_ones(tmp_path: Path) -> None:
    """``/encoder/layer.0/fc/Gemm``: a ModuleList's child under the module holding the list."""
    import torch

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.fc(x)) + x

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.ModuleList([Block() for _ in range(3)])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for block in self.layer:
                x = block(x)
            return x

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = Encoder()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.encoder(x)

    path = tmp_path / "net.onnx"
    torch.onnx.export(Net().eval(), (torch.randn(2, 8),), str(path), dynamo=False, input_names=["x"])
    trace = trace_onnx(path)
    assert {"encoder", "encoder.layer.0", "encoder.layer.0.fc", "encoder.layer.2.fc"} <= set(trace.modules)
    assert [r.label() for r in find_runs(trace)] == ["encoder.layer.0 … encoder.layer.2"]
    assert [n.title for n in build_diagram(trace, 2).nodes if n.kind == "module"] == [
        "encoder.layer.0 … encoder.layer.2"]


@pytest.mark.filterwarnings("ignore")
def test_dynamo_metadata_gives_scopes_and_classes(tmp_path: Path) -> None:
    import torch

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(8, 8)
            self.act = torch.nn.GELU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act(self.fc(x))

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = torch.nn.Sequential(Block(), Block())
            self.head = torch.nn.Linear(8, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.blocks(x))

    path = tmp_path / "net.onnx"
    torch.onnx.export(Net().eval(), (torch.randn(3, 8),), str(path), dynamo=True, external_data=False)
    assert any(p.key == onnx_import.NAME_SCOPES for n in onnx.load(str(path)).graph.node for p in n.metadata_props)
    trace = trace_onnx(path)
    assert trace.model_name == "Net"
    assert trace.modules["blocks.0"].class_name == "Block"
    assert trace.modules["blocks.0.fc"].class_name == "Linear"
    assert trace.modules["blocks.0.fc"].qualname == "torch.nn.modules.linear.Linear"
    assert trace.modules["head"].param_count == 8 * 2 + 2
    assert trace.modules[""].param_count == 2 * (8 * 8 + 8) + 18
    titles = {n.title for n in build_diagram(trace, 2, runs=find_runs(trace)).nodes}
    assert "blocks.0 … blocks.1" in titles


# -- other producers' naming (onnx.helper) -------------------------------------------------------

def test_keras_names_become_scopes() -> None:
    trace = trace_of(keras_mlp())
    assert trace.model_name == "mnist_mlp"
    # 'model/' is every node's: the model itself, not a cluster around everything
    assert set(trace.modules) == {"", "dense", "dense_1", "mean"}
    assert trace.modules["dense"].class_name == "MatMul+Add+Relu"
    assert trace.modules["dense"].param_count == 784 * 64 + 64
    assert trace.modules["dense_1"].hparams == "axis=-1"  # Softmax's
    assert trace.modules[""].param_count == 784 * 64 + 64 + 64 * 10 + 10  # the int64 axes are not parameters
    diagram = build_diagram(trace, 1)
    assert [n.title for n in diagram.nodes if n.kind == "module"] == ["dense", "dense_1", "mean"]
    assert {e.label for e in diagram.edges} >= {"batch×784", "batch×64", "batch×10"}
    assert [n.title for n in build_diagram(trace, 2).nodes] == [n.title for n in diagram.nodes]  # no deeper
    assert b"dense_1" in svg_of(trace, 1)


def test_shared_prefix_of_a_converter_is_not_a_cluster() -> None:
    model = keras_mlp(graph_name="tf2onnx")
    for node in model.graph.node:
        node.name = "StatefulPartitionedCall/" + node.name
    trace = trace_of(model, "from_tf")
    assert set(trace.modules) == {"", "dense", "dense_1", "mean"}
    assert trace.model_name == "from_tf"  # generic graph and scope names: the file's name


@pytest.mark.parametrize("value_info", [True, False], ids=["value_info", "inferred"])
def test_shapes_from_value_info_or_inference(value_info: bool) -> None:
    trace, notes = onnx_import.trace_model_proto(keras_mlp(value_info=value_info, batch=4), "mlp")
    assert "4×64" in edge_labels(trace, 1) and "4×10" in edge_labels(trace, 1)
    assert any("shape inference" in note for note in notes) is not value_info
    mean = trace.tensors[dict(trace.outputs)["mean"]]
    assert mean.shape == (4, 1)  # without value_info, the output is declared without a shape: inferred


@pytest.mark.parametrize("opset", [11, 13, 17, 18, 21])
def test_opsets(opset: int) -> None:
    model = keras_mlp(opset=opset)
    trace = trace_of(model)
    assert set(trace.modules) == {"", "dense", "dense_1", "mean"}
    assert trace.tensors[dict(trace.outputs)["mean"]].shape == ("batch", 1)
    hparams = trace.modules["mean"].hparams
    assert ("axes=(1,)" in hparams) is (opset < 18)  # an attribute before opset 18, an input after
    assert b"dense_1" in svg_of(trace, 1)


def test_a_file_with_no_shape_information_still_draws() -> None:
    """Custom operators that shape inference does not know, inputs of unknown shape, no value_info."""
    nodes = [helper.make_node("Encode", ["tokens"], ["h"], name="encoder/Encode", domain="com.example"),
             helper.make_node("Pool", ["h"], ["pooled"], name="pool/Pool", domain="com.example"),
             helper.make_node("Relu", ["pooled"], ["out"], name="head/Relu")]
    graph = helper.make_graph(nodes, "mystery", [helper.make_tensor_value_info("tokens", TensorProto.INT64, None)],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.example", 1)])
    trace, notes = onnx_import.trace_model_proto(model, "mystery")
    assert set(edge_labels(trace, 1)) == {"?"}
    assert any("no shape information" in note for note in notes)
    assert trace.modules["encoder"].class_name == "Encode"
    assert b"encoder" in svg_of(trace, 1)


def test_a_file_without_scopes_draws_a_box_per_operator() -> None:
    rng = np.random.RandomState(1)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv_1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name=""),
             helper.make_node("GlobalAveragePool", ["r"], ["y"], name="")]
    graph = helper.make_graph(nodes, "flat", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 1, 1])],
                              [_weight(rng, "w", 4, 3, 3, 3), _weight(rng, "b", 4)])
    trace = trace_of(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    boxes = [n for n in build_diagram(trace, 1).nodes if n.kind == "module"]
    assert [(n.title, n.class_name) for n in boxes] == [("conv_1", "Conv"), ("relu_1", "Relu"),
                                                        ("globalaveragepool_2", "GlobalAveragePool")]
    assert boxes[0].hparams == "kernel_shape=(3, 3), pads=(1, 1, 1, 1)" and boxes[0].param_count == 4 * 27 + 4
    assert build_diagram(trace, 1).edges[1].label == "1×4×8×8"


def test_weight_only_nodes_are_not_drawn() -> None:
    """``Identity``/``DequantizeLinear`` of an initializer feed their operator like parameters."""
    rng = np.random.RandomState(2)
    nodes = [helper.make_node("DequantizeLinear", ["wq", "scale"], ["w"], name="/fc/DequantizeLinear"),
             helper.make_node("Identity", ["w"], ["w2"], name="Identity_0"),
             helper.make_node("MatMul", ["x", "w2"], ["y"], name="/fc/MatMul")]
    inits = [numpy_helper.from_array(rng.randint(-8, 8, (5, 3)).astype(np.int8), "wq"),
             numpy_helper.from_array(np.array(0.1, dtype=np.float32), "scale")]
    graph = helper.make_graph(nodes, "q", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], inits)
    trace = trace_of(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert [c.name for c in trace.calls if c.kind == "function"] == ["MatMul"]
    assert trace.modules["fc"].param_count == 15 + 1
    assert trace.modules["fc"].class_name == "MatMul"


def test_scopes_are_kept_together_and_any_order_is_read() -> None:
    """Operators of one scope that the file interleaves with another's are drawn as one call; a file
    whose nodes are not in topological order is read whole."""
    def relu(name: str, src: str, dst: str) -> onnx.NodeProto:
        return helper.make_node("Relu", [src], [dst], name=name)

    nodes = [relu("/a/Relu", "x", "a1"), relu("/b/Relu", "x", "b1"), relu("/a/Relu_1", "a1", "a2"),
             helper.make_node("Add", ["a2", "b1"], ["y"], name="/Add")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    trace = trace_of(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    modules = [c for c in trace.calls if c.kind == "module" and c.name]
    assert sorted(c.name for c in modules) == ["a", "b"] and all(c.repeat == 0 for c in modules)
    reversed_graph = helper.make_graph(list(reversed(nodes)), "g", list(graph.input), list(graph.output))
    trace = trace_of(helper.make_model(reversed_graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert [c.name for c in trace.calls if c.kind == "function"][-1] == "Add"
    assert len(build_diagram(trace, 1).edges) == 5


def test_module_paths() -> None:
    assert module_paths(["layer1", "layer1.0", "conv1"]) == ("layer1", "layer1.0", "layer1.0.conv1")
    assert module_paths(["layer2", "layer2.0", "downsample", "downsample.0"]) == (
        "layer2", "layer2.0", "layer2.0.downsample", "layer2.0.downsample.0")
    assert module_paths(["layer1", "layer1.0", "layer1.0.bn1"], full_paths=True) == (
        "layer1", "layer1.0", "layer1.0.bn1")
    # a ModuleList's children, as the TorchScript exporter names them: the traced model's paths
    assert module_paths(["bert", "encoder", "layer.0", "attention"]) == (
        "bert", "bert.encoder", "bert.encoder.layer.0", "bert.encoder.layer.0.attention")
    assert module_paths(["a..b.", ".", ""]) == ("a.b", "a.b._", "a.b._._")


# -- external data, malformed and hostile files ---------------------------------------------------

def test_external_data_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = keras_mlp()
    onnx.save_model(model, str(tmp_path / "mlp.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="mlp.weights", size_threshold=0)
    assert (tmp_path / "mlp.weights").stat().st_size > 784 * 64 * 4
    (tmp_path / "mlp.weights").write_bytes(b"not the weights")  # reading it would fail
    import onnx.external_data_helper as external

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("external data was read")

    monkeypatch.setattr(external, "load_external_data_for_model", refuse)
    monkeypatch.setattr(external, "load_external_data_for_tensor", refuse)
    read = read_onnx_file(tmp_path / "mlp.onnx")
    assert read.external_data and len(read.data) < 10_000  # the download: the .onnx file alone
    assert read.data == (tmp_path / "mlp.onnx").read_bytes()
    assert read.trace.modules["dense"].param_count == 784 * 64 + 64  # from the shapes in the file
    assert any("external data" in note for note in read.notes)
    assert "batch×64" in edge_labels(read.trace, 1)


@pytest.mark.parametrize("data, words", [
    (b"", "holds no graph"),
    (b"this is a text file, not a model\n", "does not parse"),
    (None, "does not parse"),  # a real file cut short
])
def test_malformed_files_are_an_import_problem(tmp_path: Path, data: bytes | None, words: str) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(keras_mlp().SerializeToString()[:3000] if data is None else data)
    with pytest.raises(ImportProblem, match=words):
        read_onnx_file(path)


def test_a_missing_file_is_an_import_problem(tmp_path: Path) -> None:
    with pytest.raises(ImportProblem, match="cannot read the ONNX file"):
        read_onnx_file(tmp_path / "nothing.onnx")


def test_too_many_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_import, "MAX_NODES", 5)
    with pytest.raises(ImportProblem, match="has 8 nodes, more than the 5 netviz reads"):
        trace_of(keras_mlp())


HOSTILE = '</title><script>alert(1)</script>"\' & \\N \x1b[31m\u202e\n' + "x" * 5000


def hostile_model() -> onnx.ModelProto:
    """Markup, quotes, escapes and control characters in every name and string a file holds."""
    model = keras_mlp()
    for node in model.graph.node:
        node.name = node.name.replace("model/dense/", f"model/{HOSTILE}/")
    model.graph.node[0].attribute.append(helper.make_attribute("note", HOSTILE))
    # the dynamo exporter's metadata, with markup for scopes and classes
    evil = "<img src=x onerror=alert(2)>"
    for key, value in ((onnx_import.NAME_SCOPES, f"['', 'x{evil}', 'op']"),
                       (onnx_import.CLASS_HIERARCHY, f"['Root</script>', 'a.b.{evil}']")):
        model.graph.node[-1].metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    model.graph.name = HOSTILE
    model.graph.input[0].name = HOSTILE[:60]
    model.graph.node[0].input[0] = HOSTILE[:60]
    return model


def test_hostile_names_are_escaped() -> None:
    """Node, scope, input and class names and attribute strings reach the SVG and the viewer only escaped."""
    trace = trace_of(hostile_model())
    assert any("<img" in info.class_name for info in trace.modules.values())
    assert all(info.qualname == "" for info in trace.modules.values())  # not dotted names: no links
    for info in trace.modules.values():
        assert "\x1b" not in info.path and "\n" not in info.path and len(info.path) < 1000
        assert len(info.hparams) <= onnx_import.MAX_HPARAMS
    svg = svg_of(trace, 2)
    root = ET.fromstring(svg)  # well-formed XML
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert b"<script" not in svg and b"alert(1)</script>" not in svg
    details = viewer_details(trace, "nv", 2, {2: svg}, {c.id for c in trace.calls}, [])
    json.dumps(details)  # plain data; the HTML writer escapes it for <script> (markup.script_json)


# -- the spec, the pipeline, the command line and a docs build -------------------------------------

def test_spec_of_a_file(tmp_path: Path) -> None:
    assert is_onnx_path("models/m.onnx") and is_onnx_path("M.ONNX") and not is_onnx_path("pkg.mod:Net")
    spec = DiagramSpec("models/m.onnx", depth=3)
    assert spec.is_onnx_file and Path(spec.target).is_absolute()
    for given, words in [({"input_shapes": ((1, 3),)}, ":input-shape: does not apply"),
                         ({"inputs": "a.b:c"}, ":inputs: does not apply"),
                         ({"kwargs": {"n": 1}}, ":kwargs: does not apply"),
                         ({"device": "cpu", "dtype": "float16"}, ":device:, :dtype: do not apply"),
                         ({"onnx": "full"}, ":onnx: full does not apply")]:
        with pytest.raises(InputProblem, match=words):
            DiagramSpec("m.onnx", **given)
    assert DiagramSpec("m.onnx", onnx="none").onnx == "none"
    # conf.py's values of options that build a model never stop a file from drawing
    assert file_defaults({"depth": 3, "device": "meta", "dtype": "float16", "onnx": "full"}) == {
        "depth": 3, "onnx": "auto"}
    assert file_defaults({"onnx": "none"}) == {"onnx": "none"}


def test_make_artifacts_downloads_the_file_itself(tmp_path: Path) -> None:
    path = save(keras_mlp(), tmp_path / "mlp.onnx")
    made = make_artifacts(DiagramSpec(str(path), depth=1))
    assert made.onnx == path.read_bytes() and made.onnx_mode == "file"
    assert made.sources == [str(path)] and made.model_name == "mnist_mlp"
    assert "read" in made.timings and "import" not in made.timings  # no torch
    assert made.details["totals"]["params"] == 784 * 64 + 64 + 64 * 10 + 10
    none = make_artifacts(DiagramSpec(str(path), onnx="none"))
    assert none.onnx is None


def test_cli_draws_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = save(keras_mlp(), tmp_path / "mlp.onnx")
    out, copy = tmp_path / "mlp.svg", tmp_path / "copy.onnx"
    assert cli.main([str(path), "-o", str(out), "--onnx", str(copy), "--depth", "1"]) == 0
    assert b"dense_1" in out.read_bytes() and copy.read_bytes() == path.read_bytes()
    assert "a copy of" in capsys.readouterr().err
    assert cli.main([str(path), "-o", str(out), "--input-shape", "1,784"]) == 2
    assert "--input-shape does not apply to an ONNX file" in capsys.readouterr().err
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    assert cli.main([str(tmp_path / "bad.onnx"), "-o", str(out)]) == 2
    assert "error [import]: bad.onnx is not an ONNX model" in capsys.readouterr().err



# -- named pipes and devices: refused by every front end, never read (issue 17, item 5) ------------

#: a front end on ``sys.argv[1]`` in a fresh process (a read that blocks must fail the test, not hang it)
_FRONT_ENDS = {
    "cli": "import sys; from sphinx_netviz.cli import main; sys.exit(main([sys.argv[1], '-o', sys.argv[1] + '.svg']))",
    "draw": ("import sys\nfrom sphinx_netviz import draw\ntry:\n    draw(sys.argv[1])\n"
             "except Exception as exc:\n    print(f'{type(exc).__name__}: {exc}', file=sys.stderr); sys.exit(2)"),
}


def _not_regular(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A ``.onnx`` path that is no regular file, and the words its message must hold."""
    import os

    if kind == "fifo":
        path = tmp_path / "fifo.onnx"
        os.mkfifo(path)
        return path, "fifo.onnx is a named pipe (FIFO), not a regular file"
    if kind == "dev-zero":
        path = tmp_path / "zero.onnx"
        path.symlink_to("/dev/zero")
        return path, "zero.onnx links to /dev/zero, a character device, not a regular file"
    path = tmp_path / "folder.onnx"
    path.mkdir()
    return path, "folder.onnx is a folder, not a regular file"


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
@pytest.mark.parametrize("front_end", sorted(_FRONT_ENDS))
def test_a_fifo_or_device_is_refused_not_read(tmp_path: Path, front_end: str, kind: str) -> None:
    import subprocess
    import sys

    path, words = _not_regular(tmp_path, kind)
    try:  # a limit on memory too: /dev/zero read whole would take all of it
        done = subprocess.run([sys.executable, "-c", _FRONT_ENDS[front_end], str(path)], capture_output=True,
                              text=True, timeout=60, preexec_fn=_memory_limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{front_end} blocked on {path.name}")
    assert done.returncode == 2, done.stderr[-2000:]
    assert words in done.stderr and "name the .onnx file itself" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_directive_names_a_fifo_and_the_build_goes_on(tmp_path: Path) -> None:
    """The directive's own check is the core's: a located netviz.import warning naming the FIFO."""
    from conftest import run_sphinx

    src = tmp_path / "src"
    src.mkdir()
    path, words = _not_regular(src, "fifo")
    save(keras_mlp(), src / "mlp.onnx")
    (src / "conf.py").write_text("extensions = ['sphinx_netviz']\n")
    (src / "index.rst").write_text("Pipes\n=====\n\n.. netviz:: fifo.onnx\n\n.. netviz:: mlp.onnx\n")
    run = run_sphinx(src, tmp_path / "out", cache=tmp_path / "cache", timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"index.rst:4: WARNING: cannot draw fifo.onnx: the ONNX file \S*" + re.escape(words)
                     + r".*\[netviz.import\]", run.stderr), run.stderr[-3000:]
    assert (tmp_path / "out" / "index.html").read_text().count('class="netviz-canvas"') == 1  # the other one


def _memory_limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))


def test_the_core_reads_regular_files_only(tmp_path: Path) -> None:
    """The one check every front end goes through, also for the directive (before its child)."""
    for kind in ("fifo", "dev-zero", "folder"):
        path, words = _not_regular(tmp_path, kind)
        with pytest.raises(ImportProblem, match=re.escape(words)):
            onnx_import.check_regular_file(path)
        with pytest.raises(ImportProblem, match=re.escape(words)):
            read_onnx_file(path)
    link = tmp_path / "link.onnx"
    link.symlink_to(save(keras_mlp(), tmp_path / "mlp.onnx"))
    assert read_onnx_file(link).data == (tmp_path / "mlp.onnx").read_bytes()  # a link to a file is read


ROOT_INDEX = """\
ONNX files
==========

.. netviz:: models/mlp.onnx
   :depth: 1

.. netviz:: models/broken.onnx

.. netviz:: /models/mlp.onnx
   :input-shape: 1, 784

.. netviz:: models/missing.onnx

.. netviz:: models/mlp.onnx
   :depth: 2
   :onnx: none

.. netviz:: models/hostile.onnx
"""


@pytest.mark.slow
def test_sphinx_build(make_app, tmp_path: Path) -> None:
    """Drawn with its shapes and clusters, the download the file itself; a malformed file is one located
    netviz.import warning and nothing else; an edited file draws again."""
    src = tmp_path / "src"
    (src / "models").mkdir(parents=True)
    (src / "conf.py").write_text("extensions = ['sphinx_netviz']\n")
    (src / "index.rst").write_text(ROOT_INDEX)
    mlp = save(keras_mlp(), src / "models" / "mlp.onnx")
    (src / "models" / "broken.onnx").write_bytes(b"\x08\x07this is not ONNX" * 20)
    save(hostile_model(), src / "models" / "hostile.onnx")
    app = make_app("html", srcdir=src)
    app.build()
    warnings = sorted(re.findall(r"index\.rst:(\d+): WARNING: (.*?) \[netviz\.(\w+)\]", app.warning.getvalue()),
                      key=lambda found: int(found[0]))
    assert [(int(line), kind) for line, _, kind in warnings] == [(7, "import"), (9, "input"), (12, "import")]
    assert "broken.onnx is not an ONNX model" in warnings[0][1]
    assert ":input-shape: does not apply to an ONNX file" in warnings[1][1]
    assert "there is no ONNX file" in warnings[2][1]
    assert "WARNING" not in re.sub(r".*index\.rst:(7|9|12): WARNING.*\n", "", app.warning.getvalue())
    html = (app.outdir / "index.html").read_text(encoding="utf-8")
    assert html.count('class="netviz"') == 3 and html.count("netviz-error") == 3
    assert "<img src=x" not in html and "alert(1)</script>" not in html and "Root</script>" not in html
    assert "batch×784" in html and "dense_1" in html
    links = re.findall(r'href="(_downloads/netviz/[^"]+\.onnx)"', html)
    assert len(links) == 2 and (app.outdir / links[0]).read_bytes() == mlp.read_bytes()  # mlp's, hostile's
    assert re.search(r'class="reference download netviz-onnx"[^>]*>ONNX, [0-9.]+ [kM]?B</a>', html)

    # an edited file: the page is read again and the diagram drawn anew
    model = keras_mlp()
    for node in model.graph.node:
        node.name = node.name.replace("dense_1", "classifier")
    save(model, mlp)
    app2 = make_app("html", srcdir=src)
    app2.build()
    html = (app2.outdir / "index.html").read_text(encoding="utf-8")
    assert "classifier" in html and "dense_1/" not in html
    shutil.rmtree(app2.outdir)
