"""Replacing the user's file(s) with a fix: atomically, after keeping the original as a backup.

The backup goes to `<project>/.codequorum/backup/<path>.<timestamp>`, never over an older
backup. Both the backup and the new text are written to a temporary file in their folder,
flushed to disk and renamed into place (`confined.write_confined`), so a crash or a full disk
leaves the old file or the new one, never half, and never a truncated backup. No path is
followed through a symbolic link: a `.codequorum` link cannot send the backup out of the project.
The file keeps its encoding and line endings. Every OS error becomes one line saying what to do.
A fix of several files is checked whole before anything is written (no file changed meanwhile),
and the files already written are put back when a later one cannot be.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codequorum.fix.confined import mode_of, read_confined, write_confined
from codequorum.fix.source import SourceFormat, decode_source
from codequorum.vocabulary.errors import CodequorumError

BACKUP_DIR = PurePosixPath(".codequorum") / "backup"


def backup_path(project: Path, relative: PurePosixPath, now: float | None = None) -> Path:
    return project / backup_relative(project, relative, now)


def backup_relative(project: Path, relative: PurePosixPath, now: float | None = None) -> PurePosixPath:
    """A backup name for `relative` not taken yet: `<path>.<stamp>`, then `.1`, `.2`…"""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    base = BACKUP_DIR / f"{relative}.{stamp}"
    path, number = base, 1
    while (project / path).exists() or (project / path).is_symlink():
        path, number = base.with_name(f"{base.name}.{number}"), number + 1
    return path


@dataclass(frozen=True)
class FileFix:
    """One file of a fix: what it held when the fix was made, and its new text."""

    relative: PurePosixPath
    expected: str
    fixed: str
    form: SourceFormat | None = None


def apply_fixes(project: Path, fixes: Sequence[FileFix]) -> list[Path]:
    """Write every file of the fix, or none; returns the backups, in the order of `fixes`."""
    for fix in fixes:  # refuse before writing anything
        _unchanged(project, fix.relative, fix.expected)
    backups: list[Path] = []
    try:
        for fix in fixes:
            backups.append(apply_fix(project, fix.relative, fix.expected, fix.fixed, fix.form))
    except CodequorumError as error:
        stuck = _put_back(project, fixes, backups)
        if stuck:
            raise CodequorumError(f"{error}; and {', '.join(stuck)} could not be put back: copy "
                                  "the backup over the file") from None
        raise
    return backups


def _unchanged(project: Path, relative: PurePosixPath, expected: str) -> None:
    target = project / relative
    try:
        current, _ = decode_source(read_confined(project, relative), str(target))
    except OSError as error:
        raise CodequorumError(os_error_advice(error, target)) from None
    if current != expected:
        raise CodequorumError(f"{target} changed while the fix was being made; nothing was applied: "
                              "run `codequorum fix` again")


def _put_back(project: Path, fixes: Sequence[FileFix], backups: list[Path]) -> list[str]:
    """The files written before one failed, back as they were (from their backups); those
    that could not be, each with its backup."""
    stuck = []
    for fix, backup in zip(fixes, backups, strict=False):
        try:
            kept = PurePosixPath(backup.relative_to(project).as_posix())
            write_confined(project, fix.relative, read_confined(project, kept))
            backup.unlink()
        except OSError:
            stuck.append(f"{fix.relative} (its original is {backup})")
    return stuck


def apply_fix(project: Path, relative: PurePosixPath, expected: str, fixed: str,
              form: SourceFormat | None = None) -> Path:
    """Replace the file with `fixed`; returns the backup. Refuses if the file changed meanwhile."""
    target = project / relative
    try:
        original = read_confined(project, relative)
        current, found = decode_source(original, str(target))
        if current != expected:
            raise CodequorumError(f"{target} changed while the fix was being made; nothing was applied: "
                                  "run `codequorum fix` again")
        data = (form or found).encode(fixed, str(target))
        backup = _keep_backup(project, relative, original)
        try:
            write_confined(project, relative, data)
        except BaseException:
            _discard(project, backup)
            raise
    except OSError as error:
        raise CodequorumError(os_error_advice(error, target)) from None
    return project / backup


def _keep_backup(project: Path, relative: PurePosixPath, original: bytes) -> PurePosixPath:
    backup = backup_relative(project, relative)
    write_confined(project, backup, original, mode=mode_of(project, relative), make_dirs=True,
                   exclusive=True)
    return backup


def _discard(project: Path, backup: PurePosixPath) -> None:
    try:
        (project / backup).unlink()
    except OSError:
        pass


def write_atomically(target: Path, text: str) -> None:
    """`text` (UTF-8) in place of `target`, through its folder, never through a link."""
    try:
        write_confined(target.parent, PurePosixPath(target.name), text.encode("utf-8"))
    except OSError as error:
        raise CodequorumError(os_error_advice(error, target)) from None


def os_error_advice(error: OSError, target: Path) -> str:
    """One line: what failed, and what to do about it. Nothing was changed when it is raised."""
    where = error.filename or target
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the disk holding {target} is full ({where}); nothing was applied: free some space "
                "and run `codequorum fix --apply` again")
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"cannot write {where}: {error.strerror}; nothing was applied: make the folder "
                "writable (or run without --apply and apply the diff yourself)")
    return f"cannot apply the fix to {target}: {where}: {error.strerror}; nothing was applied"
