"""The bwrap command line: namespaces, the read-only system mounts, the work dir and the limits."""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Sequence
from pathlib import Path

DEFAULT_WORK_PATH = "/sandbox"
SEED_PATH = "/.codequorum-seed"  # the host work dir, read-only, copied into the in-memory work dir
SEED_FAILED = 125
SEED_MESSAGE = "codequorum: could not copy the work dir into the sandbox"
# Runs inside the sandbox before the command: the work dir is a size-capped tmpfs, so the copy
# and everything the command writes stay in memory, bounded, and never reach the host disk.
_SEED_SCRIPT = (
    f'cp -PR --preserve=mode,timestamps "$0"/. . || {{ echo "{SEED_MESSAGE} (its in-memory work '
    f'dir holds work_size_mb, each file file_size_mb)" >&2; exit {SEED_FAILED}; }}; '
    'exec "$@"'
)
PRLIMIT = "/usr/bin/prlimit"
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Only what programs and toolchains read from /etc: not pip.conf, npmrc, gitconfig or ssh keys.
ETC_PATTERNS = (
    "alternatives", "ca-certificates", "ca-certificates.conf", "debian_version", "fonts", "group",
    "host.conf", "hosts", "java-*", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "locale.alias",
    "localtime", "mime.types", "nsswitch.conf", "os-release", "passwd", "perl", "protocols",
    "python3*", "services", "ssl", "timezone",
)


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
    masks: Sequence[tuple[Path, str]] = (),
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
    `masks` are (stand-in file, path inside) pairs, bound over the work dir's special files.
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
        *_readonly_mounts(masks),
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


def seen_at(work_path: str, work_size_mb: int | None) -> str:
    """Where the host work dir itself is mounted inside: the seed, or the work path."""
    return work_path if work_size_mb is None else SEED_PATH


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
