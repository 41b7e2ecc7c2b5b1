"""Small models whose configurations differ, for the architecture diff tests."""

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.act = nn.ReLU()

    def forward(self, x):
        return x + self.act(self.fc(x))


class Net(nn.Module):
    """A convolution, a stack of identical blocks, a head: each part set by an argument."""

    def __init__(self, kernel: int = 3, blocks: int = 4, classes: int = 5, dropout: bool = True,
                 width: int = 16):
        super().__init__()
        self.conv = nn.Conv2d(3, width, kernel, padding=kernel // 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.blocks = nn.ModuleList(Block(width) for _ in range(blocks))
        self.drop = nn.Dropout(0.1) if dropout else nn.Identity()
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        x = self.pool(self.conv(x)).flatten(1)
        for block in self.blocks:
            x = block(x)
        return self.head(self.drop(x))


class Moved(nn.Module):
    """Net's head moved into a container: ``head`` -> ``out.head``."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.out = nn.Sequential()
        self.out.add_module("head", nn.Linear(width, 5))

    def forward(self, x):
        return self.out(self.pool(self.conv(x)).flatten(1))


def make_net(**kwargs) -> nn.Module:
    return Net(**kwargs)
