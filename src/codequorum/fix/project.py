"""Copies of the user's project, and the test command run on one of them in the sandbox.

Every run gets its own copy, so a candidate never sees another's files and the user's tree is
never written. The copy is mounted at `/sandbox` and is the command's working directory.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath

from codequorum.fix.environment import Mounts, PythonEnvironment
from codequorum.sandbox import DEFAULT_WORK_PATH, Sandbox, SandboxLimits, SandboxResult
from codequorum.vocabulary.errors import CodequorumError

# Never copied: version control, caches, virtual environments (the interpreter is mounted
# read-only instead), and codequorum's own backups.
EXCLUDED_NAMES = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".codequorum", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules",
})
MAX_FILES = 5000
MAX_BYTES = 200 * 1024 * 1024
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "tox.ini", "pytest.ini", ".git")
_CANNOT_RUN_CODES = (126, 127)  # the shell could not execute the command / found no such command
_PYTEST_CANNOT_RUN = (4, 5)  # pytest: usage error / no tests collected


def is_excluded(relative: PurePosixPath) -> bool:
    return any(part in EXCLUDED_NAMES for part in relative.parts)


def project_root_of(file: Path) -> Path:
    """The nearest directory above `file` that looks like a project root, else its folder."""
    for parent in file.absolute().parents:
        if any((parent / marker).exists() for marker in PROJECT_MARKERS):
            return parent
    return file.absolute().parent


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
    if result.exit_code is None or result.exit_code in _CANNOT_RUN_CODES:
        return Verdict.CANNOT_RUN  # killed, timed out, or nothing to execute
    if "pytest" in command and result.exit_code in _PYTEST_CANNOT_RUN:
        return Verdict.CANNOT_RUN
    return Verdict.FAILED


@dataclass(frozen=True)
class SandboxedProject:
    """The project at `root`, tested by `command` (a shell command line) in the sandbox."""

    root: Path
    command: str
    environment: PythonEnvironment
    mounts: Mounts
    limits: SandboxLimits

    def __post_init__(self) -> None:
        _check_size(self.root)

    async def run(self, replacements: Mapping[PurePosixPath, str] | None = None) -> CommandRun:
        """Run the command on a fresh copy, with some files' text replaced."""
        base = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="codequorum-fix-"))
        try:
            base.chmod(0o755)  # the sandbox user must walk into it
            copy = base / "project"
            await asyncio.to_thread(copy_project, self.root, copy, replacements or {})
            sandbox = Sandbox(self.limits, self.mounts.readonly_paths,
                              readonly_mounts=self.mounts.readonly_mounts)
            result = await sandbox.run_async(["/bin/sh", "-c", self.command], workdir=copy,
                                             env=self._env(copy))
        finally:
            await asyncio.to_thread(shutil.rmtree, base, True)
        return CommandRun(
            exit_code=result.exit_code,
            output=_output(result),
            seconds=result.seconds,
            timed_out=result.timed_out,
            killed_by=result.killed_by,
            verdict=verdict_of(result, self.command),
        )

    def _env(self, copy: Path) -> dict[str, str]:
        # The copy comes first on sys.path, before an editable install of the original.
        paths = [DEFAULT_WORK_PATH] + ([f"{DEFAULT_WORK_PATH}/src"] if (copy / "src").is_dir() else [])
        return {**self.environment.environment(), "PYTHONPATH": ":".join(paths)}


def sandbox_limits(timeout_s: float, memory_mb: int, allow_unsandboxed: bool) -> SandboxLimits:
    return SandboxLimits(timeout_s=timeout_s, cpu_s=max(1, math.ceil(timeout_s)),
                         memory_mb=memory_mb, max_output_bytes=200_000,
                         work_size_mb=MAX_BYTES // 2**20 + 64,  # the largest project, and room to work
                         allow_unsandboxed=allow_unsandboxed)


def copy_project(root: Path, target: Path, replacements: Mapping[PurePosixPath, str]) -> None:
    shutil.copytree(root, target, symlinks=True, ignore=_ignored)
    for relative, text in replacements.items():
        (target / relative).write_text(text, encoding="utf-8")


def _ignored(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in EXCLUDED_NAMES or (Path(directory) / n / "pyvenv.cfg").exists()}


def project_files(root: Path) -> Iterator[PurePosixPath]:
    """The files a copy would hold (relative, sorted per directory), symbolic links left out."""
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not _ignored(directory, [d]))
        for name in sorted(names):
            path = Path(directory) / name
            if name not in EXCLUDED_NAMES and path.is_file() and not path.is_symlink():
                yield PurePosixPath(path.relative_to(root).as_posix())


def _check_size(root: Path) -> None:
    files = size = 0
    for relative in project_files(root):
        files, size = files + 1, size + (root / relative).stat().st_size
        if files > MAX_FILES or size > MAX_BYTES:
            raise CodequorumError(
                f"the project at {root} is too big to copy for every candidate (over {MAX_FILES} "
                f"files or {MAX_BYTES // 2**20} MiB); pass --project with a smaller directory"
            )


def _output(result: SandboxResult) -> str:
    parts = [result.stdout.rstrip("\n"), result.stderr.rstrip("\n")]
    if result.timed_out:
        parts.append("(the command was stopped: it ran past its time limit)")
    elif result.killed_by:
        parts.append(f"(the command was killed by {result.killed_by})")
    return "\n".join(p for p in parts if p) + "\n"
