"""Each catalog function used in forward code (`F.*`, `torch.*`), with non-default
arguments, matches PyTorch in both layouts, eager and inside tf.function. The
input comes from a convolution so that, under channels_last, the function sees a
channels-last tensor and its axes must be remapped."""

import pytest

from harness import check

TEMPLATE = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        return {expr}
"""

CASES = [
    # (expression of x, input shape)
    # einsum with one operand: the operand, not the sequence of operands.
    ('torch.einsum("bchw->bhwc", x)', (2, 3, 5, 6)),
    ('torch.einsum("bchw,bchw->bc", x, x * 2)', (2, 3, 5, 6)),
    # A whole size as the shape: x.view(x.size()), not x.view((x.size(),)).
    ("x.view(x.size()) + x.reshape(x.shape)", (2, 3, 5, 6)),
    ("F.avg_pool2d(x, 3, stride=1, padding=1)", (2, 3, 8, 8)),  # P21: padding counted
    ("F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)", (2, 3, 9, 9)),
    ("F.avg_pool2d(x, 3, stride=2, ceil_mode=True)", (2, 3, 8, 8)),  # P22
    ("F.avg_pool2d(x, 2)", (2, 3, 8, 8)),
    ("F.max_pool2d(x, 3, stride=2, padding=1)", (2, 3, 9, 9)),  # P19: -inf padding
    ("F.max_pool2d(x, 3, stride=2, ceil_mode=True)", (2, 3, 8, 8)),
    ("F.adaptive_avg_pool2d(x, (4, 4))", (2, 3, 11, 11)),  # P23: uneven bins
    ("F.adaptive_avg_pool2d(x, 1)", (2, 3, 7, 7)),
    ("F.adaptive_max_pool2d(x, (3, 2))", (2, 3, 8, 7)),
    ("F.adaptive_avg_pool2d(x, (2, 1))", (2, 3, 7, 6)),  # runtime pytorch_adaptive_pool (P23)
    ("F.adaptive_max_pool2d(x, (None, 3))", (2, 3, 5, 7)),
    ("F.dropout(x, p=0.4, training=self.training)", (2, 3, 6, 6)),  # inference: identity
    ("F.dropout(x, p=0.4, training=False)", (2, 3, 6, 6)),
    ("F.layer_norm(x, (4, 6, 6), eps=1e-3)", (2, 3, 6, 6)),  # over several trailing dims
    ("F.layer_norm(x.permute(0, 2, 3, 1), (4,)).permute(0, 3, 1, 2)", (2, 3, 6, 6)),
    ("torch.unsqueeze(x, 2).sum(2)", (2, 3, 5, 5)),
    ("torch.squeeze(x[:, :1], 1)", (2, 3, 5, 5)),
    ("x * 2 if torch.jit.is_scripting() else x + 1", (2, 3, 5, 5)),
    ("torch.split(x, 3, dim=1)[1]", (2, 3, 5, 5)),  # pieces of 3, 1 channels
    # Uneven chunks: pieces of ceil(L / chunks), the last smaller (runtime pytorch_chunk).
    ("torch.cat(x.chunk(2, 1)[::-1], 1)", (2, 3, 5, 5)),  # 2, 1 channels
    ("x.chunk(4, dim=2)[-1]", (2, 3, 7, 5)),  # rows 2, 2, 2, 1
    ("torch.chunk(x, 3, 3)[1] * len(torch.chunk(x, 4, 1))", (2, 3, 5, 5)),  # 3 pieces, not 4
    ("x.data * 2 + x", (2, 3, 5, 5)),
    # Reductions and functions the 2026-11-30 review found missing.
    ("x.log_softmax(1)", (2, 3, 5, 6)),
    ("x.var(1), torch.var(x, 2, unbiased=False)", (2, 3, 5, 6)),
    ("x.std((2, 3), keepdim=True) * x.var(dim=1, correction=0, keepdim=True)", (2, 3, 5, 6)),
    ("torch.std(x) + x", (2, 3, 5, 6)),
    ("x.argmax(1), torch.argmax(x, dim=-1, keepdim=True)", (2, 3, 5, 6)),
    ("torch.maximum(x, x.flip(3)) - torch.minimum(x, torch.roll(x, 1, 2))", (2, 3, 5, 6)),
    ("torch.flip(x, (1, 2)) + x.roll(shifts=2, dims=3)", (2, 3, 5, 6)),
    ("torch.bmm(x.flatten(2), x.flatten(2).transpose(1, 2))", (2, 3, 5, 6)),
    ("x * x.numel()", (2, 3, 5, 6)),
    ("F.normalize(x, dim=1) + F.normalize(x, p=1.0, dim=-1)", (2, 3, 5, 6)),
    ("x.norm(dim=1) + x.norm()", (2, 3, 5, 6)),
    ("F.rms_norm(x, (6,), eps=1e-5)", (2, 3, 5, 6)),
    # Boolean tensors in arithmetic: PyTorch's promotion (or, and, the other's type).
    ("(x > 0) + (x < 0.5)", (2, 3, 5, 5)),
    ("(x > 0) * (x < 0.5)", (2, 3, 5, 5)),
    ("(x > 0) * 2.5 + x * (x < 0)", (2, 3, 5, 5)),
    ("((x > 0) * 3).sum(1)", (2, 3, 5, 5)),
    # A boolean stays boolean through views, items, `~` and no-op methods, so that
    # float * mask is a float (TensorFlow would make it a boolean).
    ("x * (x[:, 0] > 0).unsqueeze(1) + x * (x > 0.1)[:, :1]", (2, 3, 5, 5)),
    ("x * ~(x < 0).contiguous() + x * (x > 0).flatten(2).view(x.shape) * 2", (2, 3, 5, 5)),
    ("x * (x > 0).to(x.device)[:, :, None, 0, :]", (2, 3, 5, 5)),
    ("x * x.gt(0) + x.le(0.1) * 2.0 + torch.ne(x, 0).unsqueeze(1) * x[:, :1]", (2, 3, 5, 5)),
    # A list of ints as the only index besides `:`s: keras.ops.take on its axis.
    ("x[:, [2, 0]] * 2", (2, 3, 5, 5)),
    ("x[:, :, [0, 3, 3]].mean(2)", (2, 3, 5, 6)),
    ("x[[1, 0]] + x", (2, 3, 5, 5)),
    ("torch.cat(x.split([1, 3], 1)[::-1], 1)", (2, 3, 5, 5)),
    ("torch.cat(torch.split(x, 2, dim=-1)[::-1], -1)", (2, 3, 5, 5)),
    ("torch.chunk(x, 2, 1)[0] * x.chunk(2, dim=1)[1]", (2, 3, 5, 5)),
    ("F.interpolate(x, scale_factor=2)", (2, 3, 5, 6)),
    # amax/amin with no dim reduce every dimension (Keras' axis=() would reduce none).
    ("x - x.amax() + torch.amin(x) * x.amax((2, 3), keepdim=True)", (2, 3, 5, 6)),
    ("x - torch.amax(x, 1, keepdim=True) + x.amin(-1, True)", (2, 3, 5, 6)),
    ("x * x.max() - torch.min(x) + torch.zeros_like(x) + torch.ones_like(x)", (2, 3, 5, 6)),
    ("F.interpolate(x, scale_factor=3, mode='bilinear')", (2, 3, 5, 6)),
    ("F.interpolate(x, size=(7, 3), mode='bilinear', align_corners=False)", (2, 3, 5, 6)),
    # Reductions and element-wise math of sequence models (issue 6 review).
    ("torch.logsumexp(x, 1, keepdim=True) + x.logsumexp(-1, keepdim=True) + torch.logsumexp(x, (2, 3))[..., None, None]", (2, 3, 5, 6)),
    ("(x > 0).all(1, keepdim=True).float() + torch.any(x > 0.5, -1, keepdim=True).float()", (2, 3, 5, 6)),
    # one_hot's num_classes known only when the model runs (a Python int then).
    ("x + F.one_hot((x > 0).long().sum(1), x.size(1) + 1).float()[..., 1:].argmax(-1).float()[:, None]",
     (2, 3, 5, 6)),
    ("x * (x > -5).all().float() + (x > 30).any().float() + torch.all(x > 0).float()", (2, 3, 5, 6)),
    ("torch.pow(x, 2) + torch.square(x) + x.square() + torch.pow(x.abs(), 0.5)", (2, 3, 5, 6)),
    ("torch.erf(x) + x.erf() + torch.erfc(x) * 2 + torch.special.erf(x)", (2, 3, 5, 6)),
    ("F.softplus(x) + F.softplus(x * 3, beta=2.0, threshold=1.0)", (2, 3, 5, 6)),
    ("F.glu(x, 1) + F.glu(x.permute(0, 2, 3, 1), -1).permute(0, 3, 1, 2)", (2, 3, 5, 6)),
    ("torch.addmm(torch.ones(4), x.mean((2, 3)), torch.ones(4, 4) * 0.5)"
     " + torch.addmm(x.mean((2, 3)), x.mean((2, 3)), torch.ones(4, 4), beta=0.5, alpha=2.0)", (2, 3, 5, 6)),
    ("torch.div(x, 0.3, rounding_mode='floor') + torch.div(x, 0.3, rounding_mode='trunc') + torch.div(x, 2)",
     (2, 3, 5, 6)),
    ("x * torch.linspace(0, 1, 6) + torch.linspace(-1, 1, steps=5)[:, None]", (2, 3, 5, 6)),
    # Functions torchvision's Swin Transformer uses.
    ("torch.log(x.abs() + 1) + torch.log2(x.abs() + 2) * torch.sign(x)", (2, 3, 5, 6)),
    ("torch.clamp(x, max=0.2) + torch.clamp(x, min=-0.1) + torch.clip(x, -0.3, 0.3)", (2, 3, 5, 6)),
    ("x.matmul(x.transpose(2, 3))", (2, 3, 5, 6)),
    ("x.flatten(2).bmm(x.flatten(2).transpose(1, 2))", (2, 3, 5, 6)),
    # (var, mean) and (std, mean) of one call; legacy tensor types as dtypes.
    ("torch.var_mean(x, 1, keepdim=True)[0] + torch.var_mean(x, (2, 3), keepdim=True)[1] + torch.std_mean(x, -1, correction=0)[0][..., None]",
     (2, 3, 5, 6)),
    ("torch.std_mean(x, dim=2, keepdim=True)[0] * x - torch.std_mean(x, 2, False, keepdim=True)[1]"
     " + x.type(torch.LongTensor).type(torch.FloatTensor)", (2, 3, 5, 6)),
    # Rounding (halves to even in both), Python's modulo, norms, cosine similarity.
    ("torch.round(x * 4) + (x * 4).round() + torch.round(x, decimals=1) + torch.floor(x) - torch.ceil(x)",
     (2, 3, 5, 6)),
    ("torch.round(torch.arange(-6, 6).float() * 0.5)[None, :] + x.flatten(1)[:, :12]", (2, 3, 2, 2)),
    ("torch.remainder(x * 5, 1.5) + (x * 5).remainder(-2.0) + torch.remainder(torch.arange(-3, 3), 4)",
     (2, 3, 5, 6)),
    ("torch.norm(x) + torch.norm(x, dim=1, keepdim=True) + torch.norm(x, p=1, dim=-1, keepdim=True)",
     (2, 3, 5, 6)),
    ("F.cosine_similarity(x, x.flip(1))[:, None] + F.cosine_similarity(x, x * 2 + 1, dim=-1)[..., None]",
     (2, 3, 5, 6)),
    # F.pad: (before, after) pairs from the last axis backwards, in each mode.
    ("F.pad(x, (1, 2)) + 0.5 * F.pad(x, (0, 3), value=-1.0)", (2, 3, 5, 6)),
    ("F.pad(x, (1, 2, 2, 0), mode='reflect')", (2, 3, 5, 6)),
    ("F.pad(x, (2, 1, 0, 3), mode='replicate')", (2, 3, 5, 6)),
    ("F.pad(x, (1, 2, 3, 1), mode='circular')", (2, 3, 5, 6)),
    ("F.pad(x.flatten(2), (2, 0), mode='replicate') + F.pad(x.flatten(2), (0, 2), 'circular')", (2, 3, 5, 6)),
    ("x.flatten(2).view_as(x) + x.transpose(2, 3).reshape_as(x) * x.mean(1, keepdim=True).view_as(x[:, :1])",
     (2, 3, 5, 6)),
    ("x + x.new_zeros((5, 6)) + x.new_zeros(2, 4, 1, 1)", (2, 3, 5, 6)),
    # x.to(device / dtype / tensor): a device is no change, a dtype a cast.
    ("x.to(x.device) + x.to(torch.float64).float() + x.to(x) + x.cpu() + x.to('cpu', torch.float32) "
     "+ x.to(dtype=torch.float16).to(x.dtype) + torch.zeros(5, 6, device=x.device).to(torch.device('cpu'))",
     (2, 3, 5, 6)),
    ("(x > 0).to(x.dtype) * 2 + x.to(torch.long).to(x)", (2, 3, 5, 6)),
    # meshgrid: PyTorch's default indexing is "ij", Keras' "xy".
    ("x * torch.stack(torch.meshgrid(torch.arange(5.0), torch.arange(6.0)))[0] + "
     "torch.meshgrid([torch.arange(5.0), torch.arange(6.0)], indexing='xy')[1].transpose(0, 1)",
     (2, 3, 5, 6)),
    # dtype= on factories and reductions (a torch dtype is its Keras name). A boolean
    # result is compared dtype and all; an int cast truncates (values differ if left out).
    ("torch.ones_like(x, dtype=torch.bool), torch.zeros(2, 3, dtype=torch.bool), "
     "torch.full((2, 3), 2.7, dtype=torch.long), torch.full_like(x, 3.9, dtype=torch.int32), "
     "torch.tensor([1.7, -2.2], dtype=torch.long), torch.zeros_like(torch.empty(2, 3, dtype=torch.bool))",
     (2, 3, 5, 6)),
    # Float32 asked of int-valued factories: TensorFlow adds no int32 to a float32.
    # (Not added to the conv output: TF's channels_first conv + add of a (6,) tensor
    # fails inside tf.function.)
    ("torch.arange(6, dtype=torch.float32) + torch.ones(6, dtype=torch.float32) + torch.eye(5, 6, dtype=torch.float32), "
     "torch.zeros_like(x, dtype=torch.float32) + torch.full_like(x, 2.5), torch.tensor([1, 2], dtype=torch.float32) + 0.5",
     (2, 3, 5, 6)),
    ("(x * 10).sum(1, dtype=torch.long), torch.sum(x * 10, 2, dtype=torch.int32), x.mean(-1, dtype=torch.float64), "
     "torch.mean(x, 1, True, dtype=torch.float64)", (2, 3, 5, 6)),
    ("x.softmax(1, dtype=torch.float64), F.softmax(x, dim=-1, dtype=torch.float64), "
     "F.log_softmax(x, 1, dtype=torch.float64), x.log_softmax(2, dtype=torch.float64)", (2, 3, 5, 6)),
    ("x.new_ones(5, 6) + x.new_full((5, 6), 0.5) + x.new_tensor([1.5] * 6) + x.new_zeros(6), "
     "x.new_ones((2, 2), dtype=torch.bool), x.new_zeros(3, dtype=torch.bool)", (2, 3, 5, 6)),
    # Functions and methods sequence models use.
    ("torch.sin(x) * torch.cos(x) + torch.rsqrt(x.abs() + 1)", (2, 3, 5, 6)),
    ("torch.cumsum(x, 1) + x.cumsum(dim=-1) + torch.cumsum(x, dim=2)", (2, 3, 5, 6)),
    ("F.glu(x, 1), F.glu(x, dim=-1), F.glu(x[:, :, :4], 2)", (2, 3, 5, 6)),
    # An axis left to its int default is remapped like a given one (glu's last, cat's 0).
    ("F.glu(x), torch.cat([x, x * 2]), x.softmax(-1) + torch.cat((x, x), 1)[:, 2:6]", (2, 3, 5, 6)),
    ("torch.outer(x[0, 0, 0], x[1, 1, :, 2]) + torch.eye(6, 5) + torch.eye(6)[:, :5]", (2, 3, 5, 6)),
    ("x.flatten(1).t(), x[0, 0].t(), x[0, 0, 0].t(), torch.t(x[1, 2])", (2, 3, 5, 6)),
    ("x.type_as(x[0, 0, 0] > 0), x.type(torch.float64), x.type(torch.bool)", (2, 3, 5, 6)),
    ("x.eq(x.flip(1)), x.ne(0.1), x.lt(x[:, :1]), x.le(0.2), x.gt(-0.1), x.ge(x.roll(1, 2)), "
     "torch.eq(x, x.flip(3)), torch.gt(x, 0.1), torch.le(x, x.flip(2)), x.gt(0).float() * x", (2, 3, 5, 6)),
    ("x.repeat_interleave(2, dim=1), x.repeat_interleave(3, -1), torch.repeat_interleave(x, 2), "
     "torch.repeat_interleave(x, 2, dim=2)", (2, 3, 5, 6)),
    ("x.unbind(1)[0], torch.unbind(x, dim=-1)[2], len(x.unbind(2)) * x.unbind()[1]", (2, 3, 5, 6)),
    ("torch.stack(x.unbind(1)[::-1], 1) + x.requires_grad_(False) + x.requires_grad_()", (2, 3, 5, 6)),
    ("x.index_select(1, torch.tensor([2, 0, 2])), torch.index_select(x, -1, torch.arange(3)), "
     "torch.index_select(x, 2, torch.tensor([4, 1]))", (2, 3, 5, 6)),
    ("F.max_pool1d(x.flatten(2), 3), F.max_pool1d(x.flatten(2), 3, stride=2, padding=1), "
     "F.avg_pool1d(x.flatten(2), 2), F.avg_pool1d(x.flatten(2), 3, stride=2, padding=1, count_include_pad=False)",
     (2, 3, 5, 6)),
]


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("expr,shape", CASES, ids=[c[0] for c in CASES])
def test_function_matches_pytorch(expr, shape, layout):
    check(TEMPLATE.format(expr=expr), "Net()", [shape], layout=layout)


# interpolate keeps its input's rank: 1 and 3 spatial axes too, of a rank the
# converter knows (after a Conv1d: channels-last) or does not (PyTorch's order).
ANY_RANK = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 4, 3, padding=1)
        self.conv3 = nn.Conv3d(2, 3, 1)

    def forward(self, x, v, w):
        y = self.conv1(x)
        return (F.interpolate(y, scale_factor=3, mode="linear"), F.interpolate(y, size=9, mode="linear"),
                F.interpolate(y, scale_factor=2), self.conv3(F.interpolate(v, scale_factor=2)),
                F.interpolate(w, scale_factor=2), F.interpolate(w, size=7, mode="linear"))
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_interpolate_of_any_rank_matches_pytorch(layout):
    check(ANY_RANK, "Net()", [(2, 3, 5), (2, 2, 3, 4, 5), (2, 3, 4)], layout=layout)


@pytest.mark.parametrize("expr", [
    "F.interpolate(x, scale_factor=1.5)",  # PyTorch's nearest rounds differently
    "F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=True)",
])
def test_interpolate_without_exact_keras_form_is_an_error(expr):
    import torch2keras

    result = torch2keras.convert(TEMPLATE.format(expr=expr), filename="model.py")
    assert not result.ok
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["T2K101"]


@pytest.mark.parametrize("expr", ["x[0, [1, 2]]", "x[:, [0, 1], :2]", "x[..., [0, 2]]"])
def test_list_indexes_beyond_take_are_errors(expr):
    from harness import assert_conversion_error

    assert_conversion_error(TEMPLATE.format(expr=expr), "indexing a tensor with a list is supported as its only index")


@pytest.mark.parametrize("expr,message", [
    ("(x > 0) - (x < 0)", "arithmetic on two boolean tensors is not supported"),
    ("(x > 0) * self.training", "arithmetic between a boolean tensor and `training`"),
])
def test_boolean_arithmetic_without_an_exact_form_is_an_error(expr, message):
    from harness import assert_conversion_error

    assert_conversion_error(TEMPLATE.format(expr=expr), message)


def test_to_with_an_argument_of_unknown_kind_is_an_error():
    from harness import assert_conversion_error

    # A dtype or a device in a variable the converter cannot see through.
    assert_conversion_error(TEMPLATE.format(expr="x.to(self.target)"),
                            "cannot tell whether `self.target` is a device, a dtype or a tensor")


def test_reading_a_converted_layers_settings_is_an_error():
    # Its weights have catalog @parameter entries (test_parameter_reads.py).
    from harness import assert_conversion_error

    assert_conversion_error(TEMPLATE.format(expr="x * self.conv.padding[0]"),
                            "reading `self.conv.padding` of a converted `torch.nn.Conv2d` is not supported yet")


@pytest.mark.parametrize("expr,message", [
    ("x.argmax()", "`argmax()` without `dim` is not supported yet"),  # a flat index: order-dependent
    ("torch.roll(x, 2)", "`roll` without `dims` rolls the flattened tensor"),
    ("x.norm(dim=(1, 2))", "`norm` over several axes is not supported yet"),
])
def test_functions_without_an_exact_form_here_are_errors(expr, message):
    from harness import assert_conversion_error

    assert_conversion_error(TEMPLATE.format(expr=expr), message)


# Functions of integer ids (gather, index_select, one_hot): a float tensor and ids.
# one_hot is int64 in PyTorch: TensorFlow adds no float32 one-hot to int64 ids.
GATHER = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x, ids, rows):
        # out[b][t][k] = x[b][t][ids[b][t][k]] (dim=-1); x[b][rows[b][t][f]][f] (dim=1)
        picked = torch.gather(x, -1, ids) * 2 + x.gather(2, ids)
        by_row = torch.gather(x, 1, rows)
        flat = ids.flatten()
        return (picked, by_row, torch.index_select(x, 1, flat[:3]), x.index_select(-1, flat),
                F.one_hot(ids, 6) + ids.unsqueeze(-1), F.one_hot(flat, num_classes=7).float() * 0.5)
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_gather_index_select_and_one_hot_match_pytorch(layout):
    from harness import check_calls
    import numpy as np

    rng = np.random.default_rng(7)

    def call(b):
        x = rng.normal(size=(b, 5, 6)).astype("float32")
        ids = rng.integers(0, 6, size=(b, 5, 3)).astype("int64")
        rows = rng.integers(0, 5, size=(b, 4, 6)).astype("int64")
        return (x, ids, rows), {}

    check_calls(GATHER, "Net()", [call(2), call(3)], layout=layout)


@pytest.mark.parametrize("expr,message", [
    ("F.one_hot(x.argmax(1))", "`one_hot` needs a positive `num_classes`"),
    ("F.one_hot(x.argmax(1), -1)", "`one_hot` needs a positive `num_classes`"),
    ("x.type()", "`x.type()` converts only with a torch dtype argument"),
    ("x.type('torch.DoubleTensor')", "converts only with a torch dtype"),
])
def test_new_entries_without_an_exact_form_are_errors(expr, message):
    from harness import assert_conversion_error

    assert_conversion_error(TEMPLATE.format(expr=expr), message)


ATTENTION_POOL = """
import torch
import torch.nn as nn


class AttentionPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 6)
        self.context = nn.Parameter(torch.randn(6))

    def forward(self, h):
        scores = torch.tanh(self.proj(h)) @ self.context  # (B, T): a vector operand
        weights = torch.softmax(scores, dim=1)
        return (h * weights.unsqueeze(-1)).sum(1) + self.context @ h.transpose(1, 2) @ h
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_matmul_operator_with_a_vector_operand(layout):
    check(ATTENTION_POOL, "AttentionPool()", [(2, 5, 6)], layout=layout)
