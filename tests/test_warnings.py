"""Bad input: one typed warning at the directive's line, a placeholder, and the build goes on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import soup_of

# (line in tests/roots/test-errors/index.rst, subtype, words the message must contain)
EXPECTED = [
    (4, "import", ["no module named 'no_such_package'", "sys.path"]),
    (7, "import", ["has no attribute 'Missing'", "good_model"]),
    (10, "import", ["NOT_A_MODEL is of type int", "not a torch.nn.Module"]),
    (13, "input", [":kwargs:", "not a Python literal dict"]),
    (17, "input", [":input-shape:", "'four'"]),
    (20, "trace", ["layer 0 (Linear) failed on input 1×5", "check :input-shape: (given: 1, 5)"]),
    (23, "trace", ["forward of RaisesInForward", "this model refuses to run"]),
    (26, "import", ["SyntaxError", "syntax_error_model.py, line 3"]),
    (29, "export", ["the full ONNX export failed (TorchScript (full): ", "kthvalue", "so the download is a",
                    ":onnx: auto to accept", ":onnx: none"]),
    (36, "input", [":input-dtype:", "'float8'"]),
    (40, "input", ["unexpected keyword argument 'depth'"]),
]


def warnings_by_line(text: str) -> dict[int, tuple[str, str]]:
    found = {}
    for match in re.finditer(r"index\.rst:(\d+): WARNING: (.*?) \[netviz\.(\w+)\]", text):
        line = int(match.group(1))
        assert line not in found, f"two warnings for line {line}"
        found[line] = (match.group(3), match.group(2))
    return found


def test_each_bad_input_warns_once_and_the_build_completes(build):
    app = build("errors")
    text = app.warning.getvalue()
    found = warnings_by_line(text)
    assert sorted(found) == [line for line, _, _ in EXPECTED], text
    for line, subtype, words in EXPECTED:
        got_subtype, message = found[line]
        assert got_subtype == subtype, (line, message)
        for word in words:
            assert word in message, (line, word, message)
    assert "Traceback" not in text

    page = soup_of(Path(app.outdir) / "index.html")
    placeholders = page.select("div.netviz-error")
    failed = [e for e in EXPECTED if e[1] != "export"]
    assert len(placeholders) == len(failed)
    assert "no_such_package.models:Model" in placeholders[0].get_text()
    # the good diagram and the one whose export failed are still drawn
    drawn = page.select("div.netviz:not(.netviz-error)")
    assert len(drawn) == 2
    assert all(d.select_one("svg g.node") for d in drawn)
    # the failed full export still has a download, of the kind the ladder could make
    links = [d.select_one("a.netviz-onnx").get_text().rpartition(", ")[0] for d in drawn]  # "<kind>, <size>"
    assert links[0] in ("ONNX (structure only)", "ONNX (graph only)") and links[1] == "ONNX"
    # nothing half-written
    leftovers = [p for p in Path(app.outdir).rglob("*.tmp")] + list(Path(app.doctreedir).rglob("*.tmp"))
    assert leftovers == []


def test_missing_dot_is_a_render_warning(build):
    app = build("basic", netviz_dot="no-such-dot-executable")
    text = app.warning.getvalue()
    messages = re.findall(r"index\.rst:(\d+): WARNING: (.*?) \[netviz\.render\]", text)
    assert [int(line) for line, _ in messages] == [4, 11, 15]
    assert all("'no-such-dot-executable' was not found" in m and "netviz_dot" in m for _, m in messages)
    page = soup_of(Path(app.outdir) / "index.html")
    assert len(page.select("div.netviz-error")) == 3


def test_warnings_can_be_suppressed(build):
    app = build("errors", suppress_warnings=["netviz.import", "netviz.input", "netviz.trace"])
    found = warnings_by_line(app.warning.getvalue())
    assert sorted(found) == [29]
    assert found[29][0] == "export"


def test_bad_config_value_warns_and_uses_the_default(build):
    app = build("basic", netviz_direction="sideways", netviz_depth=-1)
    text = app.warning.getvalue()
    assert "netviz_direction must be one of TB, LR, BT, RL, not 'sideways'; using 'TB' [netviz.config]" in text
    assert "netviz_depth must be 0 or more, not -1; using 2 [netviz.config]" in text
    page = soup_of(Path(app.outdir) / "index.html")
    assert len(page.select("div.netviz svg")) == 3


@pytest.mark.parametrize("option, value, words", [
    ("depth", "two", ":depth: must be a whole number"),
    ("direction", "diagonal", ":direction: must be one of TB, LR, BT, RL, not 'diagonal'"),
    ("onnx", "maybe", ":onnx: must be one of auto, full, structure, none (or true/false), not 'maybe'"),
    ("device", "gpu", ":device: must be one of auto, meta, cpu, not 'gpu'"),
    ("fold", "sometimes", ":fold: must be true or false"),
])
def test_bad_option_values(build, tmp_path, rootdir, make_app, option, value, words):
    import shutil

    srcdir = tmp_path / "opt"
    shutil.copytree(rootdir / "test-basic", srcdir)
    (srcdir / "index.rst").write_text(
        f"T\n=\n\n.. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n   :{option}: {value}\n"
    )
    app = make_app("html", srcdir=srcdir)
    app.build()
    text = app.warning.getvalue()
    assert f"index.rst:4: WARNING: cannot draw netviz_models:TinyCNN: {words}" in text
    assert "[netviz.input]" in text
