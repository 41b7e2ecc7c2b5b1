"""Option text and values: the parsers and validators behind every option and setting.

Used by the option model (:mod:`sphinx_netviz.options`), which names the
option in messages; a problem here is a :class:`ValueProblem` that says
what is wrong with the value only ("must be 0 or more, not -1").  Nothing
here imports torch or Sphinx.
"""

from __future__ import annotations

import ast
import difflib
import math
import os
import re
from collections.abc import Callable, Iterable
from typing import Literal

#: dtype names accepted by ``:input-dtype:``, mapped to torch attribute names
DTYPE_ALIASES: dict[str, str] = {
    "float32": "float32",
    "float": "float32",
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "float64": "float64",
    "double": "float64",
    "int64": "int64",
    "long": "int64",
    "int32": "int32",
    "int": "int32",
    "bool": "bool",
}

#: the dtype a model is built in; ``auto``: as the model builds itself
ModelDtype = Literal["auto", "float32", "bfloat16", "float16"]
MODEL_DTYPES: tuple[ModelDtype, ...] = ("auto", "float32", "bfloat16", "float16")
#: other spellings ``:dtype:`` accepts: those of ``:input-dtype:`` (``float``, ``half``) and a few more
MODEL_DTYPE_ALIASES = {**DTYPE_ALIASES, "fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}

#: Graphviz ``rankdir``
Direction = Literal["TB", "LR", "BT", "RL"]
DIRECTIONS: tuple[Direction, ...] = ("TB", "LR", "BT", "RL")
#: ``:onnx:`` modes: ``auto`` is ``full`` for small weights, else ``structure``
OnnxMode = Literal["auto", "full", "structure", "none"]
ONNX_MODES: tuple[OnnxMode, ...] = ("auto", "full", "structure", "none")
#: where a model is built and traced; ``auto`` traces on ``meta`` and builds small models for
#: real for their ONNX file
Device = Literal["auto", "meta", "cpu"]
DEVICES: tuple[Device, ...] = ("auto", "meta", "cpu")

_TARGET_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*(:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*)?$")
_DIM_SPLIT_RE = re.compile(r"\s*(?:,|x|×|\*)\s*")
#: whole numbers as option text: ASCII digits only (``int()`` also takes ``٣`` and ``1_000``)
_WHOLE_RE = re.compile(r"[0-9]+")

#: the largest tensor dimension, and number of elements, torch can describe (int64)
MAX_ELEMENTS = 2**63 - 1
#: the deepest ``:depth:`` accepted; deeper than any real module tree, which it then draws in full
MAX_DEPTH = 100
#: longest piece of option text quoted back in a message
_QUOTE_LIMIT = 200
_KWARGS_EXAMPLE = 'write e.g. {"out_channels": 10}'


class ValueProblem(ValueError):
    """A value that an option does not take; the message leaves the option's name out."""


def _shown(text: str) -> str:
    """Option text as shown back to the author: one line, at most :data:`_QUOTE_LIMIT`
    characters, anything unprintable escaped (``\\x00``)."""
    text = " ".join(text.split())
    if len(text) > _QUOTE_LIMIT:
        text = text[: _QUOTE_LIMIT - 1] + "…"
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode()
                   for ch in text)


def _quoted(text: str) -> str:
    """Like :func:`_shown`, in quotes (``'16, 3, x'``)."""
    return repr(_shown(text))


def check_import_path(text: object) -> str:
    """``text`` if it looks like ``pkg.mod:Name``, else a :class:`ValueProblem`."""
    if not isinstance(text, str) or not _TARGET_RE.match(text):
        raise ValueProblem(f"path {text!r} is not an import path; write it as "
                           "'package.module:Name' or 'package.module.Name'")
    return text


