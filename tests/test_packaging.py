"""What a user gets from ``python -m build``: the license, the metadata, a test suite that runs.

The sdist and the wheel are built once (``--no-isolation``: the pinned setuptools of the
test environment, no download) into a temporary folder and read as archives.
"""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow  # two setuptools builds


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
                           "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _sdist_names(dist: Path) -> set[str]:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        return {name.removeprefix(top + "/") for name in tar.getnames()}


def _wheel(dist: Path) -> zipfile.ZipFile:
    (wheel,) = dist.glob("*.whl")
    return zipfile.ZipFile(wheel)


def _tracked(folder: str) -> set[str]:
    listed = subprocess.run(["git", "ls-files", folder], cwd=REPO, capture_output=True, text=True, check=True)
    return {name for name in listed.stdout.splitlines() if name and "__pycache__" not in name}


def test_the_sdist_holds_the_license_and_a_test_suite_that_can_run(dist: Path) -> None:
    names = _sdist_names(dist)
    assert {"LICENSE", "README.md", "pyproject.toml", "constraints/dev.txt"} <= names
    # every tracked test file, conftest.py and the Sphinx test roots included, and the docs the
    # tests build and draw the example models of
    missing = sorted((_tracked("tests") | _tracked("docs")) - names)
    assert not missing, f"tracked files missing from the sdist: {missing[:20]}"
    assert {"tests/conftest.py", "tests/browser/conftest.py", "docs/conf.py"} <= names
    assert not [n for n in names if "node_modules" in n or n.startswith("docs/_build")]


def test_the_wheel_has_the_license_the_static_files_and_honest_metadata(dist: Path) -> None:
    wheel = _wheel(dist)
    names = wheel.namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert {"sphinx_netviz/static/netviz.js", "sphinx_netviz/static/netviz.css", "sphinx_netviz/py.typed"} <= set(names)
    assert not [n for n in names if n.startswith("tests/")]
    (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    metadata = email.message_from_bytes(wheel.read(metadata_name))
    assert metadata["License-Expression"] == "MIT"
    assert {"sphinx", "pytorch", "onnx"} <= set(metadata["Keywords"].split(","))
    classifiers = metadata.get_all("Classifier")
    assert any(c.startswith("Development Status ::") for c in classifiers)
    # one classifier per Python version that requires-python admits and CI tests
    assert metadata["Requires-Python"] == ">=3.10"
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in (10, 11, 12, 13)} <= set(classifiers)
    # the library's torch requirement is a range, never a pin (constraints/dev.txt pins it)
    torch = [r for r in metadata.get_all("Requires-Dist") if r.startswith("torch")]
    assert torch == ["torch>=2.5"], torch
