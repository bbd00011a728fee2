"""What a copy of the project holds, decided once, and making one copy from it.

The tree is read without following links. Regular files and folders are copied. A symbolic
link is copied as a link (made relative) when it resolves inside the project, and left out,
with a note, when it leads outside: the copy never reaches beyond the project, and no write
into the copy can land outside it. FIFOs, sockets and devices are left out with a note;
version control, caches, virtual environments, `.codequorum`, and codequorum's own work folders
(a project under TMPDIR, or holding it) are never copied.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from codequorum.fix.confined import OutsideRoot
from codequorum.fix.work_area import is_work_area
from codequorum.vocabulary.errors import CodequorumError

# Never copied: version control, caches, virtual environments (the interpreter is mounted
# read-only instead), and codequorum's own backups.
EXCLUDED_NAMES = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".codequorum", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules",
})
MAX_FILES = 5000
MAX_BYTES = 200 * 1024 * 1024
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device"}


def is_excluded(relative: PurePosixPath) -> bool:
    return any(part in EXCLUDED_NAMES for part in relative.parts)


@dataclass(frozen=True)
class CopyPlan:
    """The project at `root` (its real path) as a copy will hold it."""

    root: Path
    folders: tuple[PurePosixPath, ...] = ()  # parents before children
    files: tuple[PurePosixPath, ...] = ()  # sorted per folder
    links: tuple[tuple[PurePosixPath, str], ...] = ()  # (link, its target relative to its folder)
    notes: tuple[str, ...] = ()  # what was left out, and why
    total_bytes: int = 0
    largest_bytes: int = 0


@dataclass
class _Survey:
    root: Path
    max_files: int
    max_bytes: int
    folders: list[PurePosixPath] = field(default_factory=list)
    files: list[PurePosixPath] = field(default_factory=list)
    links: list[tuple[PurePosixPath, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    total: int = 0
    largest: int = 0


def plan_copy(root: Path, *, max_files: int | None = None, max_bytes: int | None = None) -> CopyPlan:
    """Walk `root` once (never following links); refuses a project too big to copy per run."""
    survey = _Survey(Path(os.path.realpath(root)), max_files or MAX_FILES, max_bytes or MAX_BYTES)
    _walk(survey, PurePosixPath())
    return CopyPlan(survey.root, tuple(survey.folders), tuple(survey.files), tuple(survey.links),
                    tuple(survey.notes), survey.total, survey.largest)


def _walk(survey: _Survey, folder: PurePosixPath) -> None:
    try:
        entries = sorted(os.scandir(survey.root / folder), key=lambda e: e.name)
    except OSError as error:
        survey.notes.append(f"left out {folder}/: it cannot be read ({error.strerror})")
        return
    subfolders = []
    for entry in entries:
        relative = folder / entry.name
        if entry.name in EXCLUDED_NAMES:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # vanished meanwhile
        if stat.S_ISLNK(info.st_mode):
            _plan_link(survey, relative, Path(entry.path))
        elif stat.S_ISDIR(info.st_mode):
            if not (Path(entry.path) / "pyvenv.cfg").exists() and not is_work_area(Path(entry.path)):
                subfolders.append(relative)
        elif stat.S_ISREG(info.st_mode):
            _plan_file(survey, relative, Path(entry.path), info.st_size)
        else:
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            survey.notes.append(f"left out {relative}: {kind}, not a regular file")
    for subfolder in subfolders:
        survey.folders.append(subfolder)
        _walk(survey, subfolder)


def _plan_file(survey: _Survey, relative: PurePosixPath, path: Path, size: int) -> None:
    if not os.access(path, os.R_OK):
        survey.notes.append(f"left out {relative}: it cannot be read (permission denied)")
        return
    survey.files.append(relative)
    survey.total += size
    survey.largest = max(survey.largest, size)
    if len(survey.files) > survey.max_files or survey.total > survey.max_bytes:
        raise CodequorumError(
            f"the project at {survey.root} is too big to copy for every candidate (over "
            f"{survey.max_files} files or {survey.max_bytes // 2**20} MiB); pass --project with a "
            "smaller directory"
        )


def _plan_link(survey: _Survey, relative: PurePosixPath, path: Path) -> None:
    target = Path(os.path.realpath(path))
    if target != survey.root and survey.root not in target.parents:
        survey.notes.append(f"left out {relative}: a symbolic link to {os.readlink(path)}, outside "
                            "the project")
        return
    here = survey.root / relative.parent
    survey.links.append((relative, os.path.relpath(target, here)))


def project_files(root: Path) -> Iterator[PurePosixPath]:
    """The regular files a copy would hold (relative, sorted per folder); links left out."""
    yield from plan_copy(root).files


def make_copy(plan: CopyPlan, target: Path, replacements: Mapping[PurePosixPath, bytes]) -> None:
    """A fresh copy of the planned tree at `target` (which must not exist), with the bytes of
    some of its regular files replaced. A replacement must name a planned regular file."""
    stray = [str(p) for p in replacements if p not in set(plan.files)]
    if stray:
        raise OutsideRoot(f"refusing to write {', '.join(stray)}: not a regular file of the project")
    try:
        target.mkdir(mode=0o700)
        for folder in plan.folders:
            (target / folder).mkdir(mode=0o700)
        for relative in plan.files:
            _copy_file(plan.root / relative, target / relative, replacements.get(relative))
        for relative, pointing_to in plan.links:
            os.symlink(pointing_to, target / relative)
        for folder in reversed(plan.folders):  # modes last: a read-only folder is filled first
            _copy_mode(plan.root / folder, target / folder)
        _copy_mode(plan.root, target)
    except OSError as error:
        raise CodequorumError(_copy_failure(error, plan, target)) from None


def _copy_file(source: Path, target: Path, replacement: bytes | None) -> None:
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(out, "wb") as sink:
        if replacement is not None:
            sink.write(replacement)
        else:
            source_fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(source_fd, "rb") as origin:
                shutil.copyfileobj(origin, sink, 1024 * 1024)
    info = os.stat(source, follow_symlinks=False)
    os.chmod(target, stat.S_IMODE(info.st_mode))
    if replacement is None:
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))


def _copy_mode(source: Path, target: Path) -> None:
    # The owner keeps write and search access: the copy is scratch space, removed afterwards.
    os.chmod(target, stat.S_IMODE(os.stat(source, follow_symlinks=False).st_mode) | 0o700)


def _copy_failure(error: OSError, plan: CopyPlan, target: Path) -> str:
    where = error.filename or target
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the copy of the project ({plan.total_bytes // 2**20} MiB) does not fit in the "
                f"temporary directory ({target.parent.parent}): free space there or set TMPDIR to a "
                "larger disk")
    return f"could not copy the project into its work folder: {where}: {error.strerror}"
