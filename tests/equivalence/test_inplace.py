"""Issue 4, in-place changes (pitfalls P48): `x.add_(y)`, `relu_`, `inplace=True`,
`x += y`, `x[i] = v` and `x[..., :k] *= s` become functional code that rebinds the
variable, and every alias of the changed tensor that is read later sees the change
(the vq-vae-2 / iresnet bug class). Views that would have to follow are errors."""

from pathlib import Path

import pytest

import torch2keras
from harness import check, convert, flat

LAYOUTS = ["channels_last", "channels_first"]

ALIASES = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x
        out = self.conv(F.relu_(x))       # P48: x and identity become relu(x)
        out += identity
        y = self.relu(out)                # out is changed too
        y = y + out
        y.add_(1.0).mul_(0.5)
        z = y.clone()
        z.clamp_(min=0.8)                 # y is not changed: clone copies
        return y, z, x, identity
'''

ITEMS = '''
import torch
import torch.nn as nn


class Items(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        y[:, 0] = 0
        y[..., :2] *= 3
        y[y > 1] = 1
        y[:, 1:3, ::2] = y[:, 1:3, ::2] - 5
        k = 2
        y[:, k].masked_fill_(y[:, k] < 0, 0.25)
        return y
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_inplace_ops_reach_every_alias(layout):
    check(ALIASES, "Block()", [(2, 4, 6, 7)], layout=layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_item_assignment(layout):
    check(ITEMS, "Items()", [(2, 3, 6, 7)], layout=layout)


def test_inplace_ops_read_like_keras():
    text = flat(convert(ALIASES, "channels_last"))
    # F.relu_(x) rebinds x, and identity (an alias read later) follows it.
    assert "x = ops.relu(x) identity = x out = self.conv(x)" in text
    # nn.ReLU(inplace=True) on out, read later: out is rebound.
    assert "out = self.relu(out) y = out" in text
    assert "y = y + 1.0 y = y * 0.5" in text
    text = flat(convert(ITEMS, "channels_last"))
    assert "y = pytorch_setitem(y, np.s_[:, 0], 0)" in text
    assert "y = pytorch_setitem(y, np.s_[..., :2], y[..., :2] * 3)" in text
    assert "y = pytorch_setitem(y, y > 1, 1)" in text


def test_inplace_op_not_read_later_is_plain():
    source = '''
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x, inplace=True)
'''
    text = flat(convert(source, "channels_last"))
    assert "return ops.transpose(ops.relu(x), (0, 3, 1, 2))" in text or "return ops.relu(x)" in text
    check(source, "Net()", [(2, 3, 5, 5)])


@pytest.mark.parametrize("body,message", [
    # A view of x read later would have to follow x's change.
    ("v = x.view(2, -1)\n        x.relu_()\n        return x + v.sum()",
     "(a view sharing its memory) is read later"),
    ("self.scale.mul_(2)\n        return x * self.scale",
     "an in-place change of `self.scale` in forward code is not supported"),
    ("self.scale[0] = 2\n        return x",
     "item assignment to `self.scale` in forward code is not supported"),
])
def test_inplace_changes_that_cannot_follow_are_errors(body, message):
    source = f'''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scale", torch.ones(3))

    def forward(self, x):
        {body}
'''
    result = torch2keras.convert(source, filename="model.py")
    assert not result.ok
    assert any(message in d.message for d in result.diagnostics), [d.message for d in result.diagnostics]


def test_block_changing_its_argument_read_later_is_an_error():
    source = '''
import torch.nn as nn


class Inner(nn.Module):
    def forward(self, x):
        x += 1
        return x * 2


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()

    def forward(self, x):
        y = self.inner(x)
        return x + y
'''
    result = torch2keras.convert(source, filename="model.py")
    assert any("changes its argument `x` in place" in d.message for d in result.diagnostics)


GOLDEN_ALIASES = (Path(__file__).resolve().parents[1] / "golden" / "inplace_aliases" / "input.py").read_text()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_inplace_module_result_is_an_alias_of_its_input(layout):
    # y = self.relu(out) with an in-place ReLU: y *is* out, so y.add_() changes out.
    check(GOLDEN_ALIASES, "Block()", [(2, 4, 6, 7)], layout=layout)


# rosinality/vq-vae-2-pytorch#60 (P48): the Sequential's first in-place ReLU changes
# `input`, so the skip connection adds relu(input), not input.
VQ_VAE_RESBLOCK = '''
import torch.nn as nn


class ResBlock(nn.Module):
    def __init__(self, in_channel, channel):
        super().__init__()
        self.conv = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channel, channel, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channel, in_channel, 1),
        )

    def forward(self, input):
        out = self.conv(input)
        out += input
        return out


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 1)
        self.block = ResBlock(4, 8)

    def forward(self, x):
        return self.block(self.stem(x))
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sequential_starting_in_place_changes_its_input(layout):
    check(VQ_VAE_RESBLOCK, "Net()", [(2, 3, 6, 7)], layout=layout)
    assert "input = self.conv.layers[0](input)" in convert(VQ_VAE_RESBLOCK, layout)
