"""Reads and writes confined to a root, never through a symbolic link."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from codequorum.fix.confined import (
    OutsideRoot,
    checked_relative,
    confined,
    read_confined,
    write_confined,
)


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "pkg").mkdir(parents=True)
    outside.mkdir()
    (outside / "victim.py").write_text("outside\n")
    (root / "pkg" / "real.py").write_text("inside\n")
    (root / "pkg" / "inner_link.py").symlink_to("real.py")
    (root / "out_link.py").symlink_to(outside / "victim.py")
    (root / "out_dir").symlink_to(outside)
    return root, outside


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x", "a/../../x", "", "."])
def test_only_relative_paths_below_the_root(bad: str) -> None:
    with pytest.raises(OutsideRoot):
        checked_relative(bad)


def test_confined_resolves_links_and_refuses_the_outside(scene: tuple[Path, Path]) -> None:
    root, _ = scene
    assert confined(root, "pkg/inner_link.py") == PurePosixPath("pkg/real.py")
    assert confined(root, root / "pkg" / "real.py") == PurePosixPath("pkg/real.py")
    assert confined(root, "out_link.py") is None
    assert confined(root, "out_dir/victim.py") is None
    assert confined(root, "/etc/passwd") is None


def test_reads_never_follow_a_link(scene: tuple[Path, Path]) -> None:
    root, _ = scene
    assert read_confined(root, "pkg/real.py") == b"inside\n"
    for name in ("out_link.py", "out_dir/victim.py", "pkg/inner_link.py"):
        with pytest.raises(OutsideRoot):
            read_confined(root, name)


def test_writes_never_follow_a_link_anywhere_on_the_path(scene: tuple[Path, Path]) -> None:
    root, outside = scene
    for name in ("out_link.py", "out_dir/victim.py", "out_dir/new.py"):
        with pytest.raises(OutsideRoot):
            write_confined(root, name, b"pwned", make_dirs=True)
    assert (outside / "victim.py").read_text() == "outside\n"
    assert sorted(os.listdir(outside)) == ["victim.py"]
    assert os.readlink(root / "out_link.py") == str(outside / "victim.py")  # the link itself stays


def test_a_write_replaces_atomically_and_keeps_the_mode(scene: tuple[Path, Path]) -> None:
    root, _ = scene
    target = root / "pkg" / "real.py"
    target.chmod(0o640)
    write_confined(root, "pkg/real.py", b"new\n")
    assert target.read_bytes() == b"new\n" and target.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(root / "pkg")) == ["inner_link.py", "real.py"]  # no temporary left
    write_confined(root, "deep/er/new.py", b"x", make_dirs=True, mode=0o600)
    assert (root / "deep" / "er" / "new.py").stat().st_mode & 0o777 == 0o600
    with pytest.raises(OutsideRoot, match="already exists"):
        write_confined(root, "deep/er/new.py", b"y", exclusive=True)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(scene: tuple[Path, Path], monkeypatch) -> None:
    root, _ = scene

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        write_confined(root, "pkg/real.py", b"half")
    assert (root / "pkg" / "real.py").read_text() == "inside\n"
    assert sorted(os.listdir(root / "pkg")) == ["inner_link.py", "real.py"]


def test_the_root_itself_may_be_reached_through_a_link(scene: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = scene
    (tmp_path / "alias").symlink_to(root)
    assert read_confined(tmp_path / "alias", "pkg/real.py") == b"inside\n"
