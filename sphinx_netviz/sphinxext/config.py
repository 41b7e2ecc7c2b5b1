"""The ``netviz_*`` settings of ``conf.py``: declared from the option model, checked at ``config-inited``.

Each setting is an :class:`~sphinx_netviz.options.Option` with ``setting``
true; nothing here repeats a default or a rule.  At ``config-inited`` the
values enter through :func:`~sphinx_netviz.options.sort_values` (the
``conf.py`` front end), checked once: a bad value gets a ``netviz.config``
warning and falls back to its default, so the build goes on; so does a name
that looks like a misspelt setting (``netviz_dpeth``: did you mean
netviz_depth?).  :class:`NetvizConfig` sorts the checked values again for
the directives and the runner, without checking them again.
"""

from __future__ import annotations

import os
import types
from dataclasses import dataclass
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

from ..limits import Limits, default_jobs, default_memory_mb
from ..options import (
    OPTIONS,
    OPTIONS_LIST,
    Frontend,
    Option,
    OptionValues,
    PipelineSettings,
    sort_values,
    values_checked,
)
from ..values import did_you_mean, nearest

logger = logging.getLogger(__name__)

#: the options that are ``netviz_*`` settings
SETTINGS: tuple[Option, ...] = tuple(o for o in OPTIONS_LIST if o.setting)


@dataclass(frozen=True)
class NetvizConfig:
    """The project's ``netviz_*`` values (checked at ``config-inited``), sorted by scope."""

    values: OptionValues

    @classmethod
    def from_sphinx(cls, config: Config) -> NetvizConfig:
        return cls(sort_values({o.conf_name: getattr(config, o.conf_name) for o in SETTINGS}, Frontend.CONF,
                               checked=True))

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def pipeline_settings(self) -> PipelineSettings:
        return self.values.settings

    @property
    def job_count(self) -> int:
        return int(self.values.build.jobs) or default_jobs()

    def limits(self, timeout: float | None = None) -> Limits:
        """The limits of one diagram's process (``timeout`` from ``:timeout:``, if given).

        A ``timeout`` other than ``netviz_timeout`` is named ``:timeout:`` in messages.
        """
        own = self.values.limits
        with values_checked():  # checked where they entered: conf.py's, the directive's :timeout:
            return Limits(timeout=timeout or own.timeout, memory_mb=own.memory_mb or default_memory_mb(self.job_count),
                          timeout_option=bool(timeout) and timeout != own.timeout)


def register(app: Sphinx) -> None:
    """Declare every ``netviz_*`` value with its default, type and what it rebuilds."""
    for option in SETTINGS:
        app.add_config_value(option.conf_name, option.default, option.rebuild, types=option.types)


def misspelt_settings(config: Config) -> dict[str, list[str]]:
    """Names in ``conf.py`` (or ``-D``) that no extension declared and that look like a ``netviz_*``
    setting (``netviz_dpeth``, ``netvis_depth``), each with the settings it is closest to."""
    known = [o.conf_name for o in SETTINGS]
    raw = getattr(config, "_raw_config", {})
    given = [*raw, *getattr(config, "_overrides", {})]
    found: dict[str, list[str]] = {}
    for name in given:
        if type(name) is not str or name.startswith("_") or name in config or name in found:
            continue
        if callable(raw.get(name)) or isinstance(raw.get(name), types.ModuleType):
            continue  # an import or a helper of conf.py's own (``from x import netviz_node``), not a setting
        if name.lower().startswith("netviz") or nearest(name, known, n=1, cutoff=0.85):
            # compared without the prefix, which every setting shares (dpeth → depth, not also dtype)
            found[name] = ["netviz_" + n for n in nearest(name.partition("_")[2] or name, [o.name for o in SETTINGS])]
    return found


def check(app: Sphinx, config: Config) -> None:
    """``config-inited``: normalise the values; warn about bad ones and put their defaults back,
    and about names that look like a misspelt setting (naming the one meant)."""
    for name, near in misspelt_settings(config).items():
        hint = did_you_mean(near) or "see the settings in the documentation's options page"
        logger.warning("%s is not a netviz setting (ignored); %s", name, hint, type="netviz", subtype="config")
    given = {o.conf_name: getattr(config, o.conf_name) for o in SETTINGS}
    values = sort_values(given, Frontend.CONF, keep_going=True)
    for problem in values.problems:
        logger.warning("%s; using %r", problem.message, OPTIONS[problem.option].default,
                       type="netviz", subtype="config")
    for option in SETTINGS:  # normalised (onnx False: 'none'), a bad one back at its default
        setattr(config, option.conf_name, values[option.name])
    if config.netviz_cache_dir:  # relative to conf.py's folder, as Sphinx's own paths are
        config.netviz_cache_dir = os.path.join(app.confdir or app.srcdir, config.netviz_cache_dir)
