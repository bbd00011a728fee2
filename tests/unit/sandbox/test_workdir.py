"""The host work dir: fresh or the caller's, its files never written through links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codequorum.sandbox import SandboxError
from codequorum.sandbox.identity import SANDBOX_UID
from codequorum.sandbox.workdir import (
    prepared_workdir,
    sandbox_environment,
    write_files,
)

PY = "/usr/bin/python3"


# --- work dir and files


def test_files_are_written_in_nested_dirs(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.py": "print(1)", "pkg/b.bin": b"\x00\x01"})
    assert (tmp_path / "a.py").read_text() == "print(1)"
    assert (tmp_path / "pkg" / "b.bin").read_bytes() == b"\x00\x01"


@pytest.mark.parametrize("name", ["/etc/x", "../x", "a/../../x", ""])
def test_file_names_must_stay_inside_the_work_dir(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        write_files(tmp_path, {name: "x"})


def test_files_are_never_written_through_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "link").symlink_to(outside)
    (work / "file").symlink_to(outside / "target")
    for name in ("link/x", "file"):
        with pytest.raises(SandboxError, match="symbolic link"):
            write_files(work, {name: "x"})
    assert list(outside.iterdir()) == []


def test_temporary_work_dir_is_removed_afterwards() -> None:
    with prepared_workdir(None, {"x.txt": "1"}, drop_privileges=False) as path:
        assert (path / "x.txt").read_text() == "1"
    assert not path.exists()


def test_callers_work_dir_is_kept(tmp_path: Path) -> None:
    with prepared_workdir(tmp_path, {"x.txt": "1"}, drop_privileges=False) as path:
        assert path == tmp_path
    assert (tmp_path / "x.txt").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="handing the work dir over needs root")
def test_root_hands_the_work_dir_to_the_sandbox_user() -> None:
    with prepared_workdir(None, {"pkg/x.py": "1"}, drop_privileges=True) as path:
        owners = {p.lstat().st_uid for p in (path, path / "pkg", path / "pkg" / "x.py")}
        assert owners == {SANDBOX_UID}


def test_environment_is_minimal_plus_callers() -> None:
    env = sandbox_environment("/sandbox", {"EXTRA": "1"})
    assert env == {"PATH": "/usr/bin:/bin", "HOME": "/sandbox", "LANG": "C.UTF-8",
                   "PYTHONDONTWRITEBYTECODE": "1", "EXTRA": "1"}
