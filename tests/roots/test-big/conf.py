extensions = ["sphinx_netviz"]
