"""Small models for the sphinx-netviz tests."""

from dataclasses import dataclass

import torch
from torch import nn


class TinyCNN(nn.Module):
    def __init__(self, channels: int = 8, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(channels * 4 * 4, classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.head(x)


class Residual(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(x)))


@dataclass
class PairOutput:
    logits: torch.Tensor
    hidden: torch.Tensor


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.image = nn.Linear(12, 8)
        self.extra = nn.Linear(4, 8)

    def forward(self, a, b):
        h = torch.cat([self.image(a), self.extra(b)], dim=1)
        return PairOutput(logits=h.softmax(dim=1), hidden=h)


def make_residual(width: int = 16) -> nn.Module:
    return Residual(width)


def not_a_model():
    return 42
