"""The schema of the data the page's viewer reads: one JSON object per drawing.

Made by :mod:`sphinx_netviz.views` (from :mod:`sphinx_netviz.details`), stored
by the cache, given class links by the HTML writer (``href``), and read by
``static/netviz.js`` (which documents the same keys in its header).  Typing
only: at run time these are plain dicts, ready for ``json.dumps``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypedDict

if TYPE_CHECKING:  # typing.NotRequired is Python 3.11+
    from typing_extensions import NotRequired  # noqa: F401 - named in the string annotations below

#: one drawn call: a module, or a functional operation between modules
CallDetails = TypedDict("CallDetails", {
    "kind": 'Literal["module", "function"]',
    #: the module's attribute path (``layers.0.attn``); ``""`` for a function
    "path": str,
    #: the module's class name, or the function's name
    "class": str,
    #: the class's full import name (for links); ``""`` for a function
    "qualname": str,
    #: ``extra_repr()`` text of the module, as text (never markup)
    "hparams": str,
    #: ``"1×3×224×224 float32"`` per input and per output tensor
    "in": "list[str]",
    "out": "list[str]",
    "params": int,
    #: multiply-accumulates, where known
    "macs": "int | None",
    #: the module's depth in the tree; None for a function
    "depth": "int | None",
    #: how many identical blocks a folded box stands for (1: not folded)
    "repeat": int,
    #: the paths of the folded blocks
    "paths": "list[str]",
    #: a module with modules inside, which the viewer can open
    "expandable": bool,
    #: the box's name in a layer's URL fragment ``#<anchor>/<link>``: a module's path (``""``
    #: for the root; a folded run: its first block's), ``<scope>.<op>[-<k>]`` for a function
    #: (:func:`~sphinx_netviz.details.call_links`)
    "link": str,
    #: the class's documentation, added by the HTML writer where one resolves
    "href": "NotRequired[str | None]",
})

#: one row of the summary table: a layer (a module that calls no other module), in run order
SummaryRow = TypedDict("SummaryRow", {
    "path": str,
    "class": str,
    "qualname": str,
    #: output shapes, ``"1×64×56×56"``
    "out": str,
    #: parameters, counted at a module's first call only
    "params": int,
    "macs": "int | None",
    "href": "NotRequired[str | None]",
})


class Totals(TypedDict):
    params: int
    macs: int | None


class ViewerData(TypedDict):
    """Everything the viewer knows about one drawing."""

    #: the SVG id prefix of the drawing (``nv1a2b3c4d``); unique on its page
    prefix: str
    model: str
    #: the depth drawn first
    depth: int
    #: every depth the viewer can switch to (a ``<template>`` each)
    depths: list[int]
    #: depths left out (too big, too slow to lay out)
    omitted: list[int]
    #: details of every call drawn at some depth, by call id (SVG ids ``<prefix>_n<id>``)
    calls: dict[str, CallDetails]
    rows: list[SummaryRow]
    totals: Totals
