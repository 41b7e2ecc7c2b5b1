"""sphinx-netviz's benchmarks: scripts that measure and save raw JSON, and a report rendered from it.

Not part of the installed package (``pyproject.toml`` packages ``sphinx_netviz*`` only).
"""
