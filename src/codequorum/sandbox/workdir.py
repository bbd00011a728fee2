"""The host work directory a run starts from: a fresh one or the caller's, with its files."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from codequorum.sandbox.errors import SandboxError
from codequorum.sandbox.identity import SANDBOX_GID, SANDBOX_UID


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
