"""LLaMA-7B in plain ``torch.nn``, with Hugging Face's module names.

Token embedding, 32 ``DecoderLayer`` s (RMS norm, attention with rotary
position embeddings, RMS norm, SwiGLU MLP, each around a residual add), a
final ``norm`` and an untied ``lm_head``: 6,738,415,616 parameters (26 GB as
float32), so the docs draw it from a ``meta``-device build.

As in Hugging Face's ``LlamaModel``, ``forward`` builds *one* causal mask and
*one* ``(cos, sin)`` pair and hands them to every layer: a few tensors feeding
all 32 layers. ``tiny_llama()`` is the same architecture small enough to run
on a CPU.
"""

import torch
from torch import nn
from torch.nn import functional as F

#: input of one forward: one sequence of 128 token ids
INPUT_SHAPE = (1, 128)
INPUT_DTYPE = "int64"
#: input of one forward of ``tiny_llama()``
TINY_INPUT_SHAPE = (1, 16)


class RMSNorm(nn.Module):
    """Scale by the reciprocal root mean square over the last dimension, then by ``weight``."""

    def __init__(self, dim: int = 4096, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


class RotaryEmbedding(nn.Module):
    """``cos`` and ``sin`` of position × frequency, for rotating queries and keys."""

    def __init__(self, head_dim: int = 128, max_seq_len: int = 2048, base: float = 10000.0):
        super().__init__()
        self.max_seq_len = max_seq_len
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x: torch.Tensor, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # batch, tokens, 1 × 1, 1, head_dim/2 -> batch, tokens, head_dim/2
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``(x1, x2) -> (-x2, x1)`` over the two halves of the last dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` (batch, heads, tokens, head_dim) by the positions' angles."""
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    return x * cos + rotate_half(x) * sin


class Attention(nn.Module):
    """Multi-head attention: ``q_proj``/``k_proj``/``v_proj`` (no bias), rotary on q and k, ``o_proj``."""

    def __init__(self, dim: int = 4096, n_heads: int = 32):
        super().__init__()
        self.n_heads = n_heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        batch, tokens, dim = x.shape
        q, k, v = (proj(x).view(batch, tokens, self.n_heads, -1).transpose(1, 2)
                   for proj in (self.q_proj, self.k_proj, self.v_proj))
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.o_proj(y.transpose(1, 2).reshape(batch, tokens, dim))


class MLP(nn.Module):
    """SwiGLU: ``down_proj(silu(gate_proj(x)) * up_proj(x))``."""

    def __init__(self, dim: int = 4096, hidden_dim: int = 11008):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden_dim, bias=False)
        self.up_proj = nn.Linear(dim, hidden_dim, bias=False)
        self.down_proj = nn.Linear(hidden_dim, dim, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    """``x + self_attn(input_layernorm(x))``, then ``x + mlp(post_attention_layernorm(x))``."""

    def __init__(self, dim: int = 4096, n_heads: int = 32, hidden_dim: int = 11008, norm_eps: float = 1e-6):
        super().__init__()
        self.input_layernorm = RMSNorm(dim, norm_eps)
        self.self_attn = Attention(dim, n_heads)
        self.post_attention_layernorm = RMSNorm(dim, norm_eps)
        self.mlp = MLP(dim, hidden_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), mask, cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    """``embed_tokens``, ``layers`` (a ``ModuleList`` of ``DecoderLayer`` s), ``norm``, ``lm_head``."""

    def __init__(self, vocab_size: int = 32000, dim: int = 4096, n_layers: int = 32, n_heads: int = 32,
                 hidden_dim: int = 11008, max_seq_len: int = 2048, norm_eps: float = 1e-6):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab_size, dim)
        self.layers = nn.ModuleList(DecoderLayer(dim, n_heads, hidden_dim, norm_eps) for _ in range(n_layers))
        self.norm = RMSNorm(dim, norm_eps)
        self.rotary_emb = RotaryEmbedding(dim // n_heads, max_seq_len)
        self.lm_head = nn.Linear(dim, vocab_size, bias=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        tokens = input_ids.shape[1]
        x = self.embed_tokens(input_ids)
        # built once, used by every layer
        position_ids = torch.arange(tokens, device=input_ids.device).unsqueeze(0)
        mask = torch.full((tokens, tokens), float("-inf"), dtype=x.dtype, device=input_ids.device).triu(1)
        cos, sin = self.rotary_emb(x, position_ids)
        for layer in self.layers:
            x = layer(x, mask, cos, sin)
        return self.lm_head(self.norm(x))


def llama_7b() -> Llama:
    """LLaMA-7B (6.7 B parameters): build it under ``torch.device("meta")``."""
    return Llama()


def tiny_llama() -> Llama:
    """The LLaMA architecture at toy size (≈0.4 M parameters), for real CPU runs."""
    return Llama(vocab_size=256, dim=64, n_layers=4, n_heads=4, hidden_dim=172, max_seq_len=128)
