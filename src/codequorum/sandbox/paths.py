"""Where things may appear inside the sandbox: the work path and extra read-only paths."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from codequorum.sandbox.argv import SEED_PATH
from codequorum.sandbox.errors import SandboxError

RESERVED_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc",
                  "/dev", "/tmp", SEED_PATH)


def check_work_path(work_path: str) -> str:
    """The in-sandbox work path must be absolute and clear of the system mounts."""
    path = PurePosixPath(work_path)
    if not path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        raise ValueError(f"work_path must be an absolute path below /, got {work_path!r}")
    clash = next((r for r in RESERVED_PATHS if overlaps(path, PurePosixPath(r))), None)
    if clash:
        raise ValueError(f"work_path {work_path!r} overlaps the sandbox's own {clash}")
    return str(path)


def check_readonly_path(path: Path, work_path: str, *, must_exist: bool = True) -> Path:
    """Extra read-only paths are bound at the same path: absolute, existing, not over the work dir."""
    if not path.is_absolute():
        raise ValueError(f"read-only paths must be absolute, got {str(path)!r}")
    pure = PurePosixPath(path)
    if len(pure.parts) < 2 or overlaps(pure, PurePosixPath(work_path)):
        raise ValueError(f"read-only path {str(path)!r} overlaps the work path {work_path!r}; "
                         "choose another work_path")
    if any(overlaps(pure, PurePosixPath(p)) for p in ("/proc", "/dev")):
        raise ValueError(f"read-only path {str(path)!r} overlaps the sandbox's /proc or /dev")
    if must_exist and not path.exists():
        raise SandboxError(f"read-only path {path} does not exist")
    return path


def overlaps(a: PurePosixPath, b: PurePosixPath) -> bool:
    return a == b or a in b.parents or b in a.parents
