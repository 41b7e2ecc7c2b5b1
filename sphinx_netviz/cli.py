"""The ``netviz`` command line: draw one model to a file, without Sphinx.

A second front end to the pipeline, beside the directive (options →
:mod:`~sphinx_netviz.spec` → :func:`~sphinx_netviz.pipeline.make_artifacts`
→ files)::

    python -m sphinx_netviz mypkg.models:CNNModel --input-shape 16,3,512,512 \\
        -o cnn.svg --onnx cnn.onnx

Options are parsed by the directive's own parsers in :mod:`~sphinx_netviz.spec`,
so they accept the same text and fail with the same messages.  The output
format follows ``-o``'s extension: ``.svg``, ``.dot``/``.gv`` (the DOT
source), ``.pdf`` or ``.png``.  Files are written atomically.  Exit codes:
0 done; 1 the diagram was written but the ONNX export asked for failed;
2 nothing was written (bad options, import, trace or layout failure).
This module imports neither Sphinx nor (until it traces) torch.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from . import __version__
from .cache import write_atomic
from .errors import InputProblem, NetvizError
from .spec import (
    DiagramSpec,
    parse_depth,
    parse_device,
    parse_direction,
    parse_dtypes,
    parse_kwargs,
    parse_model_dtype,
    parse_onnx_mode,
    parse_shapes,
)

#: output formats by file extension; ``None`` means "written from the artifacts as they are"
FORMATS: dict[str, str | None] = {
    ".svg": None,
    ".dot": None,
    ".gv": None,
    ".pdf": "pdf",
    ".png": "png",
}

#: directive option names in the pipeline's messages, and the flags they are on the command line
_OPTION_FLAGS = re.compile(r":(input-shape|input-dtype|inputs|kwargs|depth|direction|dtype):")
#: hints in the pipeline's messages that name conf.py settings, as command-line hints
_CLI_HINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[Ss]et :onnx: none to skip the download"), "Leave out --onnx to skip the export"),
    (re.compile(r":onnx: (structure|full)"), r"--onnx-mode \1"),
    (re.compile(r":device: (cpu|meta)"), r"--device \1"),
    (re.compile(r"netviz_cpu_max_mb"), "--cpu-max-mb"),
    (re.compile(r"netviz_export_timeout"), "--export-timeout"),
    (re.compile(r"[Ss]et :onnx: auto to accept the best file that can be made, or :onnx: none to skip it"),
     "--onnx-mode auto accepts the best file that can be made"),
    (re.compile(r"set netviz_dot in conf\.py to its path"), "pass its path with --dot"),
    (re.compile(r"raise netviz_layout_timeout"), "raise --timeout"),
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (values stay strings; :mod:`.spec` parses them)."""
    parser = argparse.ArgumentParser(
        prog="netviz",
        description="Trace a PyTorch model and draw it with Graphviz (the sphinx-netviz "
        "pipeline, without Sphinx); optionally export it to ONNX.",
        epilog="example: netviz mypkg.models:CNNModel --input-shape 16,3,512,512 "
        "-o cnn.svg --onnx cnn.onnx",
    )
    parser.add_argument("target", help="the model: 'package.module:Name' (an nn.Module "
                        "subclass, a function returning a model, or a model instance)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the diagram file; its extension picks the format: "
                        + ", ".join(FORMATS))
    inputs = parser.add_argument_group("example inputs (give exactly one of the first two)")
    inputs.add_argument("--input-shape", metavar="SHAPE",
                        help="input shape(s): '16,3,512,512', '16x3x512x512' or "
                        "'(1,3,224,224), (1,10)' for several inputs")
    inputs.add_argument("--inputs", metavar="PATH",
                        help="'package.module:make_inputs', a function returning a tensor, "
                        "a tuple of positional inputs or a dict of keyword inputs")
    inputs.add_argument("--input-dtype", metavar="DTYPES",
                        help="dtype of the shaped inputs: one, or one per input "
                        "(default float32)")
    parser.add_argument("--kwargs", metavar="DICT",
                        help="keyword arguments for the model, as a Python literal dict, "
                        "e.g. '{\"out_channels\": 10}'")
    parser.add_argument("--depth", default="2", metavar="N",
                        help="levels of nested modules to open up (default 2)")
    parser.add_argument("--direction", default="TB", metavar="TB|LR",
                        help="layout direction: TB (top to bottom, default) or LR")
    parser.add_argument("--onnx", metavar="FILE", type=Path,
                        help="also export the model to this ONNX file")
    parser.add_argument("--onnx-mode", default="auto", metavar="MODE",
                        help="with --onnx: full (weights included), structure (weights declared, "
                        "not stored) or auto (full up to --onnx-max-mb, default)")
    parser.add_argument("--onnx-max-mb", default=25.0, type=float, metavar="MB",
                        help="with --onnx-mode auto, weights up to this size are exported in "
                        "full (default 25)")
    parser.add_argument("--meta-above-mb", default=128.0, type=float, metavar="MB",
                        help="with --device auto, models with more weights than this are traced "
                        "on the meta device (default 128)")
    parser.add_argument("--cpu-max-mb", default=4096.0, type=float, metavar="MB",
                        help="the largest model built for real when the meta device cannot "
                        "trace it (default 4096)")
    parser.add_argument("--device", default="auto", metavar="auto|meta|cpu",
                        help="where to build and trace the model: meta allocates no weights; "
                        "auto (default) uses the CPU up to --meta-above-mb, meta above")
    parser.add_argument("--dtype", default="auto", metavar="DTYPE",
                        help="the dtype to build the model in: float32, bfloat16, float16, or auto "
                        "(default: as the model builds itself); float inputs follow it")
    parser.add_argument("--no-fold", action="store_true",
                        help="draw every repeated block instead of one box marked ×N")
    parser.add_argument("--dot", default="dot", metavar="EXE",
                        help="the Graphviz dot executable (default: 'dot' on PATH)")
    parser.add_argument("--timeout", default=30.0, type=float, metavar="SECONDS",
                        help="time limit for each Graphviz layout; past it a coarser depth "
                        "is drawn (default 30)")
    parser.add_argument("--export-timeout", default=60.0, type=float, metavar="SECONDS",
                        help="with --onnx: time the exporters may take together before a graph-only "
                        "file is written instead (default 60)")
    parser.add_argument("-p", "--path", action="append", default=[], metavar="DIR",
                        help="put DIR first on sys.path while importing the model "
                        "(repeatable); the current directory is always searched")
    parser.add_argument("--timings", action="store_true",
                        help="print the seconds each pipeline stage took")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def spec_from_args(args: argparse.Namespace) -> DiagramSpec:
    """A :class:`DiagramSpec` from parsed arguments, with the directive's parsers."""
    return DiagramSpec(
        target=args.target,
        input_shapes=parse_shapes(args.input_shape) if args.input_shape is not None else (),
        input_dtypes=parse_dtypes(args.input_dtype) if args.input_dtype is not None else (),
        inputs=args.inputs,
        kwargs=parse_kwargs(args.kwargs) if args.kwargs is not None else {},
        depth=parse_depth(args.depth),
        direction=parse_direction(args.direction),
        onnx=parse_onnx_mode(args.onnx_mode) if args.onnx is not None else "none",
        device=parse_device(args.device),
        fold=not args.no_fold,
        dtype=parse_model_dtype(args.dtype),
    )


