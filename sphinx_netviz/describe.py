"""Short human descriptions of modules: hyper-parameters and parameter counts.

Used by :mod:`sphinx_netviz.trace` while the model is alive; the strings it
returns end up in node labels.  Hyper-parameters come from the module's own
``extra_repr()`` (what ``print(model)`` shows), minus arguments left at the
default of the class's ``__init__``, so labels stay short.
"""

from __future__ import annotations

import inspect
from typing import Any

#: keyword arguments that never help a reader of a diagram
_NOISE = {"inplace"}
#: attributes to show for torch.nn classes whose ``extra_repr`` is empty
_SHOWN_ATTRIBUTES = {"MultiheadAttention": ("embed_dim", "num_heads")}
_MAX_LEN = 72


def split_top_level(text: str) -> list[str]:
    """Split ``a, b=(1, 2), c`` at commas that are not inside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _init_defaults(cls: type) -> dict[str, str]:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return {}
    return {
        name: repr(p.default)
        for name, p in sig.parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _is_default(value: str, default: str | None) -> bool:
    """``(1, 1)`` counts as the default ``1`` (torch expands ints to tuples)."""
    if default is None:
        return False
    if value == default:
        return True
    if value.startswith("(") and value.endswith(")"):
        items = [v.strip() for v in value[1:-1].split(",") if v.strip()]
        return bool(items) and all(item == default for item in items)
    return False


def hyperparameters(module: Any) -> str:
    """``3, 16, kernel_size=(5, 5), stride=(3, 3)`` for a ``Conv2d``; '' if none."""
    try:
        text = module.extra_repr()
    except Exception:  # a broken extra_repr must not break the diagram
        return ""
    if not isinstance(text, str) or "\n" in text:
        return ""
    if not text and type(module).__name__ in _SHOWN_ATTRIBUTES:
        return ", ".join(f"{name}={getattr(module, name, '?')}" for name in _SHOWN_ATTRIBUTES[type(module).__name__])
    defaults = _init_defaults(type(module))
    kept = []
    for item in split_top_level(text):
        key, sep, value = item.partition("=")
        key = key.strip()
        if sep and (key in _NOISE or _is_default(value.strip(), defaults.get(key))):
            continue
        kept.append(item)
    summary = ", ".join(kept)
    return summary if len(summary) <= _MAX_LEN else summary[: _MAX_LEN - 1] + "…"


def parameter_count(module: Any) -> int:
    """Number of parameters in the module and its children (shared ones once)."""
    return sum(int(p.numel()) for p in module.parameters())



def _numel(shape: Any) -> int:
    n = 1
    for dim in shape:
        n *= int(dim)
    return n


def module_macs(module: Any, inputs: list[Any], outputs: list[Any]) -> int | None:
    """Multiply-accumulates of one call of a layer, where that is well defined; else None.

    Convolutions, linear layers and multi-head attention; ``inputs`` and
    ``outputs`` are the call's tensors (real or meta: only shapes are read).
    """
    name = type(module).__name__
    if not outputs:
        return None
    out = outputs[0]
    if name in ("Conv1d", "Conv2d", "Conv3d"):
        return _numel(out.shape) * (module.in_channels // module.groups) * _numel(module.kernel_size)
    if name in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") and inputs:
        per_input = (module.out_channels // module.groups) * _numel(module.kernel_size)
        return _numel(inputs[0].shape) * per_input
    if name in ("Linear", "LazyLinear"):
        return _numel(out.shape) * module.in_features
    if name == "MultiheadAttention" and len(inputs) >= 3:
        q, k, v = inputs[:3]
        batch_first = module.batch_first and q.dim() == 3
        L = q.shape[1] if batch_first else q.shape[0]
        S = k.shape[1] if batch_first else k.shape[0]
        batch = _numel(q.shape) // (L * module.embed_dim)
        e = module.embed_dim
        projections = batch * (L * e * e + S * module.kdim * e + S * module.vdim * e + L * e * e)
        return projections + batch * 2 * L * S * e
    return None


def function_macs(name: str, inputs: list[Any], outputs: list[Any]) -> int | None:
    """Multiply-accumulates of a functional op (matrix products, attention); else None."""
    if not outputs or not inputs:
        return None
    if name in ("matmul", "mm", "bmm", "baddbmm", "addmm") and len(inputs) >= 2:
        a = inputs[-2]
        return _numel(outputs[0].shape) * int(a.shape[-1]) if a.dim() else None
    if name == "linear" and len(inputs) >= 2:
        return _numel(outputs[0].shape) * int(inputs[1].shape[-1])
    if name == "scaled_dot_product_attention" and len(inputs) >= 3:
        q, k, v = inputs[:3]
        return _numel(q.shape[:-1]) * int(k.shape[-2]) * (int(q.shape[-1]) + int(v.shape[-1]))
    return None
