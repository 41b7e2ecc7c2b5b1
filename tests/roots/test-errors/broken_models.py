"""Models that fail in the ways the warnings test expects."""

import torch
from torch import nn

NOT_A_MODEL = 42


def good_model(width: int = 4) -> nn.Module:
    return nn.Sequential(nn.Linear(width, 8), nn.ReLU(), nn.Linear(8, 2))


class RaisesInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        raise ValueError("this model refuses to run")


class NoExport(nn.Module):
    """Draws fine, but uses an operator the ONNX exporter does not support."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.kthvalue(self.fc(x), 2, dim=1).values
