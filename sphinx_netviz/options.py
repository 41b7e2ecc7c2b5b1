"""Every option and setting, declared once: a dataclass field with its metadata; and the one function
that sorts a front end's raw values.

The option model, first step of the pipeline (**options** → spec → load →
trace → graph → render/export).  Each option is a field of the dataclass of
its *scope* (as MyST-NB declares its configuration), whose metadata
(:func:`option`) says how it is written in each front end — ``:depth:`` on
the directive, ``netviz_depth`` in ``conf.py``, ``--depth`` on the command
line, ``depth=`` in Python —, how text becomes a checked value
(:attr:`Option.parse`, for the directive, the command line and text given to
Python) and which values it takes (:attr:`Option.check`, for ``conf.py`` and
Python values).  :data:`OPTIONS_LIST` is read from those fields; the
directive's ``option_spec``, the ``add_config_value`` calls, the command
line's flags, ``draw()``'s keywords and the table in ``docs/options.rst``
(checked by a test) all come from it.

Module map of the option model:

* :mod:`sphinx_netviz.values` — the rules: parsers (option text → value) and
  validators (value → value), whose :class:`~.values.ValueProblem` says what
  is wrong with the value only.
* :mod:`sphinx_netviz.options` (here) — the declarations, one dataclass per
  scope: :class:`SpecOptions` (what to draw), :class:`PageOptions` (how the
  page shows it), :class:`PipelineSettings` (how the pipeline works),
  :class:`LimitOptions` (one diagram's process) and :class:`BuildOptions` (a
  docs build's cache, preload and processes); :data:`OPTIONS`, read from
  their fields; and :func:`sort_values`, which takes one front end's raw
  values (as it spells them), checks each once, where it enters, and sorts
  them into an :class:`OptionValues` (spec, page, settings, limits, build).
* :mod:`sphinx_netviz.spec` — ``DiagramSpec`` is :class:`SpecOptions` plus
  the target; ``DiagramSpec.of(target, values)`` builds it from
  :func:`sort_values`'s values without checking them again (only the target
  and the rules between options).
* :mod:`sphinx_netviz.pipeline` — uses :class:`PipelineSettings` (declared here).
* :mod:`sphinx_netviz.limits` — ``Limits`` is :class:`LimitOptions` plus
  whether the time limit is a directive's ``:timeout:``.

Who calls :func:`sort_values`, the four front ends:

* ``conf.py`` — :func:`sphinx_netviz.sphinxext.config.check` at
  ``config-inited`` (``Frontend.CONF``: a bad value warns and its default is
  kept); ``NetvizConfig.from_sphinx`` sorts those checked values again
  (``checked=True``: not checked twice) for the directives and the runner.
* the directive — ``NetvizDirective.start_node`` (``.. netviz::`` and
  ``.. netviz-diff::``): its option text over ``conf.py``'s values
  (``Frontend.SPHINX``, ``under=``).
* the command line — :func:`sphinx_netviz.cli.values_from_args`.
* Python — ``sphinx_netviz.api._prepared``, for ``draw()`` and ``diff()``.

A value given straight to one of the dataclasses (``DiagramSpec(...,
depth=3)``, ``PipelineSettings(dot=...)``) enters there and is checked there.
Messages name options through :func:`say`, in the wording of the front end at
work (:func:`worded_for`): "raise :timeout:" in a docs build, "raise
--layout-timeout" on the command line.  A bad value is an
:class:`OptionProblem`, which knows its option.  Nothing here imports torch or
Sphinx.
"""

from __future__ import annotations

import contextvars
import copy
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, field, fields, replace
from enum import Enum
from typing import Any, ClassVar, Literal

from .errors import InputProblem
from .preload import check_preload, parse_preload
from .shading import COLOR_BY, ColorBy
from .values import (
    DEVICES,
    DIRECTIONS,
    MODEL_DTYPE_ALIASES,
    MODEL_DTYPES,
    Device,
    Direction,
    ModelDtype,
    OnnxMode,
    ValueProblem,
    check_bool,
    check_choice,
    check_css_length,
    check_depth,
    check_dtypes,
    check_executable,
    check_folder,
    check_jobs,
    check_kwargs,
    check_megabytes,
    check_memory_mb,
    check_onnx_mode,
    check_optional_import_path,
    check_seconds,
    check_shapes,
    parse_bool,
    parse_choice,
    parse_depth,
    parse_dtypes,
    parse_import_path,
    parse_kwargs,
    parse_megabytes,
    parse_onnx_mode,
    parse_seconds,
    parse_shapes,
    parse_text,
    parse_whole,
)


