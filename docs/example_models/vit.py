"""ViT-B/16 in plain ``torch.nn``, mirroring ``torchvision.models.vit_b_16``.

The image is cut into 16 × 16 patches by a strided convolution
(``conv_proj``), a learned class token is prepended and a learned position
embedding added, then 12 pre-norm ``EncoderBlock`` s (attention and MLP, each
around a residual add) run in ``encoder.layers``; the class token's output,
after ``encoder.ln``, goes through the linear ``heads``. 86,567,656 parameters.
"""

import torch
from torch import nn

#: input of one forward: one RGB image of 224 × 224
INPUT_SHAPE = (1, 3, 224, 224)
INPUT_DTYPE = "float32"


class EncoderBlock(nn.Module):
    """``x + attention(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, dim: int = 768, heads: int = 12, mlp_dim: int = 3072, dropout: float = 0.0):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim),
            nn.GELU(),
            nn.Linear(mlp_dim, dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln_1(x)
        h, _ = self.self_attention(h, h, h, need_weights=False)
        x = x + self.dropout(h)
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Add the position embedding, run the blocks in ``layers``, normalise with ``ln``."""

    def __init__(self, seq_length: int = 197, dim: int = 768, depth: int = 12, heads: int = 12,
                 mlp_dim: int = 3072, dropout: float = 0.0):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(*(EncoderBlock(dim, heads, mlp_dim, dropout) for _ in range(depth)))
        self.ln = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout(x + self.pos_embedding)
        return self.ln(self.layers(x))


class VisionTransformer(nn.Module):
    """Patch embedding, class token, ``encoder`` (position embedding, blocks, norm), ``heads``."""

    def __init__(self, image_size: int = 224, patch_size: int = 16, dim: int = 768, depth: int = 12,
                 heads: int = 12, mlp_dim: int = 3072, num_classes: int = 1000):
        super().__init__()
        self.patch_size = patch_size
        self.conv_proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        seq_length = (image_size // patch_size) ** 2 + 1
        self.encoder = Encoder(seq_length, dim, depth, heads, mlp_dim)
        self.heads = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_proj(x)                    # n, dim, h/16, w/16
        x = x.flatten(2).transpose(1, 2)         # n, patches, dim
        cls = self.class_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)           # n, 1 + patches, dim
        x = self.encoder(x)
        return self.heads(x[:, 0])


def vit_b_16() -> VisionTransformer:
    """ViT-B/16 with the ImageNet head (1000 classes) at 224 × 224."""
    return VisionTransformer()
