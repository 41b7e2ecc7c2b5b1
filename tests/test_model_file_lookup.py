"""A diagram that fails in the directive still makes its page depend on the model's file, found
without importing anything in the Sphinx process (issue 17, item 11).

``collect.note_model_file`` used ``importlib.util.find_spec``, which imports the parent packages of
the module it looks for: a package's ``__init__`` (model code) ran in the Sphinx process.
"""

from __future__ import annotations

import sys
from pathlib import Path

INIT = """
from pathlib import Path
Path(__file__).with_name("IMPORTED").write_text("the package's __init__ ran")
"""


def test_a_failing_directive_imports_no_model_package(make_app, tmp_path: Path) -> None:
    src = tmp_path / "src"
    package = src / "sidefx_models"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(INIT)
    (package / "net.py").write_text("import torch\nNet = torch.nn.Linear\n")
    (src / "conf.py").write_text("import os, sys\nsys.path.insert(0, os.path.abspath('.'))\n"
                                 "extensions = ['sphinx_netviz']\n")
    # a bad option: the directive fails before any child process is started
    (src / "index.rst").write_text("Page\n====\n\n.. netviz:: sidefx_models.net:Net\n   :input-shape: one, two\n")
    saved = list(sys.path)
    try:
        app = make_app("html", srcdir=src, confoverrides={"netviz_cache_dir": str(tmp_path / "cache")})
        app.build()
    finally:
        sys.path[:] = saved
        sys.modules.pop("sidefx_models", None)
    assert "cannot draw sidefx_models.net:Net" in app.warning.getvalue()  # failed in the directive
    assert not (package / "IMPORTED").exists()  # the package's code never ran in this process
    # and the page is read again when the model's file is fixed
    assert str((package / "net.py").resolve()) in {str(Path(p).resolve()) for p in app.env.dependencies["index"]}