class Frontend(str, Enum):
    """Who reads a message: each words options its own way."""

    #: a docs build: ``:depth:`` for directive options, ``netviz_dot`` for the others
    SPHINX = "sphinx"
    #: a ``conf.py`` value: ``netviz_depth``
    CONF = "conf"
    #: the command line: ``--depth``
    CLI = "cli"
    #: Python (``draw(...)``): ``depth=``
    API = "api"


#: which part of the pipeline an option feeds (its dataclass: :data:`GROUPS`)
Scope = Literal["spec", "page", "pipeline", "limits", "build"]

_FRONTEND: contextvars.ContextVar[Frontend] = contextvars.ContextVar("netviz_frontend",
                                                                     default=Frontend.SPHINX)
#: set while option dataclasses are built from values already checked where they entered
_CHECKED: contextvars.ContextVar[bool] = contextvars.ContextVar("netviz_values_checked", default=False)
_UNSET: Any = object()
#: the key of an option field's metadata
_META = "netviz_option"


class OptionProblem(InputProblem):
    """A value an option does not take; ``option`` names it (``depth``)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class Option:
    """One option or setting, in every front end: a field of its scope's dataclass and its metadata."""

    #: the field name (``DiagramSpec.depth``, ``PipelineSettings.dot``)
    name: str
    default: Any
    #: one line for ``--help`` and the docs table
    help: str
    #: option text (directive, command line, text given to Python) → checked value; raises :class:`ValueProblem`
    parse: Callable[[str], Any]
    #: value (``conf.py``, Python) → checked value, normalised; raises :class:`ValueProblem`
    check: Callable[[Any], Any]
    scope: Scope
    #: the directive option (``input-shape``), if the directive takes it
    directive: str | None = None
    #: settable in ``conf.py`` as ``netviz_<name>``
    setting: bool = True
    #: command-line flags, the first as messages name it (``--layout-timeout``, ``--timeout``)
    flags: tuple[str, ...] = ()
    metavar: str | None = None
    #: the Python types ``conf.py`` may give (``add_config_value``)
    types: tuple[type, ...] = ()
    #: what changing it in ``conf.py`` rebuilds (``""``: nothing on the page changes)
    rebuild: str = "env"
    #: it builds or runs a model: an ONNX file, drawn as it is, takes none of these
    model: bool = False

    @property
    def conf_name(self) -> str:
        return f"netviz_{self.name}"

    @property
    def keyword(self) -> str:
        """The option's name in Python (``draw(input_shape=…)``): the directive's, with ``_``."""
        return self.directive.replace("-", "_") if self.directive else self.name

    def spelled(self, frontend: Frontend, value: Any = _UNSET, *, setting: bool = False) -> str:
        """How ``frontend`` writes this option (with ``value``, if given).

        ``setting``: the ``conf.py`` setting rather than the directive option, in a docs build.
        """
        given = value is not _UNSET
        if frontend is Frontend.API:
            if given and isinstance(value, str) and isinstance(self.default, str) and value[:1] not in "'\"":
                value = repr(value)  # onnx='none'
            return f"{self.keyword}={value}" if given else self.keyword
        if frontend is Frontend.CLI and self.flags:
            flag = self.flags[0]
            if self.check is check_bool and given:
                return flag if value in (True, "true") else f"--no-{flag[2:]}"
            return f"{flag} {value}" if given else flag
        if frontend is Frontend.SPHINX and self.directive and not setting:
            return f":{self.directive}: {value}" if given else f":{self.directive}:"
        return f"{self.conf_name} = {value}" if given else self.conf_name

    def from_text(self, text: str) -> Any:
        """The value of option text (directive, command line), checked."""
        try:
            return self.parse(text)
        except ValueProblem as why:
            raise OptionProblem(self.name, f"{say(self.name)} {why}") from None

    def validated(self, value: Any) -> Any:
        """``value`` (``conf.py``, Python) checked and normalised."""
        try:
            return self.check(value)
        except ValueProblem as why:
            raise OptionProblem(self.name, f"{say(self.name)} {why}") from None

    def entered(self, value: Any, frontend: Frontend) -> Any:
        """``value`` as it enters from ``frontend``, checked: text (the directive's, the command
        line's, text given to Python) parsed as option text, any other value (``conf.py``'s,
        Python's) checked as a value."""
        if isinstance(value, str) and frontend is not Frontend.CONF:
            return self.from_text(value)
        return self.validated(value)


