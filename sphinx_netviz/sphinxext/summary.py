"""A diagram's summary table and class links as docutils nodes, so every builder writes them.

Pipeline step *write* (collect → **summary** → node visitors).  When a page
is written, :class:`~.collect.FillDiagrams` turns each diagram's viewer data
into

* a :class:`netviz_summary`: a title and a docutils table (layer, type,
  output shape, parameters, MACs; a row saying how many layers are not
  listed, past :data:`~sphinx_netviz.bounds.MAX_SUMMARY_ROWS`; and a totals row), each class name a
  ``pending_xref`` (:mod:`.links`).  HTML wraps it in a collapsible
  ``<details class="netviz-summary">`` inside the diagram; LaTeX, text, man
  and texinfo write the title and the table after the figure;
* in HTML, a :class:`netviz_links` inside the diagram: one reference per class
  for the viewer's details panel, never written itself; the writer reads the
  resolved links back with :func:`class_hrefs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.writers.html5 import HTML5Translator

from ..markup import COLUMNS, more_rows_text, summary_texts, summary_title
from .links import class_xref, href_of



class netviz_summary(nodes.container):  # noqa: N801 (docutils naming)
    """A diagram's summary: a :class:`netviz_summary_title` and the table."""


class netviz_summary_title(nodes.paragraph):  # noqa: N801
    """``Summary: 14 layers, 15.23 k parameters, 3.71 GMAC`` (HTML: the ``<summary>`` line)."""


class netviz_links(nodes.General, nodes.Element):  # noqa: N801
    """The viewer's class links: one ``inline`` per class (attribute ``qualname``) holding its
    ``pending_xref``, resolved by Sphinx and read back by the HTML writer; never written."""


def _cell(*children: nodes.Node) -> nodes.entry:
    return nodes.entry("", nodes.paragraph("", "", *children))


def _class_cell(row: Mapping[str, Any]) -> nodes.entry:
    name = nodes.literal(text=row["class"])
    return _cell(class_xref(row["qualname"], name) if row.get("qualname") else name)


def summary_node(details: Mapping[str, Any]) -> netviz_summary:
    """The summary title and table of a diagram's viewer data (``details``)."""
    texts, total = summary_texts(details)

    tgroup = nodes.tgroup(cols=len(COLUMNS))
    for column, heading in enumerate(COLUMNS):  # the text builder wraps a cell at its column's width
        quotes = 2 if column < 2 else 0  # and quotes literal text: "conv.0"
        tgroup += nodes.colspec(colwidth=max(len(heading), len(total[column]),
                                             *(len(text[column]) + quotes for text in texts)))
    tgroup += nodes.thead("", nodes.row("", *(_cell(nodes.Text(h)) for h in COLUMNS)))
    body = nodes.tbody()
    for row, text in zip(details["rows"], texts):
        body += nodes.row("", _cell(nodes.literal(text=text[0])), _class_cell(row),
                          *(_cell(nodes.Text(t)) for t in text[2:]))
    more = more_rows_text(details)  # the page lists the first rows only (sphinx_netviz.bounds)
    if more:
        body += nodes.row("", _cell(nodes.emphasis(text=more)), *(_cell() for _ in COLUMNS[1:]),
                          classes=["netviz-more"])
    body += nodes.row("", *(_cell(nodes.Text(t)) for t in total), classes=["netviz-total"])
    tgroup += body
    table = nodes.table("", tgroup, classes=["netviz-table", "colwidths-auto"])
    return netviz_summary("", netviz_summary_title("", summary_title(details)), table,
                          classes=["netviz-summary"])


def links_node(details: Mapping[str, Any]) -> netviz_links:
    """One class reference per class the viewer names (boxes and table rows)."""
    entries: Iterable[Mapping[str, Any]] = [*details["calls"].values(), *details["rows"]]
    qualnames = dict.fromkeys(e["qualname"] for e in entries if e.get("qualname"))
    # an empty content node: the references are read, never shown (nor searched)
    return netviz_links("", *(nodes.inline("", "", class_xref(q, nodes.inline()), qualname=q)
                              for q in qualnames))


def class_hrefs(diagram: nodes.Element) -> dict[str, str | None]:
    """The resolved link of each class in a diagram's :class:`netviz_links`, by qualified name."""
    return {item["qualname"]: href_of(item)
            for links in diagram.findall(netviz_links) for item in links.children
            if isinstance(item, nodes.Element) and item.get("qualname")}


# -- HTML ---------------------------------------------------------------------------

def visit_summary_html(self: HTML5Translator, node: netviz_summary) -> None:
    self.body.append(self.starttag(node, "details", ""))


def depart_summary_html(self: HTML5Translator, node: netviz_summary) -> None:
    self.body.append("</details>\n")


def visit_title_html(self: HTML5Translator, node: netviz_summary_title) -> None:
    self.body.append(self.starttag(node, "summary", ""))


def depart_title_html(self: HTML5Translator, node: netviz_summary_title) -> None:
    self.body.append("</summary>\n")


def skip(self: Any, node: nodes.Element) -> None:
    raise nodes.SkipNode


def register(app: Sphinx) -> None:
    # other builders write a netviz_summary as the container and paragraph it is
    app.add_node(netviz_summary, html=(visit_summary_html, depart_summary_html))
    app.add_node(netviz_summary_title, html=(visit_title_html, depart_title_html))
    app.add_node(netviz_links, **{fmt: (skip, None) for fmt in ("html", "latex", "text", "man", "texinfo")})
