"""How models are put together: the constructor code lowering follows.

Each source builds its layers the way real model code does (torchvision's
ResNet, MobileNet, DenseNet): classes passed as values, `norm_layer=None`
defaults, `functools.partial`, Sequential subclasses, lists built in loops and
module functions, layer arguments known only at run time. Each one converts
and matches PyTorch in both layouts (harness.check).
"""

import numpy as np
import pytest

from harness import assert_conversion_error, check, convert, flat, load_module

LAYOUTS = ["channels_last", "channels_first"]


def convert_result(source, layout):
    """The whole conversion result (code and diagnostics); asserts it has no errors."""
    import torch2keras

    result = torch2keras.convert(source, filename="model.py", layout=layout)
    assert result.ok, [d.rendered for d in result.diagnostics]
    return result

# ResNet's pattern: the block class travels through a function and a helper
# method; norm_layer defaults to None and is chosen in __init__.
CLASS_VALUED = '''
from functools import partial
import torch.nn as nn


class Basic(nn.Module):
    def __init__(self, cin, cout, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = norm_layer(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Wide(Basic):
    pass


class Net(nn.Module):
    def __init__(self, block, depth, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = partial(nn.BatchNorm2d, eps=1e-3)
        self._norm_layer = norm_layer
        self.stem = self._make_layer(block, 3, 8, depth)
        self.head = nn.Linear(8, 5)

    def _make_layer(self, block, cin, cout, depth):
        norm_layer = self._norm_layer
        layers = [block(cin, cout, norm_layer)]
        for _ in range(1, depth):
            layers.append(block(cout, cout, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.stem(x)
        x = x.mean((2, 3))
        return self.head(x)


def _net(block, depth, **kwargs):
    return Net(block, depth, **kwargs)


def net_a():
    return _net(Basic, 2)


def net_b():
    return _net(Wide, 3)
'''


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("expr", ["Net(Basic, 2)", "Net(Wide, 3)"])
def test_class_valued_parameters(expr, layout):
    check(CLASS_VALUED, expr, [(2, 3, 9, 9)], layout=layout)


def test_class_values_become_factories():
    code = convert(CLASS_VALUED, "channels_last")
    # nn.BatchNorm2d as a value is a generated function with PyTorch's signature.
    signature = code.split("def BatchNorm2d(")[1].split(":\n")[0]
    assert " ".join(signature.split()).startswith("num_features, eps=1e-05, momentum=0.1,")
    assert flat("norm_layer = BatchNorm2d") in flat(code)
    assert flat("norm_layer = partial(BatchNorm2d, eps=0.001)") in flat(code)
    # A local `layers` keeps its name; that function reads keras.layers for the module.
    assert flat("layers = [block(cin, cout, norm_layer)]") in flat(code)


# MobileNet/MNASNet: a Sequential subclass whose items depend on its
# arguments, blocks built by a module function, BatchNorm momentum passed in.
SEQUENTIAL_SUBCLASS = '''
import torch.nn as nn

_BN_MOMENTUM = 1 - 0.9997


class ConvBNAct(nn.Sequential):
    def __init__(self, cin, cout, stride=1, activation_layer=nn.ReLU6, momentum=0.1):
        layers = [nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                  nn.BatchNorm2d(cout, momentum=momentum)]
        if activation_layer is not None:
            layers.append(activation_layer())
        super().__init__(*layers)


class Residual(nn.Module):
    def __init__(self, c, apply_residual):
        super().__init__()
        self.apply_residual = apply_residual
        self.layers = nn.Sequential(ConvBNAct(c, c), ConvBNAct(c, c, activation_layer=None))

    def forward(self, input):
        if self.apply_residual:
            return self.layers(input) + input
        return self.layers(input)


def _stack(c, repeats):
    first = Residual(c, False)
    remaining = []
    for _ in range(1, repeats):
        remaining.append(Residual(c, True))
    return nn.Sequential(first, *remaining)


class Net(nn.Module):
    def __init__(self, momentum=_BN_MOMENTUM):
        super().__init__()
        layers = [ConvBNAct(3, 8, stride=2, momentum=momentum), _stack(8, 3)]
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(8, 4))

    def forward(self, x):
        x = self.layers(x)
        x = x.mean([2, 3])
        return self.classifier(x)
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sequential_subclass_and_module_functions(layout):
    check(SEQUENTIAL_SUBCLASS, "Net()", [(2, 3, 12, 12)], layout=layout)


def test_runtime_arguments_use_the_factory():
    code = convert(SEQUENTIAL_SUBCLASS, "channels_last")
    # momentum is a constructor argument: the factory applies 1 - momentum when it runs.
    assert flat("BatchNorm2d(cout, momentum=momentum)") in flat(code)
    assert flat("return layers.BatchNormalization(momentum=1 - momentum, epsilon=eps") in flat(code)
    # Only the outer model is a keras.Model; the blocks are layers.
    assert flat("class Residual(keras.layers.Layer):") in flat(code)
    assert flat("class Net(keras.Model):") in flat(code)


# DenseNet/SqueezeNet: lists of feature maps concatenated on the channel axis.
CONCAT_LISTS = '''
import torch
import torch.nn as nn


