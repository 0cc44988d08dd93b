"""Issue 4, conditions: static tests stay Python `if`; tests computed from tensors
become keras.ops.cond; a parameter that may be either is written as ops.cond too
(right for a Python bool and for a boolean tensor). Each case runs eagerly and in
tf.function, with inputs that take every branch."""

from pathlib import Path

import numpy as np
import pytest

from harness import assert_conversion_error, check_calls, convert, flat

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
    assert "y, z = ops.cond(mask_ is not None and ops.mean(x) > 0, true_fn, false_fn)" in text
    assert "ops.logical_not(" in text
    assert "s = ops.cond(ops.amax" in text or "s = ops.cond(ops.max(" in text
    # `if t: return a` then more code: the code after is the other branch.
    assert "return ops.cond(ops.mean(y) > 0, lambda: y + z, lambda: false_fn3(" in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_own_example_gated_refiner(layout):
    """examples/gated_refiner.py: a bool-or-tensor choice of convolution, a loop on
    a tensor condition (run 0 and several times), a custom layer, in-place ops."""
    source = (EXAMPLES / "gated_refiner.py").read_text()
    calm = image(5) * 0.1
    wild = image(6) * 40.0
    calls = [((x, flag), {}) for x in (calm, wild)
             for flag in (True, False, np.array(True), np.array(False))]
    check_calls(source, "GatedRefiner()", calls, layout=layout)


LOOPS = (Path(__file__).resolve().parents[1] / "golden" / "while_loop" / "input.py").read_text()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_while_on_a_tensor_and_python_loops(layout):
    # Mean magnitude below 1 (no iteration) and far above it (several).
    calls = [((image(7, (2, 4, 5, 6)) * s,), {}) for s in (0.5, 30.0)]
    check_calls(LOOPS, "Refine()", calls, layout=layout)


def test_while_on_a_tensor_reads_like_keras():
    text = flat(convert(LOOPS, "channels_last"))
    assert "def cond_fn(x, n): return ops.logical_and(ops.mean(ops.abs(x)) > 1, n < 20)" in text
    assert "def body_fn(x, n): x = x * 0.5 n = n + 1 return x, n" in text
    assert "x, n = ops.while_loop(cond_fn, body_fn, (x, n))" in text
    assert "for i, block in enumerate(self.blocks):" in text


STRUCTURE = (Path(__file__).resolve().parents[1] / "golden" / "forward_structure" / "input.py").read_text()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_helpers_varargs_dict_outputs_no_grad_detach(layout):
    gate = image(8, (2, 8, 10, 12))
    extra = np.ones((1,), "float32")
    calls = [((image(9), gate), {}), ((image(10), gate, extra, extra), {"scale": 0.5})]
    check_calls(STRUCTURE, "Heads()", calls, layout=layout)


@pytest.mark.parametrize("source,message", [
    # A branch binding a name the other does not, read after the `if`.
    ("        if x.mean() > 0:\n            y = x\n        return y\n",
     "`y` is bound in one branch of this tensor `if` only and read after it"),
    ("        if x.mean() > 0:\n            return x\n",
     "only one branch returns a value"),
    ("        for _ in range(2):\n            if x.mean() > 0:\n                return x\n            x = x * 2\n"
     "        return x\n",
     "a branch returns from inside a loop"),
    ("        if x.mean() > 0:\n            if x.sum() > 1:\n                return x\n            x = -x\n"
     "        else:\n            x = x * 2\n        return x\n",
     "it returns on some paths only"),
    ("        while x.mean() > 0:\n            x = x - 1\n            if x.sum() < 3:\n                break\n"
     "        return x\n",
     "its body has a `break`"),
    ("        for i in range(x.sum()):\n            x = x * 2\n            if i > 3:\n                break\n"
     "        return x\n",
     "this loop's trip count is a tensor (keras.ops.fori_loop), but its body has a `break`"),
    ("        n = int(x.sum())\n        return x * n\n", "`int()` of a tensor reads its value into Python"),
    ("        return x * x.sum().item()\n", "`x.item()` / `x.tolist()` read a tensor's value into Python"),
])
def test_control_flow_that_cannot_be_exact_is_an_error(source, message):
    code = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n" + source
    assert_conversion_error(code, message)


@pytest.mark.parametrize("source,message", [
    ("        return x[x > 0]\n", "a boolean mask gives a shape that depends on the data"),
    ("        return torch.nonzero(x)\n", "`torch.nonzero` gives a shape that depends on the data"),
    ("        return x.masked_select(x > 0)\n", "gives a shape that depends on the data"),
    ("        return torch.where(x > 0)\n", "`torch.where(condition)` gives a shape that depends on the data"),
    ("        return torch.unique(x)\n", "`torch.unique` gives a shape that depends on the data"),
])
def test_data_dependent_shapes_are_errors(source, message):
    code = "import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n" + source
    assert_conversion_error(code, message)


