"""Parsing the directive's options (no Sphinx, no torch)."""

from __future__ import annotations

import sys

import pytest

from sphinx_netviz.errors import InputProblem
from sphinx_netviz.spec import (
    DiagramSpec,
    parse_bool,
    parse_depth,
    parse_direction,
    parse_dtypes,
    parse_kwargs,
    parse_shapes,
)


@pytest.mark.parametrize("text, shapes", [
    ("16, 3, 512, 512", ((16, 3, 512, 512),)),
    ("16x3x512x512", ((16, 3, 512, 512),)),
    ("16×3×512×512", ((16, 3, 512, 512),)),
    (" 4 ", ((4,),)),
    ("(1, 3, 224, 224), (1, 10)", ((1, 3, 224, 224), (1, 10))),
    ("[2, 12], [2, 4]", ((2, 12), (2, 4))),
])
def test_shapes(text, shapes):
    assert parse_shapes(text) == shapes


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("1, -3", "'-3'"),
    ("1, 0", "'0'"),
    ("1, 3.5", "'3.5'"),
    ("(1, 3), 7", "does not parse"),
    ("()", "empty shape"),
    ("1,,3", "''"),
    ("2,x,8", "''"),
])
def test_bad_shapes(text, words):
    with pytest.raises(InputProblem, match="input-shape") as info:
        parse_shapes(text)
    assert words in info.value.message


def test_dtypes():
    assert parse_dtypes("float32") == ("float32",)
    assert parse_dtypes("long, torch.float16, bool") == ("int64", "float16", "bool")
    with pytest.raises(InputProblem, match="'float8' is not supported"):
        parse_dtypes("float8")


def test_kwargs_are_literals_never_code():
    assert parse_kwargs('{"out_channels": 10, "widths": (1, 2)}') == {"out_channels": 10, "widths": (1, 2)}
    with pytest.raises(InputProblem, match="not a Python literal"):
        parse_kwargs('{"x": __import__("os").system("true")}')
    with pytest.raises(InputProblem, match="must be a dict"):
        parse_kwargs("[1, 2]")


def test_flags():
    assert parse_bool(None, ":onnx:") is True
    assert parse_bool("false", ":onnx:") is False
    assert parse_bool(" Yes ", ":onnx:") is True
    assert parse_depth("0") == 0
    assert parse_direction("lr") == "LR"
    with pytest.raises(InputProblem):
        parse_depth("-1")


def test_spec_needs_exactly_one_kind_of_input():
    with pytest.raises(InputProblem, match="exactly one"):
        DiagramSpec("pkg.mod:Net")
    with pytest.raises(InputProblem, match="exactly one"):
        DiagramSpec("pkg.mod:Net", ((1, 4),), inputs="pkg.mod:make")
    with pytest.raises(InputProblem, match="not an import path"):
        DiagramSpec("pkg mod", ((1, 4),))
    with pytest.raises(InputProblem, match="2 dtypes for 3 inputs"):
        DiagramSpec("p:N", ((1,), (2,), (3,)), input_dtypes=("int64", "bool"))
    assert DiagramSpec("p:N", ((1,), (2,)), input_dtypes=("int64",)).dtypes_per_input == ("int64", "int64")


def test_spec_key_is_stable_and_sensitive():
    a = DiagramSpec("p:N", ((1, 4),), kwargs={"b": 1, "a": 2})
    b = DiagramSpec("p:N", ((1, 4),), kwargs={"a": 2, "b": 1})
    assert a.key() == b.key()
    assert a.key() != DiagramSpec("p:N", ((1, 4),), depth=1).key()
    assert a.key("torch 2.13") != a.key("torch 2.14")


def test_core_does_not_import_sphinx_or_torch():
    import subprocess

    code = ("import sys, sphinx_netviz.spec, sphinx_netviz.pipeline, sphinx_netviz.cache, sphinx_netviz.graph, "
            "sphinx_netviz.dot, sphinx_netviz.render; "
            "print(sorted(m for m in ('torch', 'sphinx') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
