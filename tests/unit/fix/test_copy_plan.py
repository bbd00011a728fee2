"""The project's copy: links stay inside it, special files and work areas are left out."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path, PurePosixPath

import pytest

from codequorum.fix.confined import OutsideRoot
from codequorum.fix.copy_plan import make_copy, plan_copy
from codequorum.fix.work_area import new_work_dir, remove_work_dir


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "secret.txt").write_text("secret\n")
    return root


def test_links_inside_are_copied_as_relative_links_and_links_out_are_left_out(project: Path, tmp_path: Path):
    (project / "pkg" / "alias.py").symlink_to(project / "pkg" / "mod.py")  # absolute, but inside
    (project / "same").symlink_to("pkg")
    (project / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (project / "up").symlink_to("..")
    plan = plan_copy(project)
    assert dict(plan.links) == {PurePosixPath("pkg/alias.py"): "mod.py", PurePosixPath("same"): "pkg"}
    assert any("leak.txt" in note and "outside the project" in note for note in plan.notes)
    assert any(note.startswith("left out up:") for note in plan.notes)
    copy = tmp_path / "copy"
    make_copy(plan, copy, {})
    assert os.readlink(copy / "pkg" / "alias.py") == "mod.py"
    assert (copy / "same" / "mod.py").read_text() == "x = 1\n"
    assert not (copy / "leak.txt").exists() and not (copy / "leak.txt").is_symlink()


def test_a_replacement_is_only_ever_a_regular_file_of_the_copy(project: Path, tmp_path: Path):
    (project / "leak.py").symlink_to(tmp_path / "secret.txt")
    (project / "pkg" / "alias.py").symlink_to("mod.py")
    plan = plan_copy(project)
    for name in ("leak.py", "pkg/alias.py", "../secret.txt", "new.py"):
        with pytest.raises(OutsideRoot):
            make_copy(plan, tmp_path / f"copy-{len(name)}", {PurePosixPath(name): b"pwned"})
    assert (tmp_path / "secret.txt").read_text() == "secret\n"
    make_copy(plan, tmp_path / "copy", {PurePosixPath("pkg/mod.py"): b"x = 2\n"})
    assert (tmp_path / "copy" / "pkg" / "mod.py").read_bytes() == b"x = 2\n"
    assert (project / "pkg" / "mod.py").read_text() == "x = 1\n"


def test_fifos_and_sockets_are_left_out_with_a_note(project: Path, tmp_path: Path):
    os.mkfifo(project / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(project / "live.sock"))
    try:
        plan = plan_copy(project)
        make_copy(plan, tmp_path / "copy", {})  # would block on the FIFO if it read it
    finally:
        server.close()
    assert any("pipe: a FIFO" in note for note in plan.notes)
    assert any("live.sock: a socket" in note for note in plan.notes)
    assert sorted(os.listdir(tmp_path / "copy")) == ["pkg"]


def test_a_large_data_file_is_copied(project: Path, tmp_path: Path):
    (project / "data.bin").write_bytes(os.urandom(1024) * 20 * 1024)  # 20 MiB
    plan = plan_copy(project)
    assert plan.largest_bytes == 20 * 2**20
    make_copy(plan, tmp_path / "copy", {})
    assert (tmp_path / "copy" / "data.bin").stat().st_size == 20 * 2**20


def test_the_temporary_directory_and_work_areas_are_never_copied(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "calc.py").write_text("def f(): pass\n")
    work = new_work_dir("fix")
    try:
        (work / "project").mkdir()
        (work / "project" / "calc.py").write_text("copy\n")
        assert plan_copy(tmp_path).files == (PurePosixPath("calc.py"),)  # TMPDIR inside the root
        (tmp_path / "tmp" / "calc.py").write_text("def f(): pass\n")
        assert plan_copy(tmp_path / "tmp").files == (PurePosixPath("calc.py"),)  # the root is TMPDIR
    finally:
        remove_work_dir(work)


def test_a_copy_is_private_to_its_owner(project: Path, tmp_path: Path):
    make_copy(plan_copy(project), tmp_path / "copy", {})
    assert (tmp_path / "copy").stat().st_mode & 0o077 == (project.stat().st_mode & 0o077)
    work = new_work_dir("fix")
    try:
        assert work.stat().st_mode & 0o777 == 0o700
    finally:
        remove_work_dir(work)
