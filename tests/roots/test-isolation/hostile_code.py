"""Models that misbehave the ways model code can: hang, exit, crash, leak global state.

Each must end as one located warning (or, for the leakers, a correct
diagram) without touching the good diagram on the same page.
"""

import ctypes
import os
import subprocess
import sys
import threading
import time

import torch
import torch.nn.functional as F
from torch import nn

#: a marker in the command line of the process that ``SpawnsAProcess`` leaves behind
LEFTOVER_MARKER = "netviz-leftover-marker"


class _Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)


class Fine(_Small):
    """The control: behaves."""

    def forward(self, x):
        return self.fc(x)


class LoopsForever(_Small):
    def forward(self, x):
        while True:
            x = self.fc(x) + 1


class Sleeps(_Small):
    def forward(self, x):
        time.sleep(1000)
        return x


class ExitsInForward(_Small):
    def forward(self, x):
        sys.exit(0)


class ExitsInInit(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        sys.exit(0)


class HardExit(_Small):
    def forward(self, x):
        os._exit(1)


class Segfaults(_Small):
    def forward(self, x):
        ctypes.string_at(0)
        return x


class Boom(BaseException):
    """Not an Exception: ``except Exception`` does not catch it."""


class RaisesBaseException(_Small):
    def forward(self, x):
        raise Boom("boom")


class RaisesKeyboardInterrupt(_Small):
    def forward(self, x):
        raise KeyboardInterrupt


class _Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


class RaisesUnprintable(_Small):
    def forward(self, x):
        raise _Unprintable()


class LeavesAThread(_Small):
    def forward(self, x):
        threading.Thread(target=time.sleep, args=(1000,), name="forever").start()
        return self.fc(x)


class SpawnsAProcess(_Small):
    def forward(self, x):
        subprocess.Popen(["sh", "-c", f"sleep 1000; : {LEFTOVER_MARKER}"])
        return self.fc(x)


class PatchesTorch(_Small):
    """Changes global torch state for every later diagram (if they shared a process)."""

    def forward(self, x):
        F.relu = torch.sigmoid
        torch.nn.modules.activation.F.relu = torch.sigmoid
        torch.set_default_dtype(torch.float64)
        nn.modules.module.register_module_forward_hook(lambda module, args, out: out * 2)
        return self.fc(x)


class SetsMetaDefault(_Small):
    def forward(self, x):
        torch.set_default_device("meta")
        return self.fc(x)


class TinyCNN(nn.Module):
    """A few kilobytes of weights; with a big enough input its activations are many GB."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(F.relu(self.conv(x))), 1))