def parse_shapes(text: str) -> tuple[tuple[int, ...], ...]:
    """Parse ``16, 3, 512, 512``, ``16x3x512x512`` or ``(1, 3, 224, 224), (1, 10)``."""
    text = text.strip()
    if not text:
        raise ValueProblem("is empty; write e.g. '1, 3, 224, 224'")
    if "(" in text or "[" in text:
        groups = re.findall(r"[(\[]([^()\[\]]*)[)\]]", text)
        leftover = re.sub(r"[(\[][^()\[\]]*[)\]]", "", text).replace(",", "").strip()
        if not groups or leftover:
            raise ValueProblem(f"{text!r} does not parse; for several inputs write "
                               "'(1, 3, 224, 224), (1, 10)'")
    else:
        groups = [text]
    return tuple(_parse_one_shape(g, text) for g in groups)


def _parse_one_shape(group: str, whole: str) -> tuple[int, ...]:
    body = group.strip().rstrip(",").strip()
    if not body:
        raise ValueProblem(f"{whole!r} has an empty shape")
    dims: list[int] = []
    for part in _DIM_SPLIT_RE.split(body):
        if not _WHOLE_RE.fullmatch(part) or int(part[:20]) <= 0:
            raise ValueProblem(f"{_quoted(whole)} has {_quoted(part)} where a positive whole number "
                               "(digits 0-9) belongs; write e.g. '16, 3, 512, 512'")
        # more than 19 digits is past int64 whatever they are; int() of thousands is slow
        dims.append(int(part) if len(part) <= 19 else MAX_ELEMENTS + 1)
    return check_shape(tuple(dims), whole)


def check_shape(shape: tuple[int, ...], whole: str) -> tuple[int, ...]:
    """``shape``, or a :class:`ValueProblem` unless torch can make a tensor of it.

    Every dimension and the number of elements must fit in int64, as torch
    counts them; else torch fails later with an error that names no option.
    """
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
            raise ValueProblem(f"{_quoted(whole)} has {dim!r} where a positive whole number belongs; "
                               "write e.g. '16, 3, 512, 512'")
        if dim > MAX_ELEMENTS:
            raise ValueProblem(f"{_quoted(whole)} has a dimension too large for a tensor (at most "
                               f"2**63 - 1 = {MAX_ELEMENTS}); write the real shape, e.g. '16, 3, 512, 512'")
    if math.prod(shape) > MAX_ELEMENTS:
        raise ValueProblem(
            f"{_quoted(whole)} asks for more elements than a tensor can hold "
            f"(the product of the dimensions must be at most 2**63 - 1); write the real shape, "
            "e.g. '16, 3, 512, 512'"
        )
    return shape


def parse_dtypes(text: str) -> tuple[str, ...]:
    """Parse ``float32`` or ``int64, float32`` into canonical dtype names."""
    names = [t.strip().removeprefix("torch.") for t in text.split(",") if t.strip()]
    out = []
    for name in names:
        if name not in DTYPE_ALIASES:
            raise ValueProblem(f"{_quoted(name)} is not supported; use one of "
                               + ", ".join(sorted(set(DTYPE_ALIASES))))
        out.append(DTYPE_ALIASES[name])
    if not out:
        raise ValueProblem("is empty")
    return tuple(out)


