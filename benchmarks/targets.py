"""Every benchmark target, in one table, and the one function that checks them against saved runs.

A target names the benchmark whose JSON it reads, the issue that set it, how its number is
computed from that JSON (each benchmark script's ``summary``), and the threshold.  A target
whose benchmark has no run, or whose run did not measure it, is *not measured*, never met.

    python benchmarks/report.py targets      # the table for the latest runs; exit status 1 if one is missed
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable

from benchmarks.common import GB, MB, fmt_bytes, plural

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, "==": operator.eq, ">=": operator.ge, ">": operator.gt}
SHOWN_OP = {"<": "<", "<=": "≤", "==": "=", ">=": "≥", ">": ">"}


@dataclass(frozen=True)
class Measured:
    value: float
    #: what the value is made of (per-model numbers, counts), shown beside it
    detail: str = ""


@dataclass(frozen=True)
class Target:
    key: str
    benchmark: str
    issue: int
    #: what is asked, in words
    text: str
    op: str
    threshold: float
    #: ``s``, ``ratio``, ``share``, ``bytes`` or ``count``
    unit: str
    #: the value from one run of ``benchmark`` (its whole JSON record); None: not measured by it
    measure: Callable[[dict[str, Any]], Measured | None]
    #: where the target is meant to go in the end (shown beside the threshold; not checked)
    goal: float | None = None


@dataclass(frozen=True)
class Retired:
    """A target no longer checked, and why: the report says so under the targets."""

    key: str
    issue: int
    retired_by: int
    text: str
    why: str


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "share":
        return f"{value:.0%}"
    if unit == "bytes":
        return fmt_bytes(value)
    if unit == "count":
        return f"{value:g}"
    return f"{value:.2f}"


# -- how each number is computed (from the scripts' summaries) ---------------------------------------

def _gallery(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from benchmarks import gallery

    return gallery.summary(run)


def _gallery_every(run: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The summary, if the run drew every model of the gallery (a target on "every model" needs all)."""
    from benchmarks import gallery

    s = gallery.summary(run)
    return s if set(s) >= set(gallery.MODELS) else None


def _gallery_ratio(run: dict[str, Any]) -> Measured | None:
    s = _gallery_every(run)
    if s is None:
        return None
    ratios = {m["title"]: m.get("ratio") for m in s.values()}
    if not ratios or None in ratios.values():  # every model, or it is not measured
        return None
    return Measured(max(ratios.values()), ", ".join(f"{t} {r:.2f}" for t, r in ratios.items()))


def _gallery_model(key: str, name: str, unit_detail: Callable[[dict[str, Any]], str] = lambda m: "") \
        -> Callable[[dict[str, Any]], Measured | None]:
    def measure(run: dict[str, Any]) -> Measured | None:
        m = _gallery(run).get(key)
        if not m or m.get(name) is None:
            return None
        return Measured(m[name], unit_detail(m))
    return measure


def _gallery_layout(run: dict[str, Any]) -> Measured | None:
    s = _gallery_every(run)
    if s is None:
        return None
    layouts = {m["title"]: m.get("layout_s") for m in s.values()}
    if not layouts or None in layouts.values():
        return None
    worst = max(layouts, key=lambda t: layouts[t])
    return Measured(layouts[worst], f"slowest: {worst}")


def _docs_build(name: str, detail: Callable[[dict[str, Any]], str] = lambda s: "") \
        -> Callable[[dict[str, Any]], Measured | None]:
    def measure(run: dict[str, Any]) -> Measured | None:
        from benchmarks import docs_build

        s = docs_build.summary(run)
        return None if s.get(name) is None else Measured(s[name], detail(s))
    return measure


def _zoo(run: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import zoo

    return zoo.summary(run)


def _zoo_not_drawn(run: dict[str, Any]) -> Measured | None:
    s = _zoo(run)["netviz"]
    if not s["ran"]:
        return None
    return Measured(s["ran"] - s["drawn"], f"{s['drawn']} of {s['ran']} drawn")


def _zoo_without_onnx(run: dict[str, Any]) -> Measured | None:
    s = _zoo(run)
    if not s["netviz"]["ran"]:
        return None
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(s["onnx_kinds"].items()))
    missing = s["without_valid_onnx"]
    return Measured(len(missing), (f"without: {', '.join(missing)}; " if missing else "") + kinds)


