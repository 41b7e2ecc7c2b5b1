"""The ``netviz`` command line: draw one model to a file, without Sphinx.

A second front end to the pipeline, beside the directive (options →
:mod:`~sphinx_netviz.spec` → :func:`~sphinx_netviz.pipeline.make_artifacts`
→ files)::

    python -m sphinx_netviz mypkg.models:CNNModel --input-shape 16,3,512,512 \\
        -o cnn.svg --onnx cnn.onnx
    python -m sphinx_netviz path/model.onnx -o model.svg   # an existing ONNX file

Options enter through :func:`~sphinx_netviz.options.sort_values` (the command
line front end), parsed and checked once by the directive's own parsers, so
they accept the same text and fail with the same messages.  The output
format follows ``-o``'s extension: ``.svg``, ``.dot``/``.gv`` (the DOT
source), ``.pdf`` or ``.png``.  Files are written atomically.  Exit codes:
0 done; 1 the diagram was written but the ONNX export asked for failed;
2 nothing was written (bad options, import, trace or layout failure).
This module imports neither Sphinx nor (until it traces) torch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__
from .cache import write_atomic
from .errors import InputProblem, NetvizError
from .options import OPTIONS_LIST, Frontend, Option, OptionValues, sort_values, worded_for
from .spec import DiagramSpec
from .values import check_bool, did_you_mean, nearest

if TYPE_CHECKING:
    from .artifacts import Artifacts
    from .options import PipelineSettings

#: what ``-o`` writes, by file extension (the files ``Drawing.save`` writes, but ONNX: that is ``--onnx``)
FORMATS: tuple[str, ...] = (".svg", ".html", ".pdf", ".png", ".dot", ".gv")

#: the options the command line takes (those with flags), each parsed by the option model
FLAGGED: tuple[Option, ...] = tuple(o for o in OPTIONS_LIST if o.flags)
_INPUT_OPTIONS = ("input_shapes", "inputs", "input_dtypes")


class _Parser(argparse.ArgumentParser):
    """argparse, naming the flag meant for a misspelt one (Python 3.11's argparse names none)."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            known = {flag.lstrip("-"): flag for flag in self._option_string_actions if flag.startswith("--")}
            given = [word.partition("=")[0] for word in message.split(":", 1)[1].split() if word.startswith("--")]
            hints = [(flag, did_you_mean(known[n] for n in nearest(flag.lstrip("-"), known))) for flag in given]
            hints = [(flag, hint) for flag, hint in hints if hint]
            message += "".join(f"; {flag + ': ' if len(given) > 1 else ''}{hint}" for flag, hint in hints)
        super().error(message)


def _dpi(text: str) -> int:
    """``--dpi``'s value: a whole number from 1 to :data:`~.render.MAX_DPI` (argparse reports the error)."""
    from .render import MAX_DPI

    if not text.isdigit() or not 1 <= int(text) <= MAX_DPI:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_DPI}, not {text!r} (e.g. --dpi 150)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: the flags of :data:`FLAGGED` (values stay text for the option model)."""
    parser = _Parser(
        prog="netviz",
        description="Trace a PyTorch model and draw it with Graphviz (the sphinx-netviz "
        "pipeline, without Sphinx); optionally export it to ONNX.",
        epilog="example: netviz mypkg.models:CNNModel --input-shape 16,3,512,512 "
        "-o cnn.svg --onnx cnn.onnx",
    )
    parser.add_argument("target", help="the model: 'package.module:Name' (an nn.Module "
                        "subclass, a function returning a model, or a model instance), or an ONNX "
                        "file to draw: 'path/model.onnx'")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="the diagram file (required unless --snapshot or --against is given); "
                        "its extension picks the format: " + ", ".join(FORMATS))
    parser.add_argument("--dpi", metavar="N", type=_dpi,
                        help="the resolution of a .png (-o); Graphviz's default is 96")
    inputs = parser.add_argument_group("example inputs (give exactly one of --input-shape and --inputs; "
                                       "none for an ONNX file)")
    for option in FLAGGED:
        group = inputs if option.name in _INPUT_OPTIONS else parser
        default = "" if option.default in ((), None, {}) else f" (default {option.default})"
        if option.check is check_bool:
            group.add_argument(*option.flags, dest=option.name, action=argparse.BooleanOptionalAction,
                               default=None, help=f"{option.help}{default}")
        else:
            group.add_argument(*option.flags, dest=option.name, metavar=option.metavar, default=None,
                               help=f"{option.help}{default}")
    parser.add_argument("--onnx", metavar="FILE", type=Path, dest="onnx_file",
                        help="also export the model to this ONNX file (its kind: --onnx-mode); "
                        "for an ONNX target, a copy of the file")
    parser.add_argument("-p", "--path", action="append", default=[], metavar="DIR",
                        help="put DIR first on sys.path while importing the model "
                        "(repeatable); the current directory is always searched")
    compare = parser.add_argument_group("architecture snapshots and diffs (see docs/diff.rst)")
    compare.add_argument("--snapshot", metavar="FILE", type=Path,
                         help="write the model's architecture snapshot (JSON: module tree, classes, "
                         "hyper-parameters, shapes, parameters, MACs; no weights) to FILE")
    compare.add_argument("--against", metavar="OLD",
                         help="compare TARGET with OLD (an import path, an ONNX file, or a snapshot "
                         "FILE.json), print the changes and exit 0 when the architecture is the same, "
                         "1 when it changed; with -o, draw the two merged")
    for side, name in (("old", "OLD"), ("new", "TARGET")):
        compare.add_argument(f"--{side}-kwargs", metavar="DICT",
                             help=f"with --against: keyword arguments for {name}'s class or factory, "
                             "merged over --kwargs")
    parser.add_argument("--timings", action="store_true",
                        help="print the seconds each pipeline stage took")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def values_from_args(args: argparse.Namespace) -> OptionValues:
    """The option values the flags give (the others at their defaults), each parsed and checked
    once by the option model; without ``--onnx FILE`` no ONNX file is made (``onnx`` is ``none``)."""
    given = {o.name: getattr(args, o.name) for o in FLAGGED if getattr(args, o.name) is not None}
    values = sort_values(given, Frontend.CLI)
    return values if args.onnx_file is not None else values.fixed(onnx="none")


def output_format(path: Path, dpi: int | None = None) -> str:
    """``path``'s suffix, checked (with ``--dpi``, which only a .png takes), or an :class:`InputProblem`."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputProblem(
            f"cannot tell the output format of {str(path)!r}; end -o with one of "
            + ", ".join(FORMATS)
        )
    if dpi is not None and suffix != ".png":
        raise InputProblem(f"--dpi {dpi} applies to a .png only, not to -o {str(path)!r}")
    return suffix


