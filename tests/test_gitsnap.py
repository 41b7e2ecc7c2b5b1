"""A git ref extracted into the cache (sphinx_netviz.gitsnap), on a temporary repository made here:
the commit's files, keyed by its hash, the working tree untouched; clear errors for no git, no
repository and unknown refs; sys.path entries mapped into the extracted tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sphinx_netviz.gitsnap import GitProblem, checkout_ref

MODEL = '''from torch import nn


def make_net(width: int = {width}) -> nn.Module:
    return nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 2))
'''


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository: v1 has width 8, main a commit later width 16, and the working tree an
    uncommitted width 32 (and an untracked file)."""
    repo = tmp_path / "project"
    (repo / "docs" / "models").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    model = repo / "docs" / "models" / "netmodels.py"
    model.write_text(MODEL.format(width=8))
    (repo / "docs" / "conf.py").write_text("extensions = []\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "tag", "v1")
    model.write_text(MODEL.format(width=16))
    git(repo, "commit", "-q", "-am", "wider")
    model.write_text(MODEL.format(width=32))
    (repo / "docs" / "untracked.txt").write_text("mine\n")
    return repo


def test_a_ref_is_extracted_once_by_its_hash_and_the_working_tree_is_untouched(repo: Path, tmp_path: Path) -> None:
    before = git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD"), git(repo, "stash", "list")
    cache = tmp_path / "cache"
    tree = checkout_ref(repo / "docs", "v1", cache)
    assert tree.commit == git(repo, "rev-parse", "v1^{commit}")
    assert tree.tree == cache / "git" / tree.commit and tree.root == repo
    assert "width: int = 8" in (tree.tree / "docs" / "models" / "netmodels.py").read_text()
    assert not (tree.tree / "docs" / "untracked.txt").exists()
    # the working tree, index and HEAD are as they were
    assert (git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD"), git(repo, "stash", "list")) == before
    assert "width: int = 32" in (repo / "docs" / "models" / "netmodels.py").read_text()
    # a second time: the same folder, not extracted again; another ref: another folder
    stamp = (tree.tree / "docs" / "models" / "netmodels.py").stat().st_mtime_ns
    again = checkout_ref(repo, tree.commit[:10], cache)
    assert again.tree == tree.tree
    assert (again.tree / "docs" / "models" / "netmodels.py").stat().st_mtime_ns == stamp
    head = checkout_ref(repo / "docs" / "models", "main", cache)
    assert head.tree != tree.tree and "width: int = 16" in (head.tree / "docs" / "models" / "netmodels.py").read_text()
    assert sorted(p.name for p in (cache / "git").iterdir()) == sorted([tree.commit, head.commit])  # no scratch left


def test_sys_path_entries_inside_the_repository_move_into_the_tree(repo: Path, tmp_path: Path) -> None:
    tree = checkout_ref(repo, "v1", tmp_path / "cache")
    outside = str(Path(sys.prefix) / "lib")
    assert tree.map_sys_path([str(repo / "docs" / "models"), outside, "", str(repo)]) == (
        str(tree.tree / "docs" / "models"), outside, "", str(tree.tree))


def test_the_old_model_imports_from_the_tree_in_its_own_process(repo: Path, tmp_path: Path) -> None:
    """A child with sys.path mapped into the tree builds v1's model (width 8), not the working tree's."""
    tree = checkout_ref(repo, "v1", tmp_path / "cache")
    path = tree.map_sys_path([str(repo / "docs" / "models")])
    old = tmp_path / "old.json"
    run = subprocess.run([sys.executable, "-m", "sphinx_netviz", "netmodels:make_net", "-p", path[0],
                          "--input-shape", "1,4", "--snapshot", str(old)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    diff = subprocess.run([sys.executable, "-m", "sphinx_netviz", "netmodels:make_net", "-p",
                           str(repo / "docs" / "models"), "--input-shape", "1,4", "--against", str(old)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert diff.returncode == 1, diff.stderr
    assert "out_features=8 → 32" in diff.stdout


def test_errors_name_what_is_wrong(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(GitProblem, match=r"'v9' is not a tag, branch or commit of the git repository at .*project"):
        checkout_ref(repo, "v9", cache)
    for bad in ("--output=/tmp/x", "", "a b"):
        with pytest.raises(GitProblem, match="not a git ref|is not a tag"):
            checkout_ref(repo, bad, cache)
    lone = tmp_path / "lone"
    lone.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(GitProblem, match=r"lone is not in a git repository"):
        checkout_ref(lone, "v1", cache)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(GitProblem, match=r"needs the git program, and there is none on PATH"):
        checkout_ref(repo, "v1", cache)
    assert not (cache / "git").exists() or not any((cache / "git").iterdir())
