"""A small git repository made while the docs are built, for the ``:against: REF`` example.

"Comparing architectures" compares a model with the same model as its
repository had it at tag ``v1``.  The docs' own repository may be a shallow
clone without that history, so ``conf.py`` calls :func:`make`, which keeps a
repository of one file, ``netviz_release_demo.py``: committed at ``v1`` (an
LSTM tagger), then edited in the working tree and not committed (two
bidirectional layers, a layer norm, a wider head).  Its commits have fixed
authors and dates, so ``v1`` is the same commit in every build (and the
diagram cache's extracted copy of it is reused).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: where the repository is kept between builds
FOLDER = Path(tempfile.gettempdir()) / "sphinx-netviz-docs-release-demo"
MODULE = "netviz_release_demo.py"

V1 = '''"""A token tagger: embeddings, an LSTM, a linear head."""

from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(1000, 64)
        self.rnn = nn.LSTM(64, 128, batch_first=True)
        self.head = nn.Linear(128, 5)

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(out)
'''

NOW = '''"""A token tagger: embeddings, a two-layer bidirectional LSTM, a layer norm, a linear head."""

from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(1000, 64)
        self.rnn = nn.LSTM(64, 128, num_layers=2, batch_first=True, bidirectional=True)
        self.norm = nn.LayerNorm(256)
        self.head = nn.Linear(256, 5)

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(self.norm(out))
'''

_ENV = {"GIT_AUTHOR_NAME": "sphinx-netviz docs", "GIT_AUTHOR_EMAIL": "docs@example.invalid",
        "GIT_COMMITTER_NAME": "sphinx-netviz docs", "GIT_COMMITTER_EMAIL": "docs@example.invalid",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, env={**os.environ, **_ENV}, check=True,
                          capture_output=True, text=True).stdout.strip()


def _ready(folder: Path) -> bool:
    try:
        return (folder / MODULE).read_text() == NOW and bool(_git(folder, "rev-parse", "--verify", "-q", "v1"))
    except (OSError, subprocess.CalledProcessError):
        return False


def make(folder: Path = FOLDER) -> Path:
    """The repository (made if missing or not as described): the folder to put on ``sys.path``."""
    if _ready(folder):
        return folder
    scratch = Path(tempfile.mkdtemp(prefix=folder.name + "-", dir=folder.parent))
    _git(scratch, "init", "-q", "-b", "main")
    (scratch / MODULE).write_text(V1)
    _git(scratch, "add", MODULE)
    _git(scratch, "commit", "-q", "-m", "v1: an LSTM tagger")
    _git(scratch, "tag", "v1")
    (scratch / MODULE).write_text(NOW)  # edited, not committed
    shutil.rmtree(folder, ignore_errors=True)
    try:
        os.rename(scratch, folder)
    except OSError:  # another build made it meanwhile
        shutil.rmtree(scratch, ignore_errors=True)
    return folder
