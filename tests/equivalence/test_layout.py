"""Issue 5, the layout engine: channels-last models without redundant transposes.

Each rule is checked two ways: the converted model matches PyTorch (eagerly and in
tf.function, parameters and buffers randomised) and its compiled graph holds the
number of Transpose operations the rule promises (harness.graph_transposes), so a
rule that kept a needless transpose, or dropped a needed one, fails.
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from harness import assert_conversion_error, check, convert, flat, graph_transposes

HEAD = """
import torch
import torch.nn as nn
import torch.nn.functional as F
"""


def image(seed, shape=(2, 3, 12, 12)):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# --- Flatten after a pool to 1 x 1: (N, 1, 1, C) and (N, C, 1, 1) flatten alike.

POOL_1X1 = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        x = {flatten}
        return self.fc(x)
"""

FLATTENS = ["torch.flatten(x, 1)", "x.flatten(1)", "x.view(x.size(0), -1)",
            "x.reshape(x.shape[0], -1)", "torch.reshape(x, (x.size(0), -1))"]


@pytest.mark.parametrize("flatten", FLATTENS)
def test_flatten_after_global_pool_needs_no_transpose(flatten):
    source = POOL_1X1.replace("{flatten}", flatten)
    check(source, "Net()", [(2, 3, 12, 12)])
    check(source, "Net()", [(2, 3, 12, 12)], io_layout="keras")
    assert graph_transposes(source, "Net()", [(2, 3, 12, 12)]) == 0
    # PyTorch io: only the input's conversion.
    assert graph_transposes(source, "Net()", [(2, 3, 12, 12)], io_layout="torch") == 1


@pytest.mark.parametrize("flatten", FLATTENS[:4])
def test_flatten_keeps_a_static_size_for_a_dense_built_in_a_compiled_step(flatten):
    # fit() may make a converted model's first call inside its compiled step,
    # where the batch size is unknown: the flatten's size must stay known for
    # the Dense after it to be built (ops.reshape(x, (ops.shape(x)[0], -1))
    # has none there). x.view(x.size(0), -1) is PyTorch's flatten idiom.
    import tensorflow as tf
    from harness import load_module

    source = HEAD + f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.fc({flatten})
"""
    code = convert(source, "channels_last")
    assert "self.fc(pytorch_flatten(x, 1))" in code, code
    model = load_module(code, "static_flatten").Net()
    graph = tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec((None, 3, 6, 6), "float32"))
    assert graph.structured_outputs.shape.as_list() == [None, 5]
    check(source, "Net()", [(2, 3, 6, 6)])


@pytest.mark.parametrize("reduce", ["x.mean((2, 3), keepdim=True)", "F.adaptive_avg_pool2d(x, 1)",
                                    "F.adaptive_max_pool2d(x, (1, 1))", "nn.AdaptiveMaxPool2d(1)(x)"])
def test_spatial_size_one_from_reductions_and_functional_pools(reduce):
    source = HEAD + f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.conv(x)
        x = {reduce}
        x = torch.sigmoid(x) * 2.0
        return self.fc(torch.flatten(x, 1))
"""
    if "nn.AdaptiveMaxPool2d(1)(x)" in reduce:
        source = source.replace("self.fc = nn.Linear(8, 4)", "self.fc = nn.Linear(8, 4)\n        self.p = nn.AdaptiveMaxPool2d(1)")
        source = source.replace(reduce, "self.p(x)")
    check(source, "Net()", [(2, 3, 9, 11)])
    assert graph_transposes(source, "Net()", [(2, 3, 9, 11)]) == 0


def test_flatten_of_unknown_spatial_size_keeps_the_transpose():
    # After a strided conv the spatial size depends on the input: PyTorch's
    # (C, H, W) order needs the transpose.
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 5 * 5, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))
"""
    check(source, "Net()", [(2, 3, 12, 12)])
    assert graph_transposes(source, "Net()", [(2, 3, 12, 12)]) == 1


def test_broadcast_against_a_bigger_map_forgets_the_spatial_size():
    # (N, C, 1, 1) * (N, C, H, W) has H * W positions: its flatten needs the transpose.
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        x = self.conv(x)
        s = F.adaptive_avg_pool2d(x, 1)
        y = s * x
        return self.fc(torch.flatten(y, 1))
"""
    check(source, "Net()", [(2, 3, 6, 6)])
    assert graph_transposes(source, "Net()", [(2, 3, 6, 6)]) == 1


# --- Flatten of a known spatial size before a Linear: the Linear's weight rows are
# permuted at load time (pytorch_flattened_input) instead of a transpose.