def option(default: Any = MISSING, *, help: str, parse: Callable[[str], Any], check: Callable[[Any], Any],
           factory: Callable[[], Any] | None = None, **spellings: Any) -> Any:
    """A dataclass field that is an option: its default (or ``factory``) and what :class:`Option`
    holds besides its name and scope (``help``, ``parse``, ``check``, ``directive``, ``flags``…)."""
    metadata = {_META: {"help": help, "parse": parse, "check": check, **spellings}}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _then(parse: Callable[[str], Any], check: Callable[[Any], Any]) -> Callable[[str], Any]:
    """A parser for options whose text reader leaves the rules to their validator."""
    def parse_and_check(text: str) -> Any:
        return check(parse(text))
    return parse_and_check


@contextmanager
def values_checked() -> Iterator[None]:
    """Build option dataclasses inside from values checked where they entered (or from
    defaults): they are not checked again."""
    token = _CHECKED.set(True)
    try:
        yield
    finally:
        _CHECKED.reset(token)


@functools.cache
def option_names(group: type) -> tuple[str, ...]:
    """The fields of dataclass ``group`` that are options."""
    return tuple(f.name for f in fields(group) if _META in f.metadata)


class OptionGroup:
    """Base of the dataclasses whose fields are options, one per scope.  A value given to one
    enters here and is checked here — unless it comes from :func:`sort_values`, which checked it
    where it entered (the dataclass is then built inside :func:`values_checked`)."""

    scope: ClassVar[Scope]

    def __post_init__(self) -> None:
        if _CHECKED.get():
            return
        for name in option_names(type(self)):
            object.__setattr__(self, name, OPTIONS[name].validated(getattr(self, name)))

    def replaced(self, **changes: Any) -> Any:
        """A copy with ``changes``: values checked where they entered (or fixed ones), not checked
        again (``dataclasses.replace`` checks every value anew)."""
        with values_checked():
            return replace(self, **changes)


def _choice(choices: tuple[str, ...], **parse: Any) -> dict[str, Callable[..., Any]]:
    return {"parse": parse_choice(choices, **parse), "check": check_choice(choices)}


_SHAPES = {"parse": parse_shapes, "check": check_shapes}
_SECONDS = {"parse": parse_seconds, "check": check_seconds, "types": (int, float)}
_MEGABYTES = {"parse": parse_megabytes, "check": check_megabytes, "types": (int, float)}


# -- the declarations, in the order the docs and --help list them ----------------------------------

