"""The seed's first two cases (examples/) convert and match PyTorch in both layouts."""

from pathlib import Path

import pytest

from harness import check, convert

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("io_layout", ["torch", "keras"])
@pytest.mark.parametrize("name,expr", [("simple_conv", "SimpleConv()"),
                                       ("conv_block", "ConvBlock(3, 16)")])
def test_seed_example_matches_pytorch(name, expr, layout, io_layout):
    source = (EXAMPLES / f"{name}.py").read_text()
    check(source, expr, [(2, 3, 12, 12)], layout=layout, io_layout=io_layout)


def test_seed_examples_read_like_keras():
    code = convert((EXAMPLES / "conv_block.py").read_text(), "channels_last")
    assert "class ConvBlock(keras.Model):" in code
    assert "self.conv = layers.Conv2D(out_channels, 3, padding='same')" in code
    # PyTorch momentum 0.1 is Keras momentum 0.9; eps 1e-5 is always passed (P11, P12).
    assert "self.bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-05)" in code
    assert "self.pool = layers.MaxPooling2D(2)" in code
    assert "def call(self, x, training=None):" in code
    assert "import torch" not in code
