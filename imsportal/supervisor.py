"""The ``make run`` supervisor: starts the child processes, restarts one that crashes (after
a growing pause, saying so on the console) and stops them all on Ctrl-C, on SIGTERM, or when
one child keeps crashing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RestartPolicy:
    """Pause 1, 2, 4 … (at most ``max_delay``) seconds before restart number 1, 2, 3 …
    within ``window`` seconds; give up after ``max_crashes`` crashes in that window."""

    max_crashes: int = 5
    window: float = 120.0
    first_delay: float = 1.0
    max_delay: float = 30.0
    clock: Callable[[], float] = time.monotonic
    crashes: deque[float] = field(default_factory=deque)

    def crashed(self) -> float | None:
        """Record a crash now; the pause before the restart, or None to give up."""
        now = self.clock()
        self.crashes.append(now)
        while self.crashes and self.crashes[0] < now - self.window:
            self.crashes.popleft()
        if len(self.crashes) >= self.max_crashes:
            return None
        return min(self.first_delay * 2 ** (len(self.crashes) - 1), self.max_delay)


@dataclass
class Child:
    name: str
    args: list[str]
    proc: subprocess.Popen | None = None
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    restart_at: float | None = None


class Supervisor:
    def __init__(self, cwd: Path, env: dict[str, str], out=sys.stdout, err=sys.stderr):
        self.cwd, self.env, self.out, self.err = cwd, env, out, err
        self.children: list[Child] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        child = Child(name, [sys.executable, *args])
        self.children.append(child)
        return self._spawn(child)

    def _spawn(self, child: Child) -> subprocess.Popen:
        # Its own process group, so stopping it also stops its own children (gunicorn's
        # workers, Celery's pool) and Ctrl-C on the console reaches only this supervisor.
        child.proc = subprocess.Popen(
            child.args, cwd=self.cwd, env=self.env, start_new_session=True
        )
        return child.proc

    def watch(self, poll: float = 0.5) -> int:
        """Keep the children running until one crashes too often (then 1)."""
        while True:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.restart_at = None
                        self._spawn(child)
                        print(f"• Restarted the {child.name}", file=self.out, flush=True)
                    continue
                assert child.proc is not None
                code = child.proc.poll()
                if code is None:
                    continue
                _reap_group(child.proc)
                delay = child.policy.crashed()
                if delay is None:
                    print(
                        f"The {child.name} exited with code {code}, "
                        f"{child.policy.max_crashes} times within {child.policy.window:.0f} s; "
                        "stopping everything.",
                        file=self.err,
                        flush=True,
                    )
                    return 1
                print(
                    f"The {child.name} exited with code {code}; restarting it in {delay:g} s.",
                    file=self.err,
                    flush=True,
                )
                child.restart_at = now + delay
            time.sleep(poll)

    def stop_all(self) -> None:
        running = [c.proc for c in reversed(self.children) if c.proc and c.proc.poll() is None]
        for proc in running:
            _signal_group(proc, signal.SIGTERM)
        for proc in running:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        for child in self.children:
            if child.proc:
                _reap_group(child.proc)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _reap_group(proc: subprocess.Popen) -> None:
    """A crashed child's own children (a killed gunicorn's workers) must not linger."""
    _signal_group(proc, signal.SIGKILL)
