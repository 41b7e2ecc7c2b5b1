"""Graph-only ONNX files written from the trace: valid, one node per drawn box, honest, byte-stable."""

from __future__ import annotations

import re

import onnx
import onnxruntime
import pytest
import torch
from onnx import TensorProto
from torch import nn

from sphinx_netviz.graph import build_diagram
from sphinx_netviz.graph_onnx import GRAPH_DOC, GRAPH_DOMAIN, MAX_NAME, MAX_TEXT, graph_only_onnx
from sphinx_netviz.ir import Call, ModuleInfo, TensorMeta, Trace
from sphinx_netviz.trace import trace_model
from sphinx_netviz.ir import deepest_level

HOSTILE = '<script>alert(1)</script>"\n'


def trace(model, *args, names=None):
    names = names or [f"input_{i}" for i in range(len(args))]
    result, _ = trace_model(model.eval(), args, {}, names, type(model).__name__)
    return result


def load(data: bytes) -> onnx.ModelProto:
    """The model, after the checker (both levels) and strict shape inference, which must not raise."""
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model, full_check=False)
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    return model


def drawn_boxes(t: Trace, depth: int) -> int:
    diagram = build_diagram(t, depth, fold=False)
    return sum(n.kind in ("module", "function") for n in diagram.nodes)


def value_types(model: onnx.ModelProto) -> dict[str, tuple[int, list[int]]]:
    g = model.graph
    return {v.name: (v.type.tensor_type.elem_type, [d.dim_value for d in v.type.tensor_type.shape.dim])
            for v in [*g.input, *g.output, *g.value_info]}


def attrs(node: onnx.NodeProto) -> dict[str, object]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def by_name(model: onnx.ModelProto) -> dict[str, onnx.NodeProto]:
    return {n.name: n for n in model.graph.node}


def cnn_trace():
    from example_models.cnn import CNNModel

    torch.manual_seed(0)
    return trace(CNNModel(), torch.randn(2, 3, 512, 512), names=["x"])


class SmallConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3)
        self.act = nn.ReLU(inplace=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        x = self.pool(self.act(self.conv1(x)))
        return self.fc(torch.flatten(x, 1))


@pytest.fixture(scope="module")
def cnn():
    return cnn_trace()


def test_seed_cnn_is_valid_and_has_one_node_per_drawn_box(cnn):
    depth = deepest_level(cnn)
    model = load(graph_only_onnx(cnn))
    assert len(model.graph.node) == drawn_boxes(cnn, depth) == 15  # 14 layers and the view
    assert [n.op_type for n in model.graph.node][:4] == ["Conv2d", "LeakyReLU", "BatchNorm2d", "MaxPool2d"]
    assert {n.domain for n in model.graph.node} == {GRAPH_DOMAIN}
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 18), (GRAPH_DOMAIN, 1)}
    assert model.doc_string == model.graph.doc_string == GRAPH_DOC
    assert model.producer_name == "sphinx-netviz" and model.producer_version == ""
    assert {p.key: p.value for p in model.metadata_props}["netviz.onnx_kind"] == "graph"
    # the traced input and output keep their names
    assert [i.name for i in model.graph.input][0] == "x"
    assert [o.name for o in model.graph.output] == ["output"]
    types = value_types(model)
    assert types["x"] == (TensorProto.FLOAT, [2, 3, 512, 512])
    assert types["output"] == (TensorProto.FLOAT, [2, 10])


def test_every_depth_has_as_many_nodes_as_the_diagram_boxes(cnn):
    for t in (cnn, trace(nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 2),
                         torch.randn(2, 5, 32))):
        for depth in range(deepest_level(t) + 1):
            model = load(graph_only_onnx(t, depth=depth))
            assert len(model.graph.node) == drawn_boxes(t, depth), depth
            assert len({n.name for n in model.graph.node}) == len(model.graph.node)
    with pytest.raises(ValueError):
        graph_only_onnx(cnn, depth=-1)


def test_conv_output_shapes_and_parameters_come_from_the_trace(cnn):
    model = load(graph_only_onnx(cnn))
    nodes, types = by_name(model), value_types(model)
    conv = nodes["conv.0"]
    assert conv.input[1:] == ["conv.0.weight", "conv.0.bias"]
    assert types["conv.0.weight"] == (TensorProto.FLOAT, [16, 3, 5, 5])
    assert types["conv.0.bias"] == (TensorProto.FLOAT, [16])
    # the traced shape of the conv's output: (512 - 5) // 3 + 1 = 170
    traced = next(cnn.tensors[c.outputs[0]] for c in cnn.calls if c.name == "conv.0")
    assert traced.shape == (2, 16, 170, 170)
    assert types[conv.output[0]] == (TensorProto.FLOAT, list(traced.shape))
    assert conv.output[0] in {v.name for v in model.graph.value_info}
    found = attrs(conv)
    assert found["module_path"] == b"conv.0"
    assert found["class"] == b"torch.nn.modules.conv.Conv2d"
    assert found["hparams"] == b"3, 16, kernel_size=(5, 5), stride=(3, 3)"
    assert found["param_count"] == 16 * 3 * 5 * 5 + 16
    assert {p.key: p.value for p in conv.metadata_props} == {"namespace": "conv.0"}
    view = nodes["view"]
    assert view.op_type == "view" and attrs(view) == {"function": b"view", "scope": b""}
    # no values anywhere: a graph-only file carries shapes, not weights
    assert not model.graph.initializer


