"""``netviz NEW --against OLD`` and ``netviz TARGET --snapshot FILE``, run as ``python -m sphinx_netviz``
in a fresh process, as CI would: what they print, the files they write, their exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DOCS, ROOTS

MODELS = ROOTS / "test-diff"
NET = ["diff_models:make_net", "--input-shape", "2,3,8,8"]
BIGGER = '{"kernel": 5, "blocks": 6, "classes": 10, "dropout": False}'


def netviz(*args: str, cwd: Path = MODELS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sphinx_netviz", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def docs_example() -> tuple[list[str], list[str], int]:
    """The command, output and status of the console example in docs/diff.rst's CI section."""
    text = (DOCS / "diff.rst").read_text(encoding="utf-8")
    block = text[text.index("On the command line and in CI"):]
    block = block[block.index(".. code-block:: console"):].split("\n\n")[1]
    lines = [line[3:] for line in block.splitlines()]
    command = " ".join(lines[:3]).replace("\\ ", "")
    output = lines[3:lines.index("$ echo $?")]
    return command.split(), output, int(lines[-1])


def test_the_docs_example_prints_the_changes_and_exits_1() -> None:
    command, output, status = docs_example()
    assert command[:2] == ["$", "netviz"]
    args = [a.strip("'") for a in re.findall(r"'[^']*'|\S+", " ".join(command[2:]))]
    run = netviz(*args, cwd=MODELS.parent.parent.parent)  # from the repository root, as the docs say
    assert run.returncode == status == 1, run.stderr
    assert run.stdout.splitlines() == output


@pytest.mark.slow  # four netviz processes, each importing torch (~13 s)
def test_snapshot_then_against_it(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    run = netviz(*NET, "--snapshot", str(first))
    assert run.returncode == 0, run.stderr
    assert f"wrote {first} (architecture snapshot)" in run.stderr
    assert netviz(*NET, "--snapshot", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()  # deterministic across processes
    data = json.loads(first.read_text(encoding="utf-8"))
    assert data["format"] == "sphinx-netviz architecture snapshot" and data["totals"]["params"] == 1621
    same = netviz(*NET, "--against", str(first))
    assert same.returncode == 0, same.stderr
    assert same.stdout.splitlines()[0] == "No architectural change."
    changed = netviz(*NET, "--kwargs", '{"classes": 7}', "--against", str(first))
    assert changed.returncode == 1, changed.stderr
    assert changed.stdout.splitlines()[:2] == ["changed  <root>  output 2×5 → 2×7",
                                               "changed  head    out_features=5 → 7; parameters 85 → 119; "
                                               "output 2×5 → 2×7"]


@pytest.mark.parametrize("args, message", [
    (["--against", "missing.json"], "the snapshot file 'missing.json' does not exist"),
    (["--against", "diff_models.py.json"], "does not exist"),
    (["--against", "diff_models:Nope"], "error [import]"),
    (["--against", "diff_models:make_net", "--old-kwargs", "{1"], "--old-kwargs {1 is not a Python literal dict"),
    (["--old-kwargs", "{}", "-o", "x.svg"], "--old-kwargs goes with --against OLD"),
    ([], "give the diagram file with -o FILE"),
    (["--against", "diff_models:make_net", "-o", "x.txt"], "cannot tell the output format"),
])
def test_errors_exit_2(args: list[str], message: str) -> None:
    run = netviz(*NET, *args)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert message in run.stderr
    assert run.stdout == ""


def test_a_file_that_is_not_a_snapshot_exits_2(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"format": "something"}', encoding="utf-8")
    run = netviz(*NET, "--against", str(other))
    assert run.returncode == 2 and "is not a sphinx-netviz architecture snapshot" in run.stderr


def test_against_with_o_draws_the_merged_diagram(tmp_path: Path) -> None:
    out = tmp_path / "diff.svg"
    run = netviz(*NET, "--depth", "3", "--no-fold", "--against", "diff_models:make_net",
                 "--old-kwargs", BIGGER, "-o", str(out))
    assert run.returncode == 1, run.stderr
    assert "removed  blocks.4" in run.stdout
    svg = out.read_text(encoding="utf-8")
    assert svg.count('class="cluster netviz-removed"') == 2  # blocks.4 and blocks.5
    assert 'class="node nv-conv netviz-changed"' in svg
    assert "Changes from the old model" in svg
    same = netviz(*NET, "--against", "diff_models:make_net", "-o", str(tmp_path / "same.svg"))
    assert same.returncode == 0, same.stderr
    assert "netviz-changed" not in (tmp_path / "same.svg").read_text(encoding="utf-8")


def test_an_onnx_file_against_a_model_is_refused_with_exit_2(tmp_path: Path) -> None:
    """Operators against modules would show every layer changed: exit 2 before anything is traced,
    with the directive's reason and fix (the file need not exist for the refusal)."""
    for args in ([*NET, "--against", str(tmp_path / "net5.onnx")],
                 [str(tmp_path / "net5.onnx"), "--against", "diff_models:make_net"]):
        run = netviz(*args)
        assert run.returncode == 2, (run.stdout, run.stderr)
        assert "is an ONNX file and" in run.stderr and "compare two ONNX files" in run.stderr
        assert run.stdout == ""
