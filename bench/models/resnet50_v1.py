"""ResNet-50 v1 in PyTorch, built the way keras.applications.ResNet50 builds it, so
that bench/inference.py can compare the converted model with the Keras team's on the
same architecture.

torchvision's resnet50 is ResNet v1.5: a downsampling block strides in its 3x3
convolution (about 4.1 GFLOPs at 224x224). keras.applications.ResNet50 is v1 (He et
al. 2015): the block strides in its first 1x1 convolution (about 3.9 GFLOPs), its
convolutions have biases, and its BatchNorm epsilon is 1.001e-5. This file is v1 with
those details; only the classifier differs (logits here, a softmax in Keras').
"""

import torch
from torch import nn


class Bottleneck(nn.Module):
    """1x1 (stride) -> 3x3 -> 1x1 (4 * filters), plus the input or a projection of it."""

    def __init__(self, in_channels, filters, stride=1, projection=False):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, filters, 1, stride=stride)
        self.bn1 = nn.BatchNorm2d(filters, eps=1.001e-5)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(filters, eps=1.001e-5)
        self.conv3 = nn.Conv2d(filters, 4 * filters, 1)
        self.bn3 = nn.BatchNorm2d(4 * filters, eps=1.001e-5)
        self.relu = nn.ReLU()
        self.shortcut = None
        if projection:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, 4 * filters, 1, stride=stride),
                nn.BatchNorm2d(4 * filters, eps=1.001e-5),
            )

    def forward(self, x):
        identity = x
        if self.shortcut is not None:
            identity = self.shortcut(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet50V1(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3),
            nn.BatchNorm2d(64, eps=1.001e-5),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        blocks = []
        in_channels = 64
        for filters, count, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
            for i in range(count):
                blocks.append(Bottleneck(in_channels, filters, stride if i == 0 else 1, projection=i == 0))
                in_channels = 4 * filters
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        x = self.pool(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(x, 1))