POOL_3X2 = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.avgpool = nn.AdaptiveAvgPool2d((3, 2))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(8 * 3 * 2, 16), nn.ReLU(), nn.Linear(16, 5))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
"""


@pytest.mark.parametrize("io_layout", ["keras", "torch"])
def test_flatten_into_linear_permutes_weight_rows_at_load_time(io_layout):
    check(POOL_3X2, "Net()", [(2, 3, 12, 10)], io_layout=io_layout)
    assert graph_transposes(POOL_3X2, "Net()", [(2, 3, 12, 10)], io_layout=io_layout) == (
        0 if io_layout == "keras" else 1)
    code = flat(convert(POOL_3X2, "channels_last"))
    assert "pytorch_flattened_input(layers.Dense(16), spatial_size=6)" in code
    assert "ops.transpose(x, (0, 3, 1, 2))" not in code


def test_flattened_value_read_elsewhere_is_reordered_to_pytorch_order():
    # The Linear reads the flatten as it is; the returned copy is in PyTorch order.
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        x = self.pool(self.conv(x))
        h = x.view(x.size(0), -1)
        y = self.fc(h)
        return y, h * 2.0, torch.softmax(h, dim=1)
"""
    check(source, "Net()", [(2, 3, 8, 8)])
    check(source, "Net()", [(2, 3, 8, 8)], io_layout="keras")


def test_flattened_value_before_a_branch_and_in_nested_calls():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self, twice=True):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.pool = nn.AdaptiveAvgPool2d((2, 3))
        self.drop = nn.Dropout(0.1)
        self.fc = nn.Linear(24, 3)
        self.bn = nn.BatchNorm1d(24)
        self.twice = twice

    def forward(self, x):
        x = self.pool(self.conv(x))
        a = self.fc(self.drop(torch.flatten(x, 1)))
        h = torch.flatten(x, 1)
        if self.twice:
            h = h + 1.0
        return a, self.bn(torch.flatten(x, 1)), self.fc(h)
"""
    check(source, "Net()", [(2, 3, 8, 8)])
    check(source, "Net(False)", [(2, 3, 8, 8)])


def test_one_linear_fed_both_orders_reorders_the_pytorch_order_input():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(12, 3)

    def forward(self, x, z):
        h = torch.flatten(self.pool(x), 1)
        return self.fc(h) + self.fc(z)
"""
    check(source, "Net()", [(2, 3, 8, 8), (2, 12)])
    assert graph_transposes(source, "Net()", [(2, 3, 8, 8), (2, 12)]) == 1  # z reordered


# --- --io-layout keras: image-like inputs and outputs (3 to 5 axes) are channels-last,
# whatever layout the model computes them in.

def test_keras_io_converts_inputs_and_outputs_used_in_pytorch_order():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(5, 2)

    def forward(self, x, v):
        t = x.transpose(2, 3)
        u = x.transpose(2, 3).sum(2, keepdim=True)
        return self.conv(t), t * 2.0, self.fc(v), u
"""
    check(source, "Net()", [(2, 3, 6, 5), (2, 5)], io_layout="keras")
    check(source, "Net()", [(2, 3, 6, 5), (2, 5)], io_layout="torch")
    code = convert(source, "channels_last", "keras")
    assert "x = pytorch_channels_first(x)" in code
    assert "pytorch_channels_last(u)" in code


# --- A block whose input only goes into a list (DenseNet's dense layers): the list
# takes the layout its first caller passes, so no transpose.

DENSE = HEAD + """
class Layer(nn.Module):
    def __init__(self, c, growth):
        super().__init__()
        self.norm = nn.BatchNorm2d(c)
        self.conv = nn.Conv2d(c, growth, 3, padding=1)

    def forward(self, inputs):
        x = torch.cat(inputs, 1)
        return self.conv(F.relu(self.norm(x)))


class Block(nn.Module):
    def __init__(self, c, growth, n):
        super().__init__()
        self.layers = nn.ModuleList([Layer(c + i * growth, growth) for i in range(n)])

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.block = Block(4, 2, 3)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(10, 3))

    def forward(self, x):
        return self.head(self.block(self.stem(x)))
"""


def test_list_of_a_blocks_input_keeps_the_callers_layout():
    check(DENSE, "Net()", [(2, 3, 8, 8)])
    assert graph_transposes(DENSE, "Net()", [(2, 3, 8, 8)]) == 0


def test_loops_forget_spatial_sizes():
    # The first pass flattens a 1x1 map, the second a 2x2 one: the flatten in the
    # body must not rely on the size the loop starts with.
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        x = self.pool(x)
        out = []
        for _ in range(2):
            out.append(torch.flatten(x, 1)[:, :4])
            x = self.up(x)
        return out[0], out[1]
"""
    check(source, "Net()", [(2, 3, 8, 8)])



