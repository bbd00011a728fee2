from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from codequorum.fix import apply as apply_module
from codequorum.fix.apply import apply_fix, backup_path, write_atomically
from codequorum.vocabulary.errors import CodequorumError


def test_apply_replaces_the_file_and_keeps_a_backup(tmp_path: Path):
    target = tmp_path / "pkg" / "mod.py"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o640)
    backup = apply_fix(tmp_path, PurePosixPath("pkg/mod.py"), "old\n", "new\n")
    assert target.read_text() == "new\n"
    assert backup.read_text() == "old\n"
    assert backup.parent == tmp_path / ".codequorum" / "backup" / "pkg"
    assert backup.name.startswith("mod.py.")
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["mod.py"]  # no temp file left


def test_a_second_backup_never_overwrites_the_first(tmp_path: Path):
    (tmp_path / "m.py").write_text("1\n")
    first = apply_fix(tmp_path, PurePosixPath("m.py"), "1\n", "2\n")
    second = apply_fix(tmp_path, PurePosixPath("m.py"), "2\n", "3\n")
    assert first != second and first.read_text() == "1\n" and second.read_text() == "2\n"


def test_backup_path_numbers_clashes(tmp_path: Path):
    first = backup_path(tmp_path, PurePosixPath("a.py"), now=0)
    first.parent.mkdir(parents=True)
    first.write_text("x")
    assert backup_path(tmp_path, PurePosixPath("a.py"), now=0).name == first.name + ".1"


def test_a_file_changed_meanwhile_is_not_touched(tmp_path: Path):
    (tmp_path / "m.py").write_text("edited by the user\n")
    with pytest.raises(CodequorumError, match="changed while"):
        apply_fix(tmp_path, PurePosixPath("m.py"), "what we read\n", "fixed\n")
    assert (tmp_path / "m.py").read_text() == "edited by the user\n"
    assert not (tmp_path / ".codequorum").exists()


def test_failed_write_leaves_the_original_and_no_temp_file(tmp_path: Path, monkeypatch):
    target = tmp_path / "m.py"
    target.write_text("original\n")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(apply_module.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        write_atomically(target, "new\n")
    assert target.read_text() == "original\n"
    assert os.listdir(tmp_path) == ["m.py"]
