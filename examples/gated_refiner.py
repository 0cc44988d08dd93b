"""Our own version of the seed's third case, and the rest of issue 4 around it.

`GatedRefiner.forward(x, use_fine)` picks one of two convolutions: `use_fine` may be
a Python bool or a boolean scalar tensor, so the converted layer creates both
convolutions once, in `__init__`, and chooses with keras.ops.cond. Around it:
a data-dependent loop (`while` on a tensor), a custom layer with its own
parameters and buffers, and in-place ops whose aliases must follow.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ChannelScale(nn.Module):
    """A learned scale per channel, after subtracting a running mean (a buffer)."""

    def __init__(self, channels):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(channels))
        self.register_buffer("running_mean", torch.zeros(channels))

    def forward(self, x):
        return (x - self.running_mean.view(1, -1, 1, 1)) * self.scale.view(1, -1, 1, 1)


class GatedRefiner(nn.Module):
    def __init__(self, in_channels=3, channels=8, max_norm=4.0):
        super().__init__()
        self.coarse = nn.Conv2d(in_channels, channels, 5, padding=2)
        self.fine = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(channels)
        self.scale = ChannelScale(channels)
        self.relu = nn.ReLU(inplace=True)
        self.max_norm = max_norm

    def forward(self, x, use_fine):
        if use_fine:
            y = self.fine(x)
        else:
            y = self.coarse(x)
        identity = y
        y = self.relu(self.norm(y))
        y += identity  # in place on y; identity holds the convolution output, another tensor
        # Shrink until the activations are small enough: a data-dependent trip count.
        while y.abs().amax() > self.max_norm:
            y = y * 0.5
        return self.scale(y)
