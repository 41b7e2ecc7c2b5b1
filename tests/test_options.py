"""The option model: each option declared once, every front end derived from it, messages in each one's words."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields
from pathlib import Path

import pytest
from conftest import DOCS

from sphinx_netviz import cli
from sphinx_netviz.limits import Limits
from sphinx_netviz.options import OPTIONS, OPTIONS_LIST, Frontend, OptionProblem, say, worded_for
from sphinx_netviz.pipeline import PipelineSettings
from sphinx_netviz.spec import DiagramSpec



def _table_rows(text: str, heading: str) -> list[list[str]]:
    """The rows of the first ``list-table`` after ``heading``: each row's cells, joined lines."""
    section = text[text.index(heading):]
    table = section[section.index(".. list-table::"):]
    rows: list[list[str]] = []
    for line in table.splitlines()[1:]:
        if line and not line.startswith(" "):
            break
        if line.startswith("   * - "):
            rows.append([line[7:].strip()])
        elif line.startswith("     - "):
            rows[-1].append(line[7:].strip())
        elif rows and line.strip() and not line.strip().startswith(":"):
            rows[-1][-1] += " " + line.strip()
    return rows


def _doc_default(value: object) -> str:
    """A default as the docs table writes it: ``"TB"``, ``True``, ``25``."""
    if isinstance(value, str):
        return f'``"{value}"``'
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"``{value!r}``"


def test_the_settings_table_in_the_docs_lists_every_setting_with_its_default():
    rows = _table_rows((DOCS / "options.rst").read_text(), "Configuration values\n---")
    documented = {row[0]: row[1] for row in rows[1:]}
    settings = {f"``{o.conf_name}``": _doc_default(o.default) for o in OPTIONS_LIST if o.setting}
    assert documented == settings


def test_the_directive_table_in_the_docs_lists_every_directive_option():
    from sphinx_netviz.sphinxext.directive import NetvizDirective

    rows = _table_rows((DOCS / "options.rst").read_text(), "Directive reference\n---")
    documented = {row[0] for row in rows[1:]} - {"*argument*"}
    assert documented == {f"``:{name}:``" for name in NetvizDirective.option_spec}


def test_the_command_line_table_in_the_docs_lists_every_flag():
    parser = cli.build_parser()
    flags = {flag for action in parser._actions for flag in action.option_strings} - {"-h", "--help"}
    rows = _table_rows((DOCS / "cli.rst").read_text(), "Options\n---")
    documented = {flag for row in rows[1:] for flag in re.findall(r"``(-[-\w]+)", row[0])}
    assert documented == flags


def test_every_front_end_is_derived_from_the_options():
    from sphinx_netviz.sphinxext import config
    from sphinx_netviz.sphinxext.directive import NetvizDirective

    assert {o.directive for o in OPTIONS_LIST if o.directive} <= set(NetvizDirective.option_spec)
    assert set(NetvizDirective.option_spec) - {o.directive for o in OPTIONS_LIST} == {
        "caption", "name", "alt", "align", "class"}  # the figure's own
    assert [o.name for o in config.SETTINGS] == [o.name for o in OPTIONS_LIST if o.setting]
    parser = cli.build_parser()
    dests = {action.dest for action in parser._actions}
    assert {o.name for o in OPTIONS_LIST if o.flags} <= dests
    # the dataclasses the pipeline reads take their fields and defaults from the options
    scoped = {scope: {o.name: o.default for o in OPTIONS_LIST if o.scope == scope}
              for scope in ("spec", "pipeline")}
    assert {f.name: f.default for f in fields(PipelineSettings)} == scoped["pipeline"]
    spec_fields = {f.name for f in fields(DiagramSpec)} - {"target"}
    assert spec_fields == set(scoped["spec"])
    assert DiagramSpec("m:M", ((1,),)).depth == OPTIONS["depth"].default
    assert (Limits().timeout, Limits().memory_mb) == (OPTIONS["timeout"].default, OPTIONS["memory_mb"].default)


