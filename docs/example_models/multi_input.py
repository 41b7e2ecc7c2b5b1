"""A model with two inputs, for the ``:input-shape: (…), (…)`` example.

An image and a vector of tabular features are encoded separately, then
concatenated and classified.
"""

import torch
from torch import nn


class ImageAndFeatures(nn.Module):
    """``forward(image, features)``: a small CNN branch and an MLP branch, fused."""

    def __init__(self, num_features: int = 10, num_classes: int = 3):
        super().__init__()
        self.image = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.features = nn.Sequential(nn.Linear(num_features, 8), nn.ReLU())
        self.head = nn.Linear(16, num_classes)

    def forward(self, image: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        fused = torch.cat([self.image(image), self.features(features)], dim=1)
        return self.head(fused)