def parse_kwargs(text: str) -> dict[str, object]:
    """Parse a Python literal dict (``{"out_channels": 10}``) without evaluating code.

    A message names the part of the text that is not a literal, quoted from
    the text itself (``foo() is not a literal``), so it is the same on every
    run.
    """
    source = text.strip()

    def problem(why: str) -> ValueProblem:
        return ValueProblem(f"{_shown(source)} is not a Python literal dict: {why}; {_KWARGS_EXAMPLE}")

    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" (column {exc.offset})" if isinstance(exc.offset, int) else ""
        raise problem(f"{exc.msg}{where}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes; absurd nesting
        raise problem(f"it does not parse ({type(exc).__name__})") from None
    culprit = _first_non_literal(tree.body, source)
    if culprit is not None:
        raise problem(f"{_shown(culprit)} is not a literal")
    try:
        value = ast.literal_eval(tree)
    except TypeError as exc:  # {[1]: 2}: a list as a key or set member
        raise problem(str(exc)) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise problem(f"it does not evaluate ({type(exc).__name__})") from None
    return check_kwargs(value)


def check_kwargs(value: object) -> dict[str, object]:
    """``value`` if it is a dict with string keys, else a :class:`ValueProblem`."""
    if not isinstance(value, dict):
        raise ValueProblem(f"must be a dict with string keys ({_KWARGS_EXAMPLE}), not a {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise ValueProblem(f"must be a dict with string keys ({_KWARGS_EXAMPLE}); "
                               f"the key {_shown(repr(key))} is of type {type(key).__name__}")
    return value


def _first_non_literal(node: ast.expr, source: str) -> str | None:
    """The source text of the first part of ``node`` that :func:`ast.literal_eval` rejects.

    Mirrors what ``literal_eval`` accepts: constants, tuples, lists, sets,
    dicts, ``set()``, signed numbers and complex numbers (``1+2j``).
    """
    def text(part: ast.AST) -> str:
        return ast.get_source_segment(source, part) or type(part).__name__

    def number(part: ast.expr) -> bool:
        return isinstance(part, ast.Constant) and type(part.value) in (int, float, complex)

    def signed(part: ast.expr) -> bool:
        return number(part) or (isinstance(part, ast.UnaryOp) and isinstance(part.op, (ast.UAdd, ast.USub))
                                and number(part.operand))

    if isinstance(node, ast.Constant):
        return None
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for element in node.elts:
            found = _first_non_literal(element, source)
            if found is not None:
                return found
        return None
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if key is None:  # {**other}
                return "**" + text(value)
            found = _first_non_literal(key, source) or _first_non_literal(value, source)
            if found is not None:
                return found
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set" \
            and not node.args and not node.keywords:
        return None
    if signed(node):
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and signed(node.left) \
            and isinstance(node.right, ast.Constant) and type(node.right.value) is complex:
        return None
    return text(node)


def parse_bool(text: str | None) -> bool:
    """Parse ``true``/``false`` (also yes/no/on/off/1/0); an empty flag means true."""
    if text is None or text.strip() == "":
        return True
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueProblem(f"must be true or false, not {_quoted(text.strip())}")


def parse_choice(choices: tuple[str, ...], normalise: Callable[[str], str] = str.lower,
                 aliases: dict[str, str] | None = None) -> Callable[[str], str]:
    """A parser for one of ``choices``, compared after ``normalise``; ``aliases`` map other spellings."""
    def parse(text: str) -> str:
        value = normalise(text.strip())
        value = (aliases or {}).get(value, value)
        if value not in choices:
            _not_one_of(choices, text.strip())
        return value
    return parse


def check_choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    """A validator for one of ``choices``."""
    def check(value: object) -> str:
        if not isinstance(value, str) or value not in choices:
            _not_one_of(choices, value if isinstance(value, str) else repr(value))
        return value  # type: ignore[return-value]
    return check


def _not_one_of(choices: tuple[str, ...], shown: str) -> None:
    raise ValueProblem(f"must be one of {', '.join(choices)}, not {_quoted(shown)}")


def parse_onnx_mode(text: str | None) -> str:
    """Parse ``:onnx:``: a mode (``auto``, ``full``, ``structure``, ``none``) or true/false."""
    value = (text or "").strip().lower()
    if value in ONNX_MODES:
        return value
    try:
        return "auto" if parse_bool(value) else "none"
    except ValueProblem:
        raise ValueProblem(f"must be one of {', '.join(ONNX_MODES)} (or true/false), not {_quoted(value)}") from None


def check_onnx_mode(value: object) -> str:
    """An ONNX mode; ``True``/``False`` (``conf.py``) mean ``auto``/``none``."""
    if isinstance(value, bool):
        return "auto" if value else "none"
    if not isinstance(value, str) or value not in ONNX_MODES:
        raise ValueProblem(f"must be one of {', '.join(ONNX_MODES)} (or True/False), not {value!r}")
    return value


def check_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueProblem(f"must be True or False, not {value!r}")
    return value


def parse_depth(text: str) -> int:
    """Parse ``:depth:`` (a whole number from 0 to :data:`MAX_DEPTH`).

    Only the ASCII digits 0-9 count: ``int()`` would also read ``٣``
    (Arabic-Indic three), ``1_0`` and ``+2``, which no reader of the page
    would take for a depth.
    """
    value = text.strip()
    if value.startswith("-") and _WHOLE_RE.fullmatch(value[1:]):
        raise ValueProblem(f"must be 0 or more, not {_shown(value)}")
    if not _WHOLE_RE.fullmatch(value):
        raise ValueProblem(f"must be a whole number written with the digits 0-9, not {_quoted(value)}")
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(MAX_DEPTH)):  # int() of thousands of digits is slow, or refused
        raise _too_deep(_shown(value))
    return check_depth(int(digits))


