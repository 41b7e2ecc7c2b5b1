#!/usr/bin/env python
"""The architecture diff of two LLaMA-7B-sized configs on ``meta`` (32 vs 40 layers) against drawing the two.

    python benchmarks/diff_llama.py              # about 2 minutes on 2 busy cores
    python benchmarks/diff_llama.py --repeat 5
    python benchmarks/diff_llama.py --sphinx     # the directive, in real builds

Saves ``benchmarks/results/diff_llama/<time>-<commit>.json``.  Issue 19's target: the diff
within 1.2 × the time of drawing the two models.

In one fresh process (torch imported and the meta device warmed up by a first, unmeasured
drawing), each repeat times, in turn: ``draw()`` of ``docs/example_models/llama.py``'s
``Llama`` with 32 layers and with 40 (no ONNX file: a diff makes none), and
``sphinx_netviz.diff()`` of the two (each side traced, compared, the merged trace laid out
once).  Raw seconds of every repeat are saved; ``ratio`` is the median diff over the median
of the two drawings together.

With ``--sphinx``, each repeat builds two temporary projects with ``sphinx-build`` in fresh
processes, each from an empty diagram cache: one with two ``.. netviz::`` directives (the 32-
and 40-layer models), one with the ``.. netviz-diff::`` of the two (each side traced in its
own child, in parallel; then the merge in one more child); and the diff's project again with
``-E`` (a warm build: every page read, nothing drawn).  ``ratio`` is then the median cold
diff build over the median cold build of the two drawings.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "docs")]

from benchmarks.common import add_common_arguments, finish_run, start_run, table  # noqa: E402

TITLE = "The architecture diff of two LLaMA-7B-sized configs"
OPTIONS = {"input_shape": "1, 128", "input_dtype": "int64", "onnx": "none", "device": "meta"}


def measure(repeat: int) -> dict[str, object]:
    import sphinx_netviz
    from example_models.llama import Llama

    def draw(layers: int) -> float:
        start = time.perf_counter()
        sphinx_netviz.draw(Llama, kwargs={"n_layers": layers}, **OPTIONS)
        return time.perf_counter() - start

    draw(2)  # warm up: torch's meta kernels, Graphviz's fonts
    draws, diffs, changes = [], [], []
    for _ in range(repeat):
        both = draw(32) + draw(40)
        start = time.perf_counter()
        drawing = sphinx_netviz.diff(Llama, Llama, old_kwargs={"n_layers": 32}, new_kwargs={"n_layers": 40},
                                     **OPTIONS)
        diffs.append(time.perf_counter() - start)
        draws.append(both)
        changes = [c.to_dict() for c in drawing.changes]
    return {"draw_two_s": draws, "diff_s": diffs, "ratio": median(diffs) / median(draws),
            "changes": changes}


PAGES = {
    "draw": ".. netviz:: example_models.llama:Llama\n{opts}   :kwargs: {{\"n_layers\": 32}}\n\n"
            ".. netviz:: example_models.llama:Llama\n{opts}   :kwargs: {{\"n_layers\": 40}}\n",
    "diff": ".. netviz-diff:: example_models.llama:Llama example_models.llama:Llama\n{opts}"
            "   :old-kwargs: {{\"n_layers\": 32}}\n   :new-kwargs: {{\"n_layers\": 40}}\n",
}


def _build(src: Path, out: Path, *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sphinx.cmd.build", "-q", *args, str(src), str(out)],
                          capture_output=True, text=True, check=False)
    if done.returncode or "WARNING" in done.stderr:
        raise SystemExit(f"the build of {src} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def measure_sphinx(repeat: int) -> dict[str, object]:
    opts = "".join(f"   :{name.replace('_', '-')}: {value}\n" for name, value in OPTIONS.items())
    times: dict[str, list[float]] = {"draw": [], "diff": [], "diff_warm": []}
    with tempfile.TemporaryDirectory(prefix="netviz-diff-bench-") as tmp:
        for kind, page in PAGES.items():
            src = Path(tmp) / kind
            src.mkdir()
            (src / "conf.py").write_text(f"import sys\nsys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'docs')!r}]\n"
                                         "extensions = ['sphinx_netviz']\n")
            (src / "index.rst").write_text("LLaMA\n=====\n\n" + page.format(opts=opts))
        for _ in range(repeat):
            for kind in PAGES:
                out = Path(tmp) / f"{kind}-out"
                shutil.rmtree(out, ignore_errors=True)  # the cache is <doctrees>/netviz: cold
                times[kind].append(_build(Path(tmp) / kind, out))
            times["diff_warm"].append(_build(Path(tmp) / "diff", Path(tmp) / "diff-out", "-E"))
    return {"draw_two_build_s": times["draw"], "diff_build_s": times["diff"],
            "diff_warm_build_s": times["diff_warm"], "ratio": median(times["diff"]) / median(times["draw"])}


#: the timed series of each kind of run: (label, key in ``results``)
SERIES = {True: (("a page with two `netviz` (cold build)", "draw_two_build_s"),
                 ("a page with their `netviz-diff` (cold build)", "diff_build_s"),
                 ("the same, warm (`-E`, nothing drawn)", "diff_warm_build_s")),
          False: (("`draw()` of both (one process)", "draw_two_s"), ("`diff()` of the two", "diff_s"))}


def metrics(run: dict[str, object]) -> dict[str, tuple[float | None, str]]:
    results: dict = run["results"]  # type: ignore[assignment]
    out: dict[str, tuple[float | None, str]] = {
        label: (median(results[key]), "s") for label, key in SERIES[bool(run["params"]["sphinx"])]}  # type: ignore[index]
    out["diff ÷ two drawings"] = (results["ratio"], "ratio")
    return out


def render(run: dict[str, object]) -> str:
    """The run as docs/benchmarks.md shows it: each series' seconds, its median, the ratio."""
    results: dict = run["results"]  # type: ignore[assignment]
    rows = [[label, ", ".join(f"{s:.2f}" for s in results[key]), f"{median(results[key]):.2f}"]
            for label, key in SERIES[bool(run["params"]["sphinx"])]]  # type: ignore[index]
    return (table(["what", "seconds, each repeat", "median"], rows) + "\n\n"
            f"The diff ÷ the two drawings: **{results['ratio']:.2f}** (issue 19's target: ≤ 1.2).\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sphinx", action="store_true",
                        help="time sphinx-build of the netviz-diff directive against two netviz directives")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    run = start_run("diff_llama", sys.argv[1:] if argv is None else argv,
                    {"repeat": args.repeat, "sphinx": args.sphinx, **OPTIONS})
    if args.sphinx:
        results = measure_sphinx(args.repeat)
        path = finish_run(run, results, args.results)
        print(f"two netviz: {', '.join(f'{s:.1f}' for s in results['draw_two_build_s'])} s; "  # type: ignore[union-attr]
              f"netviz-diff: {', '.join(f'{s:.1f}' for s in results['diff_build_s'])} s "  # type: ignore[union-attr]
              f"(warm: {', '.join(f'{s:.1f}' for s in results['diff_warm_build_s'])} s); "  # type: ignore[union-attr]
              f"ratio {results['ratio']:.2f} (target <= 1.2); {path}")
        return 0
    results = measure(args.repeat)
    path = finish_run(run, results, args.results)
    print(f"draw both: {', '.join(f'{s:.2f}' for s in results['draw_two_s'])} s; "  # type: ignore[union-attr]
          f"diff: {', '.join(f'{s:.2f}' for s in results['diff_s'])} s; "  # type: ignore[union-attr]
          f"ratio {results['ratio']:.2f} (target <= 1.2); {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
