"""What the benches read off their server processes with psutil."""

from __future__ import annotations

from collections.abc import Callable

import psutil


def cpu_seconds(proc: psutil.Process) -> float:
    return sum(proc.cpu_times()[:2])  # user + system


def tree_sum(pid: int, measure: Callable[[psutil.Process], float]) -> float:
    """``measure`` summed over a process and its children (0 for those already gone)."""
    try:
        top = psutil.Process(pid)
        procs = [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            total += measure(proc)
        except psutil.NoSuchProcess:
            pass
    return total