def test_a_tensor_changed_in_place_gets_a_new_value_per_change(cnn):
    model = load(graph_only_onnx(cnn))
    nodes = by_name(model)
    conv, relu, norm = nodes["conv.0"], nodes["conv.1"], nodes["conv.2"]  # LeakyReLU(inplace=True)
    relu_call = next(c for c in cnn.calls if c.name == "conv.1")
    assert relu_call.inputs == relu_call.outputs  # one tensor in the trace...
    assert relu.input == [conv.output[0]]  # ...two values in the graph, wired in order
    assert relu.output[0] != conv.output[0] and norm.input[0] == relu.output[0]
    outputs = [o for n in model.graph.node for o in n.output]
    assert len(outputs) == len(set(outputs))


def test_small_conv_parameters_and_flatten():
    t = trace(SmallConv(), torch.randn(1, 3, 8, 8))
    model = load(graph_only_onnx(t))
    types = value_types(model)
    assert types["conv1.weight"] == (TensorProto.FLOAT, [16, 3, 3, 3])
    assert types["fc.weight"] == (TensorProto.FLOAT, [4, 16])
    assert [n.op_type for n in model.graph.node] == ["Conv2d", "ReLU", "AdaptiveAvgPool2d", "flatten", "Linear"]
    assert types[by_name(model)["conv1"].output[0]] == (TensorProto.FLOAT, [1, 16, 6, 6])


