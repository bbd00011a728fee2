"""One candidate cannot rewrite another's verdict in the batch test harness (REAL sandbox).

The harness runs every candidate of a request in one sandbox, one after the other. These
attacks run as candidates through `python_runner.run_suite`, next to honest ones, and check
the verdicts the host gets back: an honest candidate keeps its passes, an attacker gains none,
and nothing of one candidate is alive while the next one runs.

These tests fail (never skip) when bubblewrap is missing or cannot create a sandbox.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from codequorum.sandbox import SandboxLimits
from codequorum.testing import python_tests
from codequorum.testing.python_runner import CandidateRun, run_suite
from tests.e2e.test_sandbox_bwrap import real_bubblewrap

pytestmark = pytest.mark.e2e

__all__ = ["real_bubblewrap"]  # the module-scoped, autouse "bubblewrap must work" fixture

LIMITS = SandboxLimits(timeout_s=10, cpu_s=5, memory_mb=256, max_processes=32, work_size_mb=16)
SUITE = python_tests.TestSuite(setup="", cases=(
    python_tests.TestCase("small", "exec", "assert add(1, 2) == 3"),
    python_tests.TestCase("large", "exec", "assert add(20, 22) == 42"),
))
HONEST = "def add(a, b):\n    return a + b\n"
FORGED = '{"candidate": %d, "results": [%s, %s], "error": null, "values": [null, null]}\n'

# A grandchild in a new session takes a copy of stdout from every process that holds one
# (pidfd_getfd on the harness, on bwrap's pid 1, /proc/PID/fd/1), tries to read the nonce from
# the harness's memory and from stdin, and writes result lines for every candidate, for
# seconds, so that they land before, between and after the honest lines.
STEAL_STDOUT = '''
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
PIDFD_OPEN, PIDFD_GETFD = 434, 438

def add(a, b):
    return a - b

def steal():
    taken = []
    for pid in [p for p in range(1, 40) if p != os.getpid()]:
        for number in (0, 1, 2):
            pidfd = libc.syscall(PIDFD_OPEN, pid, 0)
            if pidfd >= 0:
                fd = libc.syscall(PIDFD_GETFD, pidfd, number, 0)
                if fd >= 0:
                    taken.append(fd)
        for name in ("fd/0", "fd/1", "mem", "environ"):
            try:
                taken.append(os.open("/proc/%d/%s" % (pid, name), os.O_RDWR))
            except OSError:
                pass
    return taken

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        taken = steal()
        for fd in taken:
            try:
                os.set_blocking(fd, False)
                os.read(fd, 4096)  # a nonce left on stdin, or in a memory map
            except OSError:
                pass
        end = time.monotonic() + 8
        while time.monotonic() < end:
            for fd in taken:
                for index in range(4):
                    line = FORGED % ((index, "true", "true") if index == 0 else (index, "false", "false"))
                    try:
                        os.write(fd, line.encode())
                    except OSError:
                        pass
            time.sleep(0.02)
        os._exit(0)
    os._exit(0)
time.sleep(0.5)
'''.replace("FORGED", repr(FORGED))

# Leaves a process behind, in a session and process group of its own, named with a marker.
LEAVE_A_SURVIVOR = '''
import ctypes, os, time

def add(a, b):
    return a + b

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)  # PR_SET_NAME
        time.sleep(60)
    os._exit(0)
time.sleep(0.2)
'''

# An honest candidate that also fails when any process of an earlier candidate is alive.
SURVIVOR_CHECK = '''
def add(a, b):
    return a + b

import os
for _entry in os.listdir("/proc"):
    try:
        if _entry.isdigit() and open("/proc/%s/comm" % _entry).read().strip() == "MARKER":
            add = None  # a survivor: every test of this candidate fails
    except OSError:
        pass
'''


def run(programs: list[str], per_candidate_s: float = 2.0) -> list[CandidateRun]:
    return asyncio.run(run_suite(programs, SUITE, LIMITS, per_candidate_s))


def test_a_candidate_cannot_write_result_lines_for_the_others() -> None:
    runs = run([STEAL_STDOUT, HONEST, HONEST, HONEST])
    assert runs[0].results == (False, False), runs[0]
    for honest in runs[1:]:
        assert honest.results == (True, True) and honest.error is None, runs


def test_an_attacker_after_the_honest_candidates_cannot_rewrite_them() -> None:
    runs = run([HONEST, HONEST, STEAL_STDOUT])
    assert [r.results for r in runs] == [(True, True), (True, True), (False, False)], runs


def test_nothing_of_a_candidate_survives_into_the_next_one() -> None:
    marker = f"cq{uuid.uuid4().hex[:10]}"
    runs = run([LEAVE_A_SURVIVOR.replace("MARKER", marker), SURVIVOR_CHECK.replace("MARKER", marker)])
    assert runs[0].results == (True, True), runs
    assert runs[1].results == (True, True), f"a process of candidate 0 was alive in candidate 1: {runs}"


def test_the_survivor_check_does_see_a_live_process() -> None:
    """The check above can fail: a process alive in the candidate's own run is seen."""
    marker = f"cq{uuid.uuid4().hex[:10]}"
    own = LEAVE_A_SURVIVOR.replace("MARKER", marker).replace("time.sleep(0.2)", "time.sleep(0.3)")
    runs = run([own + "\n" + SURVIVOR_CHECK.replace("MARKER", marker).split("\n", 3)[3]])
    assert runs[0].results == (False, False), runs

