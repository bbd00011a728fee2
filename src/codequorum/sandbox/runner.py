"""The Sandbox API: untrusted, model-generated commands under bubblewrap, with rlimits and a
wall-clock timeout. The parts live beside it: `bwrap` (finding and probing bubblewrap), `argv`
(the command line and its mounts), `paths` (where things may appear inside), `workdir` (the host
work dir and its files), `masks` (its sockets and FIFOs kept out), `process` (the process group
and the pump over its pipes).

See docs/sandbox.md for the security model.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from codequorum.sandbox.argv import DEFAULT_WORK_PATH, PRLIMIT, bwrap_argv, seen_at
from codequorum.sandbox.bwrap import (
    INSTALL_HINT,
    bubblewrap_available,
    find_bwrap,
    probe,
)
from codequorum.sandbox.errors import SandboxError, SandboxUnavailable
from codequorum.sandbox.identity import drops_privileges
from codequorum.sandbox.limits import SandboxLimits, rlimits
from codequorum.sandbox.masks import masks_for
from codequorum.sandbox.paths import check_readonly_path, check_work_path
from codequorum.sandbox.process import Control, Finished, Launch, execute, exit_status
from codequorum.sandbox.result import SandboxResult
from codequorum.sandbox.workdir import (
    check_reachable,
    prepared_workdir,
    sandbox_environment,
)

__all__ = ["DEFAULT_WORK_PATH", "Sandbox", "SandboxError", "SandboxUnavailable",
           "bubblewrap_available", "run_command_json"]

log = logging.getLogger(__name__)


class Sandbox:
    """Runs commands under bubblewrap with `limits`; `readonly_paths` are bound read-only as is.

    The work directory appears at `work_path` inside the sandbox and is the command's cwd. With
    bubblewrap 0.8+ it is an in-memory copy capped at `limits.work_size_mb`: what the command
    writes there is bounded in total and never reaches the host's directory or disk.
    """

    def __init__(self, limits: SandboxLimits = SandboxLimits(), readonly_paths: Sequence[Path] = (),
                 *, work_path: str = DEFAULT_WORK_PATH,
                 readonly_mounts: Sequence[tuple[Path, str]] = ()) -> None:
        self.limits = limits
        self.work_path = check_work_path(work_path)
        self.readonly_paths = tuple(check_readonly_path(Path(p), self.work_path)
                                    for p in readonly_paths)
        # (host path, path inside): a host tree shown read-only at another path inside.
        self.readonly_mounts = tuple(
            (check_readonly_path(Path(source), self.work_path),
             str(check_readonly_path(Path(inside), self.work_path, must_exist=False)))
            for source, inside in readonly_mounts
        )

    def run(self, argv: Sequence[str], workdir: Path | None = None,
            files: Mapping[str, str | bytes] | None = None, stdin: bytes | None = None,
            env: Mapping[str, str] | None = None) -> SandboxResult:
        return self._run(argv, workdir, files, stdin, env, Control())

    async def run_async(self, argv: Sequence[str], workdir: Path | None = None,
                        files: Mapping[str, str | bytes] | None = None, stdin: bytes | None = None,
                        env: Mapping[str, str] | None = None) -> SandboxResult:
        """Like run, in a thread of its own; cancelling the await kills the process group."""
        control = Control()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[SandboxResult] = loop.create_future()

        def work() -> None:
            try:
                outcome = self._run(argv, workdir, files, stdin, env, control)
            except BaseException as error:  # handed to the awaiting task
                _settle(loop, future, None, error)
            else:
                _settle(loop, future, outcome, None)

        threading.Thread(target=work, name="codequorum-sandbox", daemon=True).start()
        try:
            return await future
        except asyncio.CancelledError:
            control.cancel()
            raise

    def _run(self, argv: Sequence[str], workdir: Path | None,
             files: Mapping[str, str | bytes] | None, stdin: bytes | None,
             env: Mapping[str, str] | None, control: Control) -> SandboxResult:
        if not argv:
            raise ValueError("nothing to run: argv is empty")
        drop = drops_privileges()
        bwrap = self._bwrap(drop)
        with prepared_workdir(workdir, files, drop) as host_dir:
            if bwrap is None:
                finished = execute(self._unsandboxed(argv, host_dir, env, drop), stdin, self.limits,
                                   control)
            else:
                work_size_mb = self.limits.work_size_mb if bwrap[1] else None
                with masks_for(host_dir, seen_at(self.work_path, work_size_mb)) as masks:
                    launch = self._sandboxed(bwrap, argv, host_dir, env, drop, masks)
                    finished = execute(launch, stdin, self.limits, control)
        return _result(finished, sandboxed=bwrap is not None)

    def _bwrap(self, drop_privileges: bool) -> tuple[str, bool] | None:
        """(bwrap path, whether it is 0.8+), or None for a loud, opted-in unsandboxed run."""
        try:
            bwrap = find_bwrap()
            if bwrap is None:
                raise SandboxUnavailable(
                    "bubblewrap (bwrap) is not installed, so generated code cannot be run safely; "
                    f"{INSTALL_HINT}"
                )
            return bwrap, probe(bwrap, drop_privileges)
        except SandboxUnavailable as error:
            if not self.limits.allow_unsandboxed:
                raise
            log.warning("RUNNING UNTRUSTED CODE WITHOUT A SANDBOX (allow_unsandboxed=True): %s", error)
            return None

    def _sandboxed(self, bwrap: tuple[str, bool], argv: Sequence[str], host_dir: Path,
                   env: Mapping[str, str] | None, drop: bool,
                   masks: Sequence[tuple[Path, str]]) -> Launch:
        if drop:
            for path in (*self.readonly_paths, *(source for source, _ in self.readonly_mounts)):
                check_reachable(path)
        bwrap_path, recent = bwrap
        nproc_inside = os.path.exists(PRLIMIT)
        command = bwrap_argv(
            bwrap_path, argv, host_dir, work_path=self.work_path, readonly_paths=self.readonly_paths,
            readonly_mounts=self.readonly_mounts, masks=masks,
            max_processes=self.limits.max_processes if nproc_inside else None,
            tmp_size_mb=self.limits.tmp_size_mb if recent else None,
            work_size_mb=self.limits.work_size_mb if recent else None,
            disable_userns=recent,
        )
        return Launch(command, Path("/"), sandbox_environment(self.work_path, env),
                       rlimits(self.limits, include_nproc=not nproc_inside), drop)

    def _unsandboxed(self, argv: Sequence[str], host_dir: Path, env: Mapping[str, str] | None,
                     drop: bool) -> Launch:
        return Launch(list(argv), host_dir, sandbox_environment(str(host_dir), env),
                       rlimits(self.limits), drop)


def _result(finished: Finished, *, sandboxed: bool) -> SandboxResult:
    exit_code, killed_by = exit_status(finished.returncode, finished.timed_out, sandboxed)
    return SandboxResult(
        exit_code=exit_code,
        stdout=finished.stdout.text(),
        stderr=finished.stderr.text(),
        timed_out=finished.timed_out,
        killed_by=killed_by,
        seconds=round(finished.seconds, 4),
        stdout_truncated=finished.stdout.truncated,
        stderr_truncated=finished.stderr.truncated,
        sandboxed=sandboxed,
    )


def _settle(loop: asyncio.AbstractEventLoop, future: asyncio.Future[SandboxResult],
            outcome: SandboxResult | None, error: BaseException | None) -> None:
    def settle() -> None:
        if future.done():
            return  # cancelled meanwhile
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(outcome)  # type: ignore[arg-type]

    with suppress(RuntimeError):  # the loop is already closed: nobody is waiting any more
        loop.call_soon_threadsafe(settle)


def run_command_json(
    argv: Sequence[str], timeout_s: float = 10.0, memory_mb: int = 512
) -> dict[str, Any]:
    """`codequorum sandbox run`: one command in a fresh work dir; the result as a JSON-ready dict."""
    cpu_s = max(1, math.ceil(timeout_s))  # the wall clock, not the CPU limit, is the one asked for
    limits = SandboxLimits(timeout_s=timeout_s, cpu_s=cpu_s, memory_mb=memory_mb)
    return Sandbox(limits).run(argv).to_json_dict()
