"""Draw a network from Python: a notebook cell, a script, a test.

A third front end beside the directive and the command line (**api** →
options → spec → pipeline → markup).  :func:`draw` takes the model itself (an
``nn.Module`` instance, a class, a factory) or its import path, and the
directive's options as keywords, under the option model's names
(``input_shape``, ``depth``, ``onnx``…, and the settings ``dot``,
``layout_timeout``…: see :data:`~sphinx_netviz.options.OPTIONS`), with the
same defaults.  An object in memory is traced where it lives, in this
process.  The :class:`Drawing` it returns shows itself in Jupyter as the docs'
interactive viewer — its CSS and script inline, so the output stands alone;
where scripts are stripped (an untrusted notebook, a static preview) the
static SVG remains — and saves to ``.svg``, ``.html`` (a standalone page),
``.pdf``, ``.png``, ``.dot`` and ``.onnx``.  This module imports neither
Sphinx nor, until it draws, torch.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from .archdiff import Change
from .artifacts import Artifacts
from .cache import write_atomic
from .errors import InputProblem
from .limits import Budget
from .loader import IMPORT, Builder, build_model
from .markup import ONNX_LABELS, summary_table_html, viewer_html
from .options import OPTIONS_LIST, Frontend, Option, OptionValues, sort_values, worded_for
from .render import MAX_DPI, run_dot, svg_for_inline
from .spec import MODEL_OPTIONS, DiagramSpec
from .values import did_you_mean, nearest
from .viewer_page import Assets, checked_assets, notebook_output, standalone_page
from .views import anchor_slug

__all__ = ["Drawing", "diff", "draw"]

#: the options ``draw()`` takes, by keyword (every option but a docs build's process limits and folders)
KEYWORDS: dict[str, Option] = {o.keyword: o for o in OPTIONS_LIST
                               if o.name not in ("memory_mb", "jobs") and o.scope != "build"}
#: a random part of the element ids (and anchor) of every output this process shows in a notebook:
#: outputs of two processes (a notebook before and after a kernel restart) never share an id
_PROCESS_TAG = secrets.token_hex(4)
#: how many outputs this process has shown (the outputs of one process never share an id either)
_SHOWN = itertools.count(1)


def draw(model: Any, /, **options: Any) -> Drawing:
    """Trace ``model`` and draw it; see the module docstring and ``docs/python.md``.

    ``model``: an ``nn.Module`` instance (traced where it lives), a class or a
    function that returns a model, or an import path (``"pkg.mod:Name"``).
    ``inputs`` may also be the example inputs themselves (a tensor, a tuple,
    a dict) or a function that returns them.  Option values may be given as
    the directive's text (``input_shape="1, 3, 224, 224"``) or as Python
    values (``input_shape=(1, 3, 224, 224)``).  A bad value raises
    :class:`~sphinx_netviz.errors.InputProblem` naming the keyword; a model
    that cannot be traced raises the pipeline's
    :class:`~sphinx_netviz.errors.NetvizError`.
    """
    from .pipeline import make_artifacts

    with worded_for(Frontend.API):
        spec, values, build = _prepared(model, options, "draw")
        settings, page = values.settings, values.page
        timeout = values.limits.timeout if "timeout" in values.given else None
        made = make_artifacts(spec, settings, id_prefix=f"nv{spec.key()[:8]}", build=build,
                              budget=Budget(timeout) if timeout else None)
    return Drawing(made, settings.dot, settings.layout_timeout, summary=page.summary, height=page.height,
                   alt=f"Diagram of the network {made.model_name}")


def _prepared(model: Any, options: dict[str, Any], caller: str, values: OptionValues | None = None
              ) -> tuple[DiagramSpec, OptionValues, Builder]:
    """The spec and builder that ``options`` (``draw()``'s keywords) give for ``model``, and their
    values, each parsed or checked once by :func:`~sphinx_netviz.options.sort_values` (``values``:
    sorted already, for :func:`diff`'s second side)."""
    inputs = options.get("inputs")
    in_memory_inputs = inputs is not None and not isinstance(inputs, str)
    if values is None:
        unknown = sorted(set(options) - set(KEYWORDS))
        if unknown:
            named = [f"{name} ({hint})" if (hint := did_you_mean(nearest(name, KEYWORDS))) else name
                     for name in unknown]
            raise TypeError(f"{caller}() got unknown option(s) {', '.join(named)}; it takes "
                            f"{', '.join(KEYWORDS)}")
        # in-memory inputs are named in messages as __main__:inputs; the object is used
        values = sort_values({**options, "inputs": "__main__:inputs"} if in_memory_inputs else options,
                             Frontend.API)
    spec = DiagramSpec.of(model if isinstance(model, str) else _target_of(model), values)
    build = partial(build_model, model=IMPORT if isinstance(model, str) else model,
                    inputs=(inputs if callable(inputs) else lambda: inputs) if in_memory_inputs else IMPORT)
    return spec, values, build


def diff(old: Any, new: Any, /, *, old_kwargs: dict[str, Any] | None = None,
         new_kwargs: dict[str, Any] | None = None, **options: Any) -> Drawing:
    """Compare two architectures and draw them merged; see ``docs/diff.rst``.

    ``old`` and ``new`` are what :func:`draw` takes (an instance, a class, a
    factory, an import path); ``old`` may also be a snapshot file (``.json``,
    ``netviz TARGET --snapshot``).  Both are traced with the same ``options``
    (:func:`draw`'s keywords); ``old_kwargs`` and ``new_kwargs`` are merged over
    ``kwargs`` for one side.  The :class:`Drawing`'s ``changes`` are the
    :class:`~sphinx_netviz.archdiff.Change` records (empty: the same architecture).
    """
    import hashlib

    from .archjob import check_comparable, is_snapshot_path, side_snapshot, with_kwargs
    from .diffdraw import draw_diff

    with worded_for(Frontend.API):
        old_kwargs, new_kwargs = (None if value is None else KEYWORDS["kwargs"].validated(value)
                                  for value in (old_kwargs, new_kwargs))
        spec, values, build = _prepared(new, options, "diff")
        settings, page = values.settings, values.page
        new_spec = with_kwargs(spec, new_kwargs) if not spec.is_onnx_file else spec
        if isinstance(old, (str, Path)):
            check_comparable(str(old), new_spec.target)
        new_side = side_snapshot(new_spec.target, new_spec, settings, build=build)
        if isinstance(old, (str, Path)) and is_snapshot_path(str(old)):
            old_side = side_snapshot(str(old), None)
            old_key = str(old)
        else:
            onnx_file = isinstance(old, str) and old.lower().endswith(".onnx")  # takes no model option
            spec_old, _, build_old = _prepared(old, options, "diff",
                                               values.without(MODEL_OPTIONS) if onnx_file else values)
            spec_old = with_kwargs(spec_old, old_kwargs) if not spec_old.is_onnx_file else spec_old
            old_side = side_snapshot(spec_old.target, spec_old, settings, build=build_old)
            old_key = spec_old.key()
        prefix = "nv" + hashlib.sha256(f"{old_key}\n{new_spec.key()}".encode()).hexdigest()[:8]
        drawn = draw_diff(old_side, new_side, new_spec, settings.dot, settings.layout_timeout, id_prefix=prefix)
    made = drawn.artifacts
    return Drawing(made, settings.dot, settings.layout_timeout, summary=page.summary, height=page.height,
                   alt=f"Architecture diff of the network {made.model_name}", changes=list(drawn.diff.changes))


def _target_of(model: Any) -> str:
    """A name for an object in memory, in import-path form (``__main__:Net``), for messages."""
    named = model if isinstance(model, type) or callable(model) and hasattr(model, "__qualname__") else type(model)
    module = re.sub(r"[^\w.]", "_", getattr(named, "__module__", None) or "__main__").strip(".") or "__main__"
    qualname = re.sub(r"\W", "_", getattr(named, "__qualname__", "model").replace("<locals>.", ""))
    module = ".".join(part if part and not part[0].isdigit() else f"_{part}" for part in module.split("."))
    return f"{module}:{qualname if qualname and not qualname[0].isdigit() else 'model'}"


#: the files a drawing saves to, by suffix (:meth:`Drawing.encoded`)
SAVE_SUFFIXES = (".svg", ".html", ".pdf", ".png", ".dot", ".gv", ".onnx")


@dataclass(frozen=True)
class Drawing:
    """One drawn network: shows itself in Jupyter, saves to files."""

    artifacts: Artifacts
    #: the Graphviz executable and time limit, for .pdf and .png
    dot: str
    layout_timeout: float
    summary: bool = True
    #: the viewer canvas's height limit (a CSS length), or '' for the default
    height: str = ""
    alt: str = "Diagram of a network"
    #: an architecture diff's changes (:func:`diff`), plain records; empty for a drawing
    changes: list[Change] = field(default_factory=list)
    #: which notebook outputs carry the viewer's stylesheet and script (:meth:`html`): ``"auto"``
    #: (the first output of the process), ``"inline"`` (every one), ``"none"``; set
    #: ``Drawing.assets = "inline"`` to make every output work alone
    assets: ClassVar[str] = "auto"

    @property
    def svg(self) -> str:
        """The drawing as an ``<svg>`` element (sanitized)."""
        return svg_for_inline(self.artifacts.svg)

    @property
    def onnx(self) -> bytes | None:
        """The ONNX file's bytes (None with ``onnx="none"``, or if no file could be made)."""
        return self.artifacts.onnx

    def html(self, *, standalone: bool = False, assets: Assets | None = None) -> str:
        """The interactive viewer; ``standalone``: a whole HTML page, with the viewer's stylesheet
        and script.  Otherwise a notebook output, carrying them or not by ``assets`` (``"auto"``,
        ``"inline"``, ``"none"``; :attr:`assets` when None; see :mod:`sphinx_netviz.viewer_page`).

        A standalone page holds this drawing alone: its element ids are the drawing's own, so the
        page is the same bytes in every process (``save("x.html")``).  Otherwise the output is
        for a page it shares (a notebook): its ids get a part random per process and a count,
        unique among every output of every process.
        """
        if standalone and assets not in (None, "inline"):
            raise InputProblem(f"a standalone page always carries the viewer's assets: assets={assets!r} "
                               "applies to a notebook output (standalone=False)")
        assets = checked_assets(self.assets if assets is None else assets)
        details = dict(self.artifacts.details)
        prefix = str(details["prefix"])
        suffix = "" if standalone else f"-{_PROCESS_TAG}-{next(_SHOWN)}"
        details["prefix"] = prefix + suffix
        # a layer's link: #<anchor>/<link>, as in the docs
        anchor = anchor_slug(self.artifacts.model_name) + suffix
        head, tail = viewer_html(details, {**self.artifacts.layouts, int(details["depth"]): self.artifacts.svg},
                                 svg_for_inline, drawn_prefix=prefix, alt=self.alt, anchor=anchor, ids=[anchor],
                                 height=self.height)
        body = head + (summary_table_html(details) if self.summary else "") + tail
        if standalone:
            return standalone_page(self.artifacts.model_name, body)
        return notebook_output(body, anchor, assets)

    def _repr_html_(self) -> str:
        return self.html()

    def encoded(self, suffix: str, *, dpi: int | None = None) -> bytes:
        """The drawing as the bytes of a file ending in ``suffix`` (``.svg``, ``.html``, ``.dot``/``.gv``,
        ``.pdf``, ``.png``, ``.onnx``): what :meth:`save` and the command line's ``-o`` write.
        ``dpi``: the resolution of a PNG (Graphviz's default, 96, when None)."""
        suffix = suffix.lower()
        if dpi is not None:
            if suffix != ".png":
                raise InputProblem(f"dpi={dpi!r} applies to a .png only, not to {suffix or 'a file without suffix'}")
            if type(dpi) is not int or not 1 <= dpi <= MAX_DPI:
                raise InputProblem(f"dpi must be a whole number from 1 to {MAX_DPI}, not {dpi!r}; e.g. dpi=150")
        if suffix not in SAVE_SUFFIXES:
            raise InputProblem(f"cannot tell the format of a file ending in {suffix!r}; end it with "
                               f"{', '.join(SAVE_SUFFIXES)}")
        if suffix == ".svg":
            return self.artifacts.svg
        if suffix == ".html":
            return self.html(standalone=True).encode()
        if suffix in (".dot", ".gv"):
            return self.artifacts.dot.encode()
        if suffix in (".pdf", ".png"):
            return run_dot(self.artifacts.dot, suffix[1:], self.dot, self.layout_timeout, dpi)
        if self.artifacts.onnx is None:
            raise InputProblem("this drawing has no ONNX file: draw it with onnx='auto' (the default), "
                               "'full' or 'structure'")
        return self.artifacts.onnx

    def save(self, path: str | Path, *, dpi: int | None = None) -> Path:
        """Write the drawing to ``path``; its suffix picks the format (see :meth:`encoded`);
        ``dpi`` sets a PNG's resolution."""
        path = Path(path)
        write_atomic(path, self.encoded(path.suffix, dpi=dpi))
        return path

    def __repr__(self) -> str:
        made = self.artifacts
        onnx = f", {ONNX_LABELS.get(made.onnx_mode or '', 'no ONNX')}" if made.onnx_mode else ""
        return f"<Drawing of {made.model_name}: depth {made.depth}, {made.node_count} boxes{onnx}>"
