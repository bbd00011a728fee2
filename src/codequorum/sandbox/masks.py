"""Sockets, FIFOs and device nodes in a caller's work dir never reach the sandbox.

The work dir is bound into the sandbox (read-only, as the seed of its in-memory copy), and a
read-only mount does not stop `connect()` to a Unix socket or a write into a FIFO: a socket a
host process listens on in that folder would be a way out. Each special file found there is
therefore covered, inside the sandbox, by an empty read-only stand-in file; the copy gets an
empty file in its place. Device nodes are inert already (binds are `nodev`) and covered all the
same. A special file created in the work dir while the run is going is not covered.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

_SPECIAL = (stat.S_ISSOCK, stat.S_ISFIFO, stat.S_ISCHR, stat.S_ISBLK)


def special_files(root: Path) -> list[PurePosixPath]:
    """Sockets, FIFOs and devices under `root` (relative), links never followed."""
    found = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if any(test(mode) for test in _SPECIAL):
                found.append(PurePosixPath(path.relative_to(root).as_posix()))
    return found


@contextmanager
def masks_for(root: Path, inside: str) -> Iterator[list[tuple[Path, str]]]:
    """(stand-in, path inside the sandbox) for every special file under `root`, which appears
    at `inside`; the stand-in lives as long as the context."""
    found = special_files(root)
    if not found:
        yield []
        return
    folder = Path(tempfile.mkdtemp(prefix="codequorum-mask-"))
    try:
        folder.chmod(0o755)  # the sandbox user binds the stand-in
        stand_in = folder / "empty"
        stand_in.touch(mode=0o444)
        yield [(stand_in, f"{inside}/{relative}") for relative in found]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
