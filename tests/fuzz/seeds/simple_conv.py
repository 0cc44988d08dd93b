"""The seed's first example: a convolution followed by a ReLU."""
import torch
import torch.nn as nn


class SimpleConv(nn.Module):
    def __init__(self):
        super(SimpleConv, self).__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)  # 'same' padding for a 3x3 kernel
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.conv(x)
        x = self.relu(x)
        return x


model = SimpleConv()