def check_depth(depth: object) -> int:
    """``depth`` if it is a whole number from 0 to :data:`MAX_DEPTH`, else a :class:`ValueProblem`."""
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise ValueProblem(f"must be a whole number, not {type(depth).__name__}")
    if depth < 0:
        raise ValueProblem(f"must be 0 or more, not {depth if depth > -10**20 else 'that'}")
    if depth > MAX_DEPTH:
        raise _too_deep(str(depth) if depth < 10**20 else "a number that large")
    return depth


def _too_deep(shown: str) -> ValueProblem:
    return ValueProblem(f"must be at most {MAX_DEPTH}, not {shown}; a depth past the deepest module "
                        "draws every level, so e.g. 20 shows all of most models")


def _number(text: str) -> float:
    """The number ``text`` writes in ASCII, or nan."""
    value = text.strip()
    try:
        number = float(value) if value.isascii() else float("nan")
    except ValueError:
        return float("nan")
    return number if math.isfinite(number) else float("nan")


def parse_seconds(text: str) -> float:
    """A positive number of seconds below a million, as text."""
    seconds = _number(text)
    if not 0 < seconds < 1e6:  # also false for nan
        raise ValueProblem(f"must be a positive number of seconds, not {_quoted(text.strip())}")
    return seconds


def parse_megabytes(text: str) -> float:
    """A number of megabytes, 0 or more, as text."""
    megabytes = _number(text)
    if not 0 <= megabytes < 1e12:
        raise ValueProblem(f"must be a number of megabytes, 0 or more, not {_quoted(text.strip())}")
    return megabytes


def check_seconds(value: object) -> float:
    """A positive number of seconds below a million."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:  # nan too
        raise ValueProblem(f"must be a positive number of seconds, not {_shown(repr(value))}")
    return value


def check_megabytes(value: object) -> float:
    """A number of megabytes, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e12:
        raise ValueProblem(f"must be a number of megabytes, 0 or more, not {_shown(repr(value))}")
    return value


def check_memory_mb(value: object) -> float:
    """Megabytes a drawing process may allocate: at least 100, or 0 for the default."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not (value == 0 or 100 <= value < 1e9):
        raise ValueProblem(f"must be a number of megabytes, at least 100 (or 0 for the default), "
                           f"not {_shown(repr(value))}")
    return value


def check_jobs(value: object) -> int:
    """How many diagrams are drawn at once: 0 (one per CPU) to 256."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 256:
        raise ValueProblem(f"must be a whole number from 0 (one per CPU) to 256, not {_shown(repr(value))}")
    return value


def parse_whole(text: str) -> int:
    value = text.strip()
    if not _WHOLE_RE.fullmatch(value) or len(value) > 6:
        raise ValueProblem(f"must be a whole number written with the digits 0-9, not {_quoted(value)}")
    return int(value)


def check_executable(value: object) -> str:
    if not isinstance(value, str) or not value or "\x00" in value:
        raise ValueProblem("must be the name or path of the Graphviz dot executable")
    return value


