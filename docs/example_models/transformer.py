"""A tiny transformer encoder classifier in plain ``torch.nn``, for the gallery.

Token ids go in (``int64``, shape ``batch × tokens``), class scores come out.
The encoder block is written out — attention, layer norms, MLP and the two
residual adds — instead of using ``nn.TransformerEncoderLayer``, so each part
is a box of its own in the diagram.
"""

import torch
from torch import nn


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int = 4):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_ratio * dim),
            nn.GELU(),
            nn.Linear(mlp_ratio * dim, dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        attended, _ = self.attn(h, h, h, need_weights=False)
        x = x + attended
        x = x + self.mlp(self.norm2(x))
        return x


class TinyTransformer(nn.Module):
    """Embed tokens and positions, run ``depth`` encoder blocks, mean-pool, classify."""

    def __init__(self, vocab_size: int = 1000, dim: int = 64, heads: int = 4, depth: int = 2,
                 num_classes: int = 5, max_len: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.pos = nn.Embedding(max_len, dim)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.embed(tokens) + self.pos(positions)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x).mean(dim=1)
        return self.head(x)


def example_inputs() -> dict[str, torch.Tensor]:
    """Keyword inputs for ``TinyTransformer``: two sequences of 16 token ids."""
    generator = torch.Generator().manual_seed(0)
    return {"tokens": torch.randint(0, 1000, (2, 16), generator=generator)}