def _zoo_time_limited(run: dict[str, Any]) -> Measured | None:
    s = _zoo(run)
    if not s["netviz"]["ran"]:
        return None
    return Measured(len(s["onnx_time_limited"]), ", ".join(s["onnx_time_limited"]))


def _zoo_more_than_torchview(run: dict[str, Any]) -> Measured | None:
    s = _zoo(run)
    if not s["netviz"]["ran"] or not s["torchview"]["ran"]:
        return None
    return Measured(s["netviz"]["drawn"] - s["torchview"]["drawn"],
                    f"netviz {s['netviz']['drawn']}, torchview {s['torchview']['drawn']} of {s['models']}")


def _zoo_time_vs_torchview(run: dict[str, Any]) -> Measured | None:
    p = _zoo(run)["diagram_vs_torchview"]
    if not p["models"]:
        return None
    return Measured(p["diagram_s"] / p["torchview_s"],
                    f"median {p['diagram_s']:.1f} s vs {p['torchview_s']:.1f} s on the {p['models']} both drew")


def _diff_vs_two_drawings(run: dict[str, Any]) -> Measured | None:
    """``diff_llama.py --sphinx``: a page with one netviz-diff of the 32- and 40-layer configs ÷ a
    page drawing the two (real builds, each from an empty cache; medians)."""
    results = run.get("results") or {}
    if not run.get("params", {}).get("sphinx") or "ratio" not in results:
        return None
    two, diff = sorted(results["draw_two_build_s"]), sorted(results["diff_build_s"])
    return Measured(results["ratio"], f"{diff[len(diff) // 2]:.1f} s vs {two[len(two) // 2]:.1f} s (medians of "
                    f"{len(diff)}); warm diff build {min(results['diff_warm_build_s']):.1f} s")