class Fire(nn.Module):
    def __init__(self, cin, s, e):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, s, 1)
        self.e1 = nn.Conv2d(s, e, 1)
        self.e3 = nn.Conv2d(s, e, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.squeeze(x))
        return torch.cat([self.e1(x), self.e3(x)], 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fire = Fire(3, 4, 5)
        self.convs = nn.ModuleList([nn.Conv2d(10, 3, 1), nn.Conv2d(10, 3, 3, padding=1)])

    def forward(self, x):
        x = self.fire(x)
        features = [x]
        for conv in self.convs:
            features.append(conv(x))
        return torch.cat(features, 1)
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lists_of_feature_maps(layout):
    check(CONCAT_LISTS, "Net()", [(2, 3, 7, 7)], layout=layout)


def test_unknown_list_layout_is_an_error():
    import torch2keras

    source = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        y = self.conv(x)
        parts = [t * 2 for t in (y, y)]  # not followed: layout unknown
        return torch.cat(parts, 1)
'''
    result = torch2keras.convert(source, filename="model.py")
    assert not result.ok
    assert any("cannot tell the layout of the tensors in `parts`" in d.message for d in result.diagnostics)


# GoogLeNet's pattern: the block classes come from a list (`blocks[0]`), and the
# block passes **kwargs on to nn.Conv2d, so the Conv2d factory binds them at run
# time. Helper methods read self.training (`self.training and self.aux`).
BLOCK_LIST = '''
import torch
import torch.nn as nn


class BasicConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Aux(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Linear(c, 3)

    def forward(self, x):
        return self.fc(torch.flatten(x, 1))


class Net(nn.Module):
    def __init__(self, aux=True, blocks=None):
        super().__init__()
        if blocks is None:
            blocks = [BasicConv2d, Aux]
        conv_block = blocks[0]
        self.aux = aux
        self.conv1 = conv_block(3, 8, kernel_size=3, stride=2, padding=1)
        self.conv2 = conv_block(8, 8, kernel_size=(1, 3), padding=(0, 1))

    def _outputs(self, x, y):
        if self.training and self.aux:
            return x, y
        return x

    def forward(self, x):
        y = self.conv1(x)
        return self._outputs(self.conv2(y), y)
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_block_lists_kwargs_and_training_in_helpers(layout):
    check(BLOCK_LIST, "Net()", [(2, 3, 9, 9)], layout=layout)
    code = convert(BLOCK_LIST, layout)
    assert flat("def _outputs(self, x, y, training=None):") in flat(code)
    assert flat("training=training)") in flat(code).split("def call(self, x, training=None):")[-1]
    assert flat("if training and self.aux:") in flat(code)


# ShuffleNetV2's pattern: stages set with setattr(self, name, ...), an empty
# nn.Sequential() as the identity branch, and a module-level function with
# tensor code (a channel shuffle) on the forward path.
SHUFFLE = '''
import torch
import torch.nn as nn


def channel_shuffle(x, groups: int):
    batchsize, num_channels, height, width = x.size()
    x = x.view(batchsize, groups, num_channels // groups, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, num_channels, height, width)


class Unit(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        self.stride = stride
        if stride > 1:
            self.branch1 = nn.Sequential(nn.Conv2d(c, c, 3, stride, 1, groups=c), nn.BatchNorm2d(c))
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(nn.Conv2d(c, c, 3, stride, 1), nn.ReLU())

    def forward(self, x):
        out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        names = [f"stage{i}" for i in [2, 3]]
        for name, stride in zip(names, [1, 2]):
            setattr(self, name, nn.Sequential(Unit(4, stride)))

    def forward(self, x):
        x = self.stem(x)
        x = self.stage2(x)
        return self.stage3(torch.relu(x)[:, :4])
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_setattr_identity_branches_and_module_functions(layout):
    # Widths differ from the filter counts (TF defect, test_backend_defects.py).
    check(SHUFFLE, "Net()", [(2, 3, 10, 10)], layout=layout)
    code = convert(SHUFFLE, layout)
    assert flat("def channel_shuffle(x, groups: int):") in flat(code)
    if layout == "channels_first":
        assert flat("x = ops.swapaxes(x, 1, 2)") in flat(code)
    else:  # the shuffle regroups the stored channel axis (test_layout.py)
        assert flat("ops.reshape(ops.swapaxes(x, 3, 4), (batchsize, height, width, num_channels))") in flat(code)


# RegNet's and DenseNet's pattern: Sequentials built from OrderedDicts (literal,
# a list of pairs, `layers["a"] = ...` items) and `add_module` in a Sequential
# subclass; their state_dict keys use the names.
NAMED = '''
from collections import OrderedDict
import torch.nn as nn


class Block(nn.Sequential):
    def __init__(self, c, se):
        layers = OrderedDict()
        layers["a"] = nn.Conv2d(c, c, 3, padding=1)
        if se:
            layers["se"] = nn.ReLU()
        layers["c"] = nn.BatchNorm2d(c)
        super().__init__(layers)


class Stage(nn.Sequential):
    def __init__(self, c, depth):
        super().__init__()
        for i in range(depth):
            self.add_module(f"block{i}", Block(c, i == 0))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict([("conv0", nn.Conv2d(3, 8, 3)), ("relu0", nn.ReLU())]))
        blocks = []
        for i in range(2):
            blocks.append((f"stage{i}", Stage(8, 2)))
        self.trunk = nn.Sequential(OrderedDict(blocks))

    def forward(self, x):
        return self.trunk(self.stem(x))
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_named_sequentials(layout):
    check(NAMED, "Net()", [(2, 3, 11, 11)], layout=layout)
    code = convert(NAMED, layout)
    assert flat("super().__init__(pytorch_named_layers(layers))") in flat(code)
    assert flat("self.add(pytorch_named(Block(c, i == 0), f'block{i}'))") in flat(code)


# DenseNet's pattern: a ModuleDict subclass iterated with self.items(), a list of
# feature maps passed to each layer (`isinstance(input, Tensor)` is then False), a
# closure under torch.utils.checkpoint, `tensor.requires_grad`, jit overload
# stubs, layers added to a Sequential attribute and to a Sequential subclass by
# assignment, in a loop.
DENSE = '''
from collections import OrderedDict
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from torch import Tensor


class _DenseLayer(nn.Module):
    def __init__(self, num_input_features, growth_rate, drop_rate, memory_efficient=False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.conv1 = nn.Conv2d(num_input_features, 2 * growth_rate, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(2 * growth_rate)
        self.conv2 = nn.Conv2d(2 * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs: list[Tensor]) -> Tensor:
        return self.conv1(F.relu(self.norm1(torch.cat(inputs, 1))))

    def any_requires_grad(self, input: list[Tensor]) -> bool:
        for tensor in input:
            if tensor.requires_grad:
                return True
        return False

    @torch.jit.unused
    def call_checkpoint_bottleneck(self, input: list[Tensor]) -> Tensor:
        def closure(*inputs):
            return self.bn_function(inputs)

        return cp.checkpoint(closure, *input, use_reentrant=False)

    @torch.jit._overload_method  # noqa: F811
    def forward(self, input: list[Tensor]) -> Tensor:  # noqa: F811
        pass

    def forward(self, input: Tensor) -> Tensor:  # noqa: F811
        if isinstance(input, Tensor):
            prev_features = [input]
        else:
            prev_features = input
        if self.memory_efficient or self.any_requires_grad(prev_features):
            bottleneck_output = self.call_checkpoint_bottleneck(prev_features)
        else:
            bottleneck_output = self.bn_function(prev_features)
        new_features = self.conv2(F.relu(self.norm2(bottleneck_output)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, num_input_features, growth_rate, drop_rate, memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, drop_rate, memory_efficient)
            self.add_module("denselayer%d" % (i + 1), layer)

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for name, layer in self.items():
            new_features = layer(features)
            features.append(new_features)
        return torch.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(cin, cout, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class Net(nn.Module):
    def __init__(self, memory_efficient=False):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([("conv0", nn.Conv2d(3, 8, 3, padding=1))]))
        num_features = 8
        for i, num_layers in enumerate((2, 3)):
            block = _DenseBlock(num_layers, num_features, 4, 0.1, memory_efficient)
            self.features.add_module("denseblock%d" % (i + 1), block)
            num_features = num_features + num_layers * 4
            if i == 0:
                self.features.add_module("transition%d" % (i + 1), _Transition(num_features, num_features // 2))
                num_features = num_features // 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, 5)

    def forward(self, x):
        out = F.relu(self.features(x), inplace=True)
        out = torch.flatten(F.adaptive_avg_pool2d(out, (1, 1)), 1)
        return self.classifier(out)
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dense_blocks(layout):
    check(DENSE, "Net()", [(2, 3, 10, 10)], layout=layout)
    code = convert(DENSE, layout)
    assert flat("class _DenseBlock(PyTorchModuleDict):") in flat(code)
    assert flat("prev_features = input") in flat(code)  # the list branch only
    assert "prev_features = [input]" not in code
    assert "noqa: F811\n        pass" not in code  # the overload stub is gone
    assert flat("self.add(pytorch_named(layers.BatchNormalization(") in flat(code)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dense_blocks_checkpoint_path(layout):
    """memory_efficient=True runs the closure under torch.utils.checkpoint in the
    Keras model. PyTorch's checkpoint imports its compiler stack, which crashes next
    to TensorFlow in one process, so the reference is the same weights run without
    checkpointing (checkpointing changes memory, not values)."""
    import numpy as np

    from harness import assert_matches, load_module, randomize

    torch_model = load_module(DENSE, "torch_dense").Net()
    torch_model.eval()
    randomize(torch_model, 0)
    keras_ns = load_module(convert(DENSE, layout), "keras_dense")
    x = np.random.default_rng(1).normal(size=(2, 3, 10, 10)).astype("float32")
    assert_matches(torch_model, keras_ns, keras_ns.Net(memory_efficient=True), x)


# EfficientNet's and RegNet's pattern: the block class is a field of a config
# object (a dataclass and its subclass), norm_layer comes from kwargs.pop with a
# default, and a config class computes its values with torch in a classmethod
# (left out with a warning; the class stays).
CONFIGS = '''
import math
from dataclasses import dataclass
from functools import partial
from typing import Callable
import torch
import torch.nn as nn


@dataclass
class _BlockConfig:
    channels: int
    block: Callable[..., nn.Module]


class Plain(nn.Module):
    def __init__(self, cnf, norm_layer):
        super().__init__()
        self.conv = nn.Conv2d(cnf.channels, cnf.channels, 3, padding=1)
        self.bn = norm_layer(cnf.channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Residual(Plain):
    def forward(self, x):
        return x + super().forward(x)


class BlockConfig(_BlockConfig):
    def __init__(self, channels, block=None):
        if block is None:
            block = Plain
        super().__init__(channels, block)


class Widths:
    def __init__(self, widths):
        self.widths = widths

    @classmethod
    def from_depth(cls, depth):
        return cls(torch.logspace(0, 2, depth).tolist())


class Net(nn.Module):
    def __init__(self, settings, **kwargs):
        super().__init__()
        norm_layer = kwargs.pop("norm_layer", partial(nn.BatchNorm2d, eps=1e-3))
        self.stem = nn.Conv2d(3, settings[0].channels, 1)
        self.blocks = nn.Sequential(*[cnf.block(cnf, norm_layer) for cnf in settings])

    def forward(self, x):
        return self.blocks(self.stem(x))


def configs():
    return [BlockConfig(6), BlockConfig(6, Residual)]
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_config_objects_and_kwargs_defaults(layout):
    check(CONFIGS, "Net(configs())", [(2, 3, 7, 7)], layout=layout)
    result = convert_result(CONFIGS, layout)
    assert any("left out method `from_depth` of class `Widths`" in d.message for d in result.diagnostics)
    assert flat("class Widths:") in flat(result.code)
    assert flat("block: 'Callable[..., nn.Module]'") in flat(result.code)


# ConvNeXt's pattern: a subclass of nn.LayerNorm reading its attributes, a layer
# scale nn.Parameter made with torch.ones, a Permute module inside a Sequential.
CONVNEXT = '''
from functools import partial
import torch
from torch import nn
from torch.nn import functional as F


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Block(nn.Module):
    def __init__(self, dim, layer_scale):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)

    def forward(self, input):
        result = self.layer_scale * self.block(input)
        result += input
        return result


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        norm_layer = partial(LayerNorm2d, eps=1e-6)
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 2, stride=2), norm_layer(8))
        self.block = Block(8, 0.5)

    def forward(self, x):
        return self.block(self.stem(x))
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layer_norm_subclass_and_parameters(layout):
    check(CONVNEXT, "Net()", [(2, 3, 14, 14)], layout=layout)
    code = convert(CONVNEXT, layout)
    assert flat("class LayerNorm2d(PyTorchLayerNorm):") in flat(code)
    assert flat("self.layer_scale = pytorch_parameter(self, ops.ones((dim, 1, 1)) * layer_scale)") in flat(
        code)


# Found by a review as a new user: each of these converted without a diagnostic and
# gave wrong numbers or crashed. Shapes avoid the TF channels_first defect
# (test_backend_defects.py): widths differ from filter counts.
PARAMETERS_AND_BUFFERS = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.scale = nn.Parameter(torch.ones(1, 8, 1, 1) * 0.5)
        self.gamma = nn.Parameter(torch.ones(8))
        self.beta = nn.Parameter(torch.zeros(8))
        self.register_buffer("offset", torch.zeros(8))
        self.register_buffer("cache", torch.ones(1), persistent=False)

    def forward(self, x):
        x = self.conv(x) * self.scale
        x = x * self.gamma.view(1, -1, 1, 1) + self.beta[None, :, None, None]
        return x.mean((2, 3)) + self.offset * self.cache
'''

LOOPS_AND_LISTS = '''
import torch
import torch.nn as nn


def scale(t, k):
    return t * k


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Conv2d(3, 3, 3, padding=1) for _ in range(2)])
        self.skips = nn.ModuleList([nn.Identity() for _ in range(2)])
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x) + self.skips[i](x)
            feats.append(x)
        for block, skip in zip(self.blocks, self.skips):
            x = scale(block(x), 0.5) + skip(x)
        n, c, h, w = x.shape
        y = torch.stack(feats, 0).sum(0).reshape(n, c, h * w)
        z = self.bn(x).flatten(1)
        return y, z, torch.flatten(x, 2), x.unsqueeze(1).expand_as(x[:, None])
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_parameters_and_buffers_keep_pytorch_layout(layout):
    check(PARAMETERS_AND_BUFFERS, "Net()", [(2, 3, 9, 7)], layout=layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_loops_lists_shapes_and_helpers(layout):
    check(LOOPS_AND_LISTS, "Net()", [(2, 3, 9, 7)], layout=layout)
    code = convert(LOOPS_AND_LISTS, layout)
    assert code.count("self.bn(x)") == 1  # computed once for the flatten


@pytest.mark.parametrize("source,message", [
    ("import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
     "        self.conv = nn.Conv2d(3, 3, 1)\n\n    def forward(self, x):\n        y = self.conv(x)\n"
     "        for _ in range(3):\n            if y.mean() > 0:\n                break\n            y = -y\n        return y\n",
     "a branch has a `break`, which cannot leave a keras.ops.cond branch"),
    ("import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self, f):\n        super().__init__()\n"
     "        self.f = f\n        self.conv = nn.Conv2d(3, 3, 1)\n\n    def forward(self, x):\n"
     "        g = self.f\n        return g(self.conv(x))\n",
     "cannot tell what `g` does with the tensors it is given"),
])
def test_unconvertible_forward_code_is_an_error(source, message):
    assert_conversion_error(source, message)


def test_unsupported_argument_is_reported_once():
    import torch2keras

    source = ("import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
              "        self.conv = nn.ConvTranspose2d(3, 3, 3, padding_mode='reflect')\n\n"
              "    def forward(self, x):\n        return self.conv(x)\n")
    result = torch2keras.convert(source, filename="model.py")
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["T2K101"]


def test_outputs_packed_in_a_module_level_namedtuple():
    source = '''
from collections import namedtuple
import torch.nn as nn

Outputs = namedtuple("Outputs", ["logits", "features"])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        f = self.conv(x)
        return Outputs(self.fc(f.mean((2, 3))), f)
'''
    check(source, "Net()", [(2, 3, 9, 7)], layout="channels_last")


def test_parameters_with_names_keras_reserves():
    # `weights` and `name` are Keras layer attributes: renamed consistently in the
    # constructor and in call, and still found by load_torch_state_dict.
    source = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.ones(3))
        self.register_buffer("name", torch.zeros(3))

    def forward(self, x):
        return x * self.weights + self.name
'''
    check(source, "Net()", [(2, 3)], layout="channels_last")


# Found by a second review: outputs in lists and dicts, a second tensor input of a
# block, ModuleDicts filled in several ways, loops over slices, a base class that
# is a model itself, `training` in helper conditions, torch.ones(n).
OUTPUTS_AND_BLOCKS = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.up = nn.ConvTranspose2d(c, c, 2, stride=2)

    def forward(self, a, b):
        a = self.up(a)
        return torch.cat([b, a], 1)


class Base(nn.Module):
    def __init__(self, c=4):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.scale = nn.Parameter(torch.ones((c)))

    def forward(self, x):
        return self.conv(x) * self.scale[:, None, None]


class Net(Base):
    def __init__(self, names=("a", "b")):
        super().__init__(c=4)
        self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.up = Up(4)
        self.heads = nn.ModuleDict()
        for n in names:
            self.heads[n] = nn.Conv2d(8, 2, 1)
        self.extra = nn.ModuleDict({"c": nn.Conv2d(8, 1, 1)})
        self.blocks = nn.ModuleList([nn.Conv2d(8, 8, 1) for _ in range(3)])
        self.p = 0.5

    def _drop(self, x, training):
        if training and self.p > 0:
            return F.dropout(x, self.p)
        return x

    def forward(self, x):
        f = super().forward(x)
        y = self.up(self.down(f), f)
        for block in self.blocks[:-1]:
            y = block(y)
        y = self._drop(y, self.training)
        outs = []
        for k in self.heads:
            outs.append(self.heads[k](y))
        feats = [y, self.extra["c"](y)]
        return {"heads": torch.cat(outs, 1), "sum": y.sum(dim=(2, 3))}, feats
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_outputs_blocks_and_module_dicts(layout):
    check(OUTPUTS_AND_BLOCKS, "Net()", [(2, 3, 10, 6)], layout=layout)
    check(OUTPUTS_AND_BLOCKS, "Base()", [(2, 3, 10, 6)], layout=layout)  # the base is a model too


# Comprehensions over modules or tensors in forward code: the loops they stand
# for (a list built by appends), whose layouts the lowering follows; a
# generator expression a call consumes counts too.
COMPREHENSIONS = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.members = nn.ModuleList([nn.Conv2d(3, 4, k, padding=k // 2) for k in (1, 3)])
        self.heads = nn.ModuleList([nn.Linear(4, 2) for _ in range(3)])

    def forward(self, x):
        ensemble = torch.stack([m(x) for m in self.members], 0).mean(0)
        feats = [F.relu(m(x)).mean((2, 3)) for i, m in enumerate(self.members) if i > 0]
        pooled = [f * 2 for f in feats]
        logits = torch.cat([head(pooled[0]) for head in self.heads], 1)
        total = torch.cat(tuple(head(feats[0]) for head in self.heads), 1)
        return ensemble, logits, total
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_comprehensions_over_modules_and_tensors(layout):
    check(COMPREHENSIONS, "Net()", [(2, 3, 6, 5)], layout=layout)


def test_comprehensions_read_as_loops():
    code = flat(convert(COMPREHENSIONS, "channels_last"))
    assert "m_outputs = [] for m in self.members: m_outputs.append(m(x))" in code
    assert "total = ops.concatenate(tuple(head_outputs2), axis=1)" in code
    assert "feats = [] for i, m in enumerate(self.members): if i > 0: feats.append(" in code
    assert "head_outputs = [] for head in self.heads: head_outputs.append(head(pooled[0]))" in code


def test_comprehension_rebinding_a_variable_in_use_is_an_error():
    # m holds a module read after the comprehension, which a loop would rebind.
    source = COMPREHENSIONS.replace("feats = [F.relu(m(x))", "m = self.members[0]\n        feats = [F.relu(m(x))")
    source = source.replace("return ensemble, logits, total", "return ensemble, logits, total, m(x)")
    assert_conversion_error(source, "written as a loop, which binds `m`, a name read after it")


# A block's own layers and methods called from outside it (`self.encoder.proj(x)`,
# `self.encoder.encode(x)`, also through a loop variable): the layer it holds, with
# its layout rules (the channel mean after a channels-last conv is over the last
# axis), and the method lowered as one of the block's class.
BLOCK_ATTRIBUTES = '''
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4)

    def encode(self, x, scale: float):
        return self.norm(self.proj(x)) * scale

    def forward(self, x):
        return self.encode(x, 1.0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.stages = nn.ModuleList([Encoder(), Encoder()])

    def forward(self, x):
        y = self.encoder.norm(self.encoder.proj(x)).mean(1, keepdim=True)
        for stage in self.stages:
            y = y + stage.proj(x) + stage.encode(x, 0.5)
        return y.flatten(1) + self.encoder.encode(x, 2.0).flatten(1) + self.encoder.forward(x).flatten(1)
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layers_and_methods_of_blocks_called_from_outside(layout):
    check(BLOCK_ATTRIBUTES, "Net()", [(2, 3, 6, 5)], layout=layout)
    code = flat(convert(BLOCK_ATTRIBUTES, "channels_last"))
    assert "ops.mean(self.encoder.norm(self.encoder.proj(x)), axis=-1, keepdims=True)" in code
    assert "self.encoder.encode(x, 2.0)" in code and "self.encoder(x)" in code


def test_method_of_one_of_several_blocks_is_an_error():
    source = BLOCK_ATTRIBUTES.replace(
        "self.stages = nn.ModuleList([Encoder(), Encoder()])",
        "self.stages = nn.ModuleList([Encoder(), Other()])").replace(
        "class Net(nn.Module):",
        "class Other(Encoder):\n    def encode(self, x, scale: float):\n        return self.proj(x)\n\n\n"
        "class Net(nn.Module):")
    assert_conversion_error(source, "cannot tell what `stage.encode` does with the tensors it is given")


# A block whose forward takes Python values after the input, passed positionally
# in PyTorch (`self.head(x, 2, 0.5)`): Keras takes only tensors positionally, so
# the converted call names them.
PYTHON_ARGUMENTS = '''
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, x, n_steps, scale=1.0):
        for _ in range(n_steps):
            x = self.fc(x) * scale
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = Head(4)

    def forward(self, x):
        return self.head(x, 2, 0.5) + self.head(x, 1) + self.head(x, n_steps=3)
'''


def test_python_values_passed_positionally_to_a_block_match_pytorch():
    code = convert(PYTHON_ARGUMENTS, "channels_last")
    assert "self.head(x, n_steps=2, scale=0.5)" in code and "self.head(x, n_steps=1)" in code
    check(PYTHON_ARGUMENTS, "Net()", [(2, 5, 4)])


# A subclass replacing a module its base class made (fine-tuning heads, a deeper
# stack): Keras keeps tracking what an attribute held, so the old blocks' buffers
# (variables made at construction) would be left in model.weights and a strict
# load would report them missing.
REPLACED_SUBMODULES = '''
import torch
import torch.nn as nn


class Attn(nn.Module):
    def __init__(self, n=8):
        super().__init__()
        self.register_buffer("bias", torch.tril(torch.ones(n, n)).view(1, n, n))
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) * self.bias[0, : x.size(1), :4].sum(0)


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.h = nn.ModuleList([Attn() for _ in range(2)])
        self.head = Attn()
        self.scale = 2.0

    def forward(self, x):
        for b in self.h:
            x = b(x)
        return self.head(x) * self.scale


class Tuned(Base):
    def __init__(self):
        super().__init__()
        self.h = nn.ModuleList([Attn(6) for _ in range(3)])
        self.head = Attn(5)
        self.scale = 0.5
'''


def test_a_subclass_replacing_its_base_modules_leaves_no_stale_weights():
    code = convert(REPLACED_SUBMODULES, "channels_last")
    assert "pytorch_untrack(self, 'h')" in code and "pytorch_untrack(self, 'head')" in code
    assert "pytorch_untrack(self, 'scale')" not in code
    check(REPLACED_SUBMODULES, "Tuned()", [(3, 5, 4)])


# lucidrains' layer stacks: a ModuleList of ModuleLists unpacked in the loop.
NESTED_LISTS = '''
import torch.nn as nn


class Stack(nn.Module):
    def __init__(self, d=8, depth=2):
        super().__init__()
        self.layers = nn.ModuleList([])
        for _ in range(depth):
            self.layers.append(nn.ModuleList([nn.LayerNorm(d), nn.Sequential(nn.Linear(d, d), nn.GELU())]))

    def forward(self, x):
        for norm, ff in self.layers:
            x = ff(norm(x)) + x
        return x
'''


def test_module_lists_of_module_lists_unpacked_in_a_loop():
    check(NESTED_LISTS, "Stack()", [(2, 5, 8)])


def test_a_torch_class_chosen_by_name_is_an_error_naming_it():
    source = NESTED_LISTS.replace("nn.LayerNorm(d)", "getattr(nn, 'Layer' + 'Norm')(d)")
    assert_conversion_error(source, "chooses a `torch.nn` member by name at run time")


# Whisper's LayerNorm: a subclass of a catalog module whose forward calls the
# module's own forward on a cast input (super().forward is the runtime base's call).
SUPER_FORWARD = '''
import torch
from torch import nn


class LayerNorm(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = LayerNorm(8)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(self.ln(x))
'''


def test_super_forward_in_a_subclass_of_a_catalog_module():
    check(SUPER_FORWARD, "Net()", [(2, 5, 8)])


# timm's optional class token: a parameter or None by a constructor argument, and
# one made then set to None (PyTorch unregisters it; Keras must drop the variable).
OPTIONAL_PARAMETERS = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, class_token=True, dist_token=False):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 8)) if class_token else None
        self.dist_token = nn.Parameter(torch.zeros(1, 1, 8))
        if not dist_token:
            self.dist_token = None
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        if self.cls_token is not None:
            x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        if self.dist_token is not None:
            x = torch.cat((self.dist_token.expand(x.shape[0], -1, -1), x), dim=1)
        return self.fc(x)
'''


@pytest.mark.parametrize("args", ["True, False", "False, True", "True, True"])
def test_optional_parameters_made_or_unset_by_constructor_arguments(args):
    check(OPTIONAL_PARAMETERS, f"Net({args})", [(2, 5, 8)])


# Constructor parameters named like the generated module's imports keep their
# names (PyTorch's keywords: `Net(layers=2, ops=3)`); that constructor reads
# keras.layers for the Keras module.
RESERVED_PARAMETER_NAMES = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, layers=2, ops=1):
        super().__init__()
        self.fcs = nn.ModuleList([nn.Linear(8, 8) for _ in range(layers * ops)])

    def forward(self, x):
        for fc in self.fcs:
            x = fc(x)
        return x
'''


def test_constructor_parameters_named_layers_or_ops_keep_their_names():
    code = convert(RESERVED_PARAMETER_NAMES, "channels_last")
    assert "def __init__(self, layers=2, ops=1):" in code and "keras.layers.Dense(8)" in code
    check(RESERVED_PARAMETER_NAMES, "Net(layers=3, ops=1)", [(2, 8)])


# Constructor code of timm and nanoGPT: drop-path rates read out of a linspace
# (`.item()` runs eagerly there), and a check for a torch function (the
# converted model has what the converter has).
TIMM_CONSTRUCTOR = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, depth=3, drop_path_rate=0.2):
        super().__init__()
        self.rates = [x.item() for x in torch.linspace(0, drop_path_rate, depth)]
        self.flash = hasattr(torch.nn.functional, "scaled_dot_product_attention")
        self.fancy = hasattr(F, "no_such_function")
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        if self.flash and not self.fancy:
            x = F.scaled_dot_product_attention(x, x, x, is_causal=True)
        return self.fc(x) * self.rates[-1]
'''


def test_constructor_reads_tensor_values_and_checks_torch_functions():
    code = convert(TIMM_CONSTRUCTOR, "channels_last")
    assert "self.flash = True" in code and "self.fancy = False" in code
    check(TIMM_CONSTRUCTOR, "Net()", [(2, 5, 8)])


# Weight normalisation, both APIs (HiFi-GAN's and wav2vec2's positional
# convolution, dim=2), and dim=None: the loader makes the weight from g and v.
WEIGHT_NORM = '''
import torch.nn as nn
from torch.nn.utils import weight_norm
from torch.nn.utils.parametrizations import weight_norm as parametrized_weight_norm


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = weight_norm(nn.Conv1d(4, 6, 3, padding=2))  # a TCN's causal padding
        self.pos = parametrized_weight_norm(nn.Conv1d(6, 6, 5, padding=2, groups=2), name="weight", dim=2)
        self.fc = nn.utils.weight_norm(nn.Linear(6, 3), dim=None)

    def forward(self, x):
        y = self.pos(self.conv(x)[:, :, :-2])
        return self.fc(y.transpose(1, 2))
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_weight_norm_both_apis(layout):
    check(WEIGHT_NORM, "Net()", [(2, 4, 9)], layout=layout)


# timm's drop_path: inference returns x; training keeps each sample with
# probability 1 - p, scaled by 1 / (1 - p) (Keras' random numbers, PyTorch's rule).
DROP_PATH = '''
import torch
import torch.nn as nn


def drop_path(x, drop_prob: float = 0., training: bool = False, scale_by_keep: bool = True):
    if drop_prob == 0. or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class Block(nn.Module):
    def __init__(self, drop=0.5):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop_prob = drop
        self.attn_drop = nn.Dropout(0.25)

    def forward(self, x):
        return x + drop_path(self.fc(x), self.drop_prob, self.training) * (1 - self.attn_drop.p)
'''


def test_timm_drop_path():
    check(DROP_PATH, "Block()", [(16, 8)])
    keras_model = load_module(convert(DROP_PATH, "channels_last"), "keras_drop_path").Block()
    x = np.random.default_rng(14).normal(size=(16, 8)).astype("float32")
    inference = np.asarray(keras_model(x, training=False))
    import keras

    keras.utils.set_random_seed(0)  # 16 samples, p = 0.5: some kept, some dropped
    dropped = (np.asarray(keras_model(x, training=True)) - x) / 0.75
    branch = (inference - x) / 0.75
    kept = np.isclose(dropped, 2 * branch, atol=1e-5).all(axis=1)
    zeroed = np.isclose(dropped, 0, atol=1e-6).all(axis=1)
    assert (kept | zeroed).all() and kept.any() and zeroed.any()


# Functions defined inside forward (T5's `def shape(states)`) and static methods
# called through self: neither takes `self` (a closure's first parameter was
# skipped as if it were, and converted nothing, silently wrong in channels_last).
CLOSURES_AND_STATIC = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.q = nn.Linear(4, 4)

    @staticmethod
    def causal(sz):
        return torch.triu(torch.full((sz, sz), float("-inf")), diagonal=1)

    def forward(self, x):
        def branch(y):
            return torch.softmax(self.a(y), 1)

        b = x.shape[0]

        def shape(s):
            return s.view(b, -1, 2, 2).transpose(1, 2)

        z = branch(x).flatten(2).transpose(1, 2)
        heads = shape(self.q(z))
        return heads @ heads.transpose(-1, -2) + self.causal(heads.size(2))
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_closures_and_static_methods(layout):
    code = convert(CLOSURES_AND_STATIC, layout)
    assert "@staticmethod" in code
    check(CLOSURES_AND_STATIC, "Net()", [(2, 3, 3, 5)], layout=layout)


# crnn.pytorch: a local `cnn = nn.Sequential()` filled by `cnn.add_module(...)`, in
# a loop too, then kept in an attribute: its layers run channels-last like any
# Sequential's (the converter follows the items), named as PyTorch names them.
LOCAL_SEQUENTIAL = """
import torch.nn as nn


class CRNN(nn.Module):
    def __init__(self, nc=1, widths=(4, 5)):
        super().__init__()
        cnn = nn.Sequential()
        cnn.add_module("conv0", nn.Conv2d(nc, widths[0], 3, 1, 1))
        cnn.add_module("relu0", nn.ReLU(True))
        cnn.add_module("pooling0", nn.MaxPool2d(2, 2))
        for i in range(1, len(widths)):
            cnn.add_module("conv{0}".format(i), nn.Conv2d(widths[i - 1], widths[i], 3, 1, 1))
            cnn.add_module("batchnorm{0}".format(i), nn.BatchNorm2d(widths[i]))
        self.cnn = cnn
        heads = nn.ModuleList()
        heads.append(nn.Linear(widths[-1] * 4, 3))
        self.heads = heads

    def forward(self, x):
        conv = self.cnn(x)
        b, c, h, w = conv.size()
        return self.heads[0](conv.view(b, c * h, w).permute(0, 2, 1))
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_local_sequential_filled_by_add_module(layout):
    code = flat(convert(LOCAL_SEQUENTIAL, layout))
    assert "cnn.add(pytorch_named(layers.ReLU(), 'relu0'))" in code
    check(LOCAL_SEQUENTIAL, "CRNN()", [(2, 1, 8, 12)], layout=layout)


def test_local_sequential_filled_in_a_nested_function_is_an_error():
    # crnn.pytorch's original `def convRelu(i)`: the items depend on its calls.
    source = LOCAL_SEQUENTIAL.replace(
        '        cnn.add_module("relu0", nn.ReLU(True))\n',
        "        def relu(i):\n"
        '            cnn.add_module("relu{0}".format(i), nn.ReLU(True))\n\n'
        "        relu(0)\n")
    assert_conversion_error(source, "cannot tell which module this call runs")


REUSED_PART = """
import torch
import torch.nn as nn


class Body(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 6)

    def forward(self, x):
        return torch.relu(self.fc(x))


class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Body()
        self.dec = nn.Linear(6, 4)

    def forward(self, x):
        return self.dec(self.body(x))


class Head(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body
        self.out = nn.Linear(6, 2)

    def forward(self, x):
        return self.out(self.body(x))


def models():
    ae = AE()
    return ae, Head(ae.body)
"""


def test_a_module_passed_as_another_models_attribute():
    # Head(ae.body): a trained part reused (fine-tuning); the constructor's
    # argument is that model's module, shared as in PyTorch.
    import keras
    import torch

    code = convert(REUSED_PART, "channels_last")
    torch_module, keras_module = load_module(REUSED_PART, "torch_reused"), load_module(code, "keras_reused")
    (torch_ae, torch_model), (keras_ae, keras_model) = torch_module.models(), keras_module.models()
    x = np.random.default_rng(2).normal(size=(3, 4)).astype("float32")
    keras_model(x)
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    assert keras_model.body is keras_ae.body  # one module, as PyTorch's
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_model(x)),
                               torch_model(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
