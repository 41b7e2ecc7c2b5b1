"""The graph step takes time linear in the trace (issue 17, item 10): one tensor feeding ~100,000
boxes, a call 5,000 scopes deep.

Each case runs in a fresh process with a limit of CPU time (a loaded machine does not make it
fail; an endless one still ends): before the fix they took minutes (membership tests on a list in
``_Wiring.use``) and about a minute (a walk up every ancestor per call in ``_Placement.owner``), so
a regression fails here instead of hanging the test run.  The limit is generous (each takes a
second or a few); speed goals live in the benchmarks.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import textwrap

import pytest

from sphinx_netviz.graph import build_diagram
from sphinx_netviz.ir import Call, ModuleInfo, TensorMeta, Trace

#: CPU seconds a case may take in its own process (import included): several times what it takes
#: now, less than it took before (the fan: minutes; the deep call: about 1 s per depth, 42 depths)
LIMIT = 20


def fan_trace(users: int) -> Trace:
    """``x`` → ``source`` → ``h``, which each of ``users`` layers reads; their outputs are the model's."""
    meta = TensorMeta((1, 4), "float32")
    modules = {"": ModuleInfo("", "Fan", "Fan", "", 0)}
    modules.update({f"u{i}": ModuleInfo(f"u{i}", "ReLU", "torch.nn.ReLU", "", 0) for i in range(users)})
    calls = [Call(1, "function", "source", 0, [0], [1])]
    calls += [Call(2 + i, "module", f"u{i}", 0, [1], [2 + i]) for i in range(users)]
    calls.append(Call(0, "module", "", None, [0], [2 + i for i in range(users)]))
    return Trace("Fan", modules, calls, {t: meta for t in range(users + 2)}, [("x", 0)],
                 [(f"y[{i}]", 2 + i) for i in range(users)])


def deep_trace(levels: int) -> Trace:
    """One operation inside ``levels`` nested modules (``s.s.s…``)."""
    meta = TensorMeta((1, 4), "float32")
    paths = [".".join(["s"] * k) for k in range(levels + 1)]
    modules = {p: ModuleInfo(p, "Scope", "Scope", "", 0) for p in paths}
    calls = [Call(levels + 1, "function", "relu", levels, [0], [1])]
    calls += [Call(k, "module", paths[k], k - 1 if k else None, [0], [1]) for k in range(levels, -1, -1)]
    return Trace("Deep", modules, calls, {0: meta, 1: meta}, [("x", 0)], [("y", 1)])


def run_in_child(code: str) -> dict[str, object]:
    """Run ``code`` (which prints one JSON line) in a fresh interpreter, within :data:`LIMIT` CPU seconds."""
    script = textwrap.dedent("""
        import json, sys
        sys.path.insert(0, {tests!r})
        from test_graph_scale import fan_trace, deep_trace
        from sphinx_netviz.graph import build_diagram
        from sphinx_netviz.fold import find_runs
    """).format(tests=str(__import__("pathlib").Path(__file__).parent)) + textwrap.dedent(code)

    def limit_cpu() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (LIMIT, LIMIT))  # then SIGXCPU, then SIGKILL

    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=30 * LIMIT, preexec_fn=limit_cpu)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the graph step took more than {30 * LIMIT} s")
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        pytest.fail(f"the graph step took more than {LIMIT} s of CPU time (quadratic again?)")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_small_cases_are_drawn_as_before() -> None:
    """The shapes of the big cases, small: a fan of 5 gets reference boxes, a deep call its box."""
    fan = build_diagram(fan_trace(5), 1)
    assert [n.kind for n in fan.nodes].count("module") == 5
    assert sum(n.kind == "ref" for n in fan.nodes) == 4  # more than FANOUT_LIMIT users: one edge, 4 refs
    deep = build_diagram(deep_trace(6), 3)
    assert [n.title for n in deep.nodes if n.kind == "module"] == ["s.s.s"]
    assert [c.path for c in deep.clusters] == ["s", "s.s"]


def test_one_tensor_feeding_100000_boxes() -> None:
    found = run_in_child("""
        trace = fan_trace(99_998)
        runs = find_runs(trace)
        d = build_diagram(trace, 1, runs=runs)
        print(json.dumps({"layers": sum(n.kind == "module" for n in d.nodes),
                          "refs": sum(n.kind == "ref" for n in d.nodes), "edges": len(d.edges)}))
    """)
    # each user of the source's tensor but the first gets a reference box
    assert found == {"layers": 99_998, "refs": 99_997, "edges": 1 + 1 + 99_997 + 99_998}


def test_a_call_5000_scopes_deep() -> None:
    found = run_in_child("""
        trace = deep_trace(5_000)
        runs = find_runs(trace)
        boxes = {}
        for depth in (*range(40), 100, 5_000):  # the viewer's depths, and more
            d = build_diagram(trace, depth, runs=runs)
            boxes[depth] = [len(d.nodes), len(d.clusters)]
        print(json.dumps(boxes))
    """)
    # depth d: the module d levels down is the box, in the d - 1 clusters above it (input, box, output)
    assert found == {"0": [3, 0], "1": [3, 0], **{str(d): [3, d - 1] for d in range(2, 40)},
                     "100": [3, 99], "5000": [3, 4_999]}
