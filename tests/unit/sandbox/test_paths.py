"""Where the work dir and extra read-only paths may appear inside the sandbox."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from codequorum.sandbox import Sandbox, SandboxError
from codequorum.sandbox.paths import check_readonly_path, check_work_path
from codequorum.sandbox.workdir import check_reachable

# --- path checks


@pytest.mark.parametrize("bad", ["relative", "/", "/tmp", "/usr/x", "/etc", "/proc", "/a/../b"])
def test_bad_work_paths_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        check_work_path(bad)


def test_readonly_path_must_exist_be_absolute_and_clear_of_the_work_path(tmp_path: Path) -> None:
    assert check_readonly_path(tmp_path, "/sandbox") == tmp_path
    with pytest.raises(ValueError):
        check_readonly_path(Path("relative"), "/sandbox")
    with pytest.raises(ValueError, match="work path"):
        check_readonly_path(tmp_path, str(tmp_path.parent))
    with pytest.raises(SandboxError, match="does not exist"):
        check_readonly_path(tmp_path / "missing", "/sandbox")
    with pytest.raises(ValueError, match="/dev"):
        check_readonly_path(Path("/dev/null"), "/sandbox")


def test_sandbox_rejects_readonly_path_inside_work_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Sandbox(readonly_paths=[tmp_path], work_path=str(tmp_path.parent))


def test_unreachable_directory_is_reported() -> None:
    with tempfile.TemporaryDirectory() as base:
        os.chmod(base, 0o755)
        closed = Path(base) / "closed"
        (closed / "inner").mkdir(parents=True)
        closed.chmod(0o700)
        check_reachable(Path(base), uid=12345)
        with pytest.raises(SandboxError, match=f"{closed} is not searchable"):
            check_reachable(closed / "inner", uid=12345)