def test_loops_forget_the_spatial_size_of_maps_in_pytorch_order():
    # s is a 1x1 map in PyTorch order when the loop starts and 1x2 in the second
    # pass: converting it to channels-last by a reshape, or flattening it as it
    # is, would be right only in the first.
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        x = self.conv(x)
        s = self.fc(x.mean((2, 3))).view(x.size(0), 2, 1, 1)
        out = []
        for _ in range(2):
            y = x[:, :, :1, :1] * s
            out.append(torch.flatten(s, 1))
            s = torch.cat([s, y], 3)
        return out[0], out[1]
"""
    check(source, "Net()", [(2, 3, 4, 5)])

# --- Element-wise rules: 0-d tensors and comparisons go with any layout.

def test_scalar_reductions_and_comparisons_keep_channels_last():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        x = self.conv(x)
        x = x - x.mean()
        x = torch.where(x > x.abs().amax() * 0.5, x, 0.1 * x)
        return self.bn(x / (x.abs().sum() + 1.0))
"""
    check(source, "Net()", [(2, 3, 6, 6)], io_layout="keras")
    assert graph_transposes(source, "Net()", [(2, 3, 6, 6)]) == 0


# --- permute(0, 2, 3, 1) of a channels-last tensor, and back: relabels, no data moves.

LAYERNORM2D = HEAD + """
class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        x = x.permute(0, 3, 1, 2)
        return x


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.fc1 = nn.Linear(c, 2 * c)
        self.fc2 = nn.Linear(2 * c, c)

    def forward(self, x):
        y = self.dw(x)
        y = torch.permute(y, (0, 2, 3, 1))
        y = self.fc2(F.gelu(self.fc1(y)))
        return x + y.permute(0, 3, 1, 2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 2, stride=2)
        self.block = Block(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(LayerNorm2d(8), nn.Flatten(1), nn.Linear(8, 3))

    def forward(self, x):
        return self.head(self.pool(self.block(self.stem(x))))
"""


def test_permutes_that_move_the_channel_axis_relabel_and_blocks_keep_spatial_sizes():
    check(LAYERNORM2D, "Net()", [(2, 3, 8, 8)])
    check(LAYERNORM2D, "Net()", [(2, 3, 8, 8)], io_layout="keras")
    # The block's permutes are relabels, and the size 1 of the pooled map goes
    # through LayerNorm2d's relabels and F.layer_norm to the Flatten.
    assert graph_transposes(LAYERNORM2D, "Net()", [(2, 3, 8, 8)]) == 0
    code = convert(LAYERNORM2D, "channels_last", "keras")
    assert "ops.transpose(x" not in code and "ops.transpose(y" not in code and "(0, 2, 3, 1)" not in code


def test_other_permutes_of_channels_last_tensors_are_one_transpose():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(x).permute(0, 1, 3, 2) * 2.0, self.conv(x).permute(3, 2, 1, 0)
"""
    check(source, "Net()", [(2, 3, 5, 6)])
    check(source, "Net()", [(2, 3, 5, 6)], io_layout="keras")
    code = flat(convert(source, "channels_last", "torch"))
    assert "ops.swapaxes(self.conv(x), 1, 3) * 2.0" in code
    assert "ops.transpose(self.conv(x), (2, 1, 3, 0))" in code


# --- Channel-axis idioms are exact under channels_last (issue 5, scope 3), whatever
# transposes they still need.

CHANNEL_IDIOMS = HEAD + """
def channel_shuffle(x, groups: int):
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, num_channels, height, width)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        self.conv2 = nn.Conv2d(2, 4, 1)

    def forward(self, x):
        x = self.conv(x)
        a, b = x.chunk(2, dim=1)
        c, d = torch.split(x, [3, 5], dim=1)
        s = channel_shuffle(torch.cat([b, a], 1), 4)
        m = x.mean((2, 3))
        n = x.size(1) * x[:, 2] + x[:, -1]
        g = x.reshape(x.size(0), 2, 4, x.size(2), x.size(3)).sum(2)
        p = self.conv2(self.shuffle(x))
        return s, m, n, g, p, c * 2.0, d.amax(1, keepdim=True)
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("io_layout", ["torch", "keras"])
def test_channel_axis_idioms_are_exact(layout, io_layout):
    check(CHANNEL_IDIOMS, "Net()", [(2, 3, 6, 4)], layout=layout, io_layout=io_layout)


# --- Adversarial cases for the flatten and spatial-size rules.

