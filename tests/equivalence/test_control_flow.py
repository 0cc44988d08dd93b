"""Issue 4, conditions: static tests stay Python `if`; tests computed from tensors
become keras.ops.cond; a parameter that may be either is written as ops.cond too
(right for a Python bool and for a boolean tensor). Each case runs eagerly and in
tf.function, with inputs that take every branch."""

from pathlib import Path

import numpy as np
import pytest

from harness import check_calls, convert, flat

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LAYOUTS = ["channels_last", "channels_first"]


def image(seed, shape=(2, 3, 10, 12), shift=0.0):
    return (np.random.default_rng(seed).normal(size=shape) + shift).astype("float32")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_seed_conditional_conv_with_bool_and_tensor_conditions(layout):
    source = (EXAMPLES / "conditional_conv.py").read_text()
    x = image(1)
    calls = [((x, True), {}), ((x, False), {}),
             ((x, np.array(True)), {}), ((x, np.array(False)), {})]
    check_calls(source, "ConditionalConv()", calls, layout=layout)


def test_seed_conditional_conv_creates_both_convolutions_once():
    code = convert((EXAMPLES / "conditional_conv.py").read_text(), "channels_last")
    text = flat(code)
    assert "self.conv1 = layers.Conv2D(16, 3)" in text
    assert "self.conv2 = layers.Conv2D(16, 5)" in text
    assert "x = ops.cond(condition, lambda: self.conv1(x), lambda: self.conv2(x))" in text
    # Layers are made in __init__ only.
    assert text.count("layers.Conv2D(") == 2


GATE = '''
import torch
import torch.nn as nn


class Gate(nn.Module):
    """An if/elif/else chain on tensors, a conditional expression, an early return."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 8, 5, padding=2)

    def forward(self, x, mask=None):
        if mask is not None and x.mean() > 0:
            y = self.conv1(x)
            z = y * 2
        elif not (x.sum() < -20):
            y = self.conv2(x)
            z = y
        else:
            y = torch.zeros_like(x[:, :1]).repeat(1, 8, 1, 1)
            z = y + 1
        s = x.mean() if x.amax() > 3 else x.amin()
        if y.mean() > 0:
            return y + z
        y = self.conv1(x) + s
        return y
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_tensor_conditions_take_each_branch(layout):
    big = image(2, shift=1.0) * 2  # mean > 0, amax > 3
    small = image(3) * 0.1 - 0.01  # sum in (-20, 0): the elif branch; amax < 3
    tiny = image(4) * 0.1 - 2.0  # sum < -20: the else branch
    assert big.mean() > 0 and big.max() > 3
    assert -20 < small.sum() < 0 and small.max() < 3
    assert tiny.sum() < -20
    mask = np.ones((2, 1), "float32")
    calls = [((x,), kw) for x in (big, small, tiny) for kw in ({}, {"mask": mask})]
    check_calls(GATE, "Gate()", calls, layout=layout)


def test_tensor_conditions_read_like_keras():
    text = flat(convert(GATE, "channels_last"))
    assert "y, z = ops.cond(mask is not None and ops.mean(x) > 0, true_fn2, false_fn2)" in text
    assert "ops.logical_not(" in text
    assert "s = ops.cond(ops.amax" in text or "s = ops.cond(ops.max(" in text
    # `if t: return a` then more code: the code after is the other branch.
    assert "return ops.cond(ops.mean(y) > 0, lambda: y + z, lambda: false_fn3(" in text