def test_autograd_function_is_an_error_naming_it():
    import torch2keras

    source = '''
import torch
import torch.nn as nn


class ClampGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Net(nn.Module):
    def forward(self, x):
        return ClampGrad.apply(x)
'''
    result = torch2keras.convert(source, filename="model.py")
    assert not result.ok
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert any("`ClampGrad` is a torch.autograd.Function (a custom gradient)" in d.message and d.line == 6
               for d in errors), [(d.line, d.message) for d in errors]
    assert any(d.line == 18 and "ClampGrad" in d.message for d in errors)


def test_maybe_tensor_condition_gets_a_note():
    import torch2keras

    result = torch2keras.convert((EXAMPLES / "conditional_conv.py").read_text(), filename="c.py")
    assert result.ok
    notes = [d for d in result.diagnostics if d.code == "T2K108"]
    assert len(notes) == 1 and notes[0].severity == "note" and notes[0].line == 13


FORI = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x, steps):
        y = x
        for i in range(steps):
            y = self.conv(y) * 0.5 + x
        scale = x.sum() * 0 + 1
        for k in range(1, steps):
            scale = scale * 0.5
            y = y + 0.1
        return y * scale
"""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_loop_with_a_tensor_trip_count(layout):
    x = image(11, (2, 3, 6, 7))
    calls = [((x, steps), {}) for steps in (0, 1, 3)]
    calls += [((x, np.array(steps, "int32")), {}) for steps in (0, 3)]
    check_calls(FORI, "Net()", calls, layout=layout)
    text = flat(convert(FORI, layout))
    assert "y = ops.fori_loop(0, steps, body_fn, y)" in text
    assert "def body_fn2(k, carry): scale, y = carry" in text


CONTAINER_LOOPS = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 1))
        self.heads = nn.ModuleDict({"a": nn.Conv2d(4, 2, 1), "b": nn.Conv2d(4, 3, 1)})
        self.blocks = nn.ModuleList([nn.Conv2d(4, 4, 1) for _ in range(3)])
        self.gains = [0.5, 1.0, 2.0]

    def forward(self, x):
        for layer in self.stages:
            x = layer(x)
        for i, (block, gain) in enumerate(zip(self.blocks, self.gains)):
            if i == 1:
                continue
            x = block(x) * gain
            if i > 5:
                break
        outs = []
        for name, head in self.heads.items():
            outs.append(head(x).sum(1, keepdim=True))
        for k in range(len(outs)):
            x = x + outs[k]
        return x
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_loops_over_containers_stay_python_loops(layout):
    check_calls(CONTAINER_LOOPS, "Net()", [((image(12, (2, 3, 6, 7)),), {})], layout=layout)
    text = flat(convert(CONTAINER_LOOPS, layout))
    assert "for layer in self.stages.layers:" in text or "for layer in self.stages:" in text
    assert "for name, head in self.heads.items():" in text
    assert "continue" in text and "break" in text and "ops.cond" not in text


SEQUENTIAL_AS_CONTAINER = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 1), nn.ReLU())

    def forward(self, x):
        x = self.features[0](x)
        for m in self.features[1:3]:
            x = m(x)
        for i, m in enumerate(self.features):
            if i == len(self.features) - 1:
                x = m(x)
        return x
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sequential_indexed_sliced_iterated_and_measured(layout):
    # A keras.Sequential cannot be indexed, sliced, iterated or measured: its .layers can.
    check_calls(SEQUENTIAL_AS_CONTAINER, "Net()", [((image(13, (2, 3, 6, 7)),), {})], layout=layout)
    text = flat(convert(SEQUENTIAL_AS_CONTAINER, layout))
    assert "x = self.features.layers[0](x)" in text
    assert "for m in self.features.layers[1:3]:" in text
    assert "for i, m in enumerate(self.features.layers):" in text
    assert "if i == len(self.features.layers) - 1:" in text


# Found by a review: truthiness of non-boolean tensors and chained comparisons,
# `self.training and <tensor>`, a ModuleList named `layers` (renamed for Keras)
# iterated in forward, a list appended to under a static `if`, in-place changes
# and aliases inside a tensor `while`, an int loop index in float arithmetic,
# torch.no_grad().
TRUTHINESS = '''
import torch
import torch.nn as nn


class Checks(nn.Module):
    def __init__(self, flag=True):
        super().__init__()
        self.flag = flag
        self.lin = nn.Linear(6, 6)
        self.layers = nn.ModuleList([nn.Linear(6, 6) for _ in range(2)])

    def forward(self, x):
        y = self.lin(x)
        for layer in self.layers:
            y = y + layer(y)
        if (y > 0).sum():  # an integer tensor: true when not zero
            y = y + 1
        if 0 < y.abs().mean() < 2:
            y = y / 2
        if self.training and y.mean() > 0:
            y = y - 3
        if y.sum():  # a float tensor
            y = y * 3
        h = y
        start = h
        while h.abs().max() > 1:
            h.mul_(0.5)
        with torch.no_grad():
            z = h * 2
        for k in range(x.size(0)):
            z = z + k * 0.1
        return y, h, start, z
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_review_truthiness_layers_while_aliases(layout):
    r = np.random.RandomState(1)
    calls = [((r.randn(3, 6).astype("float32") * s + o,), {}) for s in (0.01, 1, 10) for o in (-20, 0, 20)]
    check_calls(TRUTHINESS, "Checks()", calls, layout=layout)
    text = flat(convert(TRUTHINESS, layout))
    assert "for layer in self.layers_:" in text
    assert "ops.not_equal(ops.sum(y > 0), 0)" in text
    assert "ops.logical_and(0 < ops.mean(ops.abs(y)), ops.mean(ops.abs(y)) < 2)" in text
    assert "bool(training) and ops.mean(y) > 0" in text
    assert "z = ops.stop_gradient(z)" in text


APPEND_UNDER_IF = '''
import torch.nn as nn


class Maybe(nn.Module):
    def __init__(self, keep=True):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.keep = keep

    def forward(self, x):
        feats = []
        x = self.conv(x)
        if self.keep:
            feats.append(x)
        return feats
'''


def test_review_list_appended_under_static_if_keeps_pytorch_layout():
    check_calls(APPEND_UNDER_IF, "Maybe()", [((image(14, (2, 3, 7, 9)),), {})])


@pytest.mark.parametrize("body,message", [
    ("outs = []\n        if x.mean() > 0:\n            outs.append(x)\n        return x",
     "changes the Python list or dict `outs` under a tensor condition"),
    ("aux = None\n        if x.mean() > 0:\n            aux = x * 2\n        return x, aux",
     "`aux` stays None on one branch of this tensor `if`"),
    ("if x.mean() > 1e30:\n            raise ValueError('overflow')\n        return x",
     "a branch raises an exception"),
])
def test_review_tensor_branches_that_cannot_be_exact_are_errors(body, message):
    code = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n        " + body + "\n"
    assert_conversion_error(code, message)


def test_review_assert_on_a_tensor_is_left_out_with_a_warning():
    import torch2keras

    code = ("import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n"
            "        assert x.dim() == 2\n        assert x.abs().max() < 1e6\n        return x\n")
    result = torch2keras.convert(code, filename="model.py")
    assert result.ok
    assert "assert ops.ndim(x) == 2" in result.code and "1000000.0" not in result.code
    assert [d.line for d in result.diagnostics if d.severity == "warning"] == [7]


COUNTER = '''
import torch
import torch.nn as nn


class Count(nn.Module):
    def forward(self, x):
        n = 0
        total = torch.zeros_like(x)
        while x.abs().mean() > 0.5:
            x = x * 0.5
            total = total + x
            n += 1
        return x, total / (n + 1)
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_int_counter_carried_by_a_tensor_while(layout):
    # PyTorch's n is a Python int that mixes with float tensors; carried as a float.
    calls = [((image(15, (2, 3, 4, 5)) * s,), {}) for s in (0.1, 20.0)]
    check_calls(COUNTER, "Count()", calls, layout=layout)
    assert "n = float(n)" in convert(COUNTER, layout)


# Greedy decoding: an int64 token tensor carried by a tensor `while` becomes
# argmax's int32 in the body (ops.while_loop wants one dtype: cast back), and the
# test combines a Python counter, a tensor inside the loop, with `and`.
GREEDY = '''
import torch
import torch.nn as nn


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.fc = nn.Linear(4, 10)

    def forward(self, x, limit):
        tok = torch.zeros(x.size(0), dtype=torch.long)
        n = 0
        while n < x.size(1) and tok.sum() < limit.sum():
            tok = self.fc(self.emb(tok) + x[:, n]).argmax(-1)
            n += 1
        return tok, tok + n
'''


def test_integer_tensor_carried_by_a_tensor_while_keeps_its_dtype():
    code = convert(GREEDY, "channels_last")
    assert "return ops.cast(tok, tok_dtype), n" in code
    assert "ops.logical_and(n < ops.shape(x)[1]" in code
    x = image(3, (2, 6, 4))
    # A limit that stops the loop early, one that never does.
    check_calls(GREEDY, "Decoder()", [((x, np.array([2.0], "float32")), {}),
                                      ((x, np.array([1000.0], "float32")), {})])


# A backward pass over time steps (bidirectional RNNs written by hand).
REVERSED_STEPS = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.GRUCell(4, 4)

    def forward(self, x):
        h = torch.zeros(x.size(1), 4)
        outs = []
        for t in reversed(range(x.size(0))):
            h = self.cell(x[t], h)
            outs.append(h)
        return torch.stack(outs[::-1])
'''


def test_reversed_range_over_time_steps():
    check_calls(REVERSED_STEPS, "Net()", [((image(4, (5, 2, 4)),), {})])