def test_flattened_value_given_to_a_block_or_returned_by_a_helper():
    source = HEAD + """
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 2)

    def forward(self, h):
        return self.fc(h) + h[:, :2]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.head = Head()
        self.fc = nn.Linear(12, 2)

    def features(self, x):
        x = self.pool(self.conv(x))
        x = torch.flatten(x, 1)
        return x

    def forward(self, x):
        h = self.features(x)
        g = torch.flatten(self.pool(x), 1)
        return self.head(h), self.fc(g), g[:, 5]
"""
    check(source, "Net()", [(2, 3, 6, 6)])
    check(source, "Net()", [(2, 3, 6, 6)], io_layout="keras")


def test_block_returning_its_input_or_a_broadcast_keeps_sizes_right():
    source = HEAD + """
class Keep(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        s = self.pool(x)
        return x * torch.sigmoid(s)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.keep = Keep()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * 3 * 3, 2)

    def forward(self, x):
        a = self.keep(self.pool(self.conv(x)))       # 1x1 in, 1x1 out
        b = self.keep(self.conv(x))                  # 3x3 in, 3x3 out
        return torch.flatten(a, 1), self.fc(torch.flatten(b, 1))
"""
    check(source, "Net()", [(2, 3, 3, 3)])
    assert graph_transposes(source, "Net()", [(2, 3, 3, 3)]) == 1  # b's flatten only


def test_permuted_value_used_in_pytorch_order():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        y = self.conv(x).permute(0, 2, 3, 1)
        return y.reshape(y.shape[0], -1), y[:, 0], y.mean(-1), y.permute(0, 3, 1, 2).flatten(2)
"""
    check(source, "Net()", [(2, 3, 4, 5)])
    check(source, "Net()", [(2, 3, 4, 5)], io_layout="keras")


def test_indexing_channels_of_channels_last_tensors_needs_no_transpose():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        x = self.conv(x)
        i = 1
        y = self.conv2(x[:, 2:6]) + x[:, 0:1] * x[:, -1:]
        return x[:, 0], y, x[:, i, ::2], x[:, -1:, 1:3, 0], x[:, :, 1]
"""
    check(source, "Net()", [(2, 3, 5, 6)])
    check(source, "Net()", [(2, 3, 5, 6)], io_layout="keras")
    code = flat(convert(source, "channels_last", "keras"))
    assert "x[..., 0], " in code and "x[..., 2:6]" in code and "x[:, ::2, :, i]" in code


# --- From the review of 2026-11-29: outputs under --io-layout keras, slice bounds,
# len(), strided spatial indexing with `...`.

def test_keras_io_moves_every_image_like_output_last():
    source = HEAD + """
class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.a(x)
        return y, y * 2


class Net(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.t = Two()
        self.mode = mode

    def forward(self, x):
        if self.mode == 0:
            return {"y": self.t(x)[0], "s": x.mean()}
        if self.mode == 1:
            return self.t(x)
        y, z = self.t(x)
        return y, [z * 2, z.mean((2, 3))]
"""
    for mode in range(3):
        check(source, f"Net({mode})", [(2, 3, 9, 7)], io_layout="keras")
        check(source, f"Net({mode})", [(2, 3, 9, 7)], layout="channels_first", io_layout="keras")


FOCUS = HEAD + """
class Focus(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Conv2d(c1 * 4, c2, 1)

    def forward(self, x):
        return self.conv(torch.cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]], 1))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.focus = Focus(4, 8)

    def forward(self, x):
        x = self.focus(self.stem(x))
        return x[:, : x.size(1) // 2] * len(x)
"""


def test_strided_spatial_indexing_slice_bounds_and_len():
    check(FOCUS, "Net()", [(2, 3, 8, 6)])
    check(FOCUS, "Net()", [(2, 3, 8, 6)], io_layout="keras")
    assert graph_transposes(FOCUS, "Net()", [(2, 3, 8, 6)]) == 0
    code = flat(convert(FOCUS, "channels_last", "keras"))
    assert "x[..., ::2, ::2, :]" in code and "ops.shape(x)[0]" in code


SE_BLOCK = HEAD + """
class SE(nn.Module):
    def __init__(self, c, r=2):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(c, c // r), nn.ReLU(inplace=True), nn.Linear(c // r, c), nn.Sigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class Gate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Linear(c, c)

    def forward(self, x):
        n, c, h, w = x.shape
        s = self.fc(x.mean((2, 3))).reshape(n, c, 1, 1)
        return x * torch.sigmoid(s) + x.view(n, c, h * w).mean(-1).view(-1, c, 1, 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.se = SE(8)
        self.gate = Gate(8)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.gate(self.se(self.conv(x))))
"""


