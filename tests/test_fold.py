"""Which sibling blocks fold into one ×N box: the cases real architectures brought up."""

from __future__ import annotations

import torch
from torch import nn

from sphinx_netviz.fold import find_runs
from sphinx_netviz.trace import trace_model


class BiasBlock(nn.Module):
    """T5-style: the first block makes a bias, every block hands it on unchanged."""

    def __init__(self, first: bool):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.make_bias = nn.Linear(4, 4) if first else None

    def forward(self, x, bias=None):
        if bias is None:
            bias = self.make_bias(x)
        return self.fc(x) + bias, bias


class PassesBiasOn(nn.Module):
    def __init__(self, blocks: int = 5):
        super().__init__()
        self.blocks = nn.ModuleList(BiasBlock(i == 0) for i in range(blocks))

    def forward(self, x):
        bias = None
        for block in self.blocks:
            x, bias = block(x, bias)
        return x


class ParentCallsAPart(nn.Module):
    """The first block owns an extra layer that only the parent calls: the blocks differ."""

    def __init__(self, blocks: int = 5):
        super().__init__()
        self.blocks = nn.ModuleList(BiasBlock(i == 0) for i in range(blocks))

    def forward(self, x):
        bias = self.blocks[0].make_bias(x)
        for block in self.blocks:
            x, _ = block(x, bias)
        return x


def runs_of(model: nn.Module) -> list[list[str]]:
    trace, _ = trace_model(model, (torch.zeros(1, 4),), {}, ["input"], type(model).__name__)
    return [[c.name for c in run.calls] for run in find_runs(trace)]


def test_blocks_that_hand_an_input_on_unchanged_fold():
    assert runs_of(PassesBiasOn()) == [["blocks.1", "blocks.2", "blocks.3", "blocks.4"]]


def test_blocks_with_different_parameters_do_not_fold_even_if_their_calls_match():
    # blocks.0 has 40 parameters (its make_bias is called by the parent), the others 20
    assert runs_of(ParentCallsAPart()) == [["blocks.1", "blocks.2", "blocks.3", "blocks.4"]]
