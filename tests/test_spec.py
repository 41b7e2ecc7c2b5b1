"""Parsing the directive's options (no Sphinx, no torch)."""

from __future__ import annotations

import sys

import pytest

from sphinx_netviz.errors import InputProblem
from sphinx_netviz.options import OPTIONS
from sphinx_netviz.spec import DiagramSpec

# option text parsed as the directive and the command line parse it (messages in directive wording)
parse_shapes = OPTIONS["input_shapes"].from_text
parse_dtypes = OPTIONS["input_dtypes"].from_text
parse_kwargs = OPTIONS["kwargs"].from_text
parse_depth = OPTIONS["depth"].from_text
parse_direction = OPTIONS["direction"].from_text


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
    assert OPTIONS["fold"].from_text("") is True
    assert OPTIONS["fold"].from_text("false") is False
    assert OPTIONS["fold"].from_text(" Yes ") is True
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


# -- option text is untrusted: odd digits, huge numbers, code -------------------------------

@pytest.mark.parametrize("text, part", [
    ("2, ²", "'²'"),            # "²".isdigit() is True, int("²") raises ValueError
    ("2, ٣", "'٣'"),            # Arabic-Indic three: int() reads it as 3
    ("１, 2", "'１'"),          # fullwidth one
    ("2, 1_0", "'1_0'"),
    ("2, +3", "'+3'"),
])
def test_shapes_take_ascii_digits_only(text, part):
    with pytest.raises(InputProblem, match=r"^:input-shape: ") as info:
        parse_shapes(text)
    assert f"has {part} where a positive whole number (digits 0-9) belongs" in info.value.message
    assert "write e.g." in info.value.message


@pytest.mark.parametrize("text, words", [
    ("99999999999999999999", "has a dimension too large for a tensor"),
    ("9" * 5000, "has a dimension too large for a tensor"),  # int() would refuse 5000 digits
    ("2, 9223372036854775808", "has a dimension too large for a tensor"),
    ("4294967296, 4294967296", "asks for more elements than a tensor can hold"),
    ("(1, 4), (3037000500, 3037000500)", "asks for more elements than a tensor can hold"),
])
def test_huge_shapes_are_input_problems(text, words):
    with pytest.raises(InputProblem, match=r"^:input-shape: ") as info:
        parse_shapes(text)
    message = info.value.message
    assert words in message and "2**63 - 1" in message and "write the real shape, e.g." in message
    assert len(message) < 500  # the text is quoted back, cut short


def test_largest_shapes_still_parse():
    assert parse_shapes("9223372036854775807") == ((2**63 - 1,),)
    assert parse_shapes("3037000499, 3037000499") == ((3037000499, 3037000499),)
    with pytest.raises(InputProblem, match="more elements than a tensor can hold"):
        DiagramSpec("p:N", ((2**40, 2**40),))  # built directly, not parsed


@pytest.mark.parametrize("text, words", [
    ("٣", "must be a whole number written with the digits 0-9, not '٣'"),
    ("³", "must be a whole number written with the digits 0-9, not '³'"),
    ("1_0", "digits 0-9, not '1_0'"),
    ("+2", "digits 0-9, not '+2'"),
    ("10**30", "digits 0-9, not '10**30'"),
    ("1" + "0" * 30, "must be at most 100, not 1000000000000000000000000000000"),
    ("9" * 5000, "must be at most 100, not 9999"),  # int() refuses over 4300 digits
    ("101", "must be at most 100, not 101"),
    ("-1", "must be 0 or more, not -1"),
])
def test_bad_depths(text, words):
    with pytest.raises(InputProblem, match="^:depth: ") as info:
        parse_depth(text)
    assert words in info.value.message
    assert len(info.value.message) < 400


def test_depths_in_range():
    assert parse_depth(" 007 ") == 7
    assert parse_depth("100") == 100
    with pytest.raises(InputProblem, match="at most 100, not a number that large"):
        DiagramSpec("p:N", ((1,),), depth=10**5000)
    with pytest.raises(InputProblem, match="whole number, not bool"):
        DiagramSpec("p:N", ((1,),), depth=True)


def test_other_options_quote_long_text_briefly():
    for parse, text in [(parse_direction, "x" * 100_000), (parse_dtypes, "y" * 100_000),
                        (OPTIONS["fold"].from_text, "z\n" * 50_000)]:
        with pytest.raises(InputProblem) as info:
            parse(text)
        assert len(info.value.message) < 400 and "…" in info.value.message


@pytest.mark.parametrize("text, message", [
    ('{"a": foo()}',
     ':kwargs: {"a": foo()} is not a Python literal dict: foo() is not a literal; '
     'write e.g. {"out_channels": 10}'),
    ('{"a": 1, "b": [2, os.sep]}',
     ':kwargs: {"a": 1, "b": [2, os.sep]} is not a Python literal dict: os.sep is not a literal; '
     'write e.g. {"out_channels": 10}'),
    ('{"a": -x}', ':kwargs: {"a": -x} is not a Python literal dict: -x is not a literal; '
     'write e.g. {"out_channels": 10}'),
    ('{**base, "a": 1}', ':kwargs: {**base, "a": 1} is not a Python literal dict: **base is not a literal; '
     'write e.g. {"out_channels": 10}'),
    ('{"a": (lambda: 1)}', ':kwargs: {"a": (lambda: 1)} is not a Python literal dict: lambda: 1 is not a '
     'literal; write e.g. {"out_channels": 10}'),
    ('{[1]: 2}', ":kwargs: {[1]: 2} is not a Python literal dict: unhashable type: 'list'; "
     'write e.g. {"out_channels": 10}'),
    ('{"a":}', ":kwargs: {\"a\":} is not a Python literal dict: expression expected after dictionary key "
     "and ':' (column 5); write e.g. {\"out_channels\": 10}"),
    ('{"a": \x00}', ':kwargs: {"a": \\x00} is not a Python literal dict: source code string cannot contain '
     'null bytes; write e.g. {"out_channels": 10}'),
])
def test_kwargs_messages_quote_the_source(text, message):
    with pytest.raises(InputProblem) as info:
        parse_kwargs(text)
    assert info.value.message == message
    assert "0x" not in message and "ast." not in message


def test_kwargs_that_do_not_parse_at_all():
    for text in ["[" * 100_000, "{" + "1" * 5000 + ": 2}", "-" * 100_000 + "1"]:
        with pytest.raises(InputProblem, match=r"^:kwargs: .* is not a Python literal dict: ") as info:
            parse_kwargs(text)
        assert len(info.value.message) < 600
    assert parse_kwargs('{"a": -1, "b": 1+2j, "c": set(), "d": {1, 2}, "e": (None, ...)}') == \
        {"a": -1, "b": 1 + 2j, "c": set(), "d": {1, 2}, "e": (None, ...)}
    with pytest.raises(InputProblem, match="the key 1 is of type int"):
        parse_kwargs("{1: 2}")


def test_spec_key_does_not_depend_on_the_hash_seed():
    """A set in :kwargs: iterates in hash order, which differs between processes."""
    import os
    import subprocess

    code = ("from sphinx_netviz.spec import DiagramSpec; print(DiagramSpec('p:N', ((1, 4),), kwargs="
            "{'names': {'alpha', 'beta', 'gamma', 'delta', 'epsilon'}, 'f': frozenset({'x', 'y', 'z'})}).key())")
    keys = set()
    for seed in ("1", "2", "3", "4"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        keys.add(done.stdout.strip())
    assert len(keys) == 1
