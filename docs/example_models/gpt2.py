"""GPT-2 small in plain ``torch.nn``, with Hugging Face's module names.

Token and position embeddings (``wte``, ``wpe``), 12 pre-norm ``Block`` s in
``h`` (causal self-attention with a fused ``c_attn`` projection, and an MLP),
``ln_f`` and an ``lm_head`` that shares its weight with ``wte``:
124,439,808 parameters. Like Hugging Face's model, ``forward`` returns a
dataclass whose ``past_key_values`` is a cache *object* (``KeyValueCache``),
not a tuple — the kind of output ``torch.export`` cannot flatten.
"""

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

#: input of one forward: one sequence of 128 token ids
INPUT_SHAPE = (1, 128)
INPUT_DTYPE = "int64"


class KeyValueCache:
    """Keys and values of every layer, one ``batch × heads × tokens × head_dim`` tensor each.

    A plain object, like Hugging Face's ``DynamicCache``: each attention layer
    appends its keys and values with ``update``.
    """

    def __init__(self) -> None:
        self.key_cache: list[torch.Tensor] = []
        self.value_cache: list[torch.Tensor] = []

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int) -> None:
        if layer_idx == len(self.key_cache):
            self.key_cache.append(key)
            self.value_cache.append(value)
        else:
            self.key_cache[layer_idx] = key
            self.value_cache[layer_idx] = value

    def __len__(self) -> int:
        return len(self.key_cache)


@dataclass
class GPT2Output:
    """What ``GPT2.forward`` returns: next-token scores and the filled cache."""

    logits: torch.Tensor
    past_key_values: KeyValueCache


class Attention(nn.Module):
    """Causal multi-head self-attention: fused ``c_attn`` (q, k, v), then ``c_proj``."""

    def __init__(self, n_embd: int = 768, n_head: int = 12, layer_idx: int = 0, dropout: float = 0.1):
        super().__init__()
        self.n_head = n_head
        self.layer_idx = layer_idx
        self.dropout = dropout
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cache: KeyValueCache) -> torch.Tensor:
        batch, tokens, n_embd = x.shape
        q, k, v = self.c_attn(x).split(n_embd, dim=2)
        # batch, tokens, n_embd -> batch, heads, tokens, head_dim
        q, k, v = (t.view(batch, tokens, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        cache.update(k, v, self.layer_idx)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        y = y.transpose(1, 2).reshape(batch, tokens, n_embd)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """``c_fc`` (×4 wider), tanh-approximated GELU, ``c_proj`` back."""

    def __init__(self, n_embd: int = 768, dropout: float = 0.1):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.act = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class Block(nn.Module):
    """``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, n_embd: int = 768, n_head: int = 12, layer_idx: int = 0, dropout: float = 0.1):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5)
        self.attn = Attention(n_embd, n_head, layer_idx, dropout)
        self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5)
        self.mlp = MLP(n_embd, dropout)

    def forward(self, x: torch.Tensor, cache: KeyValueCache) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    """Embeddings, ``h`` (a ``ModuleList`` of ``Block`` s), ``ln_f``, tied ``lm_head``."""

    def __init__(self, vocab_size: int = 50257, n_positions: int = 1024, n_embd: int = 768,
                 n_layer: int = 12, n_head: int = 12, dropout: float = 0.1):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(n_positions, n_embd)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList(Block(n_embd, n_head, i, dropout) for i in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd, eps=1e-5)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: counted once by parameters()

    def forward(self, input_ids: torch.Tensor) -> GPT2Output:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.drop(self.wte(input_ids) + self.wpe(positions))
        cache = KeyValueCache()
        for block in self.h:
            x = block(x, cache)
        logits = self.lm_head(self.ln_f(x))
        return GPT2Output(logits=logits, past_key_values=cache)


def gpt2() -> GPT2:
    """GPT-2 small (124 M parameters)."""
    return GPT2()
