"""SandboxLimits and the rlimits they turn into (no bubblewrap needed)."""

from __future__ import annotations

import dataclasses
import functools
import resource
import subprocess
import sys

import pytest

from codequorum.sandbox import SandboxLimits
from codequorum.sandbox.limits import MIB, apply_rlimits, rlimits


def test_defaults_are_the_documented_ones() -> None:
    limits = SandboxLimits()
    assert (limits.timeout_s, limits.cpu_s, limits.memory_mb, limits.file_size_mb) == (10.0, 10, 512, 16)
    assert (limits.max_processes, limits.max_output_bytes, limits.allow_unsandboxed) == (64, 64_000, False)


def test_limits_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SandboxLimits().timeout_s = 1  # type: ignore[misc]


@pytest.mark.parametrize("field, value", [("timeout_s", 0), ("cpu_s", 0), ("memory_mb", -1),
                                          ("max_processes", 0), ("max_output_bytes", -1),
                                          ("tmp_size_mb", 0)])
def test_nonsense_limits_are_rejected(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        SandboxLimits(**{field: value})


def test_rlimits_cover_cpu_memory_files_processes_and_core_dumps() -> None:
    values = {which: (soft, hard) for which, soft, hard in rlimits(SandboxLimits(
        cpu_s=3, memory_mb=256, file_size_mb=2, max_processes=32, max_open_files=100))}
    assert values[resource.RLIMIT_CPU] == (3, 4)  # SIGXCPU at the soft limit, SIGKILL a second later
    assert values[resource.RLIMIT_AS] == (256 * MIB, 256 * MIB)
    assert values[resource.RLIMIT_FSIZE] == (2 * MIB, 2 * MIB)
    assert values[resource.RLIMIT_NPROC] == (32, 32)
    assert values[resource.RLIMIT_NOFILE] == (100, 100)
    assert values[resource.RLIMIT_CORE] == (0, 0)


def test_nproc_can_be_left_to_the_sandbox() -> None:
    which = {w for w, _, _ in rlimits(SandboxLimits(), include_nproc=False)}
    assert resource.RLIMIT_NPROC not in which


def test_rlimits_never_ask_above_an_existing_hard_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda which: (5, 5))
    assert all(soft <= hard <= 5 for _, soft, hard in rlimits(SandboxLimits(cpu_s=10)))


def test_apply_rlimits_sets_them_in_a_child() -> None:
    values = rlimits(SandboxLimits(cpu_s=7, file_size_mb=3, max_open_files=50))
    script = ("import resource as r; print(r.getrlimit(r.RLIMIT_CPU), r.getrlimit(r.RLIMIT_FSIZE), "
              "r.getrlimit(r.RLIMIT_NOFILE))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          preexec_fn=functools.partial(apply_rlimits, values))
    assert done.stdout.split(") (") == ["(7, 8", f"{3 * MIB}, {3 * MIB}", "50, 50)\n"]
