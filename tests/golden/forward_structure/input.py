"""Helpers, several inputs and outputs, *args/**kwargs, training, no_grad, detach."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def gated(x, gate):
    """A module-level function called from forward: converted too."""
    return x * torch.sigmoid(gate)


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(8, 2)

    def _pool(self, x, keepdim=False):
        return x.mean((2, 3), keepdim=keepdim)

    def forward(self, x, gate, *args, scale=1.0, **kwargs):
        assert x.dim() == 4, "expects NCHW"
        x = self.conv(x)
        with torch.no_grad():
            reference = x.detach()
        if self.training:
            x = self.drop(x)
        x = gated(x, gate) * scale
        pooled = self._pool(x)
        return {"logits": self.fc(pooled), "features": x, "reference": reference}, None