def test_squeeze_excitation_written_with_views_and_linear_stays_channels_last():
    check(SE_BLOCK, "Net()", [(2, 3, 6, 5)])
    check(SE_BLOCK, "Net()", [(2, 3, 6, 5)], io_layout="keras")
    check(SE_BLOCK, "Net()", [(2, 3, 6, 5)], layout="channels_first")
    code = flat(convert(SE_BLOCK, "channels_last", "keras"))
    assert "b, _, _, c = ops.shape(x)" in code and "ops.reshape(y, (ops.shape(y)[0], 1, 1, -1))" in code
    # Gate's x.view(n, c, h * w) merges the spatial axes as they are stored:
    # (n, h * w, c), channels-last of rank 3, whose mean(2) is over its axis 1.
    assert "ops.mean(ops.reshape(x, (n, h * w, c)), axis=1)" in code
    assert graph_transposes(SE_BLOCK, "Net()", [(2, 3, 6, 5)]) == 0


# --- Parameters that scale or shift channels-last activations (ConvNeXt's layer
# scale): stored as they broadcast against them, so nothing is transposed; a use
# in PyTorch order reads them in PyTorch's shape.

LAYER_SCALE = HEAD + """
class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)
        self.gamma = nn.Parameter(torch.ones(dim, 1, 1) * 1e-1)
        self.beta = nn.Parameter(torch.zeros(1, dim, 1, 1))

    def forward(self, x):
        y = self.gamma * self.conv(x) + self.beta
        y += x
        return {tail}
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("io_layout", ["torch", "keras"])
def test_layer_scale_parameters_are_stored_channels_last(layout, io_layout):
    source = LAYER_SCALE.replace("{tail}", "y")
    check(source, "Block(5)", [(2, 5, 7, 6)], layout=layout, io_layout=io_layout)
    if layout == "channels_last":
        assert graph_transposes(source, "Block(5)", [(2, 5, 7, 6)], io_layout=io_layout) == (
            0 if io_layout == "keras" else 2)
        assert "channels_last_rank=4" in convert(source, layout, io_layout)


@pytest.mark.parametrize("tail", [
    "y - self.beta * 0.5",                      # the same parameter against a Python number
    "y * self.gamma.mean()",                    # read another way: stays in PyTorch order
    "(y, torch.flatten(y, 2) + self.gamma[:, :, 0])",  # against a (N, C, H*W) tensor
])
def test_layer_scale_parameters_read_in_pytorch_order_keep_their_shape(tail):
    source = LAYER_SCALE.replace("{tail}", tail)
    check(source, "Block(5)", [(2, 5, 7, 6)])
    check(source, "Block(5)", [(2, 5, 7, 6)], io_layout="keras")


# Buffers that only shift or scale activations (an input normalisation's mean and
# scale, made with torch.tensor(...).view(...)) are stored channels-last too;
# a non-persistent buffer, or one read another way, stays in PyTorch order.
NORMALIZE = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([4.4, 4.5, 4.4]).view(1, 3, 1, 1))
        self.register_buffer("offset", torch.ones(3, 1, 1) * 0.1, persistent=False)
        self.register_buffer("bias", torch.zeros(8, 1, 1))
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        x = (x - self.mean) * self.scale
        return self.conv(x) + self.bias, {tail}
"""


# A tensor in PyTorch order of unknown rank (offset, scale[:, :1]) may broadcast
# against any axes: x goes to PyTorch order for it, and the image output back.
@pytest.mark.parametrize("tail,transposes", [("x.sum()", 0), ("x + self.offset", 2),
                                             ("x + self.scale[:, :1]", 4)])
def test_buffers_that_shift_or_scale_activations_are_stored_channels_last(tail, transposes):
    source = NORMALIZE.replace("{tail}", tail)
    for io_layout in ["torch", "keras"]:
        check(source, "Net()", [(2, 3, 7, 6)], io_layout=io_layout)
    code = convert(source, "channels_last", "keras")
    assert code.count("channels_last_rank=4") == (2 if "self.scale[" in tail else 3)
    assert graph_transposes(source, "Net()", [(2, 3, 7, 6)]) == transposes


# --- torchvision's Permute modules (ConvNeXt's blocks): a relabel of a
# channels-last tensor becomes layers.Identity(), any other permute one
# layers.Permute of the stored axes. torchvision is imported by `torch2keras
# verify` in a subprocess only (it crashes next to TensorFlow in this process).

PERMUTE_MODULES = """
import torch
from torch import nn
from torchvision.ops.misc import Permute


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=3, padding=1, groups=dim),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim),
            nn.Linear(dim, 2 * dim),
            nn.GELU(),
            nn.Linear(2 * dim, dim),
            Permute([0, 3, 1, 2]),
        )
        self.scale = nn.Parameter(torch.ones(dim, 1, 1))
        self.swap = Permute([0, 1, 3, 2])

    def forward(self, x):
        y = x + self.scale * self.block(x)
        return {tail}
"""


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is None, reason="needs torchvision")
# The swap of H and W is one transpose; with --io-layout keras its PyTorch-order
# result goes out channels-last (one more), with PyTorch io the input comes in.
@pytest.mark.parametrize("tail,transposes", [("y", {"keras": 0, "torch": 2}),
                                             ("self.swap(y)", {"keras": 2, "torch": 2})])
