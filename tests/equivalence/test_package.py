"""`torch2keras convert PKG_DIR -o OUT_DIR` converts a package: the output mirrors
its layout, a file keeps importing what it imports from files converted with it
(their converted versions), and the converted package matches PyTorch."""

import os
import subprocess
import sys

import numpy as np

from harness import assert_matches, randomize

BLOCKS = '''"""Building blocks."""
import torch.nn as nn


class ConvBN(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()
'''

NET = '''"""The network."""
import torch
import torch.nn as nn

from .blocks import ConvBN as Block


class Net(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.stem = Block(3, 8, 2)
        self.body = nn.Sequential(Block(8, 8), Block(8, 16, 2))
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.body(self.stem(x))
        return self.head(torch.flatten(x.mean((2, 3), keepdim=True), 1))
'''


def test_package_converts_with_imports_between_its_files(tmp_path):
    package = tmp_path / "src" / "tinynet"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "blocks.py").write_text(BLOCKS)
    (package / "net.py").write_text(NET)
    out = tmp_path / "out" / "tinynet_keras"
    run = subprocess.run([sys.executable, "-m", "torch2keras", "convert", str(package), "-o", str(out)],
                         capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["__init__.py", "blocks.py", "net.py"]
    net_code = (out / "net.py").read_text()
    assert "from .blocks import ConvBN as Block" in net_code
    assert "class ConvBN" not in net_code  # imported, not copied

    sys.path[:0] = [str(tmp_path / "src"), str(tmp_path / "out")]
    try:
        import tinynet.net as torch_net
        import tinynet_keras.net as keras_net

        torch_model = torch_net.Net().eval()
        randomize(torch_model, 0)
        x = np.random.default_rng(1).normal(size=(2, 3, 16, 16)).astype("float32")
        assert_matches(torch_model, keras_net, keras_net.Net(), x)
    finally:
        del sys.path[:2]
        for name in [m for m in sys.modules if m.startswith(("tinynet", "tinynet_keras"))]:
            del sys.modules[name]
