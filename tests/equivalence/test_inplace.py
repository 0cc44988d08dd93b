"""Issue 4, in-place changes (pitfalls P48): `x.add_(y)`, `relu_`, `inplace=True`,
`x += y`, `x[i] = v` and `x[..., :k] *= s` become functional code that rebinds the
variable, and every alias of the changed tensor that is read later sees the change
(the vq-vae-2 / iresnet bug class). Views that would have to follow are errors."""

from pathlib import Path

import pytest

import torch2keras
from harness import assert_conversion_error, check, convert, flat

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
    # ... through a chain of views (flatten, then transpose), either way round.
    ("t = x.flatten(2).transpose(1, 2)\n        t.mul_(2.0)\n        return x",
     "(a view sharing its memory) is read later"),
    ("t = x.flatten(2).transpose(1, 2)\n        x[:, 1] = 0.0\n        return t",
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
    assert_conversion_error(source, message)


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


# Found by a review (a fresh user's 67 cases): aliases made by tuple unpacking,
# chained assignment, functions returning their argument, nn.Identity and dropout
# (which return their input), activations from ModuleDicts, Sequentials starting
# with dropout or a nested Sequential, and items of dicts.
REVIEW_ALIASES = '''
import torch
import torch.nn as nn


def passthrough(t):
    return t


class Forms(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 6)
        self.skip = nn.Identity()
        self.drop = nn.Dropout(0.3)
        self.acts = nn.ModuleDict({"relu": nn.ReLU(inplace=True), "lrelu": nn.LeakyReLU(0.2, inplace=True)})
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Sequential(nn.ReLU(inplace=True)), nn.Linear(6, 6))

    def forward(self, x):
        y = self.lin(x)
        a, b = y, y
        a.relu_()                      # b is relu(y) too
        c = d = self.lin(x) - 1
        c.mul_(3)                      # d is c
        e = passthrough(c)
        e.add_(1)                      # c and d change
        s = self.skip(d)
        s.mul_(2)                      # nn.Identity returns d itself
        t = self.drop(s)
        t.sub_(0.5)                    # dropout in inference returns s itself
        outs = {}
        g = x * 1.5
        for name, act in self.acts.items():
            outs[name] = act(g).sum(1)   # changes g in place each time
        h = self.head(x)               # dropout, then an in-place ReLU on x
        return b, d, s, g, outs, h + x
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_review_alias_forms(layout):
    check(REVIEW_ALIASES, "Forms()", [(3, 6)], layout=layout)


@pytest.mark.parametrize("body,message", [
    # A list holding a tensor changed in place later (VGG perceptual-loss taps).
    ("feats = []\n        for _ in range(2):\n            x = self.lin(x)\n            feats.append(x)\n"
     "            x = self.act(x)\n        return feats",
     "`feats` (a list, tuple or dict holding it) is read later"),
    ("pair = (x, x * 2)\n        x[:, 1] = 0.0\n        first, _ = pair\n        return first",
     "`pair` (a list, tuple or dict holding it) is read later"),
    ("self.calls += 1\n        return x", "changing `self.calls` in forward code is not supported"),
    ("y = self.act2(x)\n        return y + x",
     "may be an in-place activation (depending on constructor arguments)"),
])
def test_review_inplace_changes_that_cannot_follow_are_errors(body, message):
    source = f'''
import torch
import torch.nn as nn


def make_act(name):
    if name == "relu":
        return nn.ReLU(inplace=True)
    return nn.GELU()


class Net(nn.Module):
    def __init__(self, kind="relu"):
        super().__init__()
        self.lin = nn.Linear(6, 6)
        self.act = nn.ReLU(inplace=True)
        self.act2 = make_act(kind)
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x):
        {body}
'''
    assert_conversion_error(source, message)


def test_review_items_of_dicts_and_lists_stay_python():
    source = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"a": nn.Conv2d(3, 2, 1), "b": nn.Conv2d(3, 4, 1)})

    def forward(self, x):
        outs = {}
        for name, head in self.heads.items():
            outs[name] = head(x)
        feats = [x, x * 2]
        feats[1] = feats[1] + 1
        feats[0] += 1
        return outs, feats
'''
    check(source, "Net()", [(2, 3, 5, 6)])
    assert "pytorch_setitem" not in convert(source, "channels_last")


# Found by a second review: swaps, aliases bound before a loop that rebinds the
# changed variable, aliases that depend on a branch or are items of a returned
# tuple, F.dropout and .float() returning their input.
SWAPS_AND_PASSTHROUGHS = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 6)
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x):
        a = self.lin(x)
        b = a * 2
        p = q = a
        a, b = b, a
        a.sigmoid_()
        b.tanh_()                       # b is the old a: p and q follow
        y = self.lin(x)
        c = F.dropout(y, 0.5, training=self.training)  # y itself in inference
        d = y.float()                   # y itself (already float32)
        self.act(y)
        return a, b, p, q, c, d
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_review_swaps_and_passthrough_results(layout):
    check(SWAPS_AND_PASSTHROUGHS, "Net()", [(3, 6)], layout=layout)


@pytest.mark.parametrize("body,message", [
    ("first = x\n        for _ in range(2):\n            prev = x\n            x += 1\n            x = x * 0.5 + prev\n"
     "        return x + first",
     "inside a loop that rebinds it, and `first` (the same tensor on the first iteration only)"),
    ("if x.mean() > 0:\n            z = x\n        else:\n            z = x * 2\n        x.relu_()\n        return z + x",
     "`z` may be the same tensor"),
    ("z = x if x.mean() > 0 else x * 2\n        x.relu_()\n        return z + x", "`z` may be the same tensor"),
    ("a, b = split(x)\n        x.relu_()\n        return a + b", "`a` may be the same tensor"),
])
def test_review_aliases_known_only_at_run_time_are_errors(body, message):
    source = f'''
import torch.nn as nn


def split(t):
    return t, t * 2.0


class Net(nn.Module):
    def forward(self, x):
        {body}
'''
    assert_conversion_error(source, message)


# timm's LayerScale: the in-place change happens only in the branch that runs.
LAYER_SCALE = '''
import torch
from torch import nn


class LayerScale(nn.Module):
    def __init__(self, dim=8, inplace=False):
        super().__init__()
        self.inplace = inplace
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x.mul_(self.gamma) if self.inplace else x * self.gamma
'''


@pytest.mark.parametrize("inplace", [False, True])
def test_in_place_change_in_a_conditional_expression_branch(inplace):
    check(LAYER_SCALE, f"LayerScale(inplace={inplace})", [(2, 5, 8)])


def test_in_place_change_in_a_conditional_branch_read_later_is_an_error():
    source = LAYER_SCALE.replace("return x.mul_(self.gamma) if self.inplace else x * self.gamma",
                                 "y = x.mul_(self.gamma) if self.inplace else x * self.gamma\n        return x + y")
    assert_conversion_error(source, "in a branch of a conditional expression")
