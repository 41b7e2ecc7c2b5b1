extensions = ["sphinx_netviz", "myst_parser"]
numfig = True
source_suffix = {".md": "markdown"}
