"""Tracing real models and turning the trace into a diagram (no Sphinx)."""

from __future__ import annotations

import re
from collections import namedtuple

import pytest
import torch
from torch import nn

from sphinx_netviz.describe import hyperparameters, split_top_level
from sphinx_netviz.dot import to_dot
from sphinx_netviz.errors import TraceProblem
from sphinx_netviz.graph import build_diagram
from sphinx_netviz.render import run_dot
from sphinx_netviz.trace import function_name, iter_tensors, trace_model


def trace(model, *args, **kwargs):
    names = [f"input_{i}" for i in range(len(args))] + list(kwargs)
    result, _ = trace_model(model.eval(), args, kwargs, names, type(model).__name__)
    return result


class Block(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.blocks = nn.Sequential(Block(), Block())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def edges_by_title(diagram):
    title = {n.id: n.title for n in diagram.nodes}
    return {(title[e.src], title[e.dst]) for e in diagram.edges}


def test_depths_expand_the_module_tree():
    t = trace(Net(), torch.randn(3, 4))
    by_depth = {d: build_diagram(t, d, fold=False) for d in range(4)}
    titles = {d: sorted(n.title for n in g.nodes if n.kind == "module") for d, g in by_depth.items()}
    assert titles[0] == ["<root>"]
    assert titles[1] == ["blocks", "head", "stem"]
    assert titles[2] == ["blocks.0", "blocks.1", "head", "stem"]
    assert titles[3] == sorted(["stem", "head"] + [f"blocks.{i}.{n}" for i in (0, 1) for n in ("fc1", "act", "fc2")])
    assert [c.path for c in by_depth[2].clusters] == ["blocks"]
    assert sorted(c.path for c in by_depth[3].clusters) == ["blocks", "blocks.0", "blocks.1"]
    nested = {c.path: c for c in by_depth[3].clusters}
    assert nested["blocks.0"].parent == nested["blocks"].id


def test_skip_connections_are_drawn():
    g = build_diagram(trace(Net(), torch.randn(3, 4)), 3, fold=False)
    edges = edges_by_title(g)
    adds = [n for n in g.nodes if n.kind == "function" and n.title == "add"]
    assert len(adds) == 2
    # the first block's add takes the stem's output (the skip) and fc2's output
    assert ("stem", "add") in edges and ("blocks.0.fc2", "add") in edges
    assert ("stem", "blocks.0.fc1") in edges
    inner = [e for e in g.edges if g.node(e.src).kind != "input" and g.node(e.dst).kind != "output"]
    assert inner and all(e.label == "3×8" for e in inner)


def test_functional_ops_between_modules_and_multi_input_outputs():
    Out = namedtuple("Out", "logits hidden")

    class TwoIn(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(12, 8)
            self.b = nn.Linear(4, 8)

        def forward(self, x, y, scale=None):
            h = torch.cat([self.a(x), self.b(y)], dim=1) * scale
            return Out(h.softmax(dim=-1), h)

    t = trace(TwoIn(), torch.randn(2, 12), torch.randn(2, 4), scale=torch.ones(1))
    assert [name for name, _ in t.inputs] == ["input_0", "input_1", "scale"]
    assert [name for name, _ in t.outputs] == ["output.logits", "output.hidden"]
    g = build_diagram(t, 1)
    edges = edges_by_title(g)
    assert {("a", "cat"), ("b", "cat"), ("cat", "mul"), ("scale", "mul"), ("mul", "softmax"),
            ("softmax", "output.logits"), ("mul", "output.hidden")} <= edges
    assert next(n for n in g.nodes if n.title == "cat").out_shapes == ["2×16"]


def test_python_control_flow_draws_the_branch_taken():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.small = nn.Linear(4, 2)
            self.large = nn.Linear(4, 2)

        def forward(self, x):
            return self.small(x) if x.shape[0] < 8 else self.large(x)

    small = {n.title for n in build_diagram(trace(Branchy(), torch.randn(2, 4)), 1).nodes}
    large = {n.title for n in build_diagram(trace(Branchy(), torch.randn(9, 4)), 1).nodes}
    assert "small" in small and "large" not in small
    assert "large" in large and "small" not in large


def test_reused_module_gets_one_node_per_call():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(torch.relu(self.fc(x)))

    g = build_diagram(trace(Twice(), torch.randn(1, 4)), 1)
    assert [n.title for n in g.nodes if n.kind == "module"] == ["fc", "fc#2"]
    assert ("fc", "relu") in edges_by_title(g) and ("relu", "fc#2") in edges_by_title(g)


def test_failure_names_the_layer_and_shape():
    class Wrong(Net):
        def forward(self, x):
            return self.blocks(x)

    with pytest.raises(TraceProblem, match=r"layer blocks\.0\.fc1 \(Linear\) failed on input 3×5"):
        trace(Wrong(), torch.randn(3, 5))


def test_hyperparameters_drop_defaults():
    assert hyperparameters(nn.Conv2d(3, 16, kernel_size=(5, 5), stride=(3, 3))) == \
        "3, 16, kernel_size=(5, 5), stride=(3, 3)"
    assert hyperparameters(nn.BatchNorm2d(16)) == "16"
    assert hyperparameters(nn.Conv2d(3, 8, 3, padding=1)) == "3, 8, kernel_size=(3, 3), padding=(1, 1)"
    assert hyperparameters(nn.Linear(36, 16)) == "in_features=36, out_features=16"
    assert hyperparameters(nn.Linear(36, 16, bias=False)) == "in_features=36, out_features=16, bias=False"
    assert hyperparameters(nn.LeakyReLU(0.2, inplace=True)) == "negative_slope=0.2"
    assert hyperparameters(nn.Sequential()) == ""
    assert hyperparameters(nn.MultiheadAttention(32, 4)) == "embed_dim=32, num_heads=4"
    assert split_top_level("a, b=(1, 2), c=[3, 4]") == ["a", "b=(1, 2)", "c=[3, 4]"]


def test_function_names():
    assert function_name(torch.Tensor.__add__) == "add"
    assert function_name(torch.Tensor.__radd__) == "add"
    assert function_name(torch.Tensor.__getitem__) == "getitem"
    assert function_name(torch.cat) == "cat"
    assert function_name(torch.Tensor.contiguous) is None


def test_iter_tensors_walks_structures():
    from dataclasses import dataclass

    @dataclass
    class Output:
        logits: torch.Tensor
        extra: dict

    a, b, c = torch.ones(1), torch.ones(2), torch.ones(3)
    found = list(iter_tensors(Output(a, {"past": [b, (c, "text")]})))
    assert [k for k, _ in found] == [".logits", ".extra.past[0]", ".extra.past[1][0]"]


def test_labels_are_escaped_and_ids_prefixed():
    evil = type('<script>alert(1)</script>', (nn.Module,), {"forward": lambda self, x: x * 2})

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.bad = evil()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(self.bad(x))

    dot = to_dot(build_diagram(trace(Holder(), torch.randn(1, 2)), 1), id_prefix="nvtest")
    assert "<B>bad</B>  &lt;script&gt;alert(1)&lt;/script&gt;" in dot  # the HTML label
    svg = run_dot(dot, "svg").decode()
    assert "<script>" not in svg
    ids = re.findall(r' id="([^"]+)"', svg)
    assert ids and all(i.removeprefix("a_").startswith("nvtest_") for i in ids)


def test_dot_is_deterministic():
    first = to_dot(build_diagram(trace(Net(), torch.randn(3, 4)), 3), "LR")
    second = to_dot(build_diagram(trace(Net(), torch.randn(3, 4)), 3), "LR")
    assert first == second
    assert "rankdir=LR" in first