def _floor(run: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import floor

    return floor.summary(run)


def _floor_ratio(pair: str) -> Callable[[dict[str, Any]], Measured | None]:
    """The median over the rounds of a cold build's seconds ÷ its floor's in the same round (``diagrams``: the
    trace floor; ``default``: the export floor); the same ratio of CPU times (user + sys of the process
    trees) is shown beside it, where the run measured it."""
    def measure(run: dict[str, Any]) -> Measured | None:
        from benchmarks.floor import PAIRS

        s = _floor(run)
        value = s[f"{pair}_ratio"]
        if value is None:
            return None
        build, floor = PAIRS[pair]
        each = ", ".join("–" if x is None else f"{x:.2f}" for x in s[f"{pair}_ratio_each"])
        cpu = s.get(f"{pair}_cpu_ratio")  # shown beside it: less noisy on a shared machine, not the measure
        return Measured(value, f"median of {s['rounds']} rounds' ({each}); medians {s[build]:.1f} s ÷ {s[floor]:.1f} s"
                        + (f"; CPU time {cpu:.2f}" if cpu is not None else ""))
    return measure


def _floor_warm_exports(run: dict[str, Any]) -> Measured | None:
    s = _floor(run)
    if s["warm_exports"] is None:
        return None
    return Measured(s["warm_exports"], f"in {s['warm_builds']} warm builds; drawings made: {s['warm_drawings_made']}")


def _floor_exported_twice(run: dict[str, Any]) -> Measured | None:
    s = _floor(run)
    if s["most_exports_of_one_model"] is None or not s["twice"]:
        return None  # the build that draws a model twice is what the target is about
    return Measured(s["most_exports_of_one_model"], ", ".join(f"{k.split(':')[-1]} {v}" for k, v in
                                                               sorted(s["exports_by_model"].items())))


#: a model at most this big is built for real for its ONNX file (``netviz_meta_above_mb``'s default, 128 MB)
CPU_BUILT_BYTES = 128 * MB


def _cpu_structure_export(run: dict[str, Any]) -> Measured | None:
    """The slowest structure export of a zoo model built on the CPU (traced there, or small enough)."""
    cpu = [(m["name"], m["netviz"]) for m in run["results"]["models"]
           if (m.get("netviz") or {}).get("ok") and m["netviz"].get("onnx_mode") == "structure"
           and (m["netviz"]["device"] == "cpu" or m["netviz"]["weight_bytes"] <= CPU_BUILT_BYTES)]
    if not cpu:
        return None
    name, worst = max(cpu, key=lambda item: item[1]["timings"].get("onnx", 0.0))
    return Measured(worst["timings"].get("onnx", 0.0), f"slowest of {len(cpu)}: {name}")


def _isolation(left: str, right: str) -> Callable[[dict[str, Any]], Measured | None]:
    """Median seconds of one kind of cold build ÷ another's (``code label``, as in isolation.py)."""
    def measure(run: dict[str, Any]) -> Measured | None:
        from benchmarks import isolation

        s = isolation.summary(run)
        a, b = s.get(left), s.get(right)
        if a is None or b is None:
            return None
        return Measured(a / b, f"{a:.1f} s ÷ {b:.1f} s")
    return measure


# -- the table -----------------------------------------------------------------------------------------

TARGETS: list[Target] = [
    # issue 2: big models
    Target("cold-diagram-vs-torchview", "gallery", 2,
           "one cold diagram (build + trace + layout, no `import torch`) ≤ ½ of torchview's drawing + render, "
           "every model", "<=", 0.5, "ratio", _gallery_ratio),
    Target("llama-diagram", "gallery", 2, "LLaMA-7B: the diagram after `import torch`", "<", 5.0, "s",
           _gallery_model("llama", "cold_diagram_s", lambda m: f"built on {m['device']}")),
    Target("llama-structure-onnx", "gallery", 2, "LLaMA-7B: the structure ONNX export", "<", 20.0, "s",
           _gallery_model("llama", "onnx_s", lambda m: f"kind: {m['onnx_mode']}")),
    Target("layout", "gallery", 2, "Graphviz layout at the default depth, every model", "<", 1.0, "s",
           _gallery_layout),
    Target("build-memory", "docs_build", 2, "peak memory of the whole cold build (process tree, sum of PSS)",
           "<", 1.5 * GB, "bytes",
           _docs_build("cold_peak_tree_bytes", lambda s: f"{plural(s['diagrams'], 'diagram')}; Sphinx process alone "
                       f"{fmt_bytes(s['cold_sphinx_max_rss_bytes'])}")),
    Target("rebuild-per-diagram", "docs_build", 2, "no-change rebuild: time added per diagram", "<", 0.050, "s",
           _docs_build("per_diagram_s", lambda s: f"rebuild {s['rebuild_s']:.3f} s vs {s['empty_rebuild_s']:.3f} s "
                       f"without directives, {plural(s['diagrams'], 'diagram')}")),
    Target("rebuild-no-torch", "docs_build", 2, "no-change rebuilds that import torch", "==", 0, "count",
           _docs_build("rebuilds_importing_torch", lambda s: f"of {s['rebuilds']}")),
    # issue 7: every diagram drawn in a child process, and concurrency
    Target("serial-vs-old-parallel", "isolation", 7, "a serial cold build of `docs/` ÷ the -j auto build of "
           "ca00b4e (the last in-process release)", "<=", 1.0, "ratio", _isolation("after serial", "before -j auto")),
    Target("parallel-vs-old-parallel", "isolation", 7, "a `-j auto` cold build of `docs/` ÷ ca00b4e's",
           "<=", 1.0, "ratio", _isolation("after -j auto", "before -j auto")),
    # issue 8: real architectures, an ONNX download for every diagram, fast
    Target("zoo-drawn", "zoo", 8, "zoo models netviz did not draw", "==", 0, "count", _zoo_not_drawn),
    Target("zoo-onnx", "zoo", 8, "zoo models without a valid ONNX download (full, structure or graph; "
           "`onnx.checker`)", "==", 0, "count", _zoo_without_onnx),
    Target("zoo-export-budget", "zoo", 8, "zoo exports cut off by their time budget", "==", 0, "count",
           _zoo_time_limited),
    Target("zoo-more-than-torchview", "zoo", 8, "models netviz draws beyond torchview's", ">", 0, "count",
           _zoo_more_than_torchview),
    Target("zoo-time-vs-torchview", "zoo", 8, "netviz's time per model ÷ torchview's (median fresh process, "
           "diagram only, on the models both draw)", "<=", 1.0, "ratio", _zoo_time_vs_torchview),
    Target("cpu-structure-export", "zoo", 8, "a structure export of a CPU-built zoo model (traced on the CPU, "
           "or weights ≤ 128 MB; the `onnx` stage in a fresh process)", "<=", 1.0, "s", _cpu_structure_export),
    # issue 18: a cold build at the floor
    Target("floor-diagrams", "floor", 18, "a cold `-D netviz_onnx=none` build of BERT-base, ResNet-50 and ViT-B "
           "(fresh cache; the preload list an earlier build learned kept) ÷ the trace floor (one process: import "
           "torch and transformers, each forward on `meta`), median of the rounds", "<=", 1.3,
           "ratio", _floor_ratio("diagrams"), goal=1.1),
    Target("floor-default", "floor", 18, "a cold default build (ONNX on) of the same ÷ the export floor (the same "
           "forwards, then torch's dynamo exporter on each, one process), median of the rounds", "<=", 1.0, "ratio",
           _floor_ratio("default")),
    Target("floor-warm-exports", "floor", 18, "models exported by a warm build (the same cache, a fresh output "
           "folder)", "==", 0, "count", _floor_warm_exports),
    Target("floor-export-once", "floor", 18, "most exports of one model in one build (a model drawn twice "
           "included)", "<=", 1, "count", _floor_exported_twice),
    # issue 19: the architecture diff
    Target("diff-vs-two-drawings", "diff_llama", 19, "a page with the `netviz-diff` of two LLaMA-7B-sized configs "
           "on `meta` (32 vs 40 layers) ÷ a page drawing the two models (cold `sphinx-build`s, empty caches)",
           "<=", 1.2, "ratio", _diff_vs_two_drawings),
]

#: targets no longer checked; the report lists them and says why
RETIRED: list[Retired] = [
    Retired("docs-onnx-share", 8, 18, "ONNX share of a cold serial build of `docs/` ≤ 25%",
            "it measured the wrong thing: the share grows as everything else gets faster and says nothing "
            "about whether an export costs more than it must. What an export must cost is the exporter run "
            "directly on the model; the measure is now a default build against that floor (`floor-default`), "
            "and the share stays in its benchmark's table as information"),
]


@dataclass(frozen=True)
class Verdict:
    target: Target
    #: ``met``, ``missed`` or ``not measured``
    status: str
    measured: Measured | None
    #: the run it was read from (its record), if any
    run: dict[str, Any] | None

    @property
    def asked(self) -> str:
        text = f"{SHOWN_OP[self.target.op]} {fmt(self.target.threshold, self.target.unit)}"
        goal = self.target.goal
        return text if goal is None else f"{text} (goal {fmt(goal, self.target.unit)})"

    @property
    def shown(self) -> str:
        if self.measured is None:
            return "–"
        text = fmt(self.measured.value, self.target.unit)
        return f"{text} ({self.measured.detail})" if self.measured.detail else text


def check(runs: dict[str, dict[str, Any] | None], targets: list[Target] | None = None) -> list[Verdict]:
    """Each target against the run of its benchmark in ``runs`` (benchmark name → record or None)."""
    verdicts = []
    for t in TARGETS if targets is None else targets:
        run = runs.get(t.benchmark)
        measured = None
        if run is not None:
            try:
                measured = t.measure(run)
            except (KeyError, TypeError, ZeroDivisionError):  # a run without that part
                measured = None
        if measured is None:
            status = "not measured"
        else:
            status = "met" if OPS[t.op](measured.value, t.threshold) else "missed"
        verdicts.append(Verdict(t, status, measured, run))
    return verdicts