@pytest.mark.parametrize("io_layout", ["torch", "keras"])
def test_torchvision_permute_modules(tmp_path, tail, transposes, io_layout):
    source = PERMUTE_MODULES.replace("{tail}", tail)
    path = tmp_path / "blocks.py"
    path.write_text(source)
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run(
        [sys.executable, "-m", "torch2keras", "verify", str(path), "--model", "Block(6)",
         "--input-shape", "2,6,5,7", "--io-layout", io_layout, "--trials", "2", "--compiled"],
        capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    keras_source = convert(source, "channels_last", io_layout)
    assert keras_source.count("layers.Identity()") == 2
    assert graph_transposes(source, "Block(6)", [(2, 6, 5, 7)], io_layout=io_layout) == transposes[io_layout]


# --- A channels-last tensor relabelled to (N, H, W, C) and back keeps its spatial
# size through shape-keeping ops (LayerNorm2d above); a broadcast that may grow it
# forgets it.

def test_relabelled_tensors_broadcast_to_a_larger_spatial_size():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 6 * 5, 3)

    def forward(self, x):
        x = self.conv(x)
        p = x.mean((2, 3), keepdim=True).permute(0, 2, 3, 1)
        q = x.permute(0, 2, 3, 1)
        y = (p * q).permute(0, 3, 1, 2)
        z = torch.where(p > 0, p, q).permute(0, 3, 1, 2)
        return self.fc(torch.flatten(y, 1)) + self.fc(torch.flatten(z, 1))
"""
    check(source, "Net()", [(2, 3, 6, 5)])
    check(source, "Net()", [(2, 3, 6, 5)], io_layout="keras")


# --- Views that split or merge axes where the data is stored (Fact::dims and
# regroup): a channel shuffle costs its own transpose only, not a round trip
# through PyTorch's order, and transposes relabel what they can.

SHUFFLE = HEAD + """
def channel_shuffle(x, groups: int):
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, num_channels, height, width)
    return x


def shuffle_by_sizes(x, groups: int):
    x = x.view(x.size(0), groups, -1, x.size(2), x.size(3))
    x = x.transpose(1, 2).contiguous()
    return x.view(x.size(0), -1, x.size(3), x.size(4))


class Block(nn.Module):
    def __init__(self, c, groups, by_sizes):
        super().__init__()
        self.conv = nn.Conv2d(c // 2, c // 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(c // 2)
        self.groups = groups
        self.by_sizes = by_sizes

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        out = torch.cat((x1, F.relu(self.bn(self.conv(x2)))), dim=1)
        if self.by_sizes:
            return shuffle_by_sizes(out, self.groups)
        return channel_shuffle(out, self.groups)


class Net(nn.Module):
    def __init__(self, by_sizes=False):
        super().__init__()
        self.stem = nn.Conv2d(3, 12, 3, padding=1)
        self.blocks = nn.Sequential(Block(12, 3, by_sizes), Block(12, 3, by_sizes))
        self.head = nn.Conv2d(12, 4, 1)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))
"""


@pytest.mark.parametrize("expr", ["Net()", "Net(by_sizes=True)"])
def test_channel_shuffle_regroups_the_stored_channel_axis(expr):
    # 12 channels in 3 groups of 4, on a 5 x 7 map: any mix-up of the group axes
    # or of height and width changes the numbers.
    check(SHUFFLE, expr, [(2, 3, 5, 7)])
    check(SHUFFLE, expr, [(2, 3, 5, 7)], io_layout="keras")
    check(SHUFFLE, expr, [(2, 3, 5, 7)], layout="channels_first")
    # One transpose per shuffle (the data movement PyTorch's .contiguous() does too).
    assert graph_transposes(SHUFFLE, expr, [(2, 3, 5, 7)]) == 2
    assert graph_transposes(SHUFFLE, expr, [(2, 3, 5, 7)], io_layout="torch") == 4
    code = flat(convert(SHUFFLE, "channels_last", "keras"))
    assert "batchsize, height, width, num_channels = ops.shape(x)" in code
    assert "x = ops.reshape(x, (batchsize, height, width, groups, channels_per_group))" in code
    assert "ops.reshape(ops.swapaxes(x, 3, 4), (batchsize, height, width, num_channels))" in code
    assert "pytorch_chunk(x, 2, axis=-1)" in code


def test_permuted_views_read_by_other_ops_are_transposed_first():
    # A split view (stored (b, h, w, 2, c // 2)) and its relabelled transpose, read
    # by a reduction, an element-wise op with another tensor, x.size(d) and a branch.
    source = HEAD + """
