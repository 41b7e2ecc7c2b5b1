"""Write ``docs/torch-objects.inv``: the ``torch.nn`` classes of PyTorch's documentation.

The docs are built without network access, so intersphinx reads this local
inventory instead of downloading PyTorch's.  It lists every class exported by
``torch.nn`` under the URL PyTorch's documentation gives it
(``generated/torch.nn.Conv2d.html#torch.nn.Conv2d``).  Regenerate after a
PyTorch upgrade::

    python docs/make_torch_inventory.py
"""

from __future__ import annotations

import inspect
import zlib
from pathlib import Path

import torch.nn

HEADER = ("# Sphinx inventory version 2\n# Project: PyTorch\n# Version: {version}\n"
          "# The remainder of this file is compressed using zlib.\n")


def main() -> None:
    names = sorted(name for name, value in vars(torch.nn).items()
                   if inspect.isclass(value) and issubclass(value, torch.nn.Module) and not name.startswith("_"))
    body = "".join(f"torch.nn.{name} py:class 1 generated/torch.nn.{name}.html#$ -\n" for name in names)
    version = torch.__version__.split("+")[0]
    out = Path(__file__).with_name("torch-objects.inv")
    out.write_bytes(HEADER.format(version=version).encode() + zlib.compress(body.encode(), 9))
    print(f"{out}: {len(names)} classes")


if __name__ == "__main__":
    main()
