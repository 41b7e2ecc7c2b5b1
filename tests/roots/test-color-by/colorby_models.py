"""Models whose shares of parameters and MACs are known, for ``:color-by:`` (tests/test_color_by.py)."""

from torch import nn


class FiveLinears(nn.Module):
    """Five linear layers whose parameter shares fall in the five steps, and a ReLU (no parameters).

    Of 9,812 parameters: a 72 (0.7 %), b 360 (3.7 %), c 1,230 (12.5 %), d 3,100 (31.6 %),
    e 5,050 (51.5 %)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 40)
        self.act = nn.ReLU()
        self.c = nn.Linear(40, 30)
        self.d = nn.Linear(30, 100)
        self.e = nn.Linear(100, 50)

    def forward(self, x):
        return self.e(self.d(self.c(self.act(self.b(self.a(x))))))


class ConvHead(nn.Module):
    """Few parameters and most MACs in the convolution, the other way round in the linear layer.

    Parameters: conv 224 (0.3 %), fc 72,010 (99.7 %).  MACs at 1×3×32×32: conv 194,400 (73 %),
    fc 72,000 (27 %); the ReLU's are not counted."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.act = nn.ReLU()
        self.flat = nn.Flatten()
        self.fc = nn.Linear(8 * 30 * 30, 10)

    def forward(self, x):
        return self.fc(self.flat(self.act(self.conv(x))))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))


class Stack(nn.Module):
    """Four identical blocks (folded ×4) and a head: each block is 272 of 2,788 parameters (9.8 %),
    the four together 1,088 (39 %); the head 1,700 (61 %)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*[Block() for _ in range(4)])
        self.head = nn.Linear(16, 100)

    def forward(self, x):
        return self.head(self.body(x))


class NoMacs(nn.Module):
    """Parameters, but no layer whose MACs are counted."""

    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(8)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.norm(x))