class Net(nn.Module):
    def __init__(self, flag):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.flag = flag

    def forward(self, x):
        x = self.conv(x)
        b, c, h, w = x.size()
        y = x.view(b, 2, c // 2, h, w)
        z = y.transpose(1, 2)
        s = z.size(1) * z.sum(2) + z.shape[3]
        if self.flag:
            y = y * 2.0
        t = y + z.transpose(1, 2)
        return s, t.mean(1), z.amax(3)
"""
    for io_layout in ["torch", "keras"]:
        for expr in ["Net(True)", "Net(False)"]:
            check(source, expr, [(2, 3, 5, 7)], io_layout=io_layout)


def test_views_merging_stored_axes_and_transposes_that_relabel():
    # x.view(b, c, h * w) of a channels-last x is (b, h * w, c) as stored: its
    # permute(0, 2, 1) relabels; a Conv1d's transpose(1, 2) relabels too.
    tokens = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x = self.conv(x)
        b, c, h, w = x.shape
        t = x.view(b, c, h * w).permute(0, 2, 1)
        return F.gelu(self.fc(t)).mean(1)
"""
    check(tokens, "Net()", [(2, 3, 5, 7)])
    check(tokens, "Net()", [(2, 3, 5, 7)], io_layout="keras")
    assert graph_transposes(tokens, "Net()", [(2, 3, 5, 7)]) == 0
    # A ViT patch embedding: flatten(2) merges the spatial axes as stored.
    patches = tokens.replace("t = x.view(b, c, h * w).permute(0, 2, 1)", "t = x.flatten(2).transpose(1, 2)")
    check(patches, "Net()", [(2, 3, 5, 7)])
    check(patches, "Net()", [(2, 3, 5, 7)], io_layout="keras")
    assert graph_transposes(patches, "Net()", [(2, 3, 5, 7)]) == 0
    assert "pytorch_flatten(x, 1, 2)" in convert(patches, "channels_last", "keras")
    sequence = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3, padding=1)
        self.fc = nn.Linear(8, 8)
        self.conv2 = nn.Conv1d(8, 5, 1)

    def forward(self, x):
        t = self.conv(x).transpose(1, 2)
        t = F.gelu(self.fc(t))
        return self.conv2(t.transpose(-1, -2))
"""
    check(sequence, "Net()", [(2, 4, 9)])
    check(sequence, "Net()", [(2, 4, 9)], io_layout="keras")
    assert graph_transposes(sequence, "Net()", [(2, 4, 9)]) == 0
    assert graph_transposes(sequence, "Net()", [(2, 4, 9)], io_layout="torch") == 2


def test_views_whose_sizes_are_not_the_inputs_read_pytorch_order():
    # After `h, w = w, h` the view (b, c, w, h) is a real reshape, not a relabel;
    # a view whose leading size is not the batch size may split the batch.
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        b, c, h, w = x.size()
        y = x.view(b // 2, 2, c, h, w).sum(1)
        h, w = w, h
        return x.view(b, c, h, w) + 1.0, y
"""
    check(source, "Net()", [(4, 3, 5, 7)])
    check(source, "Net()", [(4, 3, 5, 7)], io_layout="keras")


# --- A model input read a channel at a time before any layer (googlenet's and
# inception's _transform_input): the input's first spatial module gives it its
# layout (module_hint), x[:, c] takes channels as stored and torch.unsqueeze(t, 1)
# of an (N, H, W) is channels-last as it is (N, H, W, 1).

TRANSFORM_INPUT = HEAD + """
class Net(nn.Module):
    def __init__(self, transform_input=True):
        super().__init__()
        self.transform_input = transform_input
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 4)

    def _transform_input(self, x):
        if self.transform_input:
            x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
            x_ch1 = torch.unsqueeze(x[:, 1], -3) * 0.448 - 0.088
            x_ch2 = x[:, 2].unsqueeze(1) * 0.45 - 0.188
            x = torch.cat((x_ch0, x_ch1, x_ch2), 1)
        return x

    def _forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def forward(self, x):
        x = self._transform_input(x)
        return self._forward(x)
"""


