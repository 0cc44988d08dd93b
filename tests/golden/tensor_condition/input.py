"""Conditions computed from tensors: keras.ops.cond."""
import torch
import torch.nn as nn


class Gate(nn.Module):
    def __init__(self, threshold=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 8, 5, padding=2)
        self.threshold = threshold

    def forward(self, x, mask=None):
        # A static test (a constructor value, `is None`) stays a Python `if`.
        if self.threshold > 1:
            x = x * 2
        if mask is not None and x.mean() > self.threshold:
            y = self.conv1(x)
        elif x.sum() < -20:
            y = self.conv2(x)
        else:
            y = torch.zeros_like(self.conv1(x))
        scale = x.mean() if x.amax() > 3 else x.amin()
        if y.mean() > 0:
            return y * scale
        return self.conv2(x) + scale
