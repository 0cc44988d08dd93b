"""Ops whose result is PyTorch's named tuple (values, indices) in some forms and a
tensor in others: x.max(dim) / x.max() / torch.max(a, b), min, sort, topk, median,
kthvalue. Each form is unpacked, indexed ([0], [1], [-1]), read by field (.values,
.indices), kept in a variable or returned whole, with keepdim and negative dims,
in both layouts, eager and inside tf.function. The input comes from a convolution
so that under channels_last the op sees a channels-last tensor and its axes are
remapped. The inputs are random normal floats: no ties, except where a case makes
them on purpose (floored values) to pin the tie-breaking both sides document."""

import numpy as np
import pytest

from harness import assert_conversion_error, check, check_calls, convert, flat

TEMPLATE = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
{body}
"""


def source(body: str) -> str:
    return TEMPLATE.format(body="\n".join("        " + line for line in body.strip().splitlines()))


CASES = [
    # max / min with dim: unpacked, indexed, by field; keepdim; negative dims.
    "values, indices = x.max(dim=1)\nreturn values, indices",
    "return x.max(1)[0], x.max(1)[1], x.max(-1)[-1], x.min(2)[0]",
    "return x.max(-1).values, x.max(dim=2).indices, x.min(1).indices, torch.min(x, -2).values",
    "return x.max(dim=1, keepdim=True)[0] * x, torch.max(x, 3, True).indices, x.min(-3, keepdim=True)",
    "return torch.max(x, dim=-2, keepdim=True), torch.min(x, 1, keepdim=False)",
    # The whole tuple kept in a variable, read later by field and by index.
    "r = torch.max(x, 2)\ns = x.min(dim=-1, keepdim=True)\nreturn r.values + r[0], r.indices, s.values * x, s[1]",
    "_, pred = x.max(1)\nreturn pred",
    "return x.max(2)",
    # The other forms: no dim is a 0-d tensor, a tensor argument element-wise.
    "return x * x.max() + x.min(), torch.max(x) - torch.min(x)",
    # (Not max(y, 2 * y) of a convolution: a TF defect, test_backend_defects.py.)
    "return torch.max(x, x.flip(3)), torch.min(x, 0.5 * x), x.max(x.roll(1, 2)), x.min(other=-x), torch.max(x, other=x * 0.5)",
    # Ties: PyTorch documents the first index of equal maxima; TensorFlow's argmax gives it.
    "y = (x * 2).floor()\nreturn y.max(1), y.min(dim=-1), y.max(2, keepdim=True)",
    # sort: default last dim, any dim, descending.
    "values, order = x.sort()\nreturn values, order",
    "return x.sort(1), torch.sort(x, dim=-2), x.sort(dim=2, descending=True)",
    "return torch.sort(x, 1, True).values, torch.sort(x, descending=True, dim=-1)[1], x.sort(0)[0]",
    # Ties with stable=True: equal values keep their order (TensorFlow's sort is stable).
    "y = (x * 2).floor()\nreturn y.sort(dim=1, stable=True), torch.sort(y, dim=-1, descending=True, stable=True), y.sort(stable=True, dim=2)",
    # argsort: sort's indices alone, any dim, descending.
    "return x.argsort(1), torch.argsort(x, dim=-2, descending=True), x.argsort(descending=True), torch.argsort(x)",
    # topk: the channel axis (keras.ops.top_k after remapping), other axes, the smallest.
    "values, indices = torch.topk(x, 2, dim=1)\nreturn values, indices",
    "return x.topk(3), x.topk(2, 2), torch.topk(x, 3, -2, largest=False), x.topk(1, dim=0, largest=False)",
    "t = x.topk(2, dim=-1, largest=False)\nreturn t.values * 2, t.indices, t[0], torch.topk(x, 2, 1).indices",
    # sorted=False: PyTorch's order is unspecified, so both sides are sorted again.
    "return torch.topk(x, 3, dim=2, sorted=False)[0].sort(2)[0], x.topk(2, 1, sorted=False).values.sort(1)[0]",
    # median: the lower middle value (sizes 4, 5, 6: even and odd counts).
    "return torch.median(x), x.median(), x.median(1), torch.median(x, -1).values, x.median(dim=2, keepdim=True)",
    "m = torch.median(x, 1, True)\nreturn m.values * x, m.indices, torch.median(x, dim=-2)[1]",
    # kthvalue: the k-th smallest, dim defaulting to the last axis.
    "return x.kthvalue(2), torch.kthvalue(x, 3, 1), x.kthvalue(1, dim=-2, keepdim=True), torch.kthvalue(x, 2, 2).indices",
]


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("body", CASES, ids=[c.replace("\n", "; ") for c in CASES])
def test_values_and_indices_match_pytorch(body, layout):
    check(source(body), "Net()", [(2, 3, 5, 6)], layout=layout)


HELPER = """
import torch
import torch.nn as nn


