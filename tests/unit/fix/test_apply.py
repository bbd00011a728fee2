from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from codequorum.fix import confined as confined_module
from codequorum.fix.apply import FileFix, apply_fix, apply_fixes, backup_path, write_atomically
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

    monkeypatch.setattr(confined_module.os, "fsync", broken_fsync)
    with pytest.raises(CodequorumError, match="nothing was applied"):
        write_atomically(target, "new\n")
    assert target.read_text() == "original\n"
    assert os.listdir(tmp_path) == ["m.py"]


def test_crlf_and_latin1_survive_apply(tmp_path: Path):
    crlf = tmp_path / "crlf.py"
    crlf.write_bytes(b"def f():\r\n    return 0\r\n")
    apply_fix(tmp_path, PurePosixPath("crlf.py"), "def f():\n    return 0\n", "def f():\n    return 1\n")
    assert crlf.read_bytes() == b"def f():\r\n    return 1\r\n"
    latin = tmp_path / "latin.py"
    latin.write_bytes("# -*- coding: latin-1 -*-\nX = 'é'\n".encode("latin-1"))
    backup = apply_fix(tmp_path, PurePosixPath("latin.py"), "# -*- coding: latin-1 -*-\nX = 'é'\n",
                       "# -*- coding: latin-1 -*-\nX = 'è'\n")
    assert latin.read_bytes() == "# -*- coding: latin-1 -*-\nX = 'è'\n".encode("latin-1")
    assert backup.read_bytes() == "# -*- coding: latin-1 -*-\nX = 'é'\n".encode("latin-1")


def test_a_codequorum_link_cannot_send_the_backup_outside(tmp_path: Path):
    project, outside = tmp_path / "p", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "m.py").write_text("1\n")
    (project / ".codequorum").symlink_to(outside)
    with pytest.raises(CodequorumError, match="symbolic link"):
        apply_fix(project, PurePosixPath("m.py"), "1\n", "2\n")
    assert list(outside.iterdir()) == [] and (project / "m.py").read_text() == "1\n"


def test_a_linked_file_is_not_written_through(tmp_path: Path):
    (tmp_path / "outside.py").write_text("1\n")
    project = tmp_path / "p"
    project.mkdir()
    (project / "m.py").symlink_to(tmp_path / "outside.py")
    with pytest.raises(CodequorumError, match="symbolic link"):
        apply_fix(project, PurePosixPath("m.py"), "1\n", "2\n")
    assert (tmp_path / "outside.py").read_text() == "1\n"


@pytest.mark.parametrize(("code", "advice"), [(28, "disk .* is full"), (30, "make the folder writable"),
                                              (13, "make the folder writable")])
def test_os_errors_become_one_line_and_leave_no_partial_backup(tmp_path: Path, monkeypatch, code, advice):
    (tmp_path / "m.py").write_text("original\n")
    real_replace = os.replace
    calls = []

    def failing_replace(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # the backup went in; the file itself fails
            raise OSError(code, os.strerror(code), "m.py")
        return real_replace(*args, **kwargs)

    monkeypatch.setattr(confined_module.os, "replace", failing_replace)
    with pytest.raises(CodequorumError, match=advice) as raised:
        apply_fix(tmp_path, PurePosixPath("m.py"), "original\n", "new\n")
    assert "\n" not in str(raised.value) and "nothing was applied" in str(raised.value)
    assert (tmp_path / "m.py").read_text() == "original\n"
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "m.py"]
    assert leftovers == []


def test_a_full_disk_while_writing_the_backup_leaves_no_truncated_backup(tmp_path: Path, monkeypatch):
    (tmp_path / "m.py").write_text("original\n" * 1000)

    def full_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(confined_module.os, "fsync", full_fsync)
    with pytest.raises(CodequorumError, match="full"):
        apply_fix(tmp_path, PurePosixPath("m.py"), "original\n" * 1000, "new\n")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / "m.py"]


def _two_files(root: Path) -> list[FileFix]:
    (root / "a.py").write_text("a = 1\n")
    (root / "pkg").mkdir()
    (root / "pkg" / "b.py").write_text("b = 1\n")
    return [FileFix(PurePosixPath("a.py"), "a = 1\n", "a = 2\n"),
            FileFix(PurePosixPath("pkg/b.py"), "b = 1\n", "b = 2\n")]


def test_a_fix_of_two_files_writes_both_with_a_backup_each(tmp_path: Path):
    backups = apply_fixes(tmp_path, _two_files(tmp_path))
    assert (tmp_path / "a.py").read_text() == "a = 2\n" and (tmp_path / "pkg" / "b.py").read_text() == "b = 2\n"
    assert [b.read_text() for b in backups] == ["a = 1\n", "b = 1\n"]
    assert backups[1].parent == tmp_path / ".codequorum" / "backup" / "pkg"


def test_a_fix_of_two_files_writes_nothing_when_either_changed_meanwhile(tmp_path: Path):
    fixes = _two_files(tmp_path)
    (tmp_path / "pkg" / "b.py").write_text("b = 5\n")  # the user edited it while the models worked
    with pytest.raises(CodequorumError, match="b.py changed while the fix was being made"):
        apply_fixes(tmp_path, fixes)
    assert (tmp_path / "a.py").read_text() == "a = 1\n" and not (tmp_path / ".codequorum").exists()


def test_when_the_second_file_cannot_be_written_the_first_is_put_back(tmp_path: Path, monkeypatch):
    fixes = _two_files(tmp_path)
    real_replace = os.replace
    calls = []

    def failing_replace(source, destination, **kwargs):
        calls.append(destination)
        if destination == "b.py":  # the backups and a.py went in; b.py fails (a full disk)
            raise OSError(28, os.strerror(28), "pkg/b.py")
        return real_replace(source, destination, **kwargs)

    monkeypatch.setattr(confined_module.os, "replace", failing_replace)
    with pytest.raises(CodequorumError, match="disk .* is full") as raised:
        apply_fixes(tmp_path, fixes)
    assert "nothing was applied" in str(raised.value) and "put back" not in str(raised.value)
    assert calls.count("a.py") == 2  # written, then put back
    assert (tmp_path / "a.py").read_text() == "a = 1\n" and (tmp_path / "pkg" / "b.py").read_text() == "b = 1\n"
    assert [p for p in tmp_path.rglob("*") if p.is_file() and p.name not in ("a.py", "b.py")] == []
