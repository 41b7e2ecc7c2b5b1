"""ResNet-50 in plain ``torch.nn``, with torchvision's layout and attribute names.

A stem (``conv1``, ``bn1``, ``relu``, ``maxpool``), four stages ``layer1`` …
``layer4`` of 3, 4, 6 and 3 ``Bottleneck`` blocks, global average pooling and
a linear ``fc`` head: 25,557,032 parameters, like ``torchvision.models.resnet50``.
Drawn from a ``meta``-device build, so no weights are ever allocated.
"""

import torch
from torch import nn

#: input of one forward: one RGB image of 224 × 224
INPUT_SHAPE = (1, 3, 224, 224)
INPUT_DTYPE = "float32"


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (carrying the stride), 1×1 expand ×4, plus the skip path.

    The first block of a stage gets a ``downsample`` (1×1 convolution and batch
    norm) so that the skip path matches the new width and resolution.
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = out + identity
        return self.relu(out)


class ResNet50(nn.Module):
    """torchvision's ResNet-50: stem, ``layer1``…``layer4`` of ``Bottleneck`` blocks, ``avgpool``, ``fc``."""

    def __init__(self, num_classes: int = 1000, layers: tuple[int, ...] = (3, 4, 6, 3)):
        super().__init__()
        self.in_channels = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * Bottleneck.expansion, num_classes)

    def _make_layer(self, width: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.in_channels != width * Bottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.in_channels, width * Bottleneck.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(width * Bottleneck.expansion),
            )
        layers = [Bottleneck(self.in_channels, width, stride, downsample)]
        self.in_channels = width * Bottleneck.expansion
        layers += [Bottleneck(self.in_channels, width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def resnet50() -> ResNet50:
    """ResNet-50 with the ImageNet head (1000 classes)."""
    return ResNet50()
