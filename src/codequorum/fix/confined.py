"""Every path `fix` reads from or writes to, confined to one root and never through a link.

A repository, a test's output and a model's answer are all untrusted: none of them may decide
where the host writes. A relative path is checked lexically (no absolute path, no `..`), then
opened one component at a time from a descriptor of the root with `O_NOFOLLOW`, so a symbolic
link anywhere on the way (planted in the repository, or swapped in meanwhile) fails the open
instead of leading out of the root. Writes go to a temporary file in the same folder, are
flushed to disk and renamed into place: a crash or a full disk leaves the old file or the new
one, never half of one.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from codequorum.vocabulary.errors import CodequorumError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class OutsideRoot(CodequorumError):
    """A path leads out of its root, or through a symbolic link."""


def checked_relative(relative: PurePosixPath | str) -> PurePosixPath:
    """`relative` as a path below a root: not absolute, no `..`, not empty."""
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts or path == PurePosixPath("."):
        raise OutsideRoot(f"{str(relative)!r} is not a path inside the project")
    return path


def confined(root: Path, path: Path | PurePosixPath | str) -> PurePosixPath | None:
    """The real path of `path` (absolute, or relative to `root`) relative to the real `root`,
    links resolved; None when it resolves outside `root`."""
    real_root = Path(os.path.realpath(root))
    candidate = Path(path) if Path(path).is_absolute() else Path(root) / path
    real = Path(os.path.realpath(candidate))
    if real == real_root or real_root not in real.parents:
        return None
    return PurePosixPath(real.relative_to(real_root).as_posix())


@contextmanager
def directory_fd(root: Path, relative: PurePosixPath, *, create: bool = False) -> Iterator[int]:
    """A descriptor of the folder `root/relative`, each component opened without following
    links (the root itself is the caller's, and may be reached through links); with `create`,
    missing folders are made (0755)."""
    fd = os.open(os.path.realpath(root), _DIR_FLAGS & ~os.O_NOFOLLOW)
    try:
        for part in relative.parts:
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
            inner = _open_dir(part, fd, root / relative)
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _open_dir(name: str, dir_fd: int | None, shown: Path) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise OutsideRoot(f"refusing to go through {shown}: a symbolic link or not a folder") from None
        raise


def read_confined(root: Path, relative: PurePosixPath | str) -> bytes:
    """The bytes of `root/relative`, never through a link."""
    path = checked_relative(relative)
    with directory_fd(root, path.parent) as folder:
        fd = _open_file(path.name, os.O_RDONLY, folder, root / path)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()


def mode_of(root: Path, relative: PurePosixPath) -> int | None:
    """The permission bits of `root/relative` (not following a final link); None if missing."""
    with directory_fd(root, relative.parent) as folder:
        try:
            return os.stat(relative.name, dir_fd=folder, follow_symlinks=False).st_mode & 0o7777
        except FileNotFoundError:
            return None


def write_confined(root: Path, relative: PurePosixPath | str, data: bytes, *, mode: int | None = None,
                   make_dirs: bool = False, exclusive: bool = False) -> Path:
    """Write `data` to `root/relative` atomically (temporary file, fsync, rename, fsync of the
    folder). The mode is the old file's, else `mode`, else 0644. With `exclusive`, an existing
    file is an error rather than replaced. Never through a link; returns the path written."""
    path = checked_relative(relative)
    with directory_fd(root, path.parent, create=make_dirs) as folder:
        try:
            old = os.stat(path.name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            old = None
        if old is not None and (exclusive or not _is_regular(old.st_mode)):
            what = "already exists" if exclusive else "is a symbolic link or not a regular file"
            raise OutsideRoot(f"refusing to write {root / path}: it {what}")
        final_mode = old.st_mode & 0o7777 if old is not None else (0o644 if mode is None else mode)
        temporary = f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = _open_file(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, folder, root / path, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, final_mode, dir_fd=folder)
            os.replace(temporary, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=folder)
            except OSError:
                pass
            raise
        os.fsync(folder)  # the rename is durable only once the folder's entry is on disk too
    return root / path


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _open_file(name: str, flags: int, dir_fd: int, shown: Path, mode: int = 0o644) -> int:
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OutsideRoot(f"refusing to open {shown}: it is a symbolic link") from None
        raise
