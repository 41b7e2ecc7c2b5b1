"""Architecture snapshots (sphinx_netviz.snapshot) and their comparison (sphinx_netviz.archdiff),
on small torch models traced in this process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOTS

from sphinx_netviz.archdiff import NO_CHANGE, compare, format_changes, hparam_changes
from sphinx_netviz.snapshot import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SnapshotProblem,
    make_snapshot,
    read_snapshot,
    snapshot_json,
    snapshot_trace,
)
from sphinx_netviz.trace import trace_model

sys.path.insert(0, str(ROOTS / "test-diff"))
import diff_models  # noqa: E402

from diff_models import Moved, Net  # noqa: E402


def snap(model: torch.nn.Module) -> dict:
    trace, _ = trace_model(model, (torch.zeros(2, 3, 8, 8),), {}, ["x"], type(model).__name__)
    return make_snapshot(trace)


@pytest.fixture(scope="module")
def old() -> dict:
    return snap(Net())


@pytest.fixture(scope="module")
def new() -> dict:
    return snap(Net(kernel=5, blocks=6, classes=10, dropout=False))


def by_path(changes: list) -> dict:
    return {c.path: c for c in changes}


def test_snapshot_is_deterministic_and_has_no_weights(old: dict) -> None:
    torch.manual_seed(1)
    again = snap(Net())  # other random weights, same architecture
    text = snapshot_json(old)
    assert snapshot_json(again) == text
    assert json.loads(text) == old
    assert list(json.loads(text)) == sorted(old)  # keys sorted
    assert old["format"] == FORMAT_NAME and old["version"] == FORMAT_VERSION
    conv = old["modules"]["conv"]
    assert conv["class"] == "Conv2d" and conv["params"] == 448 and conv["own_params"] == 448
    assert conv["hparams"] == "3, 16, kernel_size=(3, 3), padding=(1, 1)"
    assert conv["out"] == ["2×16×8×8 float32"]
    assert conv["macs"] == 2 * 16 * 8 * 8 * 3 * 9
    assert old["modules"]["blocks"]["calls"] == 0 and old["modules"]["blocks"]["out"] is None
    assert old["runs"] == [["blocks.0", "blocks.1", "blocks.2", "blocks.3"]]
    assert old["totals"] == {"params": 1621, "macs": 57504}
    # no weight values: a model with a million weights has a snapshot as small as a tiny one's
    big = snapshot_json(snap(Net(width=1000)))
    assert len(big) < 2 * len(text)


def test_snapshot_round_trip(old: dict, tmp_path: Path) -> None:
    path = tmp_path / "arch.json"
    path.write_text(snapshot_json(old), encoding="utf-8")
    read = read_snapshot(path)
    assert read == old
    trace = snapshot_trace(read)
    assert make_snapshot(trace) == old  # the recorded forward pass reads back whole
    assert not compare(read, old).changed


def test_changes_between_two_configs(old: dict, new: dict) -> None:
    diff = compare(old, new)
    changes = by_path(diff.changes)
    assert [c.path for c in diff.changes] == ["", "conv", "blocks.0", "blocks.4", "blocks.5", "drop", "head"]
    assert changes["conv"].kind == "changed"
    assert changes["conv"].what == ("kernel_size=(3, 3) → (5, 5)", "padding=(1, 1) → (2, 2)",
                                    "parameters 448 → 1,216")
    assert changes["head"].what == ("out_features=5 → 10", "parameters 85 → 170", "output 2×5 → 2×10")
    # the folded run grew: its first block is changed, the extra ones are added (with what is inside)
    assert changes["blocks.0"].what == ("×4 → ×6",)
    assert changes["blocks.4"].kind == "added" and changes["blocks.4"].inside == 2
    assert changes["blocks.4"].text == "Block (272 parameters, 2 modules inside)"
    assert "blocks.4.fc" not in changes and diff.marks["blocks.4.fc"] == "added"
    assert changes["drop"].what == ("class Dropout → Identity", "-p=0.1")
    # blocks.1 ... blocks.3 and the ModuleList are the same
    assert not {"blocks", "blocks.1", "pool"} & set(changes)
    assert diff.totals() == [("parameters", "1,621", "3,018", "+1,397"), ("MACs", "57,504", "156,992", "+99,488")]
    text = format_changes(diff)
    assert "changed  conv      kernel_size=(3, 3) → (5, 5)" in text
    assert text.endswith("parameters: 1,621 → 3,018 (Δ +1,397)\nMACs: 57,504 → 156,992 (Δ +99,488)\n")


def test_the_other_way_round(old: dict, new: dict) -> None:
    changes = by_path(compare(new, old).changes)
    assert changes["blocks.0"].what == ("×6 → ×4",)
    assert changes["blocks.5"].kind == "removed" and changes["blocks.5"].class_name == "Block"
    assert changes["drop"].what == ("class Identity → Dropout", "+p=0.1")


def test_identical(old: dict) -> None:
    diff = compare(old, snap(Net()))
    assert not diff.changed and diff.changes == [] and diff.marks == {}
    assert format_changes(diff).startswith(NO_CHANGE + "\n")


def test_a_moved_module_is_removed_and_added(old: dict) -> None:
    diff = compare(old, snap(Moved()))
    changes = by_path(diff.changes)
    assert changes["head"].kind == "removed"
    assert changes["out"].kind == "added" and changes["out"].inside == 1
    assert diff.marks["out.head"] == "added"
    # the module before it in the old tree is where a removed one is listed
    order = [c.path for c in diff.changes]
    assert order.index("blocks") < order.index("drop") < order.index("head") < order.index("out")


def test_hparam_changes() -> None:
    assert hparam_changes("3, 16, kernel_size=(3, 3)", "3, 32, kernel_size=(3, 3)") == ["arg 2: 16 → 32"]
    assert hparam_changes("in_features=4, out_features=5", "in_features=4, out_features=10, bias=False") \
        == ["out_features=5 → 10", "+bias=False"]
    assert hparam_changes("", "") == []
    assert hparam_changes("a(", "b(") == ["arg 1: a( → b("]


def test_read_snapshot_refuses_what_is_not_one(old: dict, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    with pytest.raises(SnapshotProblem, match="does not exist"):
        read_snapshot(bad)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SnapshotProblem, match="is not JSON"):
        read_snapshot(bad)
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(SnapshotProblem, match="is not a sphinx-netviz architecture snapshot"):
        read_snapshot(bad)
    bad.write_text(json.dumps({**old, "version": 99}), encoding="utf-8")
    with pytest.raises(SnapshotProblem, match="is of version 99"):
        read_snapshot(bad)
    damaged = json.loads(snapshot_json(old))
    del damaged["modules"]["conv"]["params"]
    bad.write_text(json.dumps(damaged), encoding="utf-8")
    with pytest.raises(SnapshotProblem, match="is damaged"):
        read_snapshot(bad)
    damaged = json.loads(snapshot_json(old))
    damaged["trace"]["calls"][0][4] = [999999]
    with pytest.raises(SnapshotProblem, match="is damaged .*tensor"):
        read_snapshot(damaged)
    assert diff_models  # the test root's models are importable