class Shared(nn.Module):
    """One Linear called twice (weight sharing)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.fc(torch.relu(self.fc(x))))


def test_a_module_called_twice_declares_its_parameters_once():
    t = trace(Shared(), torch.randn(3, 8))
    model = load(graph_only_onnx(t))
    inputs = [i.name for i in model.graph.input]
    assert inputs.count("fc.weight") == 1 and inputs.count("fc.bias") == 1
    nodes = by_name(model)
    assert set(nodes) == {"fc", "relu", "fc#2", "head"}
    assert nodes["fc"].input[1:] == nodes["fc#2"].input[1:] == ["fc.weight", "fc.bias"]
    assert nodes["fc#2"].input[0] == nodes["relu"].output[0]
    assert attrs(nodes["fc#2"])["module_path"] == b"fc"


class Child(nn.Module):
    def forward(self, x):
        self.saved = x * 2  # made inside this box, read by the parent later
        return x + 1


class UsesBufferAndSavedTensor(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("offset", torch.ones(4))
        self.child = Child()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.child(x)
        return self.fc(y + self.offset) * self.child.saved


def test_tensors_made_inside_a_box_or_by_no_box_stay_connected():
    t = trace(UsesBufferAndSavedTensor(), torch.randn(2, 4))
    model = load(graph_only_onnx(t))
    nodes = by_name(model)
    assert set(nodes) == {"child", "add", "fc", "mul"}
    # the tensor the child kept comes out of the child's node, as a second output
    child = nodes["child"]
    assert len(child.output) == 2 and nodes["mul"].input[1] == child.output[1]
    # the buffer no drawn box made is a graph input, with its shape
    buffer = nodes["add"].input[1]
    declared = {i.name: i for i in model.graph.input}
    assert buffer in declared and "no drawn box made" in declared[buffer].doc_string
    assert value_types(model)[buffer] == (TensorProto.FLOAT, [4])


def _hostile_class(name: str) -> type:
    return type(name, (nn.Linear,), {"extra_repr": lambda self: HOSTILE.strip() + " " + "x" * 5000})


def test_hostile_names_and_text_give_a_valid_bounded_file():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = _hostile_class(HOSTILE + "Z" * 5000)(4, 4)
            self.add_module(HOSTILE, nn.ReLU())  # a module path that is model text too

        def forward(self, x):
            return getattr(self, HOSTILE)(self.layer(x))

    t = trace(Net(), torch.randn(1, 4))
    model = load(graph_only_onnx(t))
    assert len(model.graph.node) == 2
    for node in model.graph.node:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", node.op_type) and len(node.op_type) <= MAX_NAME
        assert len(node.name) <= MAX_NAME
        for value in attrs(node).values():
            assert not isinstance(value, bytes) or len(value.decode()) <= MAX_TEXT
    layer = by_name(model)["layer"]
    assert layer.op_type.startswith("script_alert_1_script")
    assert len(attrs(layer)["class"].decode()) == MAX_NAME  # the qualified name is 5,000+ characters
    relu = next(n for n in model.graph.node if n.op_type == "ReLU")
    assert relu.name == HOSTILE  # kept as a plain string: onnx stores text, the viewer escapes it
    assert f"{HOSTILE}.weight" not in [i.name for i in model.graph.input]  # ReLU has no parameters


def test_hostile_plain_trace_text_is_cut_and_made_utf8():
    """What the tracer already bounds (hparams, class names) is bounded again here: the trace is plain data."""
    text = HOSTILE + "\ud800" + "y" * 10_000
    t = Trace(
        model_name=text,
        modules={"": ModuleInfo("", text, text, text, 7, param_shapes=((text, (2,), "float32"),))},
        calls=[Call(0, "module", "", None, inputs=[0], outputs=[1])],
        tensors={0: TensorMeta((2,), "float32"), 1: TensorMeta((), "complex32")},
        inputs=[(text, 0)],
        outputs=[(text, 1)],
    )
    data = graph_only_onnx(t)
    model = load(data)
    node = model.graph.node[0]
    assert node.name == "<root>" and node.op_type.startswith("script_alert_1_script_yyy")
    assert len(node.op_type) == MAX_NAME
    found = attrs(node)
    assert len(found["hparams"].decode()) == MAX_TEXT and "\ufffd" in found["hparams"].decode()
    assert len(found["class"].decode()) == MAX_NAME
    assert len(model.graph.name) == MAX_NAME and all(len(v.name) <= MAX_NAME for v in model.graph.input)
    assert len({v.name for v in model.graph.input}) == 2  # the input and the parameter, both cut
    output = model.graph.output[0]  # a dtype ONNX has no type for: UNDEFINED, named in the doc
    assert output.type.tensor_type.elem_type == TensorProto.UNDEFINED and "complex32" in output.doc_string
    assert output.type.tensor_type.HasField("shape") and not output.type.tensor_type.shape.dim  # 0-d


def test_same_model_same_bytes():
    first, second = graph_only_onnx(cnn_trace()), graph_only_onnx(cnn_trace())
    assert first == second
    assert b"sphinx-netviz" in first and b"0x" not in first


def test_meta_model():
    with torch.device("meta"):
        model = nn.TransformerEncoder(nn.TransformerEncoderLayer(256, 8, 1024, batch_first=True), 2)
        x = torch.randn(4, 100, 256)
    t = trace(model, x)
    written = load(graph_only_onnx(t))
    assert len(written.graph.node) == drawn_boxes(t, deepest_level(t))
    types = value_types(written)
    assert types["layers.0.linear1.weight"] == (TensorProto.FLOAT, [1024, 256])
    assert types["layers.1.self_attn.in_proj_weight"] == (TensorProto.FLOAT, [768, 256])
    assert types["output"] == (TensorProto.FLOAT, [4, 100, 256])


def test_a_shallow_box_takes_its_submodules_parameters():
    t = trace(nn.Sequential(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Linear(8, 2)), torch.randn(1, 4))
    model = load(graph_only_onnx(t, depth=1))
    nodes = by_name(model)
    assert set(nodes) == {"0", "1"}
    assert nodes["0"].input[1:] == ["0.0.weight", "0.0.bias"]
    assert attrs(nodes["0"])["param_count"] == 4 * 8 + 8


def test_onnxruntime_cannot_run_it(cnn):
    data = graph_only_onnx(cnn)
    with pytest.raises(Exception, match=r"(?i)domain|implementation|ai\.sphinx_netviz"):
        onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])


def test_many_calls_are_written():
    """20,000 leaf calls in one chain (the bench in the report goes to 100,000): one node each."""
    n = 20_000
    modules = {"": ModuleInfo("", "Net", "x.Net", "", 72 * n, children=tuple(f"l{i}" for i in range(n)))}
    modules.update({f"l{i}": ModuleInfo(f"l{i}", "Linear", "torch.nn.Linear", "8, 8", 72,
                                        param_shapes=(("weight", (8, 8), "float32"), ("bias", (8,), "float32")))
                    for i in range(n)})
    calls = [Call(i + 1, "module", f"l{i}", 0, inputs=[i], outputs=[i + 1]) for i in range(n)]
    calls.append(Call(0, "module", "", None, inputs=[0], outputs=[n]))
    t = Trace("big", modules, calls, {i: TensorMeta((2, 8), "bfloat16") for i in range(n + 1)},
              [("x", 0)], [("y", n)])
    model = onnx.load_from_string(graph_only_onnx(t))
    onnx.checker.check_model(model)
    assert len(model.graph.node) == n and len(model.graph.input) == 1 + 2 * n
    assert model.graph.node[-1].output == ["y"] and model.graph.node[1].input[0] == model.graph.node[0].output[0]
    assert value_types(model)["y"] == (TensorProto.BFLOAT16, [2, 8])
