"""The ``make run`` supervisor restarts a crashed child after a growing pause and gives up
only when one keeps crashing (issue 9). The real kill is in test_embedded_run.py."""

from __future__ import annotations

import io
import sys

from imsportal.supervisor import RestartPolicy, Supervisor


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_pauses_grow_and_repeated_crashes_give_up():
    clock = Clock()
    policy = RestartPolicy(max_crashes=5, window=120, clock=clock)
    delays = []
    for _ in range(4):
        delays.append(policy.crashed())
        clock.now += 10
    assert delays == [1, 2, 4, 8]
    assert policy.crashed() is None  # the fifth within two minutes


def test_crashes_far_apart_never_give_up():
    clock = Clock()
    policy = RestartPolicy(max_crashes=3, window=60, clock=clock)
    for _ in range(10):
        assert policy.crashed() == 1
        clock.now += 61


def test_a_child_that_keeps_crashing_stops_the_run(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    supervisor = Supervisor(tmp_path, {}, out=out, err=err)
    supervisor.start("crasher", "-c", "import sys; sys.exit(3)")
    supervisor.children[0].policy = RestartPolicy(max_crashes=3, first_delay=0.1)
    try:
        assert supervisor.watch(poll=0.05) == 1
    finally:
        supervisor.stop_all()
    assert err.getvalue().count("The crasher exited with code 3; restarting it in") == 2
    assert "3 times within 120 s; stopping everything" in err.getvalue()
    assert out.getvalue().count("• Restarted the crasher") == 2
    assert sys.executable in supervisor.children[0].args
