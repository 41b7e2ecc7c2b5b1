"""Model code is untrusted input: what it raises, returns and is made of (no Sphinx).

The loader and the tracer must turn whatever model code does into an
ImportProblem, InputProblem or TraceProblem with a readable message, and
draw what can be drawn: outputs in sets, TorchScript modules.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import sys
import textwrap
import warnings
from collections import namedtuple
from collections.abc import Mapping

import pytest
import torch
from torch import nn

from sphinx_netviz import loader
from sphinx_netviz.errors import ImportProblem, InputProblem, TraceProblem, safe_text
from sphinx_netviz.graph import build_diagram
from sphinx_netviz.loader import build_model, import_object
from sphinx_netviz.spec import DiagramSpec
from sphinx_netviz.trace import iter_tensors, trace_model

_counter = itertools.count()


@pytest.fixture
def write_module(tmp_path, monkeypatch):
    """Write a module of model code under a fresh name on sys.path; return its name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(source: str, name: str | None = None) -> str:
        name = name or f"hostile_model_{next(_counter)}"
        path = tmp_path / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


def trace(model, *args):
    names = [f"input_{i}" for i in range(len(args))]
    return trace_model(model.eval(), args, {}, names, type(model).__name__)[0]


# -- safe_text -------------------------------------------------------------------------


class _NameRaises(type):
    @property
    def __name__(cls):  # noqa: PLE0307
        raise RuntimeError("no name")


