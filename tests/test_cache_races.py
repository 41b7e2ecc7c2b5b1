"""A source edited while its diagram is drawn is never cached as the diagram of the edited file.

The cache keeps the digest of the bytes the child imported (a model's modules) or read (an ONNX
file), not of the file as it is when the diagram is stored: the build that drew it shows the
diagram of the file as it was imported, says so, and the next build, ``-E`` or not, draws it
again.  Real ``sphinx-build`` runs (fresh processes): the model's forward (or, for an ONNX
file, Graphviz) leaves a marker and waits, and the test edits the file meanwhile.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from conftest import SphinxRun, run_sphinx, sphinx_command, sphinx_env, soup_of

CONF = """\
import os
import sys

sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz"]
"""

#: a model whose first forward leaves a marker and takes a few seconds (the time to edit it)
MODEL = """\
import os
import time

from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 8)

    def forward(self, x):
        if not os.path.exists({marker!r}):
            with open({marker!r}, "w") as marker:
                marker.write("drawing")
            time.sleep(6)
        return self.head(x)
"""

#: a Graphviz whose first layout leaves a marker and takes a few seconds
SLOW_DOT = """#!/bin/sh
[ "$1" = "-V" ] && exec dot -V
if [ ! -e {marker} ]; then echo drawing > {marker}; sleep 6; fi
exec dot "$@"
"""


def start_build(src: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(sphinx_command(src, out, "-W", *args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=sphinx_env())


def edit_while_drawn(src: Path, out: Path, marker: Path, edit) -> SphinxRun:
    """Build ``src``; when the drawing leaves ``marker``, ``edit()``; the finished build."""
    build = start_build(src, out)
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert build.poll() is None, build.communicate()
        assert time.monotonic() < deadline, "the drawing never started"
        time.sleep(0.05)
    edit()
    stdout, stderr = build.communicate(timeout=240)
    run = SphinxRun(build.returncode, stdout, stderr)
    assert run.returncode == 0 and "Traceback" not in stderr, stdout[-2000:] + stderr[-3000:]
    return run


def summary_line(run: SphinxRun) -> str:
    return next(line for line in run.stdout.splitlines() if line.startswith("netviz: traced"))


@pytest.mark.slow
@pytest.mark.parametrize("again", [[], ["-E"]], ids=["rebuild", "fresh environment"])
def test_a_model_edited_while_drawn_is_drawn_again(tmp_path, again):
    src, out, marker = tmp_path / "src", tmp_path / "out", tmp_path / "marker"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text("Slow\n====\n\n.. netviz:: slow_model:Net\n   :input-shape: 1, 4\n"
                                   "   :onnx: none\n")
    model = src / "slow_model.py"
    model.write_text(MODEL.format(marker=str(marker)))

    first = edit_while_drawn(src, out, marker, lambda: model.write_text(
        model.read_text().replace("nn.Linear(4, 8)", "nn.Linear(4, 16)")))
    # this build shows what it imported, and says that the file changed meanwhile
    assert "out_features=8" in (out / "index.html").read_text()
    assert "slow_model.py changed while slow_model:Net was drawn" in first.stdout, first.stdout

    second = run_sphinx(src, out, "-W", *again, ok=True)
    assert summary_line(second) == "netviz: traced 1, reused 0", second.stdout
    html = (out / "index.html").read_text()
    assert "out_features=16" in html and "out_features=8" not in html
    third = run_sphinx(src, out, "-W", "-E", ok=True)  # now the cache holds the edited model
    assert summary_line(third) == "netviz: traced 0, reused 1", third.stdout


def onnx_model(op: str) -> bytes:
    """A one-operator ONNX model (``x -> op -> y``)."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"], name=f"the_{op.lower()}")], "g", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.mark.slow
def test_an_onnx_file_replaced_while_drawn_is_drawn_again(tmp_path):
    src, out, marker = tmp_path / "src", tmp_path / "out", tmp_path / "marker"
    src.mkdir()
    dot = tmp_path / "slow-dot"
    dot.write_text(SLOW_DOT.format(marker=marker))
    dot.chmod(0o755)
    (src / "conf.py").write_text(CONF + f"netviz_dot = {str(dot)!r}\n")
    (src / "index.rst").write_text("File\n====\n\n.. netviz:: model.onnx\n")
    (src / "model.onnx").write_bytes(onnx_model("Relu"))

    def svg_text() -> str:
        return soup_of(out / "index.html").select_one("div.netviz svg").get_text(" ")

    first = edit_while_drawn(src, out, marker, lambda: (src / "model.onnx").write_bytes(onnx_model("Sigmoid")))
    assert "Relu" in svg_text()
    assert "model.onnx changed while" in first.stdout, first.stdout
    second = run_sphinx(src, out, "-W", ok=True)
    assert summary_line(second) == "netviz: traced 1, reused 0", second.stdout
    assert "Sigmoid" in svg_text() and "Relu" not in svg_text()