@dataclass(frozen=True)
class SpecOptions(OptionGroup):
    """What to draw: every field of :class:`~sphinx_netviz.spec.DiagramSpec` but its target (they
    decide the diagram's content, and so its cache key)."""

    scope: ClassVar[Scope] = "spec"

    input_shapes: tuple[tuple[int, ...], ...] = option(
        (), help="shape(s) of the example input(s): '16, 3, 512, 512', '16x3x512x512', or "
        "'(1, 3, 224, 224), (1, 10)' for several", directive="input-shape", setting=False,
        flags=("--input-shape",), metavar="SHAPE", model=True, **_SHAPES)
    input_dtypes: tuple[str, ...] = option(
        (), help="dtype of the shaped inputs: one, or one per input (default: the model's float dtype)",
        parse=parse_dtypes, check=check_dtypes, directive="input-dtype", setting=False,
        flags=("--input-dtype",), metavar="DTYPES", model=True)
    inputs: str | None = option(
        None, help="'package.module:make_inputs', a function returning the example inputs (a tensor, a "
        "tuple of positional inputs or a dict of keyword inputs)", parse=parse_import_path,
        check=check_optional_import_path, directive="inputs", setting=False, flags=("--inputs",),
        metavar="PATH", model=True)
    kwargs: dict[str, object] = option(
        factory=dict, help="keyword arguments for the model's class or factory, as a Python literal dict",
        parse=parse_kwargs, check=check_kwargs, directive="kwargs", setting=False, flags=("--kwargs",),
        metavar="DICT", model=True)
    depth: int = option(
        2, help="levels of nested modules to open up (0: one box for the whole model)", parse=parse_depth,
        check=check_depth, directive="depth", flags=("--depth",), metavar="N", types=(int,))
    direction: Direction = option(
        "TB", help="layout direction: TB (top to bottom) or LR (left to right); BT and RL too",
        directive="direction", flags=("--direction",), metavar="TB|LR", types=(str,),
        **_choice(DIRECTIONS, normalise=str.upper))
    fold: bool = option(
        True, help="draw runs of identical sibling blocks once, marked ×N", parse=parse_bool,
        check=check_bool, directive="fold", flags=("--fold",), types=(bool,))
    device: Device = option(
        "auto", help="where the model is built and traced: auto (meta; real weights only for the ONNX "
        "file of a small model), meta (never allocates weights) or cpu", directive="device",
        flags=("--device",), metavar="auto|meta|cpu", types=(str,), model=True, **_choice(DEVICES))
    #: the dtype the model is built in (``auto``: as it builds itself)
    dtype: ModelDtype = option(
        "auto", help="the dtype the model is built in: float32, bfloat16, float16, or auto (as the model "
        "builds itself); float inputs follow it", directive="dtype", flags=("--dtype",), metavar="DTYPE",
        types=(str,), model=True,
        **_choice(MODEL_DTYPES, normalise=lambda t: t.lower().removeprefix("torch."),
                  aliases=MODEL_DTYPE_ALIASES))
    #: shade the module boxes by their share of the parameters or MACs (``none``: by layer family)
    color_by: ColorBy = option(
        "none", help="shade the module boxes by their share of the model's parameters or MACs, with a "
        "legend: none, params or macs", directive="color-by", flags=("--color-by",),
        metavar="none|params|macs", types=(str,), **_choice(COLOR_BY, normalise=str.lower))
    onnx: OnnxMode = option(
        "auto", help="the ONNX download: auto (full up to onnx_max_mb of weights, else the structure), "
        "full, structure, or none", parse=parse_onnx_mode, check=check_onnx_mode, directive="onnx",
        flags=("--onnx-mode",), metavar="MODE", types=(str, bool))


@dataclass(frozen=True)
class PageOptions(OptionGroup):
    """How the page shows a drawing (the diagram node's attributes, ``Drawing``'s fields)."""

    scope: ClassVar[Scope] = "page"

    summary: bool = option(
        True, help="show the layer summary table under the diagram", parse=parse_bool, check=check_bool,
        directive="summary", types=(bool,))
    height: str = option(
        "", help="the viewer canvas's height limit, a CSS length (600px, 60vh); empty: the page's "
        "--netviz-height, else 90vh", parse=_then(parse_text, check_css_length), check=check_css_length,
        directive="height", types=(str,))


@dataclass(frozen=True)
class PipelineSettings(OptionGroup):
    """Project-wide settings of the pipeline (:mod:`sphinx_netviz.pipeline`); part of every cache key."""

    scope: ClassVar[Scope] = "pipeline"

    onnx_max_mb: float = option(
        25.0, help="with onnx auto, weights up to this many megabytes are exported in full",
        flags=("--onnx-max-mb",), metavar="MB", **_MEGABYTES)
    meta_above_mb: float = option(
        128.0, help="with device auto, a model with more megabytes of weights is never built for real "
        "for its ONNX file", flags=("--meta-above-mb",), metavar="MB", **_MEGABYTES)
    cpu_max_mb: float = option(
        4096.0, help="the largest model (megabytes of weights) built for real when it has to be (a "
        "forward that fails on meta, a full ONNX file)", flags=("--cpu-max-mb",), metavar="MB",
        **_MEGABYTES)
    dot: str = option(
        "dot", help="the Graphviz dot executable: a name on PATH or a full path (dot, when none is on "
        "PATH: graphviz-pure from the pure extra, if installed)", parse=_then(parse_text, check_executable),
        check=check_executable, flags=("--dot",), metavar="EXE", types=(str,))
    layout_timeout: float = option(
        30.0, help="seconds one Graphviz layout may take before a coarser depth is drawn",
        flags=("--layout-timeout", "--timeout"), metavar="SECONDS", **_SECONDS)
    export_timeout: float = option(
        60, help="seconds the ONNX exporters may take together before a graph-only file is written",
        flags=("--export-timeout",), metavar="SECONDS", **_SECONDS)


