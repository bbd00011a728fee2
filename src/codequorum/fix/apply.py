"""Replacing the user's file with a fix: atomically, after keeping the original as a backup.

The backup goes to `<project>/.codequorum/backup/<path>.<timestamp>`, never over an older
backup. The new text is written to a temporary file in the same directory, flushed to disk and
renamed over the original, so a crash leaves either the old file or the new one, never half.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath

from codequorum.vocabulary.errors import CodequorumError

BACKUP_DIR = Path(".codequorum") / "backup"


def backup_path(project: Path, relative: PurePosixPath, now: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    base = project / BACKUP_DIR / f"{relative}.{stamp}"
    path, number = base, 1
    while path.exists():
        path, number = base.with_name(f"{base.name}.{number}"), number + 1
    return path


def apply_fix(project: Path, relative: PurePosixPath, expected: str, fixed: str) -> Path:
    """Replace the file with `fixed`; returns the backup. Refuses if the file changed meanwhile."""
    target = project / relative
    current = target.read_text(encoding="utf-8")
    if current != expected:
        raise CodequorumError(f"{target} changed while the fix was being made; nothing was applied: "
                              "run `codequorum fix` again")
    backup = backup_path(project, relative)
    backup.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(target, backup)
    write_atomically(target, fixed)
    return backup


def write_atomically(target: Path, text: str) -> None:
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk too.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
