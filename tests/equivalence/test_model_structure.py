"""How models are put together: the constructor code lowering follows.

Each source builds its layers the way real model code does (torchvision's
ResNet, MobileNet, DenseNet): classes passed as values, `norm_layer=None`
defaults, `functools.partial`, Sequential subclasses, lists built in loops and
module functions, layer arguments known only at run time. Each one converts
and matches PyTorch in both layouts (harness.check).
"""

import pytest

from harness import check, convert

LAYOUTS = ["channels_last", "channels_first"]

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
    assert "def BatchNorm2d(num_features, eps=1e-05, momentum=0.1" in code
    assert "norm_layer = BatchNorm2d" in code
    assert "norm_layer = partial(BatchNorm2d, eps=0.001)" in code
    assert "layers_ = [block(cin, cout, norm_layer)]" in code  # `layers` is the Keras module


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
    assert "BatchNorm2d(cout, momentum=momentum)" in code
    assert "return layers.BatchNormalization(momentum=1 - momentum, epsilon=eps" in code
    # Only the outer model is a keras.Model; the blocks are layers.
    assert "class Residual(keras.layers.Layer):" in code
    assert "class Net(keras.Model):" in code


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
