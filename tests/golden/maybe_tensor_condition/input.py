"""The seed's third case: `condition` may be a Python bool or a boolean tensor."""
import torch.nn as nn


class ConditionalConv(nn.Module):
    def __init__(self):
        super(ConditionalConv, self).__init__()
        self.conv1 = nn.Conv2d(3, 16, 3)
        self.conv2 = nn.Conv2d(3, 16, 5)

    def forward(self, x, condition):
        if condition:
            x = self.conv1(x)
        else:
            x = self.conv2(x)
        return x
