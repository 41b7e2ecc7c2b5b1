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

DIRECTIONS = ("TB", "LR", "BT", "RL")
#: ``:onnx:`` modes: ``auto`` is ``full`` for small weights, else ``structure``
ONNX_MODES = ("auto", "full", "structure", "none")
#: ``:device:`` values: ``auto`` builds small models for real and big ones on ``meta``
DEVICES = ("auto", "meta", "cpu")

_TARGET_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*(:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*)?$")
_DIM_SPLIT_RE = re.compile(r"\s*(?:,|x|×|\*)\s*")


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
        if self.depth < 0:
            raise InputProblem(f":depth: must be 0 or more, not {self.depth}")
        if self.direction not in DIRECTIONS:
            raise InputProblem(
                f":direction: must be one of {', '.join(DIRECTIONS)}, not {self.direction!r}"
            )
        if self.onnx not in ONNX_MODES:
            raise InputProblem(f":onnx: must be one of {', '.join(ONNX_MODES)}, not {self.onnx!r}")
        if self.device not in DEVICES:
            raise InputProblem(f":device: must be one of {', '.join(DEVICES)}, not {self.device!r}")

    @property
    def dtypes_per_input(self) -> tuple[str, ...]:
        """One dtype name per shape (``float32`` where none was given)."""
        if not self.input_dtypes:
            return ("float32",) * len(self.input_shapes)
        if len(self.input_dtypes) == 1:
            return self.input_dtypes * len(self.input_shapes)
        return self.input_dtypes

    def export_view(self) -> DiagramSpec:
        """The spec as far as the ONNX file goes: drawing options do not change the model."""
        return replace(self, depth=0, direction="TB", fold=True)

    def key(self, *salt: str) -> str:
        """A stable hex digest of the spec (plus any ``salt`` strings)."""
        payload = asdict(self)
        payload["kwargs"] = repr(sorted(self.kwargs.items()))
        blob = json.dumps([payload, list(salt)], sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()


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
        if not part.isdigit() or int(part) <= 0:
            raise InputProblem(
                f":input-shape: {whole!r} has {part!r} where a positive whole number "
                "belongs; write e.g. '16, 3, 512, 512'"
            )
        dims.append(int(part))
    return tuple(dims)


def parse_dtypes(text: str) -> tuple[str, ...]:
    """Parse ``float32`` or ``int64, float32`` into canonical dtype names."""
    names = [t.strip().removeprefix("torch.") for t in text.split(",") if t.strip()]
    out = []
    for name in names:
        if name not in DTYPE_ALIASES:
            raise InputProblem(
                f":input-dtype: {name!r} is not supported; use one of "
                + ", ".join(sorted(set(DTYPE_ALIASES)))
            )
        out.append(DTYPE_ALIASES[name])
    if not out:
        raise InputProblem(":input-dtype: is empty")
    return tuple(out)


def parse_kwargs(text: str) -> dict[str, object]:
    """Parse a Python literal dict (``{"out_channels": 10}``) without evaluating code."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError) as exc:
        raise InputProblem(
            f":kwargs: {text.strip()!r} is not a Python literal dict ({exc.__class__.__name__}: "
            f"{exc}); write e.g. {{\"out_channels\": 10}}"
        ) from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InputProblem(
            f":kwargs: must be a dict with string keys, e.g. {{\"out_channels\": 10}}; "
            f"got {type(value).__name__}"
        )
    return value


def parse_bool(text: str | None, what: str) -> bool:
    """Parse ``true``/``false`` (also yes/no/on/off/1/0); an empty flag means true."""
    if text is None or text.strip() == "":
        return True
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise InputProblem(f"{what} must be true or false, not {text.strip()!r}")


def parse_onnx_mode(text: str | None) -> str:
    """Parse ``:onnx:``: a mode (``auto``, ``full``, ``structure``, ``none``) or true/false."""
    value = (text or "").strip().lower()
    if value in ONNX_MODES:
        return value
    try:
        return "auto" if parse_bool(value, ":onnx:") else "none"
    except InputProblem:
        raise InputProblem(
            f":onnx: must be one of {', '.join(ONNX_MODES)} (or true/false), not {value!r}"
        ) from None


def parse_device(text: str) -> str:
    """Parse ``:device:`` (``auto``, ``meta`` or ``cpu``)."""
    value = text.strip().lower()
    if value not in DEVICES:
        raise InputProblem(f":device: must be one of {', '.join(DEVICES)}, not {text.strip()!r}")
    return value


def parse_depth(text: str) -> int:
    """Parse ``:depth:`` (a whole number, 0 or more)."""
    try:
        depth = int(text.strip())
    except ValueError:
        raise InputProblem(f":depth: must be a whole number, not {text.strip()!r}") from None
    if depth < 0:
        raise InputProblem(f":depth: must be 0 or more, not {depth}")
    return depth


def parse_direction(text: str) -> str:
    """Parse ``:direction:`` (``TB`` or ``LR``; ``BT``/``RL`` also work)."""
    value = text.strip().upper()
    if value not in DIRECTIONS:
        raise InputProblem(f":direction: must be TB or LR, not {text.strip()!r}")
    return value