def check_folder(value: object) -> str:
    """A folder's path: text (or a path object), or empty for the default."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or "\x00" in value:
        raise ValueProblem("must be the path of a folder, as text")
    return value


def parse_text(text: str) -> str:
    return text.strip()


def check_shapes(shapes: object) -> tuple[tuple[int, ...], ...]:
    """Shapes given as values (a tuple of tuples of ints, or one tuple of ints)."""
    if not isinstance(shapes, (tuple, list)):
        raise ValueProblem(f"must be a tuple of shapes such as ((1, 3, 224, 224),), not {type(shapes).__name__}")
    if shapes and all(isinstance(d, int) for d in shapes):
        shapes = (tuple(shapes),)
    out = []
    for shape in shapes:
        if not isinstance(shape, (tuple, list)):
            raise ValueProblem(f"must be a tuple of shapes such as ((1, 3, 224, 224),), not {shapes!r}"[:300])
        out.append(check_shape(tuple(shape), ", ".join(
            str(d) if isinstance(d, int) and d.bit_length() <= 64 else "…" for d in shape)))
    return tuple(out)


def check_dtypes(dtypes: object) -> tuple[str, ...]:
    """Input dtypes given as values (canonical names or aliases)."""
    if isinstance(dtypes, str):
        return parse_dtypes(dtypes)
    if not isinstance(dtypes, (tuple, list)) or not all(isinstance(d, str) for d in dtypes):
        raise ValueProblem(f"must be dtype names such as ('int64',), not {_shown(repr(dtypes))}")
    return parse_dtypes(", ".join(dtypes)) if dtypes else ()


def check_optional_import_path(value: object) -> str | None:
    return None if value is None else check_import_path(value)


def parse_import_path(text: str) -> str:
    """``pkg.mod:Name`` as option text."""
    return check_import_path(text.strip())


#: a CSS length for the viewer's canvas height: a number and a unit, nothing else
_CSS_LENGTH_RE = re.compile(r"(?:[0-9]{1,5}(?:\.[0-9]{1,3})?)(?:px|vh|em|rem|cm|mm|in|pt)")


def check_css_length(value: object) -> str:
    """``""`` (the theme's default) or a CSS length such as ``600px`` or ``60vh``."""
    if not isinstance(value, str) or (value and not _CSS_LENGTH_RE.fullmatch(value)):
        raise ValueProblem(f"must be a CSS length such as 600px or 60vh, not {_shown(repr(value))}")
    return value


# -- wording helpers: sizes and near names, as every message says them -----------------------------

def size_text(count: int) -> str:
    """A byte count as messages and download links say it: decimal units (as the ``*_mb``
    settings count), 3 significant digits (``812 B``, ``3.2 kB``, ``41.2 kB``, ``498 MB``,
    ``27 GB``), so that a tiny model's weights are not ``0.0 MB``."""
    if count < 1000:
        return f"{count} B"
    value = float(count)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        text = f"{value:.3g}"
        if float(text) < 1000:
            return f"{text} {unit}"
    return f"{value:.3g} TB"  # past 1000 TB: still 3 digits (4.61e+06 TB), not 4611686 TB


def nearest(name: str, known: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The names of ``known`` closest to a misspelt ``name`` (``dpeth`` → ``depth``), best first:
    those about as close as the closest (``TokenNte`` → ``TokenNet``, not also ``make_token_net``);
    case is ignored when comparing."""
    by_folded: dict[str, str] = {}
    for candidate in known:
        by_folded.setdefault(candidate.lower(), candidate)
    folded = name.lower()
    scored = []
    for candidate in difflib.get_close_matches(folded, list(by_folded), n=n, cutoff=cutoff):
        scored.append((difflib.SequenceMatcher(None, folded, candidate).ratio(), candidate))
    return [by_folded[c] for score, c in scored if score >= scored[0][0] - 0.1]


def did_you_mean(near: Iterable[str]) -> str:
    """``did you mean :depth:?`` for the names given as the front end spells them (``""`` for none)."""
    near = list(near)
    return f"did you mean {' or '.join(near)}?" if near else ""