@pytest.mark.parametrize("frontend, said", [
    (Frontend.SPHINX, ":depth: must be 0 or more, not -1"),
    (Frontend.CLI, "--depth must be 0 or more, not -1"),
    (Frontend.CONF, "netviz_depth must be 0 or more, not -1"),
    (Frontend.API, "depth must be 0 or more, not -1"),
])
def test_a_bad_value_is_worded_for_each_front_end_and_names_its_option(frontend, said):
    with worded_for(frontend), pytest.raises(OptionProblem) as caught:
        DiagramSpec("m:M", ((1, 4),), depth=-1)
    assert caught.value.message == said
    assert caught.value.option == "depth"


def test_hints_name_options_and_settings_in_each_front_ends_words():
    cases = {Frontend.SPHINX: (":onnx: none", "netviz_cpu_max_mb", "netviz_timeout", ":fold: False"),
             Frontend.CLI: ("--onnx-mode none", "--cpu-max-mb", "netviz_timeout", "--no-fold"),
             Frontend.API: ("onnx='none'", "cpu_max_mb", "timeout", "fold=False")}
    for frontend, (onnx_none, cpu_max, timeout_setting, no_fold) in cases.items():
        with worded_for(frontend):
            assert say("onnx", "none") == onnx_none
            assert say("cpu_max_mb") == cpu_max
            assert say("timeout", setting=True) == timeout_setting
            assert say("fold", False) == no_fold
    with worded_for(Frontend.SPHINX):
        assert say("timeout") == ":timeout:" and say("dot") == "netviz_dot"


def test_the_command_line_words_its_errors_with_flags(capsys):
    assert cli.main(["m:M", "--input-shape", "1,4", "--depth", "deep", "-o", "x.svg"]) == 2
    err = capsys.readouterr().err
    assert "netviz: error [input]: --depth must be a whole number written with the digits 0-9, not 'deep'" in err
    assert cli.main(["m:M", "-o", "x.svg"]) == 2
    assert "give exactly one of --input-shape (e.g. '1, 3, 224, 224') or --inputs" in capsys.readouterr().err


def test_conf_values_are_checked_by_the_same_validators():
    settings = [option for option in OPTIONS_LIST if option.setting]
    assert len(settings) >= 15
    for option in settings:
        assert option.validated(option.default) == option.default or option.name == "onnx"
    assert OPTIONS["onnx"].validated(False) == "none"
    with pytest.raises(OptionProblem):
        OPTIONS["jobs"].validated(True)  # a bool is not a number of jobs


def test_option_namespace_from_the_command_line_is_parsed_by_the_option_model():
    args = cli.build_parser().parse_args(["m:M", "--input-shape", "2x4", "--no-fold", "--timeout", "5",
                                          "-o", "x.svg"])
    assert isinstance(args, argparse.Namespace)
    values = cli.values_from_args(args)
    spec = DiagramSpec.of(args.target, values)
    assert (spec.input_shapes, spec.fold, spec.onnx) == (((2, 4),), False, "none")
    assert values.settings.layout_timeout == 5.0


def test_height_reaches_the_page_checked(tmp_path, rootdir, make_app, diagram_cache):
    import shutil

    from conftest import soup_of

    srcdir = tmp_path / "height"
    shutil.copytree(rootdir / "test-basic", srcdir)
    (srcdir / "index.rst").write_text(
        "T\n=\n\n.. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n   :height: 420px\n\n"
        ".. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n"
        '   :height: 1px" onmouseover="alert(1)\n'
    )
    app = make_app("html", srcdir=srcdir,
                   confoverrides={"netviz_height": "50vh", "netviz_cache_dir": str(diagram_cache)})
    app.build()
    warnings = app.warning.getvalue()
    assert "index.rst:8: WARNING: netviz_models:TinyCNN: :height: must be a CSS length such as 600px" in warnings
    divs = soup_of(Path(app.outdir) / "index.html").select("div.netviz")
    assert [d.get("data-netviz-height") for d in divs] == ["420px", "50vh"]  # the bad one: conf.py's
    assert all(d.get("onmouseover") is None for d in divs)
