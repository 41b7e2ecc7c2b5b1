"""The hosting files docs/installation.rst tells users to copy parse, and do what the page says."""

from __future__ import annotations

import re

import yaml
from conftest import DOCS


def _commands(steps: list[str]) -> str:
    return "\n".join(steps)


def test_the_read_the_docs_config_installs_graphviz_and_cpu_torch_first() -> None:
    config = yaml.safe_load((DOCS / "hosting" / "readthedocs.yaml").read_text(encoding="utf-8"))
    assert config["version"] == 2
    assert "graphviz" in config["build"]["apt_packages"]
    pre_install = _commands(config["build"]["jobs"]["pre_install"])
    assert re.search(r"pip install torch --index-url \S+/whl/cpu", pre_install)
    # the project itself is installed after (python.install runs after pre_install)
    assert any(step.get("method") == "pip" for step in config["python"]["install"])
    assert config["sphinx"]["fail_on_warning"] is True
    assert config["sphinx"]["configuration"].endswith("conf.py")


def test_the_ci_workflow_keeps_the_diagram_cache_it_builds_with() -> None:
    workflow = yaml.safe_load((DOCS / "hosting" / "docs-workflow.yml").read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    cache_dir = job["env"]["NETVIZ_CACHE"]
    steps = job["steps"]
    kept = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert len(kept) == 1 and kept[0]["with"]["path"] == "${{ env.NETVIZ_CACHE }}"
    assert cache_dir
    runs = [s.get("run", "") for s in steps]
    install = next(i for i, r in enumerate(runs) if "whl/cpu" in r)
    assert "pip install torch --index-url" in runs[install].splitlines()[0]  # CPU torch before the rest
    assert any("apt-get install -y graphviz" in r for r in runs)
    build = next(r for r in runs if "sphinx-build" in r)
    assert '-D netviz_cache_dir="$NETVIZ_CACHE"' in build and "-W" in build
    # the cache is restored before the build that uses it
    assert steps.index(kept[0]) < runs.index(build)
