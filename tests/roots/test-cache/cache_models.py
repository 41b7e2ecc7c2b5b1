"""The model the cache test edits; it imports a helper module of the same project."""

from torch import nn

from cache_layers import make_block


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = make_block(8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.block(x))
