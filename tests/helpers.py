"""What several test modules share: subprocesses killed mid-way, and the seed contract of a
family's runs. Imported as ``helpers`` (pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd


@contextlib.contextmanager
def running(cmd: list[str], **popen: Any) -> Iterator[subprocess.Popen]:
    """``cmd`` started with its output piped; killed on leaving the block if it still runs (a
    failed assertion included), so that no test leaves a process behind."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()


def wait_until(proc: subprocess.Popen, ready: Callable[[], Any], timeout: float, what: str,
               poll: float = 0.05) -> None:
    """Wait until ``ready()`` is true; fail with the process's stderr if it ends before, or with
    ``what`` after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, what
        time.sleep(poll)


def sigkill(proc: subprocess.Popen) -> None:
    """Kill the process the hard way (no cleanup in it runs) and reap it."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def assert_seeded(family: str, other_seeds: list[int], **params: Any) -> pd.DataFrame:
    """Two runs of ``family`` on seeds 0 and 1 give the same values and a run on ``other_seeds``
    different ones (2 iterations each); returns the first run."""
    import simulators

    a = simulators.run(family, seeds=2, iterations=2, **params)
    b = simulators.run(family, seeds=2, iterations=2, **params)
    c = simulators.run(family, seeds=other_seeds, iterations=2, **params)
    assert a["value"].equals(b["value"])
    assert not np.allclose(a["value"].to_numpy(), c["value"].to_numpy())
    return a
