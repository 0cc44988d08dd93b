"""In-place ops: the variable is rebound, and so is every alias read later (P48)."""
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x
        out = self.conv(F.relu_(x))  # x and identity become relu(x)
        out += identity
        y = self.relu(out)  # out is changed too
        y.add_(1.0).mul_(0.5)
        return y + out
