extensions = ["sphinx_netviz"]
numfig = True
