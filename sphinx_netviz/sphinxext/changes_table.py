"""The Changes table of a ``netviz-diff``: docutils nodes, so every builder (HTML, LaTeX, text…) has it.

:func:`changes_nodes` turns an :class:`~sphinx_netviz.archdiff.ArchDiff` into

* a table titled *Changes* with one row per added, removed or changed module
  path: the path, its kind spelled ``added``, ``removed`` or ``changed``, its
  class, and what changed (``kernel_size=(3, 3) → (5, 5)``; ``parameters
  4,640 → 10,400``; an added or removed subtree's class, parameters and how
  many modules it holds).  Unchanged modules are not listed;
* a table titled *Totals*: parameters and MACs, old → new, and Δ;

or, for two identical architectures, the one sentence "No architectural
change.".  Everything from a model is a text node: escaped by each builder,
never markup.  No Sphinx import (docutils only).
"""

from __future__ import annotations

from collections.abc import Sequence

from docutils import nodes

from ..archdiff import NO_CHANGE, ArchDiff, Change

__all__ = ["changes_nodes", "changes_table", "totals_table"]

#: how the model's own root module is named in the table (its path is empty)
ROOT = "<root>"


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[nodes.Node | str]],
           widths: Sequence[int], classes: Sequence[str]) -> nodes.table:
    table = nodes.table(classes=["netviz-table", *classes])
    table += nodes.title(title, title)
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    body = nodes.tbody()
    group += body

    def row_of(cells: Sequence[nodes.Node | str]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            para = nodes.paragraph()
            para += nodes.Text(cell) if isinstance(cell, str) else cell
            entry += para
            row += entry
        return row

    head += row_of(headers)
    for cells in rows:
        body += row_of(cells)
    return table


def _change_row(change: Change) -> list[nodes.Node | str]:
    path = change.path or ROOT
    kind = nodes.inline(change.kind, change.kind, classes=[f"netviz-{change.kind}"])
    return [nodes.literal(path, path), kind, nodes.literal(change.class_name, change.class_name), change.text]


def changes_table(diff: ArchDiff, total: int | None = None) -> nodes.table:
    """The table of the changes, one row each (the diff must have some); ``total``: how many
    there were, if ``diff`` keeps only the first ones (a last row says how many more)."""
    rows = [_change_row(c) for c in diff.changes]
    more = (total or 0) - len(diff.changes)
    if more > 0:
        rows.append(["…", "", "", f"{more:,} more change{'s' if more > 1 else ''}, not listed"])
    return _table("Changes", ["Module", "Change", "Class", "What changed"], rows, [25, 10, 15, 50],
                  ["netviz-changes"])


def totals_table(diff: ArchDiff) -> nodes.table:
    """Parameters and MACs of the whole models: old, new and the difference Δ."""
    return _table("Totals", ["", "Old", "New", "Δ"], [list(row) for row in diff.totals()],
                  [20, 25, 25, 20], ["netviz-changes-totals"])


def changes_nodes(diff: ArchDiff, total: int | None = None) -> list[nodes.Element]:
    """What a ``netviz-diff`` puts under its diagram: the two tables, or "No architectural change."
    (``total``: see :func:`changes_table`)."""
    if not diff.changed:
        return [nodes.paragraph(NO_CHANGE, NO_CHANGE, classes=["netviz-no-change"])]
    return [changes_table(diff, total), totals_table(diff)]
