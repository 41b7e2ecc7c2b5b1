"""A git ref of the docs' repository as a folder of files: the old side of ``:against: REF``.

:func:`checkout_ref` finds the git repository that holds a folder (the
docs' source folder), resolves ``REF`` (a tag, a branch or a commit) to its
commit hash and extracts that commit's files (``git archive``, unpacked
here with :mod:`tarfile`'s ``data`` filter) into ``<cache>/git/<hash>``.
Only git's object database is read: the working tree, the index and HEAD
are never touched, and nothing is checked out.  A commit is extracted once;
later builds, and builds running at the same time, find the folder (it is
made under a temporary name and renamed into place whole).

The old model is then imported from the extracted tree in its own child:
:meth:`GitTree.map_path` takes each entry of the project's ``sys.path`` (and
the working folder) that lies inside the repository to the same path,
relative to the repository's root, in the extracted tree; entries outside
the repository (the installed packages) stay as they are.

No git program, a folder outside any repository, or a ref the repository
does not have raise :class:`GitProblem` naming what is wrong.  Git
submodules and LFS files are not extracted (an archive holds neither).
No Sphinx, no torch.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import InputProblem

__all__ = ["GitProblem", "GitTree", "checkout_ref"]

#: the subfolder of the diagram cache that holds extracted commits
GIT_FOLDER = "git"
#: how long one git command may take (an archive of a big repository)
GIT_TIMEOUT = 600.0
_HASH = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
#: written last into an extracted tree: the extraction is complete
_DONE = ".netviz-extracted"


class GitProblem(InputProblem):
    """A git ref that cannot be had: no git, not a repository, an unknown ref, a failed archive."""


@dataclass(frozen=True)
class GitTree:
    """One commit of a repository, extracted."""

    #: the ref as given (``v1.0``, ``main``, ``HEAD~2``)
    ref: str
    #: its full commit hash
    commit: str
    #: the repository's working tree root (nothing in it is touched)
    root: Path
    #: the folder holding the commit's files
    tree: Path

    def map_path(self, path: str | os.PathLike[str]) -> str:
        """``path`` (absolute, or relative to the working folder) moved into the extracted tree if it
        lies inside the repository; otherwise unchanged.  ``''`` (the working folder) stays ``''``."""
        text = os.fspath(path)
        if text == "":
            return text
        absolute = Path(os.path.abspath(text))
        for root in {self.root, self.root.resolve()}:
            try:
                relative = absolute.relative_to(root)
            except ValueError:
                continue
            return str(self.tree / relative) if relative.parts else str(self.tree)
        return text

    def map_sys_path(self, entries: Iterable[str]) -> tuple[str, ...]:
        """A ``sys.path`` whose entries inside the repository point into the extracted tree."""
        return tuple(self.map_path(entry) for entry in entries)


def _git(args: list[str], cwd: Path, *, what: str) -> str:
    """Run ``git args`` in ``cwd``; its stdout, or a :class:`GitProblem` saying ``what`` failed."""
    git = shutil.which("git")
    if git is None:
        raise GitProblem("comparing against a git ref needs the git program, and there is none on PATH: "
                         "install git, or compare against an architecture snapshot file instead (.json)")
    try:
        done = subprocess.run([git, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        raise GitProblem(f"{what}: git took more than {GIT_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise GitProblem(f"{what}: git could not be run ({exc})") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitProblem(f"{what}: {said[-1] if said else f'git exited with status {done.returncode}'}")
    return done.stdout.decode(errors="replace").strip()


def repository_root(folder: str | os.PathLike[str]) -> Path:
    """The root of the git working tree holding ``folder``, or a :class:`GitProblem`."""
    path = Path(folder)
    if not path.is_dir():
        raise GitProblem(f"{path} is not a folder, so it is in no git repository")
    try:
        top = _git(["rev-parse", "--show-toplevel"], path, what=f"{path} is not in a git repository")
    except GitProblem as exc:
        if "not a git repository" in str(exc).lower():
            raise GitProblem(f"{path} is not in a git repository (git found no .git folder above it): "
                             "compare against a snapshot file (.json) or build the docs from a clone") from None
        raise
    return Path(top)


def resolve_ref(root: Path, ref: str) -> str:
    """The full commit hash ``ref`` names in the repository at ``root``, or a :class:`GitProblem`."""
    if not ref or ref.startswith("-") or any(c.isspace() or ord(c) < 32 for c in ref):
        raise GitProblem(f"{ref!r} is not a git ref: name a tag, a branch or a commit")
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root, what="")
    except GitProblem:
        commit = ""
    if not _HASH.fullmatch(commit):
        raise GitProblem(f"{ref!r} is not a tag, branch or commit of the git repository at {root} "
                         "(git rev-parse found no commit by that name): check the spelling, or fetch it")
    return commit


def _extract(root: Path, commit: str, into: Path) -> None:
    """Unpack ``git archive commit`` into the new folder ``into``."""
    git = shutil.which("git")
    if git is None:  # checked by resolve_ref already; the PATH may have changed
        raise GitProblem("comparing against a git ref needs the git program, and there is none on PATH")
    with subprocess.Popen([git, "archive", "--format=tar", commit], cwd=root, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env={**os.environ, "LC_ALL": "C"}) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                archive.extractall(into, filter="data")
        except (tarfile.TarError, OSError) as exc:
            proc.kill()
            raise GitProblem(f"the files of commit {commit[:12]} could not be extracted into {into}: {exc}") from None
        finally:
            error = proc.stderr.read().decode(errors="replace").strip()
            proc.wait()
    if proc.returncode != 0:
        raise GitProblem(f"git archive {commit[:12]} failed: {error.splitlines()[-1] if error else proc.returncode}")


def checkout_ref(folder: str | os.PathLike[str], ref: str, cache_root: str | os.PathLike[str]) -> GitTree:
    """The files of ``ref`` in the git repository holding ``folder``, extracted into
    ``<cache_root>/git/<commit hash>`` (once; see the module docstring)."""
    root = repository_root(folder)
    commit = resolve_ref(root, ref)
    tree = Path(cache_root) / GIT_FOLDER / commit
    if (tree / _DONE).is_file():
        return GitTree(ref, commit, root, tree)
    tree.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=tree.parent))
    try:
        _extract(root, commit, scratch)
        (scratch / _DONE).write_text(f"{commit}\n", encoding="utf-8")
        try:
            os.rename(scratch, tree)
        except OSError:
            if not (tree / _DONE).is_file():  # not another build's finished copy: a real failure
                if tree.exists():  # left half made by a process killed before the marker existed
                    shutil.rmtree(tree, ignore_errors=True)
                os.rename(scratch, tree)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return GitTree(ref, commit, root, tree)
