"""The option model (issue 18, item 5): each option one dataclass field, one function that sorts a
front end's raw values, each value checked once, where it enters."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

import sphinx_netviz
from sphinx_netviz import api, cli, pipeline
from sphinx_netviz.errors import InputProblem
from sphinx_netviz.limits import Limits
from sphinx_netviz.options import (
    GROUPS,
    OPTIONS,
    OPTIONS_LIST,
    Frontend,
    LimitOptions,
    Option,
    SpecOptions,
    frontend,
    option_names,
    sort_values,
)
from sphinx_netviz.pipeline import PipelineSettings, spec_key
from sphinx_netviz.options import values_checked
from sphinx_netviz.spec import DiagramSpec

PACKAGE = Path(sphinx_netviz.__file__).parent


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Frontend]]:
    """Every check of an option's value, as (option, front end at work): an option's text is checked
    by ``Option.from_text``, any other value by ``Option.validated``, and by nothing else."""
    seen: list[tuple[str, Frontend]] = []
    for method in ("from_text", "validated"):
        def counting(self, value, _original=getattr(Option, method)):
            seen.append((self.name, frontend()))
            return _original(self, value)
        monkeypatch.setattr(Option, method, counting)
    return seen


# -- declared once ---------------------------------------------------------------------------------

def test_each_option_is_one_field_of_its_scopes_dataclass_with_its_metadata():
    for scope, group in GROUPS.items():
        declared = [f for f in fields(group) if f.name in OPTIONS]
        assert [f.name for f in declared] == [o.name for o in OPTIONS_LIST if o.scope == scope]
        for f in declared:
            default = f.default_factory() if f.default is MISSING else f.default
            assert OPTIONS[f.name].default == default and OPTIONS[f.name].scope == scope
    # the pipeline's dataclasses are those declarations (or hold them), with nothing restated
    spec_fields = {f.name: f for f in fields(DiagramSpec)}
    assert list(spec_fields) == ["target", *option_names(SpecOptions)]
    assert all(spec_fields[f.name] is f for f in fields(SpecOptions))
    assert PipelineSettings is GROUPS["pipeline"] and pipeline.PipelineSettings is PipelineSettings
    assert issubclass(Limits, LimitOptions)
    assert [f.name for f in fields(Limits)] == [*option_names(LimitOptions), "timeout_option"]


@pytest.mark.parametrize("module", ["spec.py", "pipeline.py", "limits.py"])
def test_no_option_name_or_default_is_restated_outside_the_option_model(module):
    tree = ast.parse((PACKAGE / module).read_text())
    restated = [node.target.id for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
                and cls.name in ("DiagramSpec", "_Target", "PipelineSettings", "Limits") for node in cls.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and node.target.id in OPTIONS]
    assert restated == []


# -- checked once, where it enters -------------------------------------------------------------------

def test_draw_checks_each_keyword_once(checks):
    prepared = api._prepared("netviz_models:TinyCNN", {"input_shape": "2, 3, 8, 8", "depth": 3,
                                                        "direction": "lr", "layout_timeout": 9}, "draw")
    spec = prepared[0]
    spec.export_view(), spec.key()
    assert (spec.depth, spec.direction) == (3, "LR")
    assert Counter(name for name, _ in checks) == {"input_shapes": 1, "depth": 1, "direction": 1,
                                                    "layout_timeout": 1}
    assert {said for _, said in checks} == {Frontend.API}


def test_the_command_line_checks_each_flag_once(checks, monkeypatch, tmp_path, capsys):
    drawn = []

    def stop(spec, settings, **kwargs):
        drawn.append((spec, settings))
        raise InputProblem("stopped before tracing")

    monkeypatch.setattr(pipeline, "make_artifacts", stop)
    code = cli.main(["netviz_models:TinyCNN", "--input-shape", "2,3,8,8", "--depth", "3", "--timeout", "5",
                     "--no-fold", "-o", str(tmp_path / "x.svg")])
    assert code == 2 and "stopped before tracing" in capsys.readouterr().err
    [(spec, settings)] = drawn
    assert (spec.depth, spec.fold, spec.onnx, settings.layout_timeout) == (3, False, "none", 5)
    assert Counter(name for name, _ in checks) == {"input_shapes": 1, "depth": 1, "layout_timeout": 1, "fold": 1}
    assert {said for _, said in checks} == {Frontend.CLI}


def test_a_docs_build_checks_each_value_once_where_it_enters(checks, make_app, rootdir, tmp_path, diagram_cache):
    """conf.py's values at config-inited, each directive's where it is read; nothing checked again
    for the spec, the settings, the limits, the export view or the runner; a bad value, one message."""
    srcdir = tmp_path / "once"
    shutil.copytree(rootdir / "test-basic", srcdir)
    (srcdir / "index.rst").write_text(
        "T\n=\n\n.. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n   :depth: 1\n\n"
        ".. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n\n"
        ".. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n   :height: 1pxx\n")
    app = make_app("html", srcdir=srcdir, confoverrides={
        "netviz_depth": 3, "netviz_direction": "LR", "netviz_onnx": "none", "netviz_memory_mb": -5,
        "netviz_cache_dir": str(diagram_cache)})
    app.build()
    counts = Counter(checks)
    settings = [o.name for o in OPTIONS_LIST if o.setting]
    assert {name: counts[name, Frontend.CONF] for name in settings} == {name: 1 for name in settings}
    assert (counts["depth", Frontend.SPHINX], counts["input_shapes", Frontend.SPHINX],
            counts["height", Frontend.SPHINX]) == (1, 3, 1)
    assert sum(counts.values()) == len(settings) + 5  # and nothing else, in any wording
    warnings = app.warning.getvalue()
    assert warnings.count("netviz_memory_mb must be a number of megabytes, at least 100") == 1
    assert warnings.count(":height: must be a CSS length") == 1
    assert "index.rst:11: WARNING: netviz_models:TinyCNN: :height: must be a CSS length" in warnings
    html = (Path(app.outdir) / "index.html").read_text()
    assert html.count('class="netviz"') >= 3 and "cannot draw" not in warnings


# -- one function sorts the raw values of every front end ------------------------------------------------

def test_sort_values_parses_text_checks_values_and_layers_over_conf_py():
    conf = sort_values({"netviz_depth": 4, "netviz_onnx": False, "netviz_dot": "dot", "netviz_timeout": 60},
                       Frontend.CONF)
    assert (conf.spec.depth, conf.spec.onnx, conf.limits.timeout, conf.given) == (
        4, "none", 60, frozenset({"depth", "onnx", "dot", "timeout"}))
    here = sort_values({"depth": "1", "summary": "no", "timeout": "5", "input-shape": "2x3"}, Frontend.SPHINX,
                       under=conf)
    assert (here.spec.depth, here.spec.onnx, here.page.summary, here.limits.timeout, here.spec.input_shapes) == (
        1, "none", False, 5, ((2, 3),))
    assert here.given == {"depth", "summary", "timeout", "input_shapes"} and here.settings == conf.settings
    # a bad value: raised, or (keep_going) kept as a problem with the option at its value under
    with pytest.raises(InputProblem, match="^:depth: must be 0 or more, not -1$"):
        sort_values({"depth": "-1"}, Frontend.SPHINX, under=conf)
    kept = sort_values({"depth": "-1", "height": "x"}, Frontend.SPHINX, under=conf, keep_going=True)
    assert kept.spec.depth == 4 and [p.option for p in kept.problems] == ["depth", "height"]
    with pytest.raises(InputProblem, match="^depth must be 0 or more, not -1$"):
        sort_values({"depth": -1}, Frontend.API)
    assert sort_values({"input_shape": (1, 4), "onnx": "none"}, Frontend.API).spec.input_shapes == ((1, 4),)


def test_conf_py_values_never_stop_an_onnx_file_but_given_ones_do(tmp_path):
    conf = sort_values({"netviz_device": "cpu", "netviz_onnx": "full", "netviz_depth": 4}, Frontend.CONF)
    file = str(tmp_path / "m.onnx")
    spec = DiagramSpec.of(file, sort_values({"direction": "LR"}, Frontend.SPHINX, under=conf))
    assert (spec.device, spec.onnx, spec.depth, spec.direction) == ("auto", "auto", 4, "LR")
    with pytest.raises(InputProblem, match=":device: does not apply to an ONNX file"):
        DiagramSpec.of(file, sort_values({"device": "cpu"}, Frontend.SPHINX, under=conf))


def test_spec_keys_are_deterministic_and_do_not_depend_on_the_order_values_came_in():
    one = sort_values({"input-shape": "1, 4", "depth": "1", "kwargs": '{"b": 1, "a": {"x", "y"}}',
                       "direction": "LR"}, Frontend.SPHINX)
    two = sort_values({"direction": "lr", "kwargs": '{"a": {"y", "x"}, "b": 1}', "depth": "01",
                       "input-shape": "1x4"}, Frontend.SPHINX)
    key = spec_key(DiagramSpec.of("p:N", one), one.settings)
    assert key == spec_key(DiagramSpec.of("p:N", two), two.settings)
    direct = DiagramSpec("p:N", ((1, 4),), depth=1, direction="LR", kwargs={"a": {"x", "y"}, "b": 1})
    assert DiagramSpec.of("p:N", one).key() == direct.key()
    assert spec_key(direct, PipelineSettings(dot="dot", layout_timeout=30.0)) == spec_key(direct) == key
    code = ("from sphinx_netviz.options import Frontend, sort_values; from sphinx_netviz.spec import DiagramSpec;"
            "v = sort_values({'input-shape': '1, 4', 'depth': '1', 'kwargs': \"{'b': 1, 'a': {'x', 'y'}}\", "
            "'direction': 'LR'}, Frontend.SPHINX); print(DiagramSpec.of('p:N', v).key())")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert keys == {DiagramSpec.of("p:N", one).key()}


def test_a_value_given_straight_to_a_dataclass_is_checked_there():
    with pytest.raises(InputProblem, match="layout_timeout must be a positive number of seconds"):
        PipelineSettings(layout_timeout=0)
    with pytest.raises(InputProblem, match="memory_mb must be a number of megabytes, at least 100"):
        Limits(memory_mb=5)
    with pytest.raises(InputProblem, match=":depth: must be 0 or more"):
        DiagramSpec("p:N", ((1,),), depth=-1)
    assert DiagramSpec("p:N", ((1,),)).replaced(depth=7).depth == 7  # a checked value: not again


def test_the_old_side_of_a_diff_is_not_checked_again(checks, tmp_path):
    """``--against OLD``: the old side takes the new side's checked values, a model's all of them and
    an ONNX file's the drawing options only; none is checked again."""
    from sphinx_netviz.archjob import old_spec

    with values_checked():
        new = DiagramSpec("netviz_models:TinyCNN", input_shapes=((2, 3, 8, 8),), depth=3, direction="LR")
    checks.clear()
    model_side = old_spec(new, "netviz_models:TinyCNN", {"classes": 7})
    file_side = old_spec(new, str(tmp_path / "old.onnx"))
    assert (model_side.depth, model_side.kwargs, file_side.depth, file_side.direction) == (3, {"classes": 7}, 3, "LR")
    assert file_side.input_shapes == () and file_side.onnx == "none"
    assert checks == []