def best(t, dim):
    return t.max(dim)


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def scores(self, x):
        return torch.topk(x, 2, dim=1)

    def forward(self, x):
        x = self.conv(x)
        top = self.scores(x)
        logits = self.fc(x.mean((2, 3)))
        _, pred = logits.max(1)
        return best(x, 1).values, top.indices, top[0], pred, logits.max(dim=-1).indices
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_named_tuples_through_functions_and_linear_logits(layout):
    # A method or module function returning the tuple: the caller reads its fields;
    # `_, pred = logits.max(1)` of (N, classes) logits is the classifier idiom.
    check(HELPER, "Head()", [(2, 3, 5, 6)], layout=layout)


SEQUENCE = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 6)

    def forward(self, h):
        h = self.proj(h)
        pooled, _ = torch.max(h, dim=1)
        values, order = h.sort(-1, descending=True)
        return pooled, values[:, :, :2], order, h.topk(2)[1], h.median(1).values, torch.max(h, 1, True)[0]
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_sequence_max_pooling(layout):
    # (N, L, C) sequences: max over time, as text CNNs and RNN poolers write it.
    check_calls(SEQUENCE, "Net()", [((np.random.default_rng(3).normal(size=(2, 5, 6)).astype("float32"),), {})],
                layout=layout)


AXIS_ARGUMENT = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x, dim: int):
        x = self.conv(x)
        return x.max(dim), torch.min(x, dim, keepdim=True)[1], x.sort(dim)[0], self.pool(x, dim)

    def pool(self, x, d):
        return x.topk(2, d).values + x.max(d, keepdim=True)[0]
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_an_axis_given_at_run_time(layout):
    # `dim` may be a tensor (torch.max(x, other)) or an axis: annotated `int`, it is
    # the axis (the tensor goes in PyTorch order), and so is the parameter of the
    # method it is passed to.
    x = np.random.default_rng(5).normal(size=(2, 3, 5, 6)).astype("float32")
    check_calls(AXIS_ARGUMENT, "Net()", [((x, 1), {}), ((x, -1), {})], layout=layout)


OPEN_SECOND_ARGUMENT = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def forward(self, x, y{annotation}):
        return torch.max(x, y) - x.min(y) + torch.maximum(x, y)
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_an_open_second_argument_needs_an_annotation(layout):
    # torch.max(x, y) is element-wise when y is a tensor and a reduction when y is
    # an int: with no caller and no annotation, either reading may be silently
    # wrong, so the call is an error that says how to annotate.
    assert_conversion_error(OPEN_SECOND_ARGUMENT.format(annotation=""),
                            "cannot tell whether `y` is a tensor (`torch.max` element-wise)")
    rng = np.random.default_rng(6)
    x, y = (rng.normal(size=(2, 3, 4)).astype("float32") for _ in range(2))
    check_calls(OPEN_SECOND_ARGUMENT.format(annotation=": torch.Tensor"), "Net()", [((x, y), {})], layout=layout)


def test_written_forms():
    # One Keras call per item that is read; a tuple form kept whole is a tuple display.
    code = flat(convert(source(
        "values, indices = x.max(dim=1)\n"
        "s = x.sort(2, descending=True)\n"
        "return values, indices, x.max(1)[0], x.min(-1).indices, x.topk(2, 1).values, x.max(), s"),
        "channels_last"))
    assert "values, indices = ops.max(x, axis=-1), ops.argmax(x, axis=-1)" in code
    assert "ops.argmin(x, axis=2)" in code
    assert "ops.top_k(x, 2)[0]" in code
    assert "s = -ops.sort(-x, axis=1), ops.argsort(-x, axis=1)" in code
    assert "ops.max(x)" in code


@pytest.mark.parametrize("body,message", [
    ("return x.sort(1, descending=self.training)", "`descending=training` must be True or False"),
    ("return torch.max(x, 1, out=(x, x))", "`out=` is not supported"),
    ("return torch.sort(x, out=(x, x))", "`out=` is not supported"),
    ("return torch.topk(x, 2, out=(x, x))", "`out=` is not supported"),
    ("return torch.mode(x, 1)", "`torch.mode` is not supported yet (no catalog entry)"),
])
def test_forms_without_an_exact_keras_translation_are_errors(body, message):
    assert_conversion_error(source(body), message)
