"""Models that change between versions, for the "Comparing architectures" page.

``ClassifierV1`` and ``ClassifierV2`` are two releases of one image
classifier: v2 widens the stem's kernel, adds two residual blocks and widens
the head (10 → 100 classes), and drops the dropout.  ``small_bert`` builds a
``transformers`` BERT from a config whose number of layers and feed-forward
width are arguments, so one factory gives both sides of a config diff.
"""

import torch
from torch import nn


class Residual(nn.Module):
    """``x + conv(relu(bn(x)))``: one block of the classifier's trunk."""

    def __init__(self, channels: int = 32):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.act = nn.ReLU()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(self.act(self.bn(x)))


class ClassifierV1(nn.Module):
    """Release 1: a 3×3 stem, four residual blocks, dropout, a 10-class head."""

    def __init__(self, kernel: int = 3, blocks: int = 4, classes: int = 10, dropout: float = 0.2):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, kernel, padding=kernel // 2)
        self.blocks = nn.Sequential(*(Residual(32) for _ in range(blocks)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.blocks(self.stem(x))).flatten(1)
        return self.head(self.drop(x))


class ClassifierV2(ClassifierV1):
    """Release 2: a 5×5 stem, six residual blocks, no dropout, a 100-class head."""

    def __init__(self):
        super().__init__(kernel=5, blocks=6, classes=100, dropout=0.0)


def small_bert(layers: int = 4, intermediate: int = 1024) -> nn.Module:
    """A small ``transformers`` BERT encoder: ``layers`` layers, a feed-forward ``intermediate`` wide."""
    from transformers import BertConfig, BertModel

    return BertModel(BertConfig(vocab_size=1000, hidden_size=256, num_hidden_layers=layers,
                                num_attention_heads=4, intermediate_size=intermediate,
                                max_position_embeddings=128))
