"""Run untrusted, model-generated commands under bubblewrap, with rlimits and a wall-clock timeout.

See docs/sandbox.md for the security model.
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import logging
import math
import os
import re
import selectors
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from codequorum.sandbox.keyring import join_new_session_keyring
from codequorum.sandbox.limits import Rlimit, SandboxLimits, apply_rlimits, rlimits
from codequorum.sandbox.result import SandboxResult
from codequorum.vocabulary.errors import CodequorumError

log = logging.getLogger(__name__)

SANDBOX_UID = 65534  # nobody
SANDBOX_GID = 65534  # nogroup
DEFAULT_WORK_PATH = "/sandbox"
SEED_PATH = "/.codequorum-seed"  # the host work dir, read-only, copied into the in-memory work dir
SEED_FAILED = 125
# Runs inside the sandbox before the command: the work dir is a size-capped tmpfs, so the copy
# and everything the command writes stay in memory, bounded, and never reach the host disk.
_SEED_SCRIPT = (
    'cp -PR --preserve=mode,timestamps "$0"/. . || { echo "codequorum: could not copy the work dir '
    f'into the sandbox (its in-memory work dir holds work_size_mb)" >&2; exit {SEED_FAILED}; }}; '
    'exec "$@"'
)
PRLIMIT = "/usr/bin/prlimit"
INSTALL_HINT = (
    "install it with `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`"
)
NAMESPACE_HINT = (
    "bubblewrap needs unprivileged user namespaces: `sysctl user.max_user_namespaces` must be above 0, "
    "`kernel.unprivileged_userns_clone` (older Debian kernels) must be 1, and on Ubuntu 24.04+ "
    "`kernel.apparmor_restrict_unprivileged_userns` must be 0 or bwrap needs an AppArmor profile; "
    "inside Docker the default seccomp profile blocks them"
)
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Only what programs and toolchains read from /etc: not pip.conf, npmrc, gitconfig or ssh keys.
ETC_PATTERNS = (
    "alternatives", "ca-certificates", "ca-certificates.conf", "debian_version", "fonts", "group",
    "host.conf", "hosts", "java-*", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "locale.alias",
    "localtime", "mime.types", "nsswitch.conf", "os-release", "passwd", "perl", "protocols",
    "python3*", "services", "ssl", "timezone",
)
_RESERVED_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc",
                   "/dev", "/tmp", SEED_PATH)
_GRACE_S = 2.0
_CHUNK = 65536


class SandboxError(CodequorumError):
    """A sandboxed run could not be set up."""


class SandboxUnavailable(SandboxError):
    """Bubblewrap is missing or cannot create a sandbox on this machine."""


# --- bubblewrap discovery --------------------------------------------------------------------


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


def bubblewrap_available() -> bool:
    """Whether bwrap is installed and can actually create a sandbox here."""
    bwrap = find_bwrap()
    if bwrap is None:
        return False
    try:
        _probe(bwrap, _drops_privileges())
    except SandboxUnavailable:
        return False
    return True


@functools.cache
def _probe(bwrap: str, drop_privileges: bool) -> bool:
    """Start one empty sandbox; returns whether bwrap is 0.8+ (--disable-userns, --size).

    Raises SandboxUnavailable (not cached, so a fixed machine recovers) when bwrap fails.
    """
    recent = _bwrap_version(bwrap) >= (0, 8)
    argv = [bwrap, *isolation_flags(recent), *system_mounts(), "--", "/usr/bin/true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                              **_identity_kwargs(drop_privileges))
        problem = done.stderr.strip() if done.returncode != 0 else None
    except (OSError, subprocess.SubprocessError) as error:
        problem = str(error)
    if problem is not None:
        raise SandboxUnavailable(
            f"bubblewrap ({bwrap}) cannot create a sandbox here: {problem}. {NAMESPACE_HINT}"
        )
    return recent


def _bwrap_version(bwrap: str) -> tuple[int, ...]:
    try:
        done = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError) as error:
        raise SandboxUnavailable(f"bubblewrap ({bwrap}) does not run: {error}") from error
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", done.stdout)
    return tuple(int(part) for part in match.groups() if part) if match else (0,)


def _drops_privileges() -> bool:
    """Root hands the child to uid 65534; anyone else runs it as themselves."""
    return os.geteuid() == 0


def _identity_kwargs(drop_privileges: bool) -> dict[str, Any]:
    # Set before bwrap starts: bwrap's own --uid would still be root outside the user namespace.
    if not drop_privileges:
        return {}
    return {"user": SANDBOX_UID, "group": SANDBOX_GID, "extra_groups": []}


# --- the bwrap command line ------------------------------------------------------------------


def isolation_flags(disable_userns: bool = True) -> list[str]:
    """Namespaces and privileges: nothing shared, no capabilities, no way back to the terminal."""
    flags = ["--unshare-all", "--unshare-user", "--hostname", "sandbox", "--die-with-parent",
             "--new-session", "--cap-drop", "ALL"]
    return [*flags, "--disable-userns"] if disable_userns else flags


def system_mounts(root: Path = Path("/")) -> list[str]:
    """Read-only system directories (/usr, the /bin and /lib family) and selected parts of /etc."""
    return list(_system_mounts(root))


@functools.cache
def _system_mounts(root: Path) -> tuple[str, ...]:
    # Cached: looking through /etc costs more than a millisecond per run, and changes rarely.
    args: list[str] = []
    for name in SYSTEM_DIRS:
        args += _mirror(root, name)
    for name in _etc_entries(root / "etc"):
        args += _mirror(root, f"etc/{name}")
    return tuple(args)


def _mirror(root: Path, relative: str) -> list[str]:
    host, inside = root / relative, f"/{relative}"
    if host.is_symlink():
        return ["--symlink", os.readlink(host), inside]
    if host.exists():
        return ["--ro-bind", str(host), inside]
    return []


def _etc_entries(etc: Path) -> list[str]:
    try:
        names = os.listdir(etc)
    except OSError:
        return []
    return sorted(n for n in names if any(fnmatch.fnmatchcase(n, p) for p in ETC_PATTERNS))


def bwrap_argv(
    bwrap: str,
    command: Sequence[str],
    workdir: Path,
    *,
    work_path: str = DEFAULT_WORK_PATH,
    readonly_paths: Sequence[Path] = (),
    readonly_mounts: Sequence[tuple[Path, str]] = (),
    max_processes: int | None = None,
    tmp_size_mb: int | None = None,
    work_size_mb: int | None = None,
    disable_userns: bool = True,
    system: Sequence[str] | None = None,
) -> list[str]:
    """The full bwrap command. With max_processes, RLIMIT_NPROC is set inside the sandbox.

    /tmp and /dev/shm are in memory: tmp_size_mb bounds each (bwrap 0.8+); /dev is read-only.
    With work_size_mb (bwrap 0.8+) the work dir is in memory too, bounded, and starts as a copy
    of `workdir`, which the sandbox sees only read-only; without it `workdir` is bound as is.
    `readonly_mounts` are (host path, path inside) pairs: a host tree shown read-only elsewhere.
    """
    return [
        bwrap,
        *isolation_flags(disable_userns),
        *(system_mounts() if system is None else system),
        "--proc", "/proc",
        "--dev", "/dev",
        *_sized(tmp_size_mb), "--tmpfs", "/dev/shm",
        *_sized(tmp_size_mb), "--tmpfs", "/tmp",
        *_work_dir(workdir, work_path, work_size_mb),
        *_readonly_binds(readonly_paths),
        *_readonly_mounts(readonly_mounts),
        "--chdir", work_path,
        "--remount-ro", "/dev",
        "--remount-ro", "/",
        "--",
        *_nproc_prefix(max_processes),
        *(_seed_prefix() if work_size_mb is not None else []),
        *command,
    ]


def _work_dir(workdir: Path, work_path: str, size_mb: int | None) -> list[str]:
    if size_mb is None:
        return ["--bind", str(workdir), work_path]
    return [*_sized(size_mb), "--tmpfs", work_path, "--ro-bind", str(workdir), SEED_PATH]


def _seed_prefix() -> list[str]:
    return ["/bin/sh", "-c", _SEED_SCRIPT, SEED_PATH]


def _sized(size_mb: int | None) -> list[str]:
    return [] if size_mb is None else ["--size", str(size_mb * 1024 * 1024)]


def _readonly_binds(paths: Sequence[Path]) -> list[str]:
    args: list[str] = []
    for path in paths:
        args += ["--ro-bind", str(path), str(path)]
    return args


def _readonly_mounts(mounts: Sequence[tuple[Path, str]]) -> list[str]:
    args: list[str] = []
    for source, inside in mounts:
        args += ["--ro-bind", str(source), inside]
    return args


def _nproc_prefix(max_processes: int | None) -> list[str]:
    # Inside the sandbox's own user namespace, RLIMIT_NPROC counts only this sandbox's processes;
    # set before bwrap, it would count every uid-65534 process on the machine (other sandboxes too).
    if max_processes is None:
        return []
    return [PRLIMIT, f"--nproc={max_processes}:{max_processes}", "--"]


def check_work_path(work_path: str) -> str:
    """The in-sandbox work path must be absolute and clear of the system mounts."""
    path = PurePosixPath(work_path)
    if not path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        raise ValueError(f"work_path must be an absolute path below /, got {work_path!r}")
    clash = next((r for r in _RESERVED_PATHS if _overlaps(path, PurePosixPath(r))), None)
    if clash:
        raise ValueError(f"work_path {work_path!r} overlaps the sandbox's own {clash}")
    return str(path)


def check_readonly_path(path: Path, work_path: str, *, must_exist: bool = True) -> Path:
    """Extra read-only paths are bound at the same path: absolute, existing, not over the work dir."""
    if not path.is_absolute():
        raise ValueError(f"read-only paths must be absolute, got {str(path)!r}")
    pure = PurePosixPath(path)
    if len(pure.parts) < 2 or _overlaps(pure, PurePosixPath(work_path)):
        raise ValueError(f"read-only path {str(path)!r} overlaps the work path {work_path!r}; "
                         "choose another work_path")
    if any(_overlaps(pure, PurePosixPath(p)) for p in ("/proc", "/dev")):
        raise ValueError(f"read-only path {str(path)!r} overlaps the sandbox's /proc or /dev")
    if must_exist and not path.exists():
        raise SandboxError(f"read-only path {path} does not exist")
    return path


def _overlaps(a: PurePosixPath, b: PurePosixPath) -> bool:
    return a == b or a in b.parents or b in a.parents


# --- the work directory ----------------------------------------------------------------------


@contextmanager
def prepared_workdir(
    workdir: Path | None, files: Mapping[str, str | bytes] | None, drop_privileges: bool
) -> Iterator[Path]:
    """The caller's directory, or a fresh temporary one removed afterwards, with `files` in it."""
    created = workdir is None
    path = Path(tempfile.mkdtemp(prefix="codequorum-sandbox-")) if workdir is None else workdir.resolve()
    try:
        if not path.is_dir():
            raise SandboxError(f"work directory {path} does not exist")
        write_files(path, files or {})
        if drop_privileges:
            check_reachable(path)
            _hand_over(path)
        yield path
    finally:
        if created:
            shutil.rmtree(path, ignore_errors=True)


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        target = _safe_target(root, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        # O_NOFOLLOW and the symlink check: a reused work dir may hold links the sandbox planted.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def _safe_target(root: Path, name: str) -> Path:
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"file names must be relative paths inside the work dir, got {name!r}")
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise SandboxError(f"refusing to write through the symbolic link {current}")
    return current


