#!/usr/bin/env python
"""The architecture diff of two LLaMA-7B-sized configs on ``meta`` (32 vs 40 layers) against drawing the two.

    python benchmarks/diff_llama.py              # about 2 minutes on 2 busy cores
    python benchmarks/diff_llama.py --repeat 5

Saves ``benchmarks/results/diff_llama/<time>-<commit>.json``.  Issue 19's target: the diff
within 1.2 × the time of drawing the two models.

In one fresh process (torch imported and the meta device warmed up by a first, unmeasured
drawing), each repeat times, in turn: ``draw()`` of ``docs/example_models/llama.py``'s
``Llama`` with 32 layers and with 40 (no ONNX file: a diff makes none), and
``sphinx_netviz.diff()`` of the two (each side traced, compared, the merged trace laid out
once).  Raw seconds of every repeat are saved; ``ratio`` is the median diff over the median
of the two drawings together.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "docs")]

from benchmarks.common import add_common_arguments, finish_run, start_run  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    run = start_run("diff_llama", sys.argv[1:] if argv is None else argv, {"repeat": args.repeat, **OPTIONS})
    results = measure(args.repeat)
    path = finish_run(run, results, args.results)
    print(f"draw both: {', '.join(f'{s:.2f}' for s in results['draw_two_s'])} s; "  # type: ignore[union-attr]
          f"diff: {', '.join(f'{s:.2f}' for s in results['diff_s'])} s; "  # type: ignore[union-attr]
          f"ratio {results['ratio']:.2f} (target <= 1.2); {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
