"""Error types of the pipeline (load → trace → graph → render/export).

Each error names the pipeline stage that failed; the Sphinx layer turns the
stage into a warning subtype (``netviz.import``, ``netviz.input``,
``netviz.trace``, ``netviz.export``, ``netviz.render``) so that authors can
filter them with ``suppress_warnings``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal


#: what a problem is about: the warning subtype ``netviz.<stage>``
Stage = Literal["import", "input", "trace", "render", "export", "write", "config"]


class NetvizError(Exception):
    """A problem with one diagram, explained for the author who wrote it."""

    #: warning subtype, as in ``netviz.<stage>``
    stage: Stage = "trace"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        #: the message without a hint about the inputs (where one was added)
        self.without_hint = message


class ImportProblem(NetvizError):
    """The model (or inputs) path does not import or does not name a model."""

    stage = "import"


class InputProblem(NetvizError):
    """The directive's options do not parse or do not fit the model."""

    stage = "input"


class TraceProblem(NetvizError):
    """The model could not be built or its forward pass failed."""

    stage = "trace"


class ExportProblem(NetvizError):
    """The ONNX export failed (the diagram may still be drawn)."""

    stage = "export"


class RenderProblem(NetvizError):
    """Graphviz could not lay out the diagram."""

    stage = "render"


class LayoutTimeout(RenderProblem):
    """Graphviz ran out of time (the pipeline then tries a coarser depth)."""


#: longest class name :func:`safe_text` shows
_NAME_LIMIT = 100
#: Unicode categories replaced in messages: control, format, surrogate, private, unassigned,
#: line and paragraph separators
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: terminal colour and cursor codes (some libraries put them in their messages)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: the memory address in a default repr (``<Net object at 0x7f…>``): differs on every run
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+\b")


def _type_name(cls: type) -> str:
    """``cls.__name__`` as a plain, bounded, one-line ``str``, whatever the class does.

    Reads the name through ``type``'s own descriptor, so a metaclass that
    overrides ``__name__`` (with a property that raises, or returns a
    non-string) is not consulted.  Never raises.
    """
    try:
        name = type.__dict__["__name__"].__get__(cls, type)
        name = str.__str__(name) if isinstance(name, str) else "?"
    except BaseException:  # noqa: BLE001 - a name is best effort, never a new failure
        return "?"
    return _clean(name[: _NAME_LIMIT * 2].partition("\n")[0], _NAME_LIMIT) or "?"


def _clean(text: str, limit: int) -> str:
    """``text`` on one safe line, cut to ``limit`` characters (ending in ``…`` if cut).

    Terminal escape codes are dropped; other control, format, surrogate and
    line-separator characters become ``\\ufffd``: stray escapes,
    bidirectional overrides and lone surrogates (which cannot even be
    written as UTF-8) have no place in a one-line warning.
    """
    if not text.isprintable():
        text = "".join(" " if ch == "\t" else "\ufffd" if unicodedata.category(ch) in _UNSAFE else ch
                       for ch in _ANSI.sub("", text))
    if len(text) > limit:
        text = text[: limit - 1] + "…" if limit > 0 else ""
    return text


def safe_text(exc: BaseException, limit: int = 500) -> str:
    """``"ClassName: first line of the message"``, for any exception model code can raise.

    Model code is untrusted: its exceptions may have a ``__str__`` that
    raises (anything, even ``SystemExit``), loops into ``RecursionError``,
    returns a non-string or a megabyte-long one, or a class whose
    ``__name__`` is a raising property.  This never raises and never
    returns more than ``limit`` characters: a failing ``__str__`` gives
    ``"<unprintable ClassName>"``, an empty message just ``"ClassName"``.
    The class name comes from ``type(exc)`` (not ``exc.__class__``, which
    an object can fake) and control characters are replaced, so the text
    is safe to put in a warning or a page; memory addresses of default
    reprs (`` at 0x7f…``) are dropped, so it is the same on every run.  A ``SyntaxError`` names its
    whole file path and line, not just the file name as ``str()`` does.
    """
    name = _type_name(type(exc))
    try:
        message = _syntax_error_text(exc) or str(exc)
        message = str.__str__(message)  # a str subclass's own methods could misbehave
    except BaseException:  # noqa: BLE001 - see the docstring
        return _clean(f"<unprintable {name}>", limit)
    message = message.lstrip()
    end = len(message)
    # the first line; splitlines() would copy every line of a huge message
    for sep in ("\r", "\n", "\u2028", "\u2029"):
        found = message.find(sep, 0, limit + 1)
        if found != -1:
            end = min(end, found)
    first = _ADDRESS.sub("", message[: min(end, limit + 1)]).rstrip()
    return _clean(f"{name}: {first}" if first else name, limit)


def _syntax_error_text(exc: BaseException) -> str | None:
    """``msg (/path/file.py, line 3)`` for a syntax error from the compiler; else None."""
    if not issubclass(type(exc), SyntaxError):  # isinstance() would ask exc.__class__, which can raise
        return None
    msg, filename, lineno = exc.msg, exc.filename, exc.lineno
    if type(msg) is str and type(filename) is str and type(lineno) is int:
        return f"{msg} ({filename}, line {lineno})"
    return None
