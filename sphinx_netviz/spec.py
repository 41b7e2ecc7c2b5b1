"""What one diagram asks for: the parsed, validated form of the directive's options.

First step of the pipeline (directive → **spec** → load → trace → graph →
render/export).  Parsing lives here, away from Sphinx and torch, so that the
directive, the command line and the tests share one definition of every
option.  Nothing here imports torch.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field, replace

from .errors import InputProblem

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

#: ``:dtype:`` values, the dtype a model is built in; ``auto``: as the model builds itself
MODEL_DTYPES = ("auto", "float32", "bfloat16", "float16")
#: other spellings ``:dtype:`` accepts: those of ``:input-dtype:`` (``float``, ``half``) and a few more
_MODEL_DTYPE_ALIASES = {**DTYPE_ALIASES, "fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}

DIRECTIONS = ("TB", "LR", "BT", "RL")
#: ``:onnx:`` modes: ``auto`` is ``full`` for small weights, else ``structure``
ONNX_MODES = ("auto", "full", "structure", "none")
#: ``:device:`` values: ``auto`` traces on ``meta`` and builds small models for real for their ONNX file
DEVICES = ("auto", "meta", "cpu")

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


@dataclass(frozen=True)
class DiagramSpec:
    """Everything that decides one diagram's content (and so its cache key)."""

    target: str
    input_shapes: tuple[tuple[int, ...], ...] = ()
    input_dtypes: tuple[str, ...] = ()
    inputs: str | None = None
    kwargs: dict[str, object] = field(default_factory=dict)
    depth: int = 2
    direction: str = "TB"
    onnx: str = "auto"
    device: str = "auto"
    fold: bool = True
    #: the dtype the model is built in (``auto``: as it builds itself)
    dtype: str = "auto"

    def __post_init__(self) -> None:
        if isinstance(self.onnx, bool):  # :onnx: true/false
            object.__setattr__(self, "onnx", "auto" if self.onnx else "none")
        check_target(self.target, "model")
        if self.inputs is not None:
            check_target(self.inputs, ":inputs:")
        if bool(self.input_shapes) == bool(self.inputs):
            raise InputProblem(
                "give exactly one of :input-shape: (e.g. '1, 3, 224, 224') "
                "or :inputs: (the import path of a function returning example inputs)"
            )
        if self.input_dtypes and len(self.input_dtypes) not in (1, len(self.input_shapes)):
            raise InputProblem(
                f":input-dtype: lists {len(self.input_dtypes)} dtypes for "
                f"{len(self.input_shapes)} inputs; give one dtype, or one per input"
            )
        check_depth(self.depth)
        for shape in self.input_shapes:
            check_shape(tuple(shape), ", ".join(
                str(d) if isinstance(d, int) and d.bit_length() <= 64 else "…" for d in shape))
        if self.direction not in DIRECTIONS:
            raise InputProblem(
                f":direction: must be one of {', '.join(DIRECTIONS)}, not {self.direction!r}"
            )
        if self.onnx not in ONNX_MODES:
            raise InputProblem(f":onnx: must be one of {', '.join(ONNX_MODES)}, not {self.onnx!r}")
        if self.device not in DEVICES:
            raise InputProblem(f":device: must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if self.dtype not in MODEL_DTYPES:
            raise InputProblem(f":dtype: must be one of {', '.join(MODEL_DTYPES)}, not {self.dtype!r}")

    @property
    def dtypes_per_input(self) -> tuple[str, ...]:
        """One dtype name per shape (where none was given: ``:dtype:``, else ``float32``)."""
        if not self.input_dtypes:
            return (self.float_dtype,) * len(self.input_shapes)
        if len(self.input_dtypes) == 1:
            return self.input_dtypes * len(self.input_shapes)
        return self.input_dtypes

    @property
    def float_dtype(self) -> str:
        """The dtype of floating-point inputs nobody chose a dtype for: the model's."""
        return "float32" if self.dtype == "auto" else self.dtype

    def export_view(self) -> DiagramSpec:
        """The spec as far as the ONNX file goes: drawing options do not change the model."""
        return replace(self, depth=0, direction="TB", fold=True)

    def key(self, *salt: str) -> str:
        """A stable hex digest of the spec (plus any ``salt`` strings)."""
        payload = asdict(self)
        payload["kwargs"] = stable_repr(sorted(self.kwargs.items()))
        blob = json.dumps([payload, list(salt)], sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()


def stable_repr(value: object) -> str:
    """``repr(value)``, except that sets list their members in a fixed order.

    A set's own order follows string hashes, which differ from process to
    process; a spec key built from it would miss the cache on every build.
    """
    if isinstance(value, (set, frozenset)):
        members = sorted(stable_repr(v) for v in value)
        if not members:
            return f"{type(value).__name__}()"
        return ("{%s}" if type(value) is set else "frozenset({%s})") % ", ".join(members)
    if isinstance(value, dict):
        return "{%s}" % ", ".join(f"{stable_repr(k)}: {stable_repr(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[%s]" % ", ".join(stable_repr(v) for v in value)
    if isinstance(value, tuple):
        inner = ", ".join(stable_repr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


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


def check_target(text: str, what: str) -> None:
    """Raise :class:`InputProblem` unless ``text`` looks like ``pkg.mod:Name``."""
    if not _TARGET_RE.match(text):
        raise InputProblem(
            f"{what} path {text!r} is not an import path; write it as "
            "'package.module:Name' or 'package.module.Name'"
        )


def parse_shapes(text: str) -> tuple[tuple[int, ...], ...]:
    """Parse ``16, 3, 512, 512``, ``16x3x512x512`` or ``(1, 3, 224, 224), (1, 10)``."""
    text = text.strip()
    if not text:
        raise InputProblem(":input-shape: is empty; write e.g. '1, 3, 224, 224'")
    if "(" in text or "[" in text:
        groups = re.findall(r"[(\[]([^()\[\]]*)[)\]]", text)
        leftover = re.sub(r"[(\[][^()\[\]]*[)\]]", "", text).replace(",", "").strip()
        if not groups or leftover:
            raise InputProblem(
                f":input-shape: {text!r} does not parse; for several inputs write "
                "'(1, 3, 224, 224), (1, 10)'"
            )
    else:
        groups = [text]
    return tuple(_parse_one_shape(g, text) for g in groups)


def _parse_one_shape(group: str, whole: str) -> tuple[int, ...]:
    body = group.strip().rstrip(",").strip()
    if not body:
        raise InputProblem(f":input-shape: {whole!r} has an empty shape")
    dims: list[int] = []
    for part in _DIM_SPLIT_RE.split(body):
        if not _WHOLE_RE.fullmatch(part) or int(part[:20]) <= 0:
            raise InputProblem(
                f":input-shape: {_quoted(whole)} has {_quoted(part)} where a positive whole number "
                "(digits 0-9) belongs; write e.g. '16, 3, 512, 512'"
            )
        # more than 19 digits is past int64 whatever they are; int() of thousands is slow
        dims.append(int(part) if len(part) <= 19 else MAX_ELEMENTS + 1)
    return check_shape(tuple(dims), whole)


def check_shape(shape: tuple[int, ...], whole: str) -> tuple[int, ...]:
    """Raise :class:`InputProblem` unless torch can make a tensor of ``shape``.

    Every dimension and the number of elements must fit in int64, as torch
    counts them; else torch fails later with an error that names no option.
    """
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
            raise InputProblem(
                f":input-shape: {_quoted(whole)} has {dim!r} where a positive whole number belongs; "
                "write e.g. '16, 3, 512, 512'"
            )
        if dim > MAX_ELEMENTS:
            raise InputProblem(
                f":input-shape: {_quoted(whole)} has a dimension too large for a tensor (at most "
                f"2**63 - 1 = {MAX_ELEMENTS}); write the real shape, e.g. '16, 3, 512, 512'"
            )
    if math.prod(shape) > MAX_ELEMENTS:
        raise InputProblem(
            f":input-shape: {_quoted(whole)} asks for more elements than a tensor can hold "
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
            raise InputProblem(
                f":input-dtype: {_quoted(name)} is not supported; use one of "
                + ", ".join(sorted(set(DTYPE_ALIASES)))
            )
        out.append(DTYPE_ALIASES[name])
    if not out:
        raise InputProblem(":input-dtype: is empty")
    return tuple(out)


def parse_kwargs(text: str) -> dict[str, object]:
    """Parse a Python literal dict (``{"out_channels": 10}``) without evaluating code.

    A message names the part of the text that is not a literal, quoted from
    the text itself (``foo() is not a literal``), so it is the same on every
    run.
    """
    source = text.strip()

    def problem(why: str) -> InputProblem:
        return InputProblem(f":kwargs: {_shown(source)} is not a Python literal dict: {why}; "
                            f"{_KWARGS_EXAMPLE}")

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
    if not isinstance(value, dict):
        raise InputProblem(
            f":kwargs: must be a dict with string keys ({_KWARGS_EXAMPLE}), not a {type(value).__name__}"
        )
    for key in value:
        if not isinstance(key, str):
            raise InputProblem(
                f":kwargs: must be a dict with string keys ({_KWARGS_EXAMPLE}); "
                f"the key {_shown(repr(key))} is of type {type(key).__name__}"
            )
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


def parse_bool(text: str | None, what: str) -> bool:
    """Parse ``true``/``false`` (also yes/no/on/off/1/0); an empty flag means true."""
    if text is None or text.strip() == "":
        return True
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise InputProblem(f"{what} must be true or false, not {_quoted(text.strip())}")


def parse_onnx_mode(text: str | None) -> str:
    """Parse ``:onnx:``: a mode (``auto``, ``full``, ``structure``, ``none``) or true/false."""
    value = (text or "").strip().lower()
    if value in ONNX_MODES:
        return value
    try:
        return "auto" if parse_bool(value, ":onnx:") else "none"
    except InputProblem:
        raise InputProblem(
            f":onnx: must be one of {', '.join(ONNX_MODES)} (or true/false), not {_quoted(value)}"
        ) from None


def parse_device(text: str) -> str:
    """Parse ``:device:`` (``auto``, ``meta`` or ``cpu``)."""
    value = text.strip().lower()
    if value not in DEVICES:
        raise InputProblem(f":device: must be one of {', '.join(DEVICES)}, not {_quoted(text.strip())}")
    return value


def parse_model_dtype(text: str) -> str:
    """Parse ``:dtype:`` (``auto``, ``float32``, ``bfloat16``, ``float16`` or an alias)."""
    value = text.strip().lower().removeprefix("torch.")
    value = _MODEL_DTYPE_ALIASES.get(value, value)
    if value not in MODEL_DTYPES:
        raise InputProblem(f":dtype: must be one of {', '.join(MODEL_DTYPES)}, not {_quoted(text.strip())}")
    return value


def parse_depth(text: str) -> int:
    """Parse ``:depth:`` (a whole number from 0 to :data:`MAX_DEPTH`).

    Only the ASCII digits 0-9 count: ``int()`` would also read ``٣``
    (Arabic-Indic three), ``1_0`` and ``+2``, which no reader of the page
    would take for a depth.
    """
    value = text.strip()
    if value.startswith("-") and _WHOLE_RE.fullmatch(value[1:]):
        raise InputProblem(f":depth: must be 0 or more, not {_shown(value)}")
    if not _WHOLE_RE.fullmatch(value):
        raise InputProblem(
            f":depth: must be a whole number written with the digits 0-9, not {_quoted(value)}"
        )
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(MAX_DEPTH)):  # int() of thousands of digits is slow, or refused
        raise _too_deep(_shown(value))
    return check_depth(int(digits))


def check_depth(depth: int) -> int:
    """Raise :class:`InputProblem` unless ``depth`` is a whole number from 0 to :data:`MAX_DEPTH`."""
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise InputProblem(f":depth: must be a whole number, not {type(depth).__name__}")
    if depth < 0:
        raise InputProblem(f":depth: must be 0 or more, not {depth if depth > -10**20 else 'that'}")
    if depth > MAX_DEPTH:
        raise _too_deep(str(depth) if depth < 10**20 else "a number that large")
    return depth


def _too_deep(shown: str) -> InputProblem:
    return InputProblem(
        f":depth: must be at most {MAX_DEPTH}, not {shown}; a depth past the deepest module "
        "draws every level, so e.g. :depth: 20 shows all of most models"
    )


def parse_direction(text: str) -> str:
    """Parse ``:direction:`` (``TB`` or ``LR``; ``BT``/``RL`` also work)."""
    value = text.strip().upper()
    if value not in DIRECTIONS:
        raise InputProblem(f":direction: must be TB or LR, not {_quoted(text.strip())}")
    return value


def parse_timeout(text: str) -> float:
    """Parse ``:timeout:``: seconds for the whole diagram (a positive number, below a million)."""
    value = text.strip()
    try:
        seconds = float(value) if value.isascii() else float("nan")
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < 1e6:  # also false for nan
        raise InputProblem(f":timeout: must be a positive number of seconds, not {value!r}")
    return seconds
