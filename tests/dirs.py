"""Temporary directories the sandbox user can reach."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def searchable_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory every user can walk into (uid 65534 must reach what the sandbox binds;
    pytest's tmp_path sits under a 0700 folder), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
