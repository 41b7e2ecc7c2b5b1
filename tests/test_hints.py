"""Hints that name the fix (issue 18): each message says what to write, in the front end's own
words — the directive and conf.py in a docs build, the command line, draw().

The misspelt directive option is tests/test_option_hints.py's."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import ROOTS, run_sphinx, soup_of
from sphinx_netviz import draw
from sphinx_netviz.cli import main as cli_main
from sphinx_netviz.errors import ImportProblem, NetvizError
from sphinx_netviz.loader import import_object
from sphinx_netviz.options import Frontend, worded_for
from sphinx_netviz.pipeline import make_artifacts
from sphinx_netviz.spec import DiagramSpec

HINTS = ROOTS / "test-hints-fix"
if str(HINTS) not in sys.path:
    sys.path.insert(0, str(HINTS))


# -- float token ids into an Embedding: :input-dtype: int64 ---------------------------------------

@pytest.mark.parametrize(("frontend", "fix"), [(Frontend.SPHINX, ":input-dtype: int64"),
                                               (Frontend.CLI, "--input-dtype int64"),
                                               (Frontend.API, 'input_dtype="int64"')])
def test_float_ids_into_an_embedding_suggest_an_integer_input_dtype(frontend: Frontend, fix: str) -> None:
    with worded_for(frontend), pytest.raises(NetvizError) as failed:
        make_artifacts(DiagramSpec("fix_models:TokenNet", ((1, 8),), onnx="none"))
    message = failed.value.message
    assert "'indices'" in message and "Long, Int" in message  # torch's own words, kept
    assert message.endswith(f"the example input is float32, and this operation takes integer indices: give {fix}")
    assert "check" not in message and "input-shape" not in message and "input_shape" not in message
    # and what it says works
    with worded_for(frontend):
        made = make_artifacts(DiagramSpec("fix_models:TokenNet", ((1, 8),), input_dtypes=("int64",), onnx="none"))
    assert made.node_count >= 2


def test_draw_says_input_dtype_for_float_ids() -> None:
    from fix_models import TokenNet

    with pytest.raises(NetvizError, match=r'give input_dtype="int64"$'):
        draw(TokenNet(), input_shape=(1, 8), onnx="none")
    assert draw(TokenNet(), input_shape=(1, 8), input_dtype="int64", onnx="none").svg


def test_a_shape_mismatch_still_names_the_shape() -> None:
    with pytest.raises(NetvizError, match=r"check :input-shape: \(given: 1, 8; 1, 8\)$"):
        make_artifacts(DiagramSpec("fix_models:TokenNet", ((1, 8), (1, 8)), onnx="none"))


# -- misspelt names: the closest one -----------------------------------------------------------------

def test_a_misspelt_class_names_the_closest_and_lists_only_what_builds_a_model() -> None:
    with pytest.raises(ImportProblem) as failed:
        import_object("fix_models:TinyResNte")
    message = failed.value.message
    assert message == ("'fix_models' has no attribute 'TinyResNte' (looking up the model 'fix_models:TinyResNte'); "
                       "did you mean fix_models:TinyResNet? (it has the classes and functions "
                       "TinyResNet, TokenNet, make_token_net)")
    # a dotted path is suggested as it was written; imported modules (torch, nn) and constants are not listed
    with pytest.raises(ImportProblem, match=r"did you mean fix_models\.TokenNet\?"):
        import_object("fix_models.TokenNte")


def test_a_misspelt_cli_flag_names_the_closest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = cli_main(["fix_models:TinyResNet", "--input-shape", "1, 3, 8, 8", "--colr-by", "params",
                     "-o", str(tmp_path / "x.svg")])
    assert code == 2
    err = capsys.readouterr().err
    assert "netviz: error: unrecognized arguments: --colr-by params; did you mean --color-by?" in err
    assert not (tmp_path / "x.svg").exists()


def test_a_misspelt_draw_keyword_names_the_closest() -> None:
    from fix_models import TinyResNet

    with pytest.raises(TypeError, match=r"unknown option\(s\) colour \(did you mean color_by\?\); it takes "):
        draw(TinyResNet(), input_shape=(1, 3, 8, 8), colour="params")


# -- the sys.path hint, computed from where conf.py and the package are -------------------------

def _package(root: Path, name: str = "mynet") -> None:
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (root / name / "models.py").write_text("from torch import nn\n\n\nclass Net(nn.Linear):\n"
                                           "    def __init__(self):\n        super().__init__(4, 2)\n")


def test_sys_path_hint_for_a_separate_source_folder(tmp_path: Path) -> None:
    """sphinx-quickstart --sep: docs/source/conf.py, the package two levels up."""
    from sphinx_netviz.loader import project_folders, sys_path_hint

    project = tmp_path / "project"
    _package(project)
    source = project / "docs" / "source"
    source.mkdir(parents=True)
    with project_folders((str(source), str(source))):
        hint = sys_path_hint("mynet")
    assert f"add sys.path.insert(0, os.path.abspath('../..')) to {source / 'conf.py'}" in hint


def test_sys_path_hint_for_a_src_layout(tmp_path: Path) -> None:
    from sphinx_netviz.loader import project_folders, sys_path_hint

    project = tmp_path / "project"
    _package(project / "src")
    docs = project / "docs"
    docs.mkdir()
    with project_folders((str(docs), str(docs))):
        assert "sys.path.insert(0, os.path.abspath('../src'))" in sys_path_hint("mynet")
    with project_folders((str(docs),)), worded_for(Frontend.CLI):  # the command line's folder: the docs
        hint = sys_path_hint("mynet")
    assert hint.startswith(f"'mynet' is in {project / 'src'}, which is not on sys.path: give -p ../src")
    with project_folders((str(docs),)), worded_for(Frontend.API):  # draw() in a notebook
        assert f"sys.path.insert(0, {str(project / 'src')!r}) first" in sys_path_hint("mynet")


def test_sys_path_hint_when_no_folder_holds_the_package(tmp_path: Path) -> None:
    from sphinx_netviz.loader import project_folders, sys_path_hint

    docs = tmp_path / "docs"
    docs.mkdir()
    with project_folders((str(docs),)):
        hint = sys_path_hint("nowhere_to_be_found")
    assert f"no folder holding nowhere_to_be_found/ or nowhere_to_be_found.py was found in {docs}" in hint
    assert f"put it in {tmp_path} and add sys.path.insert(0, os.path.abspath('..')) to {docs / 'conf.py'}" in hint


def test_a_sep_layout_build_names_the_sys_path_line(tmp_path: Path) -> None:
    """A real build of a sphinx-quickstart --sep project whose conf.py forgot sys.path."""
    project = tmp_path / "project"
    _package(project)
    source = project / "docs" / "source"
    source.mkdir(parents=True)
    (source / "conf.py").write_text('extensions = ["sphinx_netviz"]\n')
    (source / "index.rst").write_text("Net\n===\n\n.. netviz:: mynet.models:Net\n   :input-shape: 1, 4\n")
    done = run_sphinx(source, project / "docs" / "build", cache=tmp_path / "cache")
    warning = re.search(r"index\.rst:4: WARNING: cannot draw mynet\.models:Net: (.*) \[netviz\.import\]", done.stderr)
    assert warning, done.stderr
    assert (f"'mynet' is in {project}, which is not on sys.path: add sys.path.insert(0, os.path.abspath('../..')) to "
            f"{source / 'conf.py'}") in warning.group(1)


# -- sizes ----------------------------------------------------------------------------------------

def test_sizes_under_a_tenth_of_a_megabyte_are_in_kilobytes() -> None:
    from sphinx_netviz.values import size_text

    assert [size_text(n) for n in (24, 3152, 99_999, 497_800_000, 2**62)] == ["24 B", "3.15 kB", "100 kB", "498 MB",
                                                                       "4.61e+06 TB"]
    made = make_artifacts(DiagramSpec("fix_models:TinyResNet", ((1, 3, 8, 8),), onnx="none"))
    assert made.notes[0] == "traced fix_models:TinyResNet on the meta device, allocating none of its 3.15 kB of weights"


# -- a docs build: conf.py, the directive, the engine line ------------------------------------------

def test_a_docs_build_names_each_fix_and_its_layout_engine(build, tmp_path: Path) -> None:
    app = build("hints-fix", netviz_cache_dir=str(tmp_path / "cache"))
    warnings = re.sub(r"\x1b\[[0-9;]*m", "", app.warning.getvalue())  # colours off
    status = re.sub(r"\x1b\[[0-9;]*m", "", app.status.getvalue())
    assert "netviz_dpeth is not a netviz setting (ignored); did you mean netviz_depth?" in warnings
    assert "[netviz.config]" in warnings
    # conf.py's import (netviz_diagram) and function (netviz_helper) are not taken for settings
    assert warnings.count("[netviz.config]") == 1, warnings
    found = dict(re.findall(r"index\.rst:(\d+): WARNING: (.*)", warnings))
    assert found["4"].endswith("the example input is float32, and this operation takes integer indices: "
                               "give :input-dtype: int64 [netviz.trace]"), found
    assert "did you mean fix_models:TinyResNet? (it has the classes and functions TinyResNet, TokenNet, " \
           "make_token_net) [netviz.import]" in found["8"]
    assert "allocating none of its 3.15 kB of weights" in status
    netviz_lines = [line for line in status.splitlines() if "netviz:" in line]
    assert re.fullmatch(r"netviz: laying out with Graphviz dot \S+ \(/\S+/dot\)", netviz_lines[0]), netviz_lines
    assert sum("laying out with" in line for line in netviz_lines) == 1
    page = soup_of(Path(app.outdir) / "index.html")
    assert len(page.select("div.netviz:not(.netviz-error) svg")) == 1


def test_the_engine_line_names_graphviz_pure_and_a_build_that_draws_nothing_names_none(build, tmp_path: Path) -> None:
    from sphinx_netviz.render import pure_dot

    pure = pure_dot()
    if pure is None:
        pytest.skip("graphviz-pure (the pure extra) is not installed")
    cache = str(tmp_path / "cache")
    first = build("hints", netviz_dot="graphviz-pure", netviz_cache_dir=cache)
    status = re.sub(r"\x1b\[[0-9;]*m", "", first.status.getvalue())
    assert re.search(rf"^netviz: laying out with graphviz-pure \d+\.\d+\.\d+ \({re.escape(pure)}\)$", status,
                     re.MULTILINE), status
    again = build("hints", netviz_dot="graphviz-pure", netviz_cache_dir=cache)  # every diagram in the cache
    status = re.sub(r"\x1b\[[0-9;]*m", "", again.status.getvalue())
    assert "netviz: traced 0, reused 3" in status and "laying out with" not in status, status
