"""How much of one diagram goes into a page besides its SVG: summary rows and viewer data, bounded.

Pipeline step *views* (layouts → views → **bounds** → cache → write).  The
inline SVG already has its limits (:data:`~sphinx_netviz.limits.MAX_LAYOUT_BOXES`,
:data:`~sphinx_netviz.limits.MAX_INLINE_BYTES`); the viewer's data is cut here,
in the process that draws the diagram, to the limits below, and says what it
left out:

* the summary table keeps its first :data:`MAX_SUMMARY_ROWS` rows (and at most
  :data:`MAX_ROWS_BYTES` of them); ``rows_total`` counts them all, so the
  title still says how many layers the model has and the table ends with a
  row saying how many more there are;
* each drawn call's lists of shapes and folded paths keep
  :data:`MAX_LIST_ITEMS` entries, the last one saying how many more;
* the details of drawn calls stop at :data:`MAX_CALLS_BYTES` (in call order);
  ``calls_left_out`` counts the boxes the viewer has no details for.

The page writers read a diagram's files with :func:`read_bounded`, which
checks a file's size before it reads it: the Sphinx process never loads more
than these limits, whatever a cache folder holds.  No torch, no Sphinx.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .limits import MAX_INLINE_BYTES, MB
from .values import size_text

#: rows of the summary table a page shows
MAX_SUMMARY_ROWS = 1_000
#: and at most this much JSON of them (module paths can be long)
MAX_ROWS_BYTES = 1 * MB
#: shapes in and out of one call, paths of one folded run, listed in its details
MAX_LIST_ITEMS = 64
#: JSON of every drawn call's details together
MAX_CALLS_BYTES = 2 * MB
#: the viewer data of one diagram, as a file: what a page writer reads at most (rows, calls and
#: the rest, with room to spare)
MAX_DETAILS_BYTES = 4 * MB
#: an SVG of one depth a page writer reads at most (the limit the layouts keep to)
MAX_SVG_BYTES = MAX_INLINE_BYTES


class TooBig(ValueError):
    """A diagram's file is bigger than a page may take (its cache was not written by this version)."""


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, sort_keys=True).encode())


def _capped(items: list[str]) -> list[str]:
    if len(items) <= MAX_LIST_ITEMS:
        return items
    kept = items[: MAX_LIST_ITEMS - 1]
    return [*kept, f"… {len(items) - len(kept):,} more"]


def bounded_viewer_data(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` (a :class:`~sphinx_netviz.viewer_data.ViewerData`) cut to the limits above.

    ``rows_total`` and ``calls_left_out`` are always set, so a page says what
    was left out (0: nothing).
    """
    out = dict(details)
    rows = list(details.get("rows") or [])
    kept_rows, size = [], 0
    for row in rows[:MAX_SUMMARY_ROWS]:
        size += _json_size(row)
        if size > MAX_ROWS_BYTES:
            break
        kept_rows.append(row)
    out["rows"], out["rows_total"] = kept_rows, int(details.get("rows_total", len(rows)))
    calls: dict[str, Any] = {}
    size, left_out = 0, int(details.get("calls_left_out", 0))
    for key, entry in sorted((details.get("calls") or {}).items(), key=lambda item: int(item[0])):
        entry = {**entry, **{name: _capped(list(entry[name])) for name in ("in", "out", "paths") if name in entry}}
        size += _json_size(entry) + len(key) + 6  # "key": …, in the JSON of all calls
        if size > MAX_CALLS_BYTES:
            left_out += 1
            continue
        calls[key] = entry
    out["calls"], out["calls_left_out"] = calls, left_out
    return out


def rows_left_out(details: dict[str, Any]) -> int:
    """How many summary rows the viewer data left out (0 for data made before the limits)."""
    return max(0, int(details.get("rows_total", len(details["rows"]))) - len(details["rows"]))


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a diagram's file, if it holds at most ``limit`` bytes; else :class:`TooBig`.

    The size is checked on the open file before anything is read, and the read
    stops at ``limit`` (a file that grows meanwhile is refused too).
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise TooBig(f"{Path(path).name} is {size_text(size)}, more than the {size_text(limit)} a page takes")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooBig(f"{Path(path).name} grew past {size_text(limit)} while it was read")
    return data


def read_details(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A diagram's viewer data, read within :data:`MAX_DETAILS_BYTES` (:func:`read_bounded`)."""
    value = json.loads(read_bounded(path, MAX_DETAILS_BYTES))
    if not isinstance(value, dict):
        raise ValueError("the viewer data is not a JSON object")
    return value
