"""Models for the tests of hints that name the fix (tests/test_hints.py)."""

import torch
from torch import nn


class TokenNet(nn.Module):
    """Token ids in: float ids (the default example input) fail in the embedding."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, ids):
        return self.head(self.embed(ids))


class TinyResNet(nn.Module):
    """788 parameters: 3.15 kB of float32 weights."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.head = nn.Linear(16, 20)

    def forward(self, x):
        y = torch.relu(self.conv(x)) + torch.relu(self.conv(x))
        return self.head(y.mean((2, 3)))


def make_token_net():
    return TokenNet()


SEQ_LEN = 8
