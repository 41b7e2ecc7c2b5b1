"""The zoo: real ``transformers`` and ``diffusers`` architectures drawn through the core API.

One ``make_artifacts`` per model (the directive's defaults: ``:device: auto``,
``:onnx: auto``, depth 2 unless the entry says otherwise), then what a reader
of the page gets: module clusters in the SVG, repeated blocks folded into one
box marked ×N (in the drawn depth or one the viewer can switch to), tensor
shapes on the edges, and an ONNX file that passes ``onnx.checker``; its kind
(``full``, ``structure`` or ``graph``) and the seconds taken are recorded as
test properties (``--junitxml``) and printed (``-rA``).

The models and their inputs are listed once, in :data:`example_models.zoo.ZOO` (``docs/example_models/zoo.py``, which :doc:`zoo` draws too)
(``benchmarks/zoo.py`` draws the same list).  About 2.5 minutes on 2 cores;
``-m "not zoo"`` leaves it out.

Known failures are strict xfails with the exact reason, and each raises its own
``AssertionError`` subclass, so an xfail covers that failure and nothing else:
when the library is fixed the test passes, strict xfail turns that into a
failure, and the mark is to be removed.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
import xml.etree.ElementTree as ET

import pytest

# looked up, not imported: importing both takes ~3 s, in every collection (-m "not slow" too)
for _library in ("transformers", "diffusers"):
    if importlib.util.find_spec(_library) is None:
        pytest.skip(f"{_library} is not installed", allow_module_level=True)
onnx = pytest.importorskip("onnx")

from sphinx_netviz.limits import Budget  # noqa: E402
from sphinx_netviz.pipeline import PipelineSettings, make_artifacts  # noqa: E402
from sphinx_netviz.spec import DiagramSpec  # noqa: E402
from example_models.zoo import ZOO, ZooEntry  # noqa: E402  (docs/ is on sys.path: conftest)

pytestmark = pytest.mark.zoo

#: seconds one model may take (the directive's default ``netviz_timeout``)
BUDGET = 180.0
SVG = "{http://www.w3.org/2000/svg}"
#: a folded box's own "×12" line; a folded cluster's label "layers.0 … layers.11 ×12: Block"
FOLDED_BOX = re.compile(r"^×[0-9,]+$")
FOLDED_CLUSTER = re.compile(r" ×[0-9,]+: ")


class NoClusters(AssertionError):
    """The drawn SVG has no module cluster."""


class NoFold(AssertionError):
    """Identical consecutive blocks were not folded into one ×N box (or blocks were folded that
    are not identical)."""


class NoShapes(AssertionError):
    """Edges do not carry tensor shapes."""


class NoOnnx(AssertionError):
    """No ONNX file, or one that ``onnx.checker`` rejects."""


#: today's failures, by model; each raises its own subclass above
KNOWN_FAILURES: dict[str, pytest.MarkDecorator] = {
    # none today; T5's blocks, which hand the position bias on unchanged, fold since fold.py
    # leaves what a block returns as it was given out of its outputs
}


def groups(svg: bytes, kind: str) -> list[list[str]]:
    """The texts of every ``<g class="<kind> …">`` in the SVG, one list per group."""
    root = ET.fromstring(svg)
    return [["".join(t.itertext()).strip() for t in g.iter(f"{SVG}text")]
            for g in root.iter(f"{SVG}g") if kind in (g.get("class") or "").split()]


def folded(svg: bytes) -> list[str]:
    """The folded boxes and clusters of one layout: the first line of each (its paths)."""
    boxes = [texts[0] for texts in groups(svg, "node") if any(FOLDED_BOX.match(t) for t in texts)]
    clusters = [texts[0] for texts in groups(svg, "cluster") if texts and FOLDED_CLUSTER.search(texts[0])]
    return boxes + clusters


def check(entry: ZooEntry, made) -> None:
    """Every assertion of one model, each failure its own exception type (see KNOWN_FAILURES)."""
    assert made.depth == entry.depth and not made.problems, (made.depth, made.problems)

    clusters = groups(made.svg, "cluster")
    if not clusters:
        raise NoClusters(f"no module cluster in the SVG of depth {made.depth}")

    runs = {c["path"]: c["repeat"] for c in made.details["calls"].values() if c["repeat"] > 1}
    shown = sorted({box for svg in made.layouts.values() for box in folded(svg)})
    if entry.repeats and not (runs and shown):
        raise NoFold(f"no ×N box or cluster in any of the depths {sorted(made.layouts)} "
                     f"(runs in the details: {runs})")
    if not entry.repeats and (runs or shown):
        raise NoFold(f"blocks folded that are not identical: {runs or shown}")

    labels = [texts[0] for texts in groups(made.svg, "edge") if texts]
    shaped = [label for label in labels if "×" in label]
    if not shaped or len(shaped) * 2 < len(labels):
        raise NoShapes(f"{len(shaped)} of {len(labels)} edge labels are shapes: {labels[:8]}")

    if made.onnx is None:
        raise NoOnnx(f"no ONNX file; problems: {made.problems}, notes: {made.notes}")
    try:
        onnx.checker.check_model(onnx.load_from_string(made.onnx))
    except Exception as exc:  # noqa: BLE001 - the checker's own errors vary
        raise NoOnnx(f"the {made.onnx_mode} ONNX file fails the checker: {exc}") from exc


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name, marks=KNOWN_FAILURES.get(e.name, ()))
                                   for e in ZOO])
def test_zoo(entry: ZooEntry, record_property) -> None:
    spec = DiagramSpec(**entry.spec_kwargs())
    start = time.perf_counter()
    made = make_artifacts(spec, PipelineSettings(), budget=Budget(BUDGET))
    seconds = time.perf_counter() - start
    record_property("seconds", round(seconds, 2))
    record_property("device", made.device)
    record_property("onnx_mode", made.onnx_mode)
    record_property("onnx_bytes", len(made.onnx or b""))
    print(f"{entry.name}: {seconds:.1f} s on {made.device}, ONNX {made.onnx_mode} "
          f"({len(made.onnx or b'') / 1e3:.0f} KB); notes: {made.notes}")
    check(entry, made)