def check_reachable(path: Path, uid: int = SANDBOX_UID) -> None:
    """uid 65534 must be able to walk down to `path`, or bwrap cannot bind it."""
    for parent in reversed(path.absolute().parents):
        info = parent.stat()
        if not (info.st_mode & stat.S_IXOTH or info.st_uid == uid):
            raise SandboxError(
                f"the sandbox user (uid {uid}) cannot reach {path}: {parent} is not searchable "
                "by others; use a directory elsewhere (e.g. under /tmp)"
            )


def _hand_over(root: Path) -> None:
    """Give the work tree to the sandbox user, never following symbolic links."""
    os.lchown(root, SANDBOX_UID, SANDBOX_GID)
    for directory, subdirs, names in os.walk(root):
        for name in (*subdirs, *names):
            os.lchown(os.path.join(directory, name), SANDBOX_UID, SANDBOX_GID)


def sandbox_environment(home: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1"}
    return {**base, **(extra or {})}


# --- running a process -----------------------------------------------------------------------


class _Control:
    """Lets another thread cancel a run: kills its process group, now or as soon as it starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._popen: subprocess.Popen[bytes] | None = None
        self.cancelled = False

    def started(self, popen: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._popen = popen
            if self.cancelled:
                _kill_group(popen)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._popen is not None:
                _kill_group(self._popen)


def _kill_group(popen: subprocess.Popen[bytes]) -> None:
    # bwrap leads the group; killing it tears down its PID namespace, so every process inside dies.
    if popen.returncode is None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)


class _Capture:
    """Keeps at most `cap` bytes of a stream, and keeps draining it so the child never blocks."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    def on_ready(self, selector: selectors.BaseSelector, pipe: Any) -> None:
        chunk = os.read(pipe.fileno(), _CHUNK)
        if not chunk:
            selector.unregister(pipe)
            pipe.close()
            return
        room = max(self.cap - len(self.data), 0)
        if len(chunk) > room:
            self.truncated = True
        self.data += chunk[:room]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class _Feeder:
    """Writes stdin without blocking, so a child that never reads cannot stall the run."""

    def __init__(self, pipe: Any, data: bytes) -> None:
        os.set_blocking(pipe.fileno(), False)
        self.rest = memoryview(data)

    def on_ready(self, selector: selectors.BaseSelector, pipe: Any) -> None:
        try:
            self.rest = self.rest[os.write(pipe.fileno(), self.rest[:_CHUNK]):]
        except BlockingIOError:
            return
        except BrokenPipeError:
            self.rest = self.rest[:0]
        if not self.rest:
            selector.unregister(pipe)
            pipe.close()


@dataclass
class _Launch:
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    rlimits: tuple[Rlimit, ...]
    drop_privileges: bool


@dataclass
class _Finished:
    returncode: int
    timed_out: bool
    stdout: _Capture
    stderr: _Capture
    seconds: float


def _execute(launch: _Launch, stdin: bytes | None, limits: SandboxLimits,
             control: _Control) -> _Finished:
    started = time.monotonic()
    popen = subprocess.Popen(
        launch.argv, cwd=launch.cwd, env=launch.env,
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=functools.partial(_prepare_child, launch.rlimits),
        **_identity_kwargs(launch.drop_privileges),
    )
    control.started(popen)
    try:
        timed_out, out, err = _pump(popen, stdin, started + limits.timeout_s, limits, control)
    finally:
        _kill_group(popen)  # no-op after a normal exit; after an error, nothing is left running
        popen.wait()
    return _Finished(popen.returncode, timed_out, out, err, time.monotonic() - started)


def _prepare_child(values: tuple[Rlimit, ...]) -> None:
    """Between fork and exec: the rlimits, and a session keyring of the child's own."""
    apply_rlimits(values)
    join_new_session_keyring()


def _pump(popen: subprocess.Popen[bytes], stdin: bytes | None, deadline: float,
          limits: SandboxLimits, control: _Control) -> tuple[bool, _Capture, _Capture]:
    """Read both streams until they close; past the deadline, kill the group and finish up."""
    assert popen.stdout is not None and popen.stderr is not None
    out, err = _Capture(limits.max_output_bytes), _Capture(limits.max_output_bytes)
    timed_out = killed = False
    with selectors.DefaultSelector() as selector:
        selector.register(popen.stdout, selectors.EVENT_READ, out)
        selector.register(popen.stderr, selectors.EVENT_READ, err)
        if popen.stdin is not None:
            feeder = _Feeder(popen.stdin, stdin or b"")
            selector.register(popen.stdin, selectors.EVENT_WRITE, feeder)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if killed:
                    break  # something outside the process group still holds the pipes
                timed_out, killed = not control.cancelled, True
                _kill_group(popen)
                deadline = time.monotonic() + _GRACE_S
                continue
            for key, _ in selector.select(remaining):
                key.data.on_ready(selector, key.fileobj)
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
    return timed_out, out, err


def exit_status(returncode: int, timed_out: bool, sandboxed: bool) -> tuple[int | None, str | None]:
    """(exit_code, killed_by). bwrap reports a command killed by signal N as exit code 128 + N."""
    if timed_out:
        return None, "timeout"
    signum = -returncode if returncode < 0 else None
    if sandboxed and 128 < returncode <= 128 + signal.SIGRTMAX:
        signum = returncode - 128
    if signum is None:
        return returncode, None
    try:
        return None, signal.Signals(signum).name
    except ValueError:
        return None, f"signal {signum}"


# --- the public API --------------------------------------------------------------------------


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
        return self._run(argv, workdir, files, stdin, env, _Control())

    async def run_async(self, argv: Sequence[str], workdir: Path | None = None,
                        files: Mapping[str, str | bytes] | None = None, stdin: bytes | None = None,
                        env: Mapping[str, str] | None = None) -> SandboxResult:
        """Like run, in a thread of its own; cancelling the await kills the process group."""
        control = _Control()
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
             env: Mapping[str, str] | None, control: _Control) -> SandboxResult:
        if not argv:
            raise ValueError("nothing to run: argv is empty")
        drop = _drops_privileges()
        bwrap = self._bwrap(drop)
        with prepared_workdir(workdir, files, drop) as host_dir:
            if bwrap is None:
                launch = self._unsandboxed(argv, host_dir, env, drop)
            else:
                launch = self._sandboxed(bwrap, argv, host_dir, env, drop)
            finished = _execute(launch, stdin, self.limits, control)
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
            return bwrap, _probe(bwrap, drop_privileges)
        except SandboxUnavailable as error:
            if not self.limits.allow_unsandboxed:
                raise
            log.warning("RUNNING UNTRUSTED CODE WITHOUT A SANDBOX (allow_unsandboxed=True): %s", error)
            return None

    def _sandboxed(self, bwrap: tuple[str, bool], argv: Sequence[str], host_dir: Path,
                   env: Mapping[str, str] | None, drop: bool) -> _Launch:
        if drop:
            for path in (*self.readonly_paths, *(source for source, _ in self.readonly_mounts)):
                check_reachable(path)
        bwrap_path, recent = bwrap
        nproc_inside = os.path.exists(PRLIMIT)
        command = bwrap_argv(
            bwrap_path, argv, host_dir, work_path=self.work_path, readonly_paths=self.readonly_paths,
            readonly_mounts=self.readonly_mounts,
            max_processes=self.limits.max_processes if nproc_inside else None,
            tmp_size_mb=self.limits.tmp_size_mb if recent else None,
            work_size_mb=self.limits.work_size_mb if recent else None,
            disable_userns=recent,
        )
        return _Launch(command, Path("/"), sandbox_environment(self.work_path, env),
                       rlimits(self.limits, include_nproc=not nproc_inside), drop)

    def _unsandboxed(self, argv: Sequence[str], host_dir: Path, env: Mapping[str, str] | None,
                     drop: bool) -> _Launch:
        return _Launch(list(argv), host_dir, sandbox_environment(str(host_dir), env),
                       rlimits(self.limits), drop)


def _result(finished: _Finished, *, sandboxed: bool) -> SandboxResult:
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
