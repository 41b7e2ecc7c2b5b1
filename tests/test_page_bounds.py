"""What one diagram puts in a page is bounded (issue 17, item 4): the summary table's rows, the
viewer's data, and what the Sphinx process reads of a diagram's files (sphinx_netviz.bounds)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from conftest import run_sphinx, soup_of
from sphinx_netviz import bounds
from sphinx_netviz.bounds import (MAX_CALLS_BYTES, MAX_LIST_ITEMS, MAX_SUMMARY_ROWS, TooBig,
                                  bounded_viewer_data, read_bounded, read_details)
from sphinx_netviz.markup import more_rows_text, summary_title


def wide_onnx(path: Path, layers: int) -> Path:
    """``layers`` operators one after another, each its own layer, no two neighbours alike (nothing folds)."""
    ops = ("Relu", "Sigmoid", "Tanh")
    nodes = [helper.make_node(ops[i % 3], [f"t{i}"], [f"t{i + 1}"], name=f"layer{i}") for i in range(layers)]
    graph = helper.make_graph(nodes, "wide", [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info(f"t{layers}", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _row(i: int) -> dict[str, object]:
    return {"path": f"layer{i}", "class": "Relu", "qualname": "", "out": "1×4", "params": 0, "macs": None}


def _call(paths: int = 0, shapes: int = 1) -> dict[str, object]:
    return {"kind": "module", "path": "p", "class": "C", "qualname": "", "hparams": "", "in": ["1×4"] * shapes,
            "out": ["1×4"], "params": 0, "macs": None, "depth": 1, "repeat": max(1, paths),
            "paths": [f"p.{k}" for k in range(paths)], "expandable": False}


def test_rows_and_calls_are_cut_with_a_count_of_what_was_left_out() -> None:
    details = {"prefix": "nv", "model": "M", "depth": 1, "depths": [0, 1], "omitted": [],
               "calls": {str(i): _call(paths=3 * MAX_LIST_ITEMS if i == 0 else 0, shapes=500 if i == 1 else 1)
                         for i in range(5)},
               "rows": [_row(i) for i in range(20_000)], "totals": {"params": 0, "macs": None}}
    cut = bounded_viewer_data(details)
    assert len(cut["rows"]) == MAX_SUMMARY_ROWS and cut["rows_total"] == 20_000
    assert cut["rows"] == details["rows"][:MAX_SUMMARY_ROWS]  # the first rows, in order
    assert summary_title(cut).startswith("Summary: 20,000 layers")
    assert more_rows_text(cut) == "… and 19,000 more layers, not listed (a page lists the first 1,000)"
    folded, wide = cut["calls"]["0"], cut["calls"]["1"]
    assert len(folded["paths"]) == MAX_LIST_ITEMS and folded["paths"][-1] == f"… {3 * MAX_LIST_ITEMS - 63:,} more"
    assert len(wide["in"]) == MAX_LIST_ITEMS and wide["in"][-1] == "… 437 more"
    assert cut["calls_left_out"] == 0 and bounded_viewer_data(cut) == cut  # cutting again changes nothing

    # the calls' details stop at MAX_CALLS_BYTES, in call order, and say how many boxes have none
    many = {**details, "calls": {str(i): {**_call(), "hparams": "x" * 1000} for i in range(5000)}}
    cut = bounded_viewer_data(many)
    assert len(json.dumps(cut["calls"], ensure_ascii=False, sort_keys=True).encode()) <= MAX_CALLS_BYTES
    assert sorted(map(int, cut["calls"])) == list(range(len(cut["calls"])))
    assert cut["calls_left_out"] == 5000 - len(cut["calls"]) > 0


def test_a_file_is_size_checked_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"rows": []}))
    assert read_details(small) == {"rows": []}
    big = tmp_path / "big.svg"
    big.write_bytes(b"<svg>" + b" " * 5000 + b"</svg>")
    read = []
    monkeypatch.setattr(bounds.os, "fstat", lambda fd, real=bounds.os.fstat: read.append(fd) or real(fd))
    with pytest.raises(TooBig, match="big.svg is 5.01 kB, more than the 1 kB a page takes"):
        read_bounded(big, 1000)
    assert read  # refused on its size, from the open file
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")  # a size of 0 that never ends: the read stops at the limit
    with pytest.raises(TooBig, match="grew past"):
        read_bounded(zero, 1000)


@pytest.mark.slow
def test_a_model_of_20000_distinct_layers_gives_a_page_of_bounded_size(tmp_path: Path) -> None:
    """Before: a 9 MB page with a 20,000-row table.  Now: the first 1,000 rows, a row saying how many
    more, the title counting them all; the page under 1 MB."""
    src = tmp_path / "src"
    src.mkdir()
    wide_onnx(src / "wide.onnx", 20_000)
    (src / "conf.py").write_text("extensions = ['sphinx_netviz']\nnetviz_timeout = 600\n")
    (src / "index.rst").write_text("Wide\n====\n\n.. netviz:: wide.onnx\n   :onnx: none\n")
    run = run_sphinx(src, tmp_path / "out", "-q", cache=tmp_path / "cache", timeout=900)
    page = tmp_path / "out" / "index.html"
    assert run.returncode == 0 and page.exists(), run.stderr[-3000:]
    size = page.stat().st_size
    assert size < 1_000_000, f"{size:,} bytes"
    soup = soup_of(page)
    summary = soup.select_one("details.netviz-summary")
    assert summary.select_one("summary").get_text().startswith("Summary: 20,000 layers")
    rows = summary.select("tbody tr")
    assert len(rows) == MAX_SUMMARY_ROWS + 2  # the layers listed, how many more, the total
    assert "netviz-more" in rows[-2]["class"]
    assert rows[-2].get_text().strip() == "… and 19,000 more layers, not listed (a page lists the first 1,000)"
    data = json.loads(soup.select_one("script.netviz-data").string)
    assert len(data["rows"]) == MAX_SUMMARY_ROWS and data["rows_total"] == 20_000
