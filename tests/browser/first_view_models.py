"""Models for the first-view test site (tests/browser/test_first_view.py): a BERT built from a
``transformers`` config, no weights downloaded (the others come from ``docs/example_models``)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # never reach the hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from torch import nn  # noqa: E402


def bert4() -> nn.Module:
    """A 4-layer BERT from ``BertConfig`` (hidden size 64, 2 heads): the layout of BERT-base's
    encoder, 4 of its 12 layers, small enough to trace in a second."""
    from transformers import BertConfig, BertModel

    return BertModel(BertConfig(num_hidden_layers=4, hidden_size=64, num_attention_heads=2,
                                intermediate_size=128, vocab_size=1000, max_position_embeddings=64))