@pytest.mark.parametrize("expr", ["Net()", "Net(transform_input=False)"])
def test_inputs_transformed_channel_by_channel_stay_channels_last(expr):
    for io_layout in ["torch", "keras"]:
        check(TRANSFORM_INPUT, expr, [(2, 3, 7, 9)], io_layout=io_layout)
    check(TRANSFORM_INPUT, expr, [(2, 3, 7, 9)], layout="channels_first")
    assert graph_transposes(TRANSFORM_INPUT, expr, [(2, 3, 7, 9)]) == 0
    assert graph_transposes(TRANSFORM_INPUT, expr, [(2, 3, 7, 9)], io_layout="torch") == 1
    code = flat(convert(TRANSFORM_INPUT, "channels_last", "keras"))
    # x may be any dtype (uint8 images): PyTorch promotes it, keras.ops does too.
    assert "ops.multiply(ops.expand_dims(x[..., 0], -1), 0.229 / 0.5)" in code
    assert "ops.concatenate((x_ch0, x_ch1, x_ch2), axis=-1)" in code


def test_size_one_channel_axes_convert_by_reshape_and_broadcasts_forget_them():
    # g = unsqueeze(y[:, 0], 1) has one channel: read in PyTorch order (flatten(1))
    # it is reshaped, not transposed; g * y has y's 8 channels, so its flatten(1)
    # transposes (a size-1 rule kept after the broadcast would drop 7 channels).
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        g = torch.unsqueeze(y[:, 0], 1) * 0.5 + 1.0
        m = g * y
        h = g
        for _ in range(2):
            h = torch.cat([h, -h], 1)
        return g.flatten(1).sum(-1), m.flatten(1).sum(-1), h.flatten(1).amax(-1), y * g
"""
    for io_layout in ["torch", "keras"]:
        check(source, "Net()", [(2, 3, 5, 7)], io_layout=io_layout)
    code = flat(convert(source, "channels_last", "keras"))
    # g to PyTorch order for its flatten(1), and back for y * g: reshapes.
    assert "g = ops.expand_dims(g[..., 0], 1)" in code and "ops.expand_dims(g[:, 0], -1)" in code
    # m and h (8 and 4 channels) transpose to PyTorch order for their flatten(1).
    assert graph_transposes(source, "Net()", [(2, 3, 5, 7)]) == 2


# --- Review of 2026-11-30: `@` of channels-last tensors, a size-1 channel axis
# that a convolution widens, (N, L) -> (N, 1, L) into a Conv1d.

def test_matrix_products_of_channels_last_tensors_read_pytorch_order():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        return y @ y.transpose(-1, -2), torch.matmul(y.transpose(2, 3), y).sum(1)
"""
    for io_layout in ["torch", "keras"]:
        check(source, "Net()", [(2, 3, 6, 10)], io_layout=io_layout)


def test_size_one_channel_axes_widened_by_a_layer_are_transposed():
    # y.unsqueeze(1) is (N, 1, C, L) with one channel; conv2 gives it two, so the
    # output goes back to PyTorch order by a transpose, not by taking channel 0.
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(1)
        self.conv2 = nn.Conv2d(1, 2, 1)

    def forward(self, x):
        y = self.conv(x)
        a = y.unsqueeze(-1) * 2.0
        return self.conv2(self.bn(y.unsqueeze(1))), a
"""
    for io_layout in ["torch", "keras"]:
        check(source, "Net()", [(2, 3, 20)], io_layout=io_layout)


def test_unsqueezed_sequences_reach_a_conv1d_by_reshape():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 5, padding=2)

    def forward(self, x):
        return self.conv(x.unsqueeze(1)).mean(-1)
"""
    for io_layout in ["torch", "keras"]:
        check(source, "Net()", [(2, 30)], io_layout=io_layout)
    assert graph_transposes(source, "Net()", [(2, 30)]) == 0
    assert "ops.expand_dims(ops.expand_dims(x, 1)[:, 0], -1)" in flat(convert(source, "channels_last", "keras"))


# A variable read by a layer in PyTorch order, then transposed for another: the
# transposed view is y's data read channels-last, and y keeps its own value for
# the third read (review: the view rebound y, and `c` was computed on it).
VIEW_AND_VARIABLE = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3, padding=1)  # 6 filters, width 8 (test_backend_defects)
        self.ln_t = nn.LayerNorm(8)
        self.ln_c = nn.LayerNorm(6)

    def forward(self, x):
        y = self.conv(x)
        a = self.ln_t(y)
        b = self.ln_c(y.transpose(1, 2))
        c = self.ln_t(y)
        return a, b, c
'''


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_a_transposed_view_does_not_rebind_its_variable(layout):
    check(VIEW_AND_VARIABLE, "Net()", [(2, 4, 8)], layout=layout)


# wav2vec2's feature extractor: GroupNorm over a Conv1d's (N, C, L), channels-last.
GROUP_NORM_1D = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 10, stride=5, bias=False)
        self.norm = nn.GroupNorm(8, 8)

    def forward(self, x):
        return self.norm(self.conv(x.unsqueeze(1)))
'''


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_group_norm_of_a_conv1d_output(layout):
    check(GROUP_NORM_1D, "Net()", [(2, 60)], layout=layout)