@dataclass(frozen=True)
class LimitOptions(OptionGroup):
    """The limits of one diagram's process (:class:`~sphinx_netviz.limits.Limits` adds how to word them)."""

    scope: ClassVar[Scope] = "limits"

    # whole numbers, so that -D netviz_timeout=300 works (Sphinx cannot -D a float)
    #: seconds for every stage of one diagram together (import, trace, layouts, export)
    timeout: float = option(
        180, help="seconds one diagram may take, every stage together", directive="timeout", **_SECONDS)
    #: memory the process may allocate on top of what it started with, in MB (0: ``default_memory_mb()``)
    memory_mb: float = option(
        0, help="megabytes the process drawing one diagram may allocate (0: 3/4 of the RAM over jobs)",
        parse=_then(parse_megabytes, check_memory_mb), check=check_memory_mb, types=(int, float),
        rebuild="")


@dataclass(frozen=True)
class BuildOptions(OptionGroup):
    """How a docs build draws its diagrams: how many at once, where it keeps them, what it preloads."""

    scope: ClassVar[Scope] = "build"

    jobs: int = option(
        0, help="diagrams drawn at once, each in its own process (0: one per CPU)",
        parse=_then(parse_whole, check_jobs), check=check_jobs, types=(int,), rebuild="")
    cache_dir: str = option(
        "", help="the diagram cache's folder, relative to conf.py's folder (empty: <doctreedir>/netviz)",
        parse=_then(parse_text, check_folder), check=check_folder, types=(str,))
    preload: str | tuple[str, ...] = option(
        "auto", help="the installed libraries (module names) the process that forks each diagram's "
        "process imports first: auto (those the diagrams imported before), a list, or [] for none",
        parse=parse_preload, check=check_preload, types=(str, list, tuple), rebuild="")


#: the dataclass of each scope
GROUPS: dict[Scope, type[OptionGroup]] = {
    "spec": SpecOptions, "page": PageOptions, "pipeline": PipelineSettings, "limits": LimitOptions,
    "build": BuildOptions}


def _option_of(declared: Any, scope: Scope) -> Option:
    default = declared.default_factory() if declared.default is MISSING else declared.default
    return Option(name=declared.name, default=default, scope=scope, **declared.metadata[_META])


#: every option and setting, in the order the docs and ``--help`` list them (read from the fields)
OPTIONS_LIST: tuple[Option, ...] = tuple(_option_of(declared, scope) for scope, group in GROUPS.items()
                                         for declared in fields(group) if _META in declared.metadata)

#: the options by name
OPTIONS: dict[str, Option] = {option.name: option for option in OPTIONS_LIST}

#: the options each front end takes, by the name it hands their values in under (the directive's
#: option, ``conf.py``'s setting, the command line's argparse ``dest``, ``draw()``'s keyword)
SPELLINGS: dict[Frontend, dict[str, Option]] = {
    Frontend.SPHINX: {o.directive: o for o in OPTIONS_LIST if o.directive},
    Frontend.CONF: {o.conf_name: o for o in OPTIONS_LIST if o.setting},
    Frontend.CLI: {o.name: o for o in OPTIONS_LIST if o.flags},
    Frontend.API: {o.keyword: o for o in OPTIONS_LIST},
}


def defaults(scope: Scope) -> dict[str, Any]:
    """``{name: default}`` of the options of ``scope``."""
    return {o.name: copy.copy(o.default) for o in OPTIONS_LIST if o.scope == scope}


