import os
import sys

sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz"]
project = "isolation"
# short limits keep the hostile suite fast
netviz_timeout = 6
netviz_memory_mb = 3000
netviz_onnx = "none"