def encoded(artifacts: Artifacts, suffix: str, settings: PipelineSettings, dpi: int | None,
            alt: str = "Diagram of the network {}") -> bytes:
    """The bytes ``-o`` writes: what :meth:`~sphinx_netviz.api.Drawing.save` writes for the suffix
    (``alt`` with the model's name for ``{}``, as ``draw()`` and ``diff()`` word it)."""
    from .api import Drawing

    drawing = Drawing(artifacts, settings.dot, settings.layout_timeout, alt=alt.format(artifacts.model_name))
    with worded_for(Frontend.CLI):
        return drawing.encoded(suffix, dpi=dpi)


def format_timings(timings: dict[str, float]) -> str:
    """The per-stage seconds as an aligned table, with a total line."""
    width = max([len(stage) for stage in timings] + [len("total")])
    lines = [f"{stage:<{width}}  {seconds:8.3f} s" for stage, seconds in timings.items()]
    lines.append(f"{'total':<{width}}  {sum(timings.values()):8.3f} s")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Make the diagram (and ONNX file) that ``args`` ask for; return the exit code."""
    from .pipeline import make_artifacts

    for side in ("old", "new"):
        if getattr(args, f"{side}_kwargs") is not None and args.against is None:
            raise InputProblem(f"--{side}-kwargs goes with --against OLD")
    if args.against is not None or args.snapshot is not None and args.output is None:
        return run_compare(args)
    output = Path(args.output)
    fmt = output_format(output, args.dpi)
    values = values_from_args(args)
    spec, settings = DiagramSpec.of(args.target, values), values.settings

    artifacts = make_artifacts(spec, settings)
    timings = dict(artifacts.timings)

    start = time.perf_counter()
    data = encoded(artifacts, fmt, settings, args.dpi)
    if fmt in (".pdf", ".png"):  # a Graphviz run of its own
        timings[fmt[1:]] = time.perf_counter() - start
        start = time.perf_counter()
    _write(output, data)
    if args.snapshot is not None:
        from .archjob import trace_side
        from .snapshot import make_snapshot, snapshot_json

        _write(args.snapshot, snapshot_json(make_snapshot(trace_side(spec, settings))).encode())
    if args.onnx_file is not None and artifacts.onnx is not None:
        _write(args.onnx_file, artifacts.onnx)
    timings["write"] = time.perf_counter() - start

    if args.timings:
        print(format_timings(timings))
    for note in artifacts.notes:
        print(f"netviz: {note}", file=sys.stderr)
    for problem in artifacts.problems:
        print(f"netviz: warning [{problem.stage}]: {problem.message}", file=sys.stderr)
    if args.onnx_file is not None and artifacts.onnx is None:
        print(f"netviz: {args.onnx_file} was not written", file=sys.stderr)
        return 1
    if artifacts.onnx_mode == "file":
        print(f"netviz: wrote {args.onnx_file} (a copy of {args.target})", file=sys.stderr)
    elif artifacts.onnx_mode:
        print(f"netviz: wrote {args.onnx_file} ({artifacts.onnx_mode} ONNX)", file=sys.stderr)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    """``--against OLD`` (and ``--snapshot FILE``): print the changes; 0 for none, 1 for some."""
    from .archdiff import compare, format_changes
    from .archjob import check_comparable, old_spec, side_snapshot, with_kwargs
    from .snapshot import snapshot_json
    from .values import parse_kwargs

    side_kwargs: dict[str, dict[str, object] | None] = {}
    for side in ("old", "new"):
        given = getattr(args, f"{side}_kwargs")
        try:
            side_kwargs[side] = None if given is None else parse_kwargs(given)
        except ValueError as exc:
            raise InputProblem(f"--{side}-kwargs {exc}") from exc
    if args.output is not None:
        output_format(Path(args.output), args.dpi)  # a bad -o fails before anything is traced
    if args.against is not None:
        check_comparable(args.against, args.target)
    values = values_from_args(args)
    shared, settings = DiagramSpec.of(args.target, values), values.settings
    spec = with_kwargs(shared, side_kwargs["new"]) if not shared.is_onnx_file else shared
    notes: list[str] = []
    new = side_snapshot(args.target, spec, settings, notes=notes)
    if args.snapshot is not None:
        _write(args.snapshot, snapshot_json(new[0]).encode())
        print(f"netviz: wrote {args.snapshot} (architecture snapshot)", file=sys.stderr)
    for note in notes:
        print(f"netviz: {note}", file=sys.stderr)
    if args.against is None:
        return 0
    notes.clear()
    old_side = None if args.against.lower().endswith(".json") else old_spec(shared, args.against, side_kwargs["old"])
    old = side_snapshot(args.against, old_side, settings, notes=notes)
    for note in notes:
        print(f"netviz: {note}", file=sys.stderr)
    if args.output is None:
        diff = compare(old[0], new[0])
    else:
        from .diffdraw import draw_diff

        drawn = draw_diff(old, new, spec, settings.dot, settings.layout_timeout)
        diff, output = drawn.diff, Path(args.output)
        made = drawn.artifacts
        _write(output, encoded(made, output_format(output, args.dpi), settings, args.dpi,
                               "Architecture diff of the network {}"))
        for problem in made.problems:
            print(f"netviz: warning [{problem.stage}]: {problem.message}", file=sys.stderr)
    sys.stdout.write(format_changes(diff))
    return 1 if diff.changed else 0


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (``write_atomic`` also gives it the umask's permissions)."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise _WriteFailed(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc


class _WriteFailed(Exception):
    """An output file could not be written."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
        if args.output is None and args.snapshot is None and args.against is None:
            parser.error("give the diagram file with -o FILE (or --snapshot FILE, or --against OLD)")
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)

    saved_path = list(sys.path)
    extra = [str(Path(p).resolve()) for p in args.path]
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        extra.append(str(Path.cwd()))
    sys.path[:0] = extra
    try:
        with worded_for(Frontend.CLI):
            return run(args)
    except NetvizError as exc:
        print(f"netviz: error [{exc.stage}]: {exc.message}", file=sys.stderr)
        return 2
    except _WriteFailed as exc:
        print(f"netviz: error [write]: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netviz: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.path[:] = saved_path