@dataclass(frozen=True)
class OptionValues:
    """One front end's option values, each checked once, sorted by scope (see :func:`sort_values`)."""

    #: what to draw (a :class:`~sphinx_netviz.spec.DiagramSpec` with a target: ``DiagramSpec.of``)
    spec: SpecOptions
    #: how the page shows it
    page: PageOptions
    #: the pipeline's settings
    settings: PipelineSettings
    #: one diagram's process
    limits: LimitOptions
    #: a docs build's processes, cache and preload
    build: BuildOptions
    #: the options this front end gave (not those it took from ``under``)
    given: frozenset[str] = frozenset()
    #: with ``keep_going``: the values no option takes (each option kept at its value ``under``)
    problems: tuple[OptionProblem, ...] = ()

    def group(self, scope: Scope) -> OptionGroup:
        """The dataclass of ``scope``'s values."""
        return {"spec": self.spec, "page": self.page, "pipeline": self.settings, "limits": self.limits,
                "build": self.build}[scope]

    def __getitem__(self, name: str) -> Any:
        return getattr(self.group(OPTIONS[name].scope), name)

    def as_dict(self) -> dict[str, Any]:
        """``{name: value}`` of every option."""
        return {o.name: self[o.name] for o in OPTIONS_LIST}

    def without(self, names: Iterable[str]) -> OptionValues:
        """These values, with options ``names`` counted as not given (as taken from ``under``)."""
        return replace(self, given=self.given - set(names))

    def fixed(self, **changes: Any) -> OptionValues:
        """These values with ``changes`` a front end decides itself (not a user's values: not
        checked), counted as given."""
        groups = {scope: self.group(scope) for scope in GROUPS}
        for name, value in changes.items():
            scope = OPTIONS[name].scope
            groups[scope] = groups[scope].replaced(**{name: value})
        return replace(self, spec=groups["spec"], page=groups["page"], settings=groups["pipeline"],
                       limits=groups["limits"], build=groups["build"], given=self.given | set(changes))

    def raise_problem(self, *, but: tuple[Scope, ...] = ()) -> None:
        """Raise the first problem, but of the options of scopes ``but`` (reported otherwise)."""
        for problem in self.problems:
            if OPTIONS[problem.option].scope not in but:
                raise problem


def sort_values(given: Mapping[str, Any], frontend: Frontend, *, under: OptionValues | None = None,
                keep_going: bool = False, checked: bool = False) -> OptionValues:
    """The one way raw option values enter: ``given`` by ``frontend``, each checked once, here, and
    sorted by scope into spec, page, settings, limits and build.

    ``given`` is keyed as the front end hands values in (:data:`SPELLINGS`: ``input-shape``,
    ``netviz_depth``, ``input_shapes``, ``input_shape``); text from the directive, the command line
    and Python is parsed as option text, other values are checked as values
    (:meth:`Option.entered`).  Options not given keep their value ``under`` (a directive's:
    ``conf.py``'s values), else their default.  A bad value raises its :class:`OptionProblem`,
    worded for ``frontend``; with ``keep_going`` it is kept in ``problems`` instead and the option
    keeps its value ``under``.  ``checked``: the values were checked where they entered
    (``conf.py``'s, at ``config-inited``) and are only sorted.
    """
    spelled = SPELLINGS[frontend]
    values = under.as_dict() if under is not None else {o.name: copy.copy(o.default) for o in OPTIONS_LIST}
    named: set[str] = set()
    problems: list[OptionProblem] = []
    with worded_for(frontend):
        for key, raw in given.items():
            if key not in spelled:
                raise TypeError(f"{key!r} is not an option of the {frontend.value} front end")
            option = spelled[key]
            try:
                values[option.name] = raw if checked else option.entered(raw, frontend)
            except OptionProblem as problem:
                if not keep_going:
                    raise
                problems.append(problem)
                continue
            named.add(option.name)
    with values_checked():
        groups = {scope: group(**{name: values[name] for name in option_names(group)})
                  for scope, group in GROUPS.items()}
    return OptionValues(spec=groups["spec"], page=groups["page"], settings=groups["pipeline"],  # type: ignore[arg-type]
                        limits=groups["limits"], build=groups["build"], given=frozenset(named),  # type: ignore[arg-type]
                        problems=tuple(problems))


def say(name: str, value: Any = _UNSET, *, setting: bool = False) -> str:
    """Option ``name`` (with ``value``) as the front end at work writes it.

    ``setting``: in a docs build, name the ``conf.py`` setting, not the directive option.
    """
    return OPTIONS[name].spelled(_FRONTEND.get(), value, setting=setting)


def frontend() -> Frontend:
    """The front end messages are worded for now."""
    return _FRONTEND.get()


@contextmanager
def worded_for(which: Frontend) -> Iterator[None]:
    """Word the messages made inside for ``which`` front end."""
    token = _FRONTEND.set(which)
    try:
        yield
    finally:
        _FRONTEND.reset(token)
