"""A zoo of real third-party architectures (``transformers``, ``diffusers``) built from config
classes, with no downloads: the models and inputs that ``tests/test_zoo.py`` and
``benchmarks/zoo.py`` draw.  See :mod:`tests.zoo.models`."""
