"""A model whose names try to break out of the page."""

from torch import nn

Evil = type('"><img src=x onerror=alert(1)></script><script>alert(2)</script>', (nn.Linear,), {})


class Hostile(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Evil(4, 4)

    def forward(self, x):
        return self.inner(x)
