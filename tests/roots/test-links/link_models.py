"""A model whose layer is a class the project documents itself (``api.rst``)."""

import torch
from torch import nn


class Scale(nn.Module):
    """Multiplies each feature by a learned factor."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x):
        return x * self.weight


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.act = nn.LeakyReLU()
        self.scale = Scale(8)

    def forward(self, x):
        return self.scale(self.act(self.fc(x)))
