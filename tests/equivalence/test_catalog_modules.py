"""Each catalog module, with non-default arguments, matches PyTorch (both layouts,
eager and inside tf.function), parameters and buffers randomised."""

import pytest

from harness import check

TEMPLATE = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = {module}

    def forward(self, x):
        return self.body(x)
"""

CASES = [
    # (module expression, input shape)
    ("nn.Conv2d(4, 6, 3)", (2, 4, 9, 9)),
    ("nn.Conv2d(4, 6, 3, stride=2, padding=1)", (2, 4, 8, 8)),  # P02: not Keras "same"
    ("nn.Conv2d(4, 6, (1, 7), padding=(0, 3))", (2, 4, 9, 9)),  # asymmetric kernel
    ("nn.Conv2d(4, 6, 3, padding=2, dilation=2)", (2, 4, 9, 9)),
    ("nn.Conv2d(4, 8, 3, padding=1, groups=2, bias=False)", (2, 4, 9, 9)),
    ("nn.Conv2d(4, 8, 3, padding=1, groups=4)", (2, 4, 9, 9)),  # depthwise, multiplier 2
    ("nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False)", (2, 4, 9, 9)),  # DepthwiseConv2D
    ("nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4)", (2, 4, 9, 9)),
    ("nn.Conv1d(4, 8, 3, groups=4)", (2, 4, 9)),
    ("nn.Conv1d(4, 6, 5, stride=2, padding=2)", (2, 4, 13)),  # (11: TF bug, README)
    ("nn.Conv3d(2, 3, 3, padding=1)", (1, 2, 5, 6, 7)),
    ("nn.ConvTranspose2d(4, 3, 4, stride=2)", (2, 4, 5, 5)),
    ("nn.BatchNorm2d(4, eps=1e-3, momentum=0.3)", (2, 4, 6, 6)),
    ("nn.BatchNorm1d(5)", (3, 5)),
    ("nn.GroupNorm(2, 4)", (2, 4, 6, 6)),
    # GroupNorm takes (N, C, *) of any rank, as PyTorch's.
    ("nn.GroupNorm(2, 4)", (2, 4, 7)),
    ("nn.GroupNorm(2, 4)", (2, 4, 3, 4, 5)),
    ("nn.InstanceNorm2d(4, affine=True)", (2, 4, 6, 6)),
    ("nn.LayerNorm(6)", (2, 3, 6)),
    ("nn.LayerNorm([5, 6])", (2, 4, 5, 6)),  # over several trailing axes: PyTorchLayerNorm
    ("nn.RMSNorm(6)", (2, 3, 6)),
    ("nn.RMSNorm([5, 6], eps=1e-4)", (2, 4, 5, 6)),
    ("nn.MaxPool2d(3, stride=2)", (2, 4, 9, 9)),
    ("nn.MaxPool2d(3, stride=1, padding=1)", (2, 4, 8, 8)),  # Keras "same" is exact here
    ("nn.AvgPool2d(2)", (2, 4, 8, 8)),
    ("nn.AvgPool2d(3, stride=2, padding=1)", (2, 4, 8, 8)),  # count_include_pad=True
    # Runtime helpers (emit/runtime/layers.py): P19-P22.
    ("nn.MaxPool2d(3, stride=2, ceil_mode=True)", (2, 4, 8, 8)),
    ("nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", (2, 4, 10, 9)),
    ("nn.MaxPool2d((2, 3), stride=(2, 1), padding=(1, 0))", (2, 4, 7, 8)),
    ("nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)", (2, 4, 10)),
    ("nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)", (2, 4, 8, 8)),
    ("nn.AvgPool2d(3, stride=2, ceil_mode=True)", (2, 4, 8, 8)),
    ("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)", (2, 4, 9, 10)),
    ("nn.AvgPool1d(4, stride=3, padding=2, ceil_mode=True)", (2, 4, 11)),
    ("nn.AdaptiveAvgPool2d(1)", (2, 4, 7, 7)),
    ("nn.AdaptiveAvgPool2d((2, 3))", (2, 4, 7, 7)),
    ("nn.AdaptiveMaxPool2d(1)", (2, 4, 7, 7)),
    # Keras' adaptive pooling fails when one axis pools to 1 and takes no None
    # (P23): the runtime's PyTorchAdaptive*Pooling2D.
    ("nn.AdaptiveAvgPool2d((1, 2))", (2, 4, 7, 6)),
    ("nn.AdaptiveMaxPool2d((None, 1))", (2, 4, 7, 6)),
    ("nn.AdaptiveAvgPool2d((3, None))", (2, 4, 8, 5)),
    ("nn.Linear(6, 5)", (3, 6)),
    ("nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3))", (2, 3, 7, 7)),  # P30
    ("nn.ReLU6()", (2, 4, 5, 5)),
    ("nn.LeakyReLU(0.2)", (2, 4, 5, 5)),  # P36
    ("nn.ELU(alpha=0.5)", (2, 8)),
    ("nn.SELU()", (2, 8)),
    ("nn.GELU()", (2, 8)),  # P37: exact erf form
    ("nn.GELU(approximate='tanh')", (2, 8)),
    ("nn.SiLU()", (2, 8)),
    ("nn.Mish()", (2, 8)),
    ("nn.Hardswish()", (2, 8)),
    ("nn.Hardsigmoid()", (2, 8)),
    ("nn.Sigmoid()", (2, 8)),
    ("nn.Tanh()", (2, 8)),
    ("nn.Softsign()", (2, 8)),
    ("nn.Softplus()", (2, 8)),
    ("nn.Softplus(beta=2.0)", (2, 8)),
    ("nn.Softmax(dim=1)", (2, 4, 3, 3)),  # P33: the channel axis moves
    ("nn.Dropout(0.3)", (2, 8)),
    ("nn.Identity()", (2, 8)),
    ("nn.PReLU()", (2, 4, 5, 5)),
    ("nn.PReLU(4, init=0.1)", (2, 4, 5, 5)),  # one slope per channel
    ("nn.CELU(alpha=0.5)", (2, 8)),
    ("nn.Hardtanh(-0.5, 0.7)", (2, 8)),
    ("nn.Hardtanh(0, 6)", (2, 8)),
    ("nn.Tanhshrink()", (2, 8)),
    ("nn.Threshold(0.1, 20.0)", (2, 8)),
    ("nn.LogSoftmax(dim=1)", (2, 4, 3, 3)),
    ("nn.Unflatten(1, (2, 6))", (2, 12)),
    ("nn.PixelShuffle(2)", (2, 8, 3, 5)),
    ("nn.PixelUnshuffle(2)", (2, 2, 6, 4)),
    ("nn.ChannelShuffle(2)", (2, 4, 3, 3)),
    ("nn.GLU()", (2, 6)),
    ("nn.GLU(1)", (2, 4, 3, 3)),
    ("nn.Softplus(beta=2.0, threshold=1.0)", (2, 8)),
    ("nn.Softplus(threshold=0.5)", (2, 8)),
    ("nn.Upsample(scale_factor=2)", (2, 3, 4, 5)),
    ("nn.Upsample(scale_factor=3, mode='bilinear')", (2, 3, 4, 5)),
    ("nn.Upsample(size=(7, 3), mode='bilinear')", (2, 3, 4, 5)),
    # One Upsample for every rank, as PyTorch's.
    ("nn.Upsample(scale_factor=2)", (2, 3, 5)),
    ("nn.Upsample(size=8, mode='linear')", (2, 3, 5)),
    ("nn.Upsample(scale_factor=2)", (2, 2, 3, 4, 5)),
    ("nn.ZeroPad1d(2)", (2, 3, 5)),
    ("nn.ZeroPad2d((1, 2, 0, 3))", (2, 3, 4, 5)),
    ("nn.ConstantPad1d((0, 2), -1.0)", (2, 3, 5)),
    ("nn.ConstantPad2d(1, 3.5)", (2, 3, 4, 5)),
    ("nn.ReflectionPad1d(2)", (2, 3, 5)),
    ("nn.ReflectionPad2d((1, 2, 2, 1))", (2, 3, 4, 5)),
    ("nn.ReplicationPad1d((3, 1))", (2, 3, 5)),
    ("nn.ReplicationPad2d((1, 2, 2, 0))", (2, 3, 4, 5)),
    ("nn.LocalResponseNorm(3, alpha=0.01, beta=0.5, k=2.0)", (2, 6, 4, 4)),
    # padding_mode: the mode's values padded, then a "valid" convolution (P06).
    ("nn.Conv1d(3, 4, 5, padding=2, padding_mode='reflect')", (2, 3, 9)),
    ("nn.Conv1d(3, 6, 3, padding='same', dilation=2, groups=3, padding_mode='replicate')", (2, 3, 9)),
    ("nn.Conv1d(3, 4, 4, padding='same', padding_mode='circular')", (2, 3, 9)),
    ("nn.Conv2d(3, 4, 3, stride=2, padding=(1, 2), padding_mode='reflect')", (2, 3, 7, 8)),
    ("nn.Conv2d(3, 5, 3, padding=1, padding_mode='circular')", (2, 3, 6, 7)),
    ("nn.Conv2d(3, 5, (2, 3), padding=(0, 1), padding_mode='replicate')", (2, 3, 6, 7)),
    ("nn.Conv3d(2, 3, 3, padding=1, padding_mode='reflect')", (2, 2, 4, 5, 6)),
    ("nn.LocalResponseNorm(4)", (2, 5, 3, 3)),
    ("nn.ConvTranspose1d(4, 6, 3, stride=2)", (2, 4, 7)),
    # padding: cropped from both ends of the full output; output_padding: added after it.
    ("nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1)", (2, 4, 7)),
    ("nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1)", (2, 4, 7)),
    ("nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1, bias=False)", (2, 4, 5, 6)),
    ("nn.ConvTranspose2d(4, 3, 3, stride=(2, 3), padding=(1, 2), output_padding=(1, 2), dilation=1)", (2, 4, 5, 6)),
    ("nn.ConvTranspose2d(4, 3, 3, padding=2, dilation=2)", (2, 4, 5, 6)),
    ("nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1, output_padding=1)", (1, 2, 3, 4, 5)),
    # A kernel shorter than the stride: (in - 1) * stride + k, not in * stride.
    ("nn.ConvTranspose2d(4, 3, 1, stride=2)", (2, 4, 5, 6)),
    ("nn.ConvTranspose3d(2, 3, 2, stride=2, bias=False)", (1, 2, 3, 4, 5)),
]


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("module,shape", CASES, ids=[c[0] for c in CASES])
def test_module_matches_pytorch(module, shape, layout):
    check(TEMPLATE.format(module=module), "Net()", [shape], layout=layout)
