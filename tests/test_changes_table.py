"""The Changes table of an architecture diff (sphinx_netviz.sphinxext.changes_table): docutils nodes,
written here by docutils' HTML and LaTeX writers (the directive's builds test Sphinx's builders)."""

from __future__ import annotations

import html
import json
import re
import sys

import pytest
from conftest import ROOTS
from docutils.core import publish_from_doctree
from docutils.utils import new_document

from sphinx_netviz.archdiff import ArchDiff, compare
from sphinx_netviz.sphinxext.changes_table import changes_nodes
from test_archdiff import snap

sys.path.insert(0, str(ROOTS / "test-diff"))
from diff_models import Net  # noqa: E402


@pytest.fixture(scope="module")
def diff() -> ArchDiff:
    return compare(snap(Net()), snap(Net(kernel=5, blocks=6, classes=10, dropout=False)))


def written(nodes_: list, writer: str) -> str:
    document = new_document("<test>")
    document.extend(nodes_)
    return publish_from_doctree(document, writer=writer,
                                settings_overrides={"output_encoding": "unicode", "use_latex_citations": True,
                                                                "legacy_column_widths": False})  # type: ignore[return-value]


def html_rows(page: str) -> list[list[str]]:
    """The cells' text of every table row of an HTML page, tags dropped, entities decoded."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def test_one_row_per_change_then_the_totals(diff: ArchDiff) -> None:
    page = written(changes_nodes(diff), "html5")
    assert page.count("<table") == 2
    rows = html_rows(page)
    assert rows[0] == ["Module", "Change", "Class", "What changed"]
    changes = rows[1:8]
    assert [(r[0], r[1]) for r in changes] == [
        ("<root>", "changed"), ("conv", "changed"), ("blocks.0", "changed"), ("blocks.4", "added"),
        ("blocks.5", "added"), ("drop", "changed"), ("head", "changed")]
    by_path = {r[0]: r for r in changes}
    assert by_path["conv"][2:] == ["Conv2d", "kernel_size=(3, 3) → (5, 5); padding=(1, 1) → (2, 2); "
                                             "parameters 448 → 1,216"]
    assert by_path["head"][3] == "out_features=5 → 10; parameters 85 → 170; output 2×5 → 2×10"
    assert by_path["blocks.4"][2:] == ["Block", "Block (272 parameters, 2 modules inside)"]
    assert by_path["blocks.0"][3] == "×4 → ×6"
    # unchanged modules are not listed
    assert not {"pool", "blocks.1", "blocks.0.fc"} & set(by_path)
    assert rows[8] == ["", "Old", "New", "Δ"]
    assert rows[9] == ["parameters", "1,621", "3,018", "+1,397"]
    assert rows[10] == ["MACs", "57,504", "156,992", "+99,488"]
    assert "Changes" in page and "Totals" in page


def test_latex_has_both_tables(diff: ArchDiff) -> None:
    tex = written(changes_nodes(diff), "latex")
    assert tex.count("\\begin{longtable") + tex.count("\\begin{tabular") >= 2
    assert "blocks.4" in tex and "added" in tex and "1,621" in tex


def test_identical_architectures_say_so(diff: ArchDiff) -> None:
    same = compare(snap(Net()), snap(Net()))
    out = changes_nodes(same)
    assert len(out) == 1 and out[0].astext() == "No architectural change."
    assert "<table" not in written(out, "html5")


def test_hostile_names_are_text(diff: ArchDiff) -> None:
    hostile = ArchDiff.from_dict({**diff.to_dict(), "changes": [
        {"path": "<b>x</b>", "kind": "removed", "class_name": "<img src=x onerror=alert(1)>", "what": [],
         "params_old": 3, "params_new": None, "inside": 0}]})
    page = written(changes_nodes(hostile), "html5")
    assert "<img" not in page and "<b>x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_diff_round_trips_through_json(diff: ArchDiff) -> None:
    assert ArchDiff.from_dict(json.loads(json.dumps(diff.to_dict()))) == diff
    with pytest.raises(ValueError):
        ArchDiff.from_dict({**diff.to_dict(), "changes": [{**diff.changes[0].to_dict(), "kind": "moved"}]})


def test_a_cut_list_says_how_many_more(diff: ArchDiff) -> None:
    rows = html_rows(written(changes_nodes(ArchDiff(diff.changes[:2], 1, 2, None, None), total=7), "html5"))
    assert [r[0] for r in rows[1:4]] == ["<root>", "conv", "…"]
    assert rows[3][3] == "5 more changes, not listed"
    assert rows[-1] == ["MACs", "—", "—", "—"]
