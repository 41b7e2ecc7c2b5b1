"""Models that misbehave the ways model code can: hang, exit, crash, leak global state.

Each must end as one located warning (or, for the leakers, a correct
diagram) without touching the good diagram on the same page.
"""

import ctypes
import os
import shutil
import subprocess
import sys
import threading
import time

import torch
import torch.nn.functional as F
from torch import nn

#: a marker in the command line of the processes that ``SpawnsAProcess`` and ``Escapes*`` leave
#: behind (followed by ``$NETVIZ_LEFTOVER_TOKEN``: a test's own)
LEFTOVER_MARKER = "netviz-leftover-marker"


def _leftover() -> list[str]:
    """The command line of a process that sleeps 300 s, marked."""
    mark = LEFTOVER_MARKER + os.environ.get("NETVIZ_LEFTOVER_TOKEN", "")
    return [sys.executable, "-c", "import time; time.sleep(300)", mark]


def _escape() -> None:
    """Start two processes that a kill of the diagram's process group does not reach: one in a new
    session, and one in a new session whose parent exits at once (a setsid'ed double fork).

    Each pid is added to ``$NETVIZ_LEFTOVER_DIR/started``, if that is set.
    """
    started = [subprocess.Popen(_leftover(), start_new_session=True).pid]
    read, write = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.setsid()
            grandchild = os.fork()
            if grandchild == 0:
                os.execv(sys.executable, _leftover())
            os.write(write, str(grandchild).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(middle, 0)
    started.append(int(os.read(read, 100)))
    os.close(read)
    folder = os.environ.get("NETVIZ_LEFTOVER_DIR")
    if folder:
        with open(os.path.join(folder, "started"), "a") as handle:
            handle.write("".join(f"{pid}\n" for pid in started))


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
        subprocess.Popen(["sh", "-c", f"sleep 1000; : {_leftover()[-1]}"])
        _escape()
        return self.fc(x)


class Escapes(_Small):
    """Drawn: its child ends normally."""

    def forward(self, x):
        _escape()
        return self.fc(x)


class EscapesAndHangs(_Small):
    """Killed past its time."""

    def forward(self, x):
        _escape()
        time.sleep(1000)
        return x


class EscapesAndDies(_Small):
    """Its child ends at once, without a word."""

    def forward(self, x):
        _escape()
        os._exit(3)


class PrintsALot(_Small):
    """Writes 50 MB to its stdout, then hangs."""

    def forward(self, x):
        print("the first line of PrintsALot", flush=True)
        line = "spam " * 199 + "spam\n"  # 1000 bytes
        for _ in range(50_000):
            sys.stdout.write(line)
        sys.stdout.flush()
        time.sleep(1000)
        return x


class RemovesItsJobFolder(_Small):
    """Removes the job folders in ``$NETVIZ_TEST_JOBS`` (its own among them)."""

    def forward(self, x):
        jobs = os.environ["NETVIZ_TEST_JOBS"]
        for name in os.listdir(jobs):
            if name.startswith("job-"):
                shutil.rmtree(os.path.join(jobs, name))
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
