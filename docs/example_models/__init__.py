"""Example models drawn in the sphinx-netviz documentation, in plain ``torch.nn``."""