def output_format(path: Path) -> str | None:
    """The ``run_dot`` format for ``path`` (``None`` for .svg/.dot/.gv), or an :class:`InputProblem`."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputProblem(
            f"cannot tell the output format of {str(path)!r}; end -o with one of "
            + ", ".join(FORMATS)
        )
    return FORMATS[suffix]


def cli_message(message: str) -> str:
    """A pipeline message with directive option names (``:depth:``) as flags (``--depth``)."""
    for pattern, replacement in _CLI_HINTS:
        message = pattern.sub(replacement, message)
    return _OPTION_FLAGS.sub(r"--\1", message)


def format_timings(timings: dict[str, float]) -> str:
    """The per-stage seconds as an aligned table, with a total line."""
    width = max([len(stage) for stage in timings] + [len("total")])
    lines = [f"{stage:<{width}}  {seconds:8.3f} s" for stage, seconds in timings.items()]
    lines.append(f"{'total':<{width}}  {sum(timings.values()):8.3f} s")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Make the diagram (and ONNX file) that ``args`` ask for; return the exit code."""
    from .pipeline import PipelineSettings, make_artifacts
    from .render import run_dot

    output = Path(args.output)
    fmt = output_format(output)
    spec = spec_from_args(args)
    settings = PipelineSettings(dot=args.dot, layout_timeout=args.timeout, onnx_max_mb=args.onnx_max_mb,
                                meta_above_mb=args.meta_above_mb, cpu_max_mb=args.cpu_max_mb,
                                export_timeout=args.export_timeout)

    artifacts = make_artifacts(spec, settings)
    timings = dict(artifacts.timings)

    start = time.perf_counter()
    if fmt is not None:
        data = run_dot(artifacts.dot, fmt, settings.dot, settings.layout_timeout)
        timings[fmt] = time.perf_counter() - start
        start = time.perf_counter()
    elif output.suffix.lower() == ".svg":
        data = artifacts.svg
    else:
        data = artifacts.dot.encode()
    _write(output, data)
    if args.onnx is not None and artifacts.onnx is not None:
        _write(args.onnx, artifacts.onnx)
    timings["write"] = time.perf_counter() - start

    if args.timings:
        print(format_timings(timings))
    for note in artifacts.notes:
        print(f"netviz: {cli_message(note)}", file=sys.stderr)
    for problem in artifacts.problems:
        print(f"netviz: warning [{problem.stage}]: {cli_message(problem.message)}", file=sys.stderr)
    if args.onnx is not None and artifacts.onnx is None:
        print(f"netviz: {args.onnx} was not written", file=sys.stderr)
        return 1
    if artifacts.onnx_mode:
        print(f"netviz: wrote {args.onnx} ({artifacts.onnx_mode} ONNX)", file=sys.stderr)
    return 0


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
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)

    saved_path = list(sys.path)
    extra = [str(Path(p).resolve()) for p in args.path]
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        extra.append(str(Path.cwd()))
    sys.path[:0] = extra
    try:
        return run(args)
    except NetvizError as exc:
        message = cli_message(exc.message)
        if exc.stage == "import" and "no module named" in message:
            message += " (on the command line, -p/--path DIR puts DIR on sys.path)"
        print(f"netviz: error [{exc.stage}]: {message}", file=sys.stderr)
        return 2
    except _WriteFailed as exc:
        print(f"netviz: error [write]: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netviz: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.path[:] = saved_path
