"""Resource limits for one sandboxed run, and applying them as rlimits in the child."""

from __future__ import annotations

import resource
from collections.abc import Sequence
from dataclasses import dataclass

MIB = 1024 * 1024

Rlimit = tuple[int, int, int]  # (resource, soft, hard)


@dataclass(frozen=True)
class SandboxLimits:
    """What one run may use. `allow_unsandboxed` is DANGEROUS: it runs code without bubblewrap."""

    timeout_s: float = 10.0
    cpu_s: int = 10
    memory_mb: int = 512
    file_size_mb: int = 16
    max_processes: int = 64
    max_output_bytes: int = 64_000
    allow_unsandboxed: bool = False
    max_open_files: int = 256
    tmp_size_mb: int = 64  # each of the in-memory /tmp and /dev/shm (needs bubblewrap 0.8+)
    work_size_mb: int = 256  # the in-memory work dir, its seed files included (bubblewrap 0.8+)

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s}")
        for name in ("cpu_s", "memory_mb", "file_size_mb", "max_processes", "max_open_files",
                     "tmp_size_mb", "work_size_mb"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_output_bytes < 0:
            raise ValueError(f"max_output_bytes must not be negative, got {self.max_output_bytes}")


def rlimits(limits: SandboxLimits, *, include_nproc: bool = True) -> tuple[Rlimit, ...]:
    """The rlimits for a run, never above the hard limits this process already has.

    The CPU hard limit is one second above the soft one: SIGXCPU first, SIGKILL if ignored.
    """
    wanted = [
        (resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 1),
        (resource.RLIMIT_AS, limits.memory_mb * MIB, limits.memory_mb * MIB),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * MIB, limits.file_size_mb * MIB),
        (resource.RLIMIT_NOFILE, limits.max_open_files, limits.max_open_files),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    if include_nproc:
        wanted.append((resource.RLIMIT_NPROC, limits.max_processes, limits.max_processes))
    return tuple(_clamped(*limit) for limit in wanted)


def apply_rlimits(values: Sequence[Rlimit]) -> None:
    """Set rlimits; runs in the child between fork and exec, so it only calls setrlimit."""
    for which, soft, hard in values:
        resource.setrlimit(which, (soft, hard))


def _clamped(which: int, soft: int, hard: int) -> Rlimit:
    # Raising a hard limit needs privileges the child will not have once it is uid 65534.
    current_hard = resource.getrlimit(which)[1]
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
    return which, min(soft, hard), hard
