"""Compare two architecture snapshots: which modules were added, removed or changed.

Reads two :mod:`sphinx_netviz.snapshot` snapshots (old and new) and returns
an :class:`ArchDiff`: one plain :class:`Change` record per module path that
differs, and the totals of parameters and multiply-accumulates, old → new.

Modules are matched **by attribute path** (``encoder.layers.3.mlp``):

* a path only in the new snapshot is ``added``, only in the old one
  ``removed``.  Only the outermost module of an added or removed subtree has
  a record (its ``inside`` counts the modules within it);
* a path in both is ``changed`` when its class, its hyper-parameters (its
  ``extra_repr``, as the boxes show it), its own parameters (those not in a
  submodule) or its output shapes differ, or when it starts a folded run of
  identical blocks whose count changed (``×4 → ×6``; the extra blocks are
  ``added``, the missing ones ``removed``).  A module whose only difference
  is inside its submodules is not changed itself: its submodules say what
  changed;
* a module that **moved** (renamed, or put into another container) is
  ``removed`` at its old path and ``added`` at its new one: a path is the
  only identity a module has in both models.

Each record says what changed in words: ``class Conv2d → Conv1d``,
``kernel_size=(3, 3) → (5, 5)``, ``+bias=False`` (a hyper-parameter only the
new one shows), ``parameters 4,640 → 10,400``, ``output 16×5 → 16×10``,
``×4 → ×6``.  Records come in the order of the module tree (the new one's,
with removed modules where they were).  Pure Python: no torch, no Sphinx.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .describe import split_top_level
from .snapshot import Snapshot

__all__ = ["ArchDiff", "Change", "ChangeKind", "compare", "format_changes", "NO_CHANGE"]

ChangeKind = Literal["added", "removed", "changed"]
#: the sentence for two identical architectures
NO_CHANGE = "No architectural change."
ARROW = "→"


@dataclass(frozen=True)
class Change:
    """One module path that differs between the old and the new architecture."""

    path: str
    kind: ChangeKind
    #: the module's class (the new one's; the old one's for a removed module)
    class_name: str
    #: what changed, one phrase each (``kernel_size=(3, 3) → (5, 5)``); empty for added/removed
    what: tuple[str, ...] = ()
    #: parameters of the module's whole subtree, old and new (None on the side it is missing from)
    params_old: int | None = None
    params_new: int | None = None
    #: for an added or removed module: how many modules its subtree holds besides itself
    inside: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        data = asdict(self)
        data["what"] = list(self.what)
        return data

    @property
    def text(self) -> str:
        """What changed, as one line of text (``; `` between phrases)."""
        if self.kind == "changed":
            return "; ".join(self.what)
        count = f"{(self.params_new if self.kind == 'added' else self.params_old) or 0:,}"
        inside = f", {self.inside:,} module{'s' if self.inside > 1 else ''} inside" if self.inside else ""
        return f"{self.class_name} ({count} parameters{inside})"


@dataclass(frozen=True)
class ArchDiff:
    """Everything that differs between two architectures."""

    changes: list[Change]
    params_old: int
    params_new: int
    macs_old: int | None
    macs_new: int | None
    #: the models' names, old and new
    names: tuple[str, str] = ("", "")
    #: kind by path, for every module path of either side that differs (an added or removed
    #: subtree's modules too), for drawing
    marks: dict[str, ChangeKind] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether the architectures differ at all."""
        return bool(self.changes)

    def to_dict(self) -> dict[str, Any]:
        """The diff as JSON-ready data (what a ``netviz-diff`` job hands to the Sphinx process)."""
        return {"changes": [c.to_dict() for c in self.changes], "params_old": self.params_old,
                "params_new": self.params_new, "macs_old": self.macs_old, "macs_new": self.macs_new,
                "names": list(self.names), "marks": dict(self.marks)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchDiff:
        """The diff :meth:`to_dict` made (``KeyError``/``TypeError``/``ValueError`` on other data)."""
        changes = [Change(str(c["path"]), _kind(c["kind"]), str(c["class_name"]), tuple(map(str, c["what"])),
                          _count(c["params_old"]), _count(c["params_new"]), int(c["inside"]))
                   for c in data["changes"]]
        old_name, new_name = (str(n) for n in data["names"])
        return cls(changes, int(data["params_old"]), int(data["params_new"]), _count(data["macs_old"]),
                   _count(data["macs_new"]), (old_name, new_name),
                   {str(p): _kind(k) for p, k in dict(data["marks"]).items()})

    def totals(self) -> list[tuple[str, str, str, str]]:
        """``(what, old, new, Δ)`` rows for the parameters and the MACs (numbers with thousands commas)."""
        rows = [("parameters", *_old_new_delta(self.params_old, self.params_new))]
        rows.append(("MACs", *_old_new_delta(self.macs_old, self.macs_new)))
        return rows


def _kind(value: object) -> ChangeKind:
    if value not in ("added", "removed", "changed"):
        raise ValueError(f"not a kind of change: {value!r}")
    return value  # type: ignore[return-value]


def _count(value: object) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError(f"not a count: {value!r}")
    return value


def _old_new_delta(old: int | None, new: int | None) -> tuple[str, str, str]:
    def text(n: int | None) -> str:
        return "—" if n is None else f"{n:,}"

    delta = "—" if old is None or new is None else f"{new - old:+,}" if new != old else "0"
    return text(old), text(new), delta


def _tree_order(modules: dict[str, Any]) -> list[str]:
    """Module paths in the order of the module tree: depth first, children in definition order."""
    order: list[str] = []
    seen: set[str] = set()

    def walk(start: str) -> None:
        stack = [start]
        while stack:
            path = stack.pop()
            if path in seen or path not in modules:
                continue
            seen.add(path)
            order.append(path)
            stack.extend(reversed(modules[path].get("children") or []))

    walk("")
    for path in sorted(modules, key=_natural):  # anything the tree does not reach
        walk(path)
    return order


def _natural(path: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in path.split(".")]


def _merged_order(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every path of either side: the new tree's order, each path only in the old one placed
    after the path that came before it in the old tree."""
    new_order = _tree_order(new)
    after: dict[str | None, list[str]] = {}
    previous: str | None = None
    for path in _tree_order(old):
        if path not in new:
            after.setdefault(previous, []).append(path)
        else:
            previous = path
    merged = list(after.get(None, []))
    for path in new_order:
        merged.append(path)
        merged.extend(after.get(path, []))
    return merged


def _shapes(shapes: list[str] | None) -> str:
    return "—" if shapes is None else ", ".join(shapes) or "nothing"


def _shape_change(old: list[str] | None, new: list[str] | None) -> str:
    """``output 16×5 → 16×10`` (dtypes named only where they differ)."""
    def dtypes(shapes: list[str] | None) -> set[str]:
        return {s.rpartition(" ")[2] for s in shapes or []}

    if old is not None and new is not None and dtypes(old) == dtypes(new):
        old, new = [s.rpartition(" ")[0] for s in old], [s.rpartition(" ")[0] for s in new]
    return f"output {_shapes(old)} {ARROW} {_shapes(new)}"


def hparam_changes(old: str, new: str) -> list[str]:
    """What differs between two hyper-parameter texts (``extra_repr``): ``kernel_size=(3, 3) → (5, 5)``
    for a keyword, ``arg 2: 16 → 32`` for a positional one, ``+bias=False`` / ``-bias=False`` for
    one only the new / old text has."""
    if old == new:
        return []
    old_items, new_items = split_top_level(old), split_top_level(new)

    def keyed(items: list[str]) -> tuple[list[str], dict[str, str]]:
        positional, keywords = [], {}
        for item in items:
            key, eq, value = item.partition("=")
            if eq and key.strip().isidentifier():
                keywords[key.strip()] = value.strip()
            else:
                positional.append(item)
        return positional, keywords

    (old_pos, old_kw), (new_pos, new_kw) = keyed(old_items), keyed(new_items)
    out: list[str] = []
    for i in range(max(len(old_pos), len(new_pos))):
        a = old_pos[i] if i < len(old_pos) else None
        b = new_pos[i] if i < len(new_pos) else None
        if a != b:
            out.append(f"arg {i + 1}: {a if a is not None else '—'} {ARROW} {b if b is not None else '—'}")
    for key in [*old_kw, *(k for k in new_kw if k not in old_kw)]:
        a, b = old_kw.get(key), new_kw.get(key)
        if a == b:
            continue
        if a is None:
            out.append(f"+{key}={b}")
        elif b is None:
            out.append(f"-{key}={a}")
        else:
            out.append(f"{key}={a} {ARROW} {b}")
    return out or [f"{old!r} {ARROW} {new!r}"]


def _runs(snapshot: Snapshot) -> dict[str, int]:
    """The folded runs of a snapshot: their first block's path -> how many blocks."""
    return {run[0]: len(run) for run in snapshot["runs"] if run}


def _module_changes(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    what: list[str] = []
    if a["class"] != b["class"]:
        what.append(f"class {a['class']} {ARROW} {b['class']}")
    elif a["qualname"] != b["qualname"]:
        what.append(f"class {a['qualname']} {ARROW} {b['qualname']}")
    what.extend(hparam_changes(a["hparams"], b["hparams"]))
    if a["own_params"] != b["own_params"]:
        if a["params"] != b["params"]:
            what.append(f"parameters {a['params']:,} {ARROW} {b['params']:,}")
        else:
            what.append(f"own parameters {a['own_params']:,} {ARROW} {b['own_params']:,}")
    if a["out"] != b["out"]:
        what.append(_shape_change(a["out"], b["out"]))
    return what


def _subtree(modules: dict[str, Any], path: str) -> Iterator[str]:
    prefix = path + "." if path else ""
    return (p for p in modules if p != path and p.startswith(prefix))


def compare(old: Snapshot, new: Snapshot) -> ArchDiff:
    """The differences between two snapshots (see the module docstring)."""
    old_mods, new_mods = old["modules"], new["modules"]
    old_runs, new_runs = _runs(old), _runs(new)
    changes: list[Change] = []
    marks: dict[str, ChangeKind] = {}
    covered: set[str] = set()  # inside an added or removed subtree already recorded
    for path in _merged_order(old_mods, new_mods):
        if path in covered:
            continue
        a, b = old_mods.get(path), new_mods.get(path)
        if a is None or b is None:
            kind: ChangeKind = "added" if a is None else "removed"
            side = new_mods if a is None else old_mods
            inside = [p for p in _subtree(side, path) if p not in (old_mods if a is None else new_mods)]
            covered.update(inside)
            marks[path] = kind
            marks.update((p, kind) for p in inside)
            entry = b if b is not None else a
            assert entry is not None
            changes.append(Change(path, kind, entry["class"], params_old=a and a["params"],
                                  params_new=b and b["params"], inside=len(inside)))
            continue
        what = _module_changes(a, b)
        if path in old_runs or path in new_runs:
            count_old, count_new = old_runs.get(path, 1), new_runs.get(path, 1)
            if count_old != count_new:
                what.insert(0, f"×{count_old} {ARROW} ×{count_new}")
        if what:
            marks[path] = "changed"
            changes.append(Change(path, "changed", b["class"], tuple(what), a["params"], b["params"]))
    return ArchDiff(changes, old["totals"]["params"], new["totals"]["params"], old["totals"]["macs"],
                    new["totals"]["macs"], (old["model"], new["model"]), marks)


def format_changes(diff: ArchDiff) -> str:
    """The changes as plain text, one line each, then the totals (what ``netviz --against`` prints)."""
    lines: list[str] = []
    if not diff.changes:
        lines.append(NO_CHANGE)
    else:
        width = max(len(c.path or "<root>") for c in diff.changes)
        for change in diff.changes:
            lines.append(f"{change.kind:<7}  {change.path or '<root>':<{width}}  {change.text}")
    for what, old, new, delta in diff.totals():
        lines.append(f"{what}: {old} {ARROW} {new} (Δ {delta})")
    return "\n".join(lines) + "\n"
