"""Example models drawn in the sphinx-netviz documentation: ours in plain ``torch.nn``, and the
zoo (:mod:`example_models.zoo`) of third-party architectures built from their configs."""