def test_safe_text_formats_ordinary_exceptions():
    assert safe_text(ValueError("bad value\nsecond line")) == "ValueError: bad value"
    assert safe_text(KeyError()) == "KeyError"
    assert safe_text(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert safe_text(SystemExit(0)) == "SystemExit: 0"
    assert safe_text(ValueError(f"not {object()!r}")) == "ValueError: not <object object>"  # no address
    err = SyntaxError("invalid syntax", ("/proj/models/net.py", 3, 1, "x = ("))
    assert safe_text(err) == "SyntaxError: invalid syntax (/proj/models/net.py, line 3)"


def test_safe_text_survives_hostile_exceptions():
    class StrRaises(Exception):
        def __str__(self):
            raise RuntimeError("str failed")

    class StrExits(Exception):
        def __str__(self):
            sys.exit(3)

    class StrNotStr(Exception):
        def __str__(self):
            return 42

    class StrRecurses(Exception):
        def __str__(self):
            return str(self)

    class EvilStr(str):
        def strip(self, *args):
            raise RuntimeError("strip")

        def splitlines(self, *args):
            raise RuntimeError("splitlines")

    class StrSubclass(Exception):
        def __str__(self):
            return EvilStr("evil\nmore")

    class BadRepr:
        def __repr__(self):
            raise KeyboardInterrupt

    class FakeClass(Exception):
        @property
        def __class__(self):
            raise RuntimeError("class")

    class NamedBadly(Exception, metaclass=_NameRaises):
        pass

    assert safe_text(StrRaises()) == "<unprintable StrRaises>"
    assert safe_text(StrExits()) == "<unprintable StrExits>"
    assert safe_text(StrNotStr()) == "<unprintable StrNotStr>"
    assert safe_text(StrRecurses()) == "<unprintable StrRecurses>"
    assert safe_text(StrSubclass()) == "StrSubclass: evil"
    assert safe_text(KeyError(BadRepr())) == "<unprintable KeyError>"  # str(KeyError) is repr(key)
    faked, badly_named = FakeClass("m"), NamedBadly("m")  # pytest's own reprs would trip on them
    texts = [safe_text(faked), safe_text(badly_named)]
    assert texts == ["FakeClass: m", "NamedBadly: m"]


def test_safe_text_is_bounded_and_printable():
    huge = safe_text(ValueError("x" * 10_000_000))
    assert len(huge) == 500 and huge.endswith("…")
    assert len(safe_text(ValueError("x" * 100), limit=20)) == 20
    assert len(safe_text(type("N" * 1_000_000, (Exception,), {})("m"))) <= 110
    text = safe_text(ValueError("\x1b[31mred\x1b[0m \u202eevil \ud800 bell\a"))
    assert text == "ValueError: red \ufffdevil \ufffd bell\ufffd"
    text.encode("utf-8")  # a lone surrogate could not be written to a page or log


# -- BaseException from model code, at import, build, forward and :inputs: --------------

RAISERS = {
    "sys.exit(0)": ("import sys", "sys.exit(0)", "SystemExit: 0"),
    "KeyboardInterrupt": ("", "raise KeyboardInterrupt", "KeyboardInterrupt"),
    "GeneratorExit": ("", "raise GeneratorExit", "GeneratorExit"),
    "BaseException subclass": ("class Boom(BaseException):\n    pass", "raise Boom('boom')", "Boom: boom"),
    "unprintable": (
        "class Unprintable(Exception):\n    def __str__(self):\n        raise RuntimeError('no')",
        "raise Unprintable()", "<unprintable Unprintable>",
    ),
}

MODEL_SOURCE = """
import torch
from torch import nn
{prelude}

WHERE = {where!r}


def fail():
    {statement}


if WHERE == "import":
    fail()


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        if WHERE == "init":
            fail()

    def forward(self, x):
        if WHERE == "forward":
            fail()
        return self.fc(x)


def make_inputs():
    if WHERE == "inputs":
        fail()
    return torch.randn(1, 4)
"""


def _failing_model(write_module, where: str, raiser: str) -> tuple[str, str]:
    prelude, statement, text = RAISERS[raiser]
    name = write_module(MODEL_SOURCE.format(prelude=prelude, statement=statement, where=where))
    return name, text


@pytest.mark.parametrize("raiser", RAISERS)
def test_raising_at_import_is_an_import_problem(write_module, raiser):
    name, text = _failing_model(write_module, "import", raiser)
    with pytest.raises(ImportProblem) as info:
        build_model(DiagramSpec(f"{name}:Model", ((1, 4),)))
    assert info.value.message == f"importing the model module {name!r} raised {text}"


@pytest.mark.parametrize("raiser", RAISERS)
def test_raising_in_init_is_a_trace_problem(write_module, raiser):
    name, text = _failing_model(write_module, "init", raiser)
    for device in ("cpu", "meta"):
        with pytest.raises(TraceProblem) as info:
            build_model(DiagramSpec(f"{name}:Model", ((1, 4),)), device)
        assert info.value.message == f"building {name}:Model raised {text}"


@pytest.mark.parametrize("raiser", RAISERS)
def test_raising_in_forward_is_a_trace_problem(write_module, raiser):
    name, text = _failing_model(write_module, "forward", raiser)
    loaded = build_model(DiagramSpec(f"{name}:Model", ((1, 4),)))
    with pytest.raises(TraceProblem) as info:
        trace_model(loaded.model, loaded.args, loaded.kwargs, loaded.input_names, loaded.name)
    assert info.value.message == f"the forward of Model failed on input 1×4: {text}"
    # the hooks are gone: the model still runs normally afterwards
    assert not loaded.model._forward_hooks and not loaded.model.fc._forward_pre_hooks


@pytest.mark.parametrize("raiser", RAISERS)
def test_raising_in_inputs_is_an_input_problem(write_module, raiser):
    name, text = _failing_model(write_module, "inputs", raiser)
    with pytest.raises(InputProblem) as info:
        build_model(DiagramSpec(f"{name}:Model", inputs=f"{name}:make_inputs"))
    assert info.value.message == f":inputs: {name}:make_inputs() raised {text}"


def test_module_getattr_that_raises_is_an_import_problem(write_module):
    name = write_module("""
        class Boom(BaseException):
            pass

        def __getattr__(name):
            raise Boom("no " + name)
    """)
    with pytest.raises(ImportProblem, match=rf"looking up 'Model' in '{name}' .* raised Boom: no Model$"):
        import_object(f"{name}:Model")


def test_sibling_imported_before_a_failure_is_remembered(write_module):
    """A module the failed import brought in must be dropped when its file changes."""
    write_module("VALUE = 1\n", name="hostile_pkg_a.helper")
    write_module("", name="hostile_pkg_a.__init__")
    write_module("import hostile_pkg_a.helper\nraise SystemExit(2)\n", name="hostile_pkg_a.model")
    with pytest.raises(ImportProblem, match="raised SystemExit: 2"):
        import_object("hostile_pkg_a.model:Model")
    assert "hostile_pkg_a.helper" in loader._IMPORTED
    for name in ("hostile_pkg_a", "hostile_pkg_a.helper"):
        loader._IMPORTED.pop(name, None)
        sys.modules.pop(name, None)


def test_inputs_that_cannot_be_read(write_module):
    name = write_module("""
        import collections
        import torch

        Pair = collections.namedtuple("Pair", "a b")

        class Exploding(list):
            def __iter__(self):
                raise KeyboardInterrupt

        def pair():
            return (Pair(torch.ones(1, 4), torch.ones(1, 4)),)

        def exploding():
            return Exploding([torch.ones(1, 4)])

        def int_keys():
            return {1: torch.ones(1, 4)}

        class Model(torch.nn.Module):
            def forward(self, p):
                return p.a + p.b
    """)
    loaded = build_model(DiagramSpec(f"{name}:Model", inputs=f"{name}:pair"))  # a named tuple moves too
    assert type(loaded.args[0]).__name__ == "Pair"
    with pytest.raises(InputProblem, match=r"returned a Exploding that cannot be read: KeyboardInterrupt$"):
        build_model(DiagramSpec(f"{name}:Model", inputs=f"{name}:exploding"))
    with pytest.raises(InputProblem, match="returned a dict whose keys are not all strings"):
        build_model(DiagramSpec(f"{name}:Model", inputs=f"{name}:int_keys"))


def test_example_input_too_big_for_memory_is_an_input_problem(write_module):
    name = write_module("""
        import torch

        class Model(torch.nn.Module):
            def forward(self, x):
                return x
    """)
    with pytest.raises(InputProblem, match=r"^:input-shape: 1099511627776, 1048576 \(float32\) needs "
                                           r"4\.61e\+06 TB .* or :device: meta to trace without allocating$"):
        build_model(DiagramSpec(f"{name}:Model", ((2**40, 2**20),)), "cpu")
    assert build_model(DiagramSpec(f"{name}:Model", ((2**40, 2**20),)), "meta").args[0].is_meta


def test_hostile_module_parts_do_not_break_the_trace():
    class Linear(nn.Module):  # named like torch's layer, without its attributes
        def forward(self, x):
            return x * 2

    class LoudRepr(nn.Module):
        def extra_repr(self):
            raise SystemExit(1)

        def forward(self, x):
            return x + 1

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.loud = Linear(), LoudRepr()

        def forward(self, x):
            return self.loud(self.lin(x))

    t = trace(Holder(), torch.randn(2, 4))
    assert [c.macs for c in t.calls if c.name == "lin"] == [None]
    assert t.modules["loud"].hparams == ""


def test_module_tree_that_cannot_be_read_is_a_trace_problem():
    class Secretive(nn.Module):
        def named_children(self):
            raise KeyboardInterrupt

        def forward(self, x):
            return x

    with pytest.raises(TraceProblem, match="^reading the modules and inputs of S raised KeyboardInterrupt$"):
        trace_model(Secretive(), (torch.randn(1),), {}, ["x"], "S")  # not trace(): eval() lists children


# -- outputs: sets, generators, unreadable objects ---------------------------------------


class _SetOut(nn.Module):
    def __init__(self, kind=set):
        super().__init__()
        self.kind = kind
        self.a = nn.Linear(4, 3)
        self.b = nn.Linear(4, 5)

    def forward(self, x):
        b = self.b(x)  # made first
        a = self.a(x)
        return self.kind([a, b, torch.relu(x)])


@pytest.mark.parametrize("kind", [set, frozenset])
def test_set_outputs_are_drawn_in_the_order_they_were_made(kind):
    for _ in range(5):  # the set's own order follows memory addresses
        t = trace(_SetOut(kind), torch.randn(2, 4))
        assert [name for name, _ in t.outputs] == ["output[0]", "output[1]", "output[2]"]
        assert [t.tensors[tid].shape for _, tid in t.outputs] == [(2, 5), (2, 3), (2, 4)]
    g = build_diagram(t, 1)
    out = next(n for n in g.nodes if n.kind == "output")
    assert out.title == "output[…]" and len(out.in_shapes) == 3


def test_sets_inside_structures():
    class Nested(_SetOut):
        def forward(self, x):
            a, b = self.a(x), self.b(x)
            return {"pairs": {(a, "a"), (b, "b")}, "plain": a}

    t = trace(Nested(), torch.randn(2, 4))
    assert [(n, t.tensors[tid].shape) for n, tid in t.outputs] == [
        ("output.pairs[0][0]", (2, 3)), ("output.pairs[1][0]", (2, 5)), ("output.plain", (2, 3))]
    shapes = sorted(tuple(x.shape) for _, x in iter_tensors({torch.ones(2), torch.ones(3)}))
    assert shapes == [(2,), (3,)]  # without a trace, a set still yields all its tensors


def test_a_generator_output_is_explained():
    ran = []

    class Lazy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return (ran.append(i) or self.fc(x) * i for i in range(2))

    with pytest.raises(TraceProblem) as info:
        trace(Lazy(), torch.randn(2, 4))
    assert info.value.message == (
        "the forward pass of Lazy returned a generator: a lazily evaluated result that netviz cannot "
        "draw, because its operations run only when something iterates it, after the forward pass; "
        "return the tensors in a tuple or list instead (e.g. return tuple(...))")
    assert ran == []  # not consumed: that would run model code outside the forward pass


def test_other_lazy_outputs_are_explained():
    class Iter(nn.Module):
        def forward(self, x):
            return iter([x + 1, x + 2])

    class InTuple(nn.Module):
        def forward(self, x):
            return ((x + i for i in range(2)),)

    class Async(nn.Module):
        async def forward(self, x):
            return x + 1

    with pytest.raises(TraceProblem, match="^the forward pass of Iter returned an iterator "
                                           r"\(list_iterator\): a lazily evaluated result"):
        trace(Iter(), torch.randn(1))
    with pytest.raises(TraceProblem, match="^the forward pass of InTuple returned a tuple holding a "
                                           r"generator at output\[0\]: a lazily"):
        trace(InTuple(), torch.randn(1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TraceProblem, match=r"returned a coroutine \(is forward an async def\?\)"):
            trace(Async(), torch.randn(1))
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
    assert asyncio.iscoroutinefunction(Async.forward)


def test_an_output_that_cannot_be_read_is_a_trace_problem():
    class Hostile(Mapping):
        def __getitem__(self, key):
            raise KeyError(key)

        def __iter__(self):
            raise SystemExit(4)

        def __len__(self):
            return 1

    class Model(nn.Module):
        def forward(self, x):
            return Hostile()

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Model()

        def forward(self, x):
            self.inner(x)
            return x

    with pytest.raises(TraceProblem, match=r"^the output of the forward pass of Model \(Hostile\) "
                                           "cannot be read: SystemExit: 4$"):
        trace(Model(), torch.randn(1))
    with pytest.raises(TraceProblem, match=r"^the output of layer inner \(Hostile\) cannot be read: "
                                           "SystemExit: 4$"):
        trace(Outer(), torch.randn(1))


# -- TorchScript ------------------------------------------------------------------------


class _Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    @torch.jit.ignore
    def python_part(self, x):
        return torch.sigmoid(x) + 1  # runs in Python, inside the scripted call

    def forward(self, x):
        return self.python_part(torch.relu(self.fc(x)))


class _WithScripted(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre = nn.Linear(4, 4)
        self.block = torch.jit.script(nn.Sequential(nn.Linear(4, 4), nn.ReLU()))
        self.custom = torch.jit.script(_Inner())
        self.traced = torch.jit.trace(nn.Linear(4, 2), torch.randn(1, 4))

    def forward(self, x):
        return self.traced(self.custom(self.block(self.pre(x))) * 2)


def test_scripted_submodules_are_opaque_boxes():
    model = _WithScripted()
    t = trace(model, torch.randn(3, 4))
    assert sorted(t.modules) == ["", "block", "custom", "pre", "traced"]
    block = t.modules["block"]
    assert (block.class_name, block.hparams, block.children) == ("Sequential", "TorchScript", ())
    assert block.param_count == 20 and [p[0] for p in block.param_shapes] == ["0.weight", "0.bias"]
    assert (t.modules["custom"].class_name, t.modules["traced"].class_name) == ("_Inner", "Linear")
    # nothing inside a scripted call is recorded, not even the Python of a @torch.jit.ignore method
    parents = {c.id: c.name for c in t.calls if c.kind == "module"}
    assert [(c.name, parents[c.parent]) for c in t.calls if c.kind == "function"] == [
        ("linear", "pre"), ("mul", "")]
    for depth in (1, 2, 5):
        g = build_diagram(t, depth)
        boxes = {n.title: (n.class_name, n.in_shapes, n.out_shapes) for n in g.nodes if n.kind == "module"}
        assert boxes == {"pre": ("Linear", ["3×4"], ["3×4"]), "block": ("Sequential", ["3×4"], ["3×4"]),
                         "custom": ("_Inner", ["3×4"], ["3×4"]), "traced": ("Linear", ["3×4"], ["3×2"])}
        assert not g.clusters
    # the scripted modules are as they were: their own forward, no wrapper left behind
    for scripted in (model.block, model.custom, model.traced):
        assert getattr(scripted.__dict__.get("forward"), "__name__", "") != "recorded"
    assert model(torch.randn(3, 4)).shape == (3, 2)


def test_a_scripted_module_called_twice_and_failing():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = torch.jit.script(nn.Sequential(nn.Linear(4, 4), nn.ReLU()))

        def forward(self, x):
            return self.block(self.block(x))

    t = trace(Twice(), torch.randn(2, 4))
    assert [c.name for c in t.calls if c.kind == "module"] == ["block", "block", ""]
    assert [n.title for n in build_diagram(t, 1, fold=False).nodes if n.kind == "module"] == ["block", "block#2"]
    with pytest.raises(TraceProblem, match=r"^layer block \(Sequential\) failed on input 2×5: RuntimeError"):
        trace(Twice(), torch.randn(2, 5))


def test_a_scripted_model_is_one_box(write_module):
    name = write_module("""
        import torch
        from torch import nn

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.act = nn.ReLU()

            def forward(self, x):
                return self.act(self.fc(x)) + 1

        scripted = torch.jit.script(Model())

        def make():
            return torch.jit.script(Model())
    """)
    for target, shown, devices in [(f"{name}:scripted", "Model", ("cpu",)),
                                   (f"{name}:make", "make", ("cpu", "meta"))]:
        for device in devices:
            loaded = build_model(DiagramSpec(target, ((2, 4),)), device)
            assert loaded.name == shown and loaded.device == device
            assert [m.__name__ for m in loaded.source_modules] == [name]  # not torch.jit's module
            t, _ = trace_model(loaded.model, loaded.args, loaded.kwargs, loaded.input_names, loaded.name)
            assert list(t.modules) == [""] and t.modules[""].class_name == "Model"
            for depth in (0, 2):
                g = build_diagram(t, depth)
                assert [(n.kind, n.title, n.in_shapes, n.out_shapes) for n in g.nodes] == [
                    ("input", "input", [], ["2×4 float32"]), ("module", "<root>", ["2×4"], ["2×4"]),
                    ("output", "output", ["2×4 float32"], [])]


def test_named_tuple_outputs_still_draw():
    Out = namedtuple("Out", "x y")

    class Model(nn.Module):
        def forward(self, x):
            return Out(x + 1, {x * 2})

    t = trace(Model(), torch.randn(1, 2))
    assert [name for name, _ in t.outputs] == ["output.x", "output.y[0]"]
