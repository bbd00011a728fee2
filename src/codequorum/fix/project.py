"""Copies of the user's project, and the test command run on one of them in the sandbox.

Every run gets its own copy (`copy_plan.py`: no link leads out of it), in a private work folder
(`work_area.py`), so a candidate never sees another's files and the user's tree is never
written. The copy is mounted at `/sandbox` and is the command's working directory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath

from codequorum.fix.copy_plan import (
    EXCLUDED_NAMES,
    MAX_BYTES,
    MAX_FILES,
    CopyPlan,
    is_excluded,
    make_copy,
    plan_copy,
    project_files,
)
from codequorum.fix.environment import Mounts, PythonEnvironment
from codequorum.fix.work_area import new_work_dir, remove_work_dir
from codequorum.sandbox import DEFAULT_WORK_PATH, Sandbox, SandboxLimits, SandboxResult
from codequorum.sandbox.argv import SEED_FAILED, SEED_MESSAGE

__all__ = ["EXCLUDED_NAMES", "MAX_BYTES", "MAX_FILES", "CommandRun", "SandboxedProject", "Verdict",
           "copy_project", "is_excluded", "project_files", "project_root_of", "sandbox_limits",
           "verdict_of"]

PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "tox.ini", "pytest.ini", ".git")
_CANNOT_RUN_CODES = (126, 127)  # the shell could not execute the command / found no such command
_PYTEST_CANNOT_RUN = (4, 5)  # pytest: usage error / no tests collected
MIB = 2**20


def project_root_of(file: Path, cwd: Path | None = None) -> Path:
    """The project root the user means for `file`: the nearest folder above it with a marker
    file; without one, the working directory `cwd` (the CLI's) when it holds the file and is not
    the file system's root; else the file's folder."""
    file = file.absolute()
    for parent in file.parents:
        if any((parent / marker).exists() for marker in PROJECT_MARKERS):
            return parent
    here = cwd.absolute() if cwd is not None else None
    if here is not None and here != Path(here.anchor) and here in file.parents:
        return here
    return file.parent


class Verdict(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    CANNOT_RUN = "cannot-run"


@dataclass(frozen=True)
class CommandRun:
    """One run of the test command on one copy of the project."""

    exit_code: int | None
    output: str  # stdout then stderr
    seconds: float
    timed_out: bool
    killed_by: str | None
    verdict: Verdict

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED


def verdict_of(result: SandboxResult, command: str) -> Verdict:
    if result.exit_code == 0:
        return Verdict.PASSED
    if seed_failed(result):
        return Verdict.CANNOT_RUN  # the copy never reached the sandbox: nothing was tested
    if result.exit_code is None or result.exit_code in _CANNOT_RUN_CODES:
        return Verdict.CANNOT_RUN  # killed, timed out, or nothing to execute
    if "pytest" in command and result.exit_code in _PYTEST_CANNOT_RUN:
        return Verdict.CANNOT_RUN
    return Verdict.FAILED


def seed_failed(result: SandboxResult) -> bool:
    return result.exit_code == SEED_FAILED and SEED_MESSAGE in result.stderr


@dataclass(frozen=True)
class SandboxedProject:
    """The project at `root`, tested by `command` (a shell command line) in the sandbox."""

    root: Path
    command: str
    environment: PythonEnvironment
    mounts: Mounts
    limits: SandboxLimits
    plan: CopyPlan = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", plan_copy(self.root))

    @property
    def notes(self) -> tuple[str, ...]:
        """What the copies leave out of the project, and why."""
        return self.plan.notes

    async def run(self, replacements: Mapping[PurePosixPath, bytes] | None = None) -> CommandRun:
        """Run the command on a fresh copy, with some files' bytes replaced."""
        base = await asyncio.to_thread(new_work_dir, "fix")
        try:
            copy = base / "project"
            await asyncio.to_thread(make_copy, self.plan, copy, replacements or {})
            sandbox = Sandbox(self._limits(), self.mounts.readonly_paths,
                              readonly_mounts=self.mounts.readonly_mounts)
            result = await sandbox.run_async(["/bin/sh", "-c", self.command], workdir=copy,
                                             env=self._env(copy))
        finally:
            await asyncio.to_thread(remove_work_dir, base)
        return CommandRun(
            exit_code=result.exit_code,
            output=_output(result),
            seconds=result.seconds,
            timed_out=result.timed_out,
            killed_by=result.killed_by,
            verdict=verdict_of(result, self.command),
        )

    def _limits(self) -> SandboxLimits:
        # The copy into the sandbox is bound by RLIMIT_FSIZE too: the largest file must fit.
        largest_mb = math.ceil(self.plan.largest_bytes / MIB) + 1
        return dataclasses.replace(self.limits, file_size_mb=max(self.limits.file_size_mb, largest_mb))

    def _env(self, copy: Path) -> dict[str, str]:
        # The copy comes first on sys.path, before an editable install of the original.
        paths = [DEFAULT_WORK_PATH] + ([f"{DEFAULT_WORK_PATH}/src"] if (copy / "src").is_dir() else [])
        return {**self.environment.environment(), "PYTHONPATH": ":".join(paths)}


def sandbox_limits(timeout_s: float, memory_mb: int, allow_unsandboxed: bool) -> SandboxLimits:
    return SandboxLimits(timeout_s=timeout_s, cpu_s=max(1, math.ceil(timeout_s)),
                         memory_mb=memory_mb, max_output_bytes=200_000,
                         work_size_mb=MAX_BYTES // MIB + 64,  # the largest project, and room to work
                         allow_unsandboxed=allow_unsandboxed)


def copy_project(root: Path, target: Path, replacements: Mapping[PurePosixPath, bytes]) -> CopyPlan:
    """One copy of the project at `target`; returns what it holds and left out."""
    plan = plan_copy(root)
    make_copy(plan, target, replacements)
    return plan


def _output(result: SandboxResult) -> str:
    parts = [result.stdout.rstrip("\n"), result.stderr.rstrip("\n")]
    if result.timed_out:
        parts.append("(the command was stopped: it ran past its time limit)")
    elif result.killed_by:
        parts.append(f"(the command was killed by {result.killed_by})")
    return "\n".join(p for p in parts if p) + "\n"
