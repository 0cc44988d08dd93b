import sys
from pathlib import Path

# torch.optim's first step imports torch._dynamo, which imports triton; triton's
# native module crashes the process (a segmentation fault) when it loads after
# TensorFlow's. Loaded here first, before any test module imports TensorFlow.
import torch._dynamo  # noqa: F401,E402

sys.path.insert(0, str(Path(__file__).parent))
