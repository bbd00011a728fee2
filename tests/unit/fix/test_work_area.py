"""Work folders are private and removed whatever ends the run: SIGTERM, SIGHUP, an exception."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from codequorum.fix.work_area import (
    is_work_area,
    live_work_dirs,
    new_work_dir,
    remove_work_dir,
)

SRC = str(Path(__file__).resolve().parents[3] / "src")
HOLDS_A_WORK_DIR = """
import sys, time
from codequorum.fix.work_area import new_work_dir, removed_on_termination
with removed_on_termination():
    path = new_work_dir("fix")
    (path / "copy.py").write_text("x")
    print(path, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_terminating_signal_removes_the_work_folders(number: int, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "TMPDIR": str(tmp_path)}
    child = subprocess.Popen([sys.executable, "-c", HOLDS_A_WORK_DIR], stdout=subprocess.PIPE, text=True,
                             env=env)
    assert child.stdout is not None
    path = Path(child.stdout.readline().strip())
    assert path.is_dir() and path.stat().st_mode & 0o777 == 0o700
    child.send_signal(number)
    assert child.wait(timeout=20) != 0
    assert not path.exists(), f"{signal.Signals(number).name} left {path} behind"


def test_work_folders_are_tracked_until_removed() -> None:
    path = new_work_dir("test")
    assert path in live_work_dirs() and is_work_area(path)
    remove_work_dir(path)
    assert path not in live_work_dirs() and not path.exists()
    assert is_work_area(Path(tempfile.gettempdir()))
    assert not is_work_area(Path(tempfile.gettempdir()) / "someone-elses")
