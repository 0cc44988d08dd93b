"""A user module with its own parameters and buffers: Keras weights."""
import torch
import torch.nn as nn


class ScaleShift(nn.Module):
    """Per-channel affine transform with a running statistic."""

    def __init__(self, channels, tokens=4, dim=8):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.pos = nn.Parameter(torch.zeros(1, tokens, dim))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("two", torch.ones(channels) * 2, persistent=False)

    def forward(self, x):
        mean = self.running_mean[None, :, None, None]
        scale = self.gamma[None, :, None, None] * self.two[None, :, None, None]
        return (x - mean) * scale + self.beta.view(1, -1, 1, 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.affine = ScaleShift(8)

    def forward(self, x):
        return self.affine(self.conv(x))
