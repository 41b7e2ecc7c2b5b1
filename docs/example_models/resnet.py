"""A small ResNet in plain ``torch.nn`` (no torchvision), for the gallery.

Same layout as ResNet-18 — a stem, stages of two ``BasicBlock`` each, global
average pooling and a linear head — with narrow widths so that it traces and
exports in well under a second on a CPU at input ``1, 3, 64, 64``.
"""

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a skip connection around them.

    When the block changes the resolution or the width, the skip path goes
    through ``downsample`` (a 1×1 convolution and a batch norm) so that the
    two branches can be added.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + identity
        return self.relu(out)


class SmallResNet(nn.Module):
    """ResNet-style classifier: stem, ``layer1``…``layerN`` (one per width) of two blocks each, head."""

    def __init__(self, num_classes: int = 10, widths: tuple[int, ...] = (16, 32, 64)):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        # layer1, layer2, ... as in torchvision's ResNet: each a Sequential of two blocks
        in_channels = widths[0]
        for i, width in enumerate(widths):
            stride = 1 if i == 0 else 2
            layer = nn.Sequential(BasicBlock(in_channels, width, stride), BasicBlock(width, width))
            self.add_module(f"layer{i + 1}", layer)
            in_channels = width
        self.num_layers = len(widths)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for i in range(self.num_layers):
            x = getattr(self, f"layer{i + 1}")(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)
