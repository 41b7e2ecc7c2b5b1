import os
import sys

sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz"]
netviz_onnx = "none"
