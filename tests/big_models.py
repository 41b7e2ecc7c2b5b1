"""Test models for folding, fan-out and device fallback (plain torch.nn)."""

from __future__ import annotations

import torch
from torch import nn


class EncoderLayer(nn.Module):
    def __init__(self, dim: int = 32, heads: int = 4):
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x, mask):
        x = self.norm1(x + self.attention(x, x, x, key_padding_mask=mask, need_weights=False)[0])
        return self.norm2(x + self.ffn(x))


class Bert(nn.Module):
    """A BERT-style encoder: embeddings, 12 layers that all take the padding mask, a pooler."""

    def __init__(self, vocab: int = 100, dim: int = 32, layers: int = 12):
        super().__init__()
        self.embeddings = nn.Embedding(vocab, dim)
        self.layer = nn.ModuleList(EncoderLayer(dim) for _ in range(layers))
        self.pooler = nn.Linear(dim, dim)

    def forward(self, tokens):
        mask = tokens == 0
        x = self.embeddings(tokens)
        for layer in self.layer:
            x = layer(x, mask)
        return self.pooler(x[:, 0])


class NeedsData(nn.Module):
    """Its forward reads a value (``.item()``), which the meta device cannot give."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        scale = float(x.abs().max().item()) + 1.0
        return self.fc(x) / scale


class FanOut(nn.Module):
    """One tensor (a gate) feeds 60 unrelated layers: the layout trap of masks and rotary tables."""

    def __init__(self, width: int = 8, layers: int = 60):
        super().__init__()
        self.gate = nn.Linear(width, width)
        self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(layers))

    def forward(self, x):
        gate = torch.sigmoid(self.gate(x))
        for i, block in enumerate(self.blocks):
            x = block(x) * gate + x if i % 2 else block(x) * gate
        return x


#: a ready-made instance (not a class or factory)
INSTANCE = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


class ManyLayers(nn.Module):
    """``blocks`` blocks of ``layers`` linear layers each: 3,000 boxes at depth 2 (unfolded)."""

    def __init__(self, blocks: int = 60, layers: int = 50, width: int = 4):
        super().__init__()
        self.blocks = nn.Sequential(*[
            nn.Sequential(*[nn.Linear(width, width) for _ in range(layers)]) for _ in range(blocks)])

    def forward(self, x):
        return self.blocks(x)


class LegacyConstructed(nn.Module):
    """A layer made with a legacy constructor, which ignores ``torch.device("meta")``."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.scale = nn.Parameter(torch.FloatTensor(width).uniform_())

    def forward(self, x):
        return self.fc(x) * self.scale


class GroupedExperts(nn.Module):
    """A mixture-of-experts layer through ``torch._grouped_mm``, whose meta kernel takes bfloat16 only."""

    def __init__(self, experts: int = 4, width: int = 16, hidden: int = 32):
        super().__init__()
        self.router = nn.Linear(width, experts)
        self.up = nn.Parameter(torch.randn(experts, width, hidden))
        self.down = nn.Parameter(torch.randn(experts, hidden, width))
        self.experts = experts

    def forward(self, x):
        tokens = x.reshape(-1, x.shape[-1])
        weights = self.router(tokens).softmax(-1)
        step = tokens.shape[0] // self.experts  # equal groups: the same shapes on meta and the CPU
        offsets = torch.arange(1, self.experts + 1, device=x.device, dtype=torch.int32) * step
        hidden = torch._grouped_mm(tokens, self.up, offs=offsets).relu()
        out = torch._grouped_mm(hidden, self.down, offs=offsets)
        return (out * weights.max(-1, keepdim=True).values).reshape(x.shape)


class PinnedToCpu(nn.Module):
    """A model that places its weights on the CPU itself, whatever the default device."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width, device="cpu")

    def forward(self, x):
        return self.fc(x)


def pinned_to_cpu() -> nn.Module:
    """A factory of :class:`PinnedToCpu` (not a ready-made instance)."""
    return PinnedToCpu()


class SlowToExport(nn.Module):
    """A small model whose forward sleeps while torch exports it to ONNX (as a slow scan would)."""

    def __init__(self, width: int = 8, seconds: float = 30.0):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.seconds = seconds

    def forward(self, x):
        if torch.onnx.is_in_onnx_export():
            import time

            time.sleep(self.seconds)
        return self.fc(x).relu()


class EncoderStack(nn.Module):
    """Token embedding, ``depth`` identical ``nn.TransformerEncoderLayer`` s, a linear head."""

    def __init__(self, vocab: int = 100, dim: int = 32, heads: int = 4, depth: int = 4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.0, batch_first=True)
                                    for _ in range(depth))
        self.head = nn.Linear(dim, vocab)

    def forward(self, tokens):
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


class Residual(nn.Module):
    """``x + fc2(gelu(fc1(norm(x))))``: a block of :class:`TwoWidths`."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, x):
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm(x))))


class TwoWidths(nn.Module):
    """Two runs of the same block class at two widths: two kinds of block, one class."""

    def __init__(self, narrow: int = 8, wide: int = 16, depth: int = 3):
        super().__init__()
        self.narrow = nn.Sequential(*[Residual(narrow) for _ in range(depth)])
        self.widen = nn.Linear(narrow, wide)
        self.wide = nn.Sequential(*[Residual(wide) for _ in range(depth)])

    def forward(self, x):
        return self.wide(self.widen(self.narrow(x)))


class SharedCounter(nn.Module):
    """Blocks that each add to a list the model returns: state shared between blocks.

    Not a run to the fold (the list's tensors are inputs of the next block); for exports given its blocks.
    """

    def __init__(self, width: int = 8, depth: int = 3):
        super().__init__()
        self.blocks = nn.ModuleList(SharingBlock(width) for _ in range(depth))

    def forward(self, x):
        seen: list[torch.Tensor] = []
        for block in self.blocks:
            x = block(x, seen)
        return x, seen


class SharingBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x, seen):
        y = self.fc(x).relu()
        seen.append(y.sum(-1))
        return y
