from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codequorum.fix.environment import (
    PythonEnvironment,
    Tree,
    find_python_environment,
    link_tree,
    trees_of,
    visible_in_sandbox,
)
from codequorum.vocabulary.errors import CodequorumError
from tests.dirs import searchable_dir


def _venv(root: Path, home: Path, system_site: bool = False) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "python").symlink_to(home / "python3")
    flag = "true" if system_site else "false"
    (root / "pyvenv.cfg").write_text(f"home = {home}\ninclude-system-site-packages = {flag}\n")
    return root


def test_the_projects_own_venv_comes_first(tmp_path: Path):
    base = tmp_path / "pyenv" / "3.11"
    (base / "bin").mkdir(parents=True)
    venv = _venv(tmp_path / "proj" / ".venv", base / "bin")
    env = find_python_environment(tmp_path / "proj")
    assert env.venv == venv and env.bin_dir == venv / "bin"
    assert env.base_prefix == base.resolve()
    assert env.environment() == {"PATH": f"{venv}/bin:/usr/bin:/bin", "VIRTUAL_ENV": str(venv)}


def test_an_explicit_bin_python_names_its_venv(tmp_path: Path):
    venv = _venv(tmp_path / "v", Path("/usr/bin"))
    env = find_python_environment(tmp_path, venv / "bin" / "python")
    assert env.venv == venv and env.base_prefix is None  # /usr is bound by the sandbox already


def test_without_a_project_venv_the_running_interpreter_is_used(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    env = find_python_environment(tmp_path)
    assert (env.bin_dir / "python").exists() or Path(sys.executable).parent == env.bin_dir


def test_not_an_interpreter(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(CodequorumError, match="neither a Python interpreter"):
        find_python_environment(tmp_path, tmp_path / "notes.txt")


def test_the_base_site_packages_stay_out_unless_the_venv_includes_them(tmp_path: Path):
    base = tmp_path / "base"
    env = PythonEnvironment(tmp_path / "v" / "bin", tmp_path / "v", base)
    assert trees_of(env) == [Tree(tmp_path / "v"), Tree(base, frozenset({"site-packages"}))]
    with_site = PythonEnvironment(tmp_path / "v" / "bin", tmp_path / "v", base, system_site_packages=True)
    assert trees_of(with_site)[1] == Tree(base)


def test_a_venv_inside_the_base_is_not_mounted_twice(tmp_path: Path):
    env = PythonEnvironment(tmp_path / "b" / "v" / "bin", tmp_path / "b" / "v", tmp_path / "b")
    assert [t.path for t in trees_of(env)] == [tmp_path / "b"]


def test_link_tree_hard_links_files_keeps_links_and_skips(tmp_path: Path):
    source = tmp_path / "src"
    (source / "lib" / "site-packages").mkdir(parents=True)
    (source / "lib" / "os.py").write_text("x = 1\n")
    (source / "lib" / "site-packages" / "big.py").write_text("")
    (source / "python").symlink_to("/usr/bin/python3")
    link_tree(source, tmp_path / "copy", frozenset({"site-packages"}))
    copy = tmp_path / "copy"
    assert os.path.samefile(copy / "lib" / "os.py", source / "lib" / "os.py")
    assert os.readlink(copy / "python") == "/usr/bin/python3"
    assert not (copy / "lib" / "site-packages").exists()


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    with searchable_dir("cq-env-test-") as path:
        yield path


def test_reachable_trees_are_bound_in_place_unreachable_ones_staged(reachable_dir: Path):
    tmp_path = reachable_dir
    open_tree = tmp_path / "open"
    open_tree.mkdir()
    locked = tmp_path / "home"
    (locked / "venv").mkdir(parents=True)
    (locked / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    locked.chmod(0o700)
    try:
        with visible_in_sandbox([Tree(open_tree), Tree(locked / "venv")], drops_privileges=True) as mounts:
            assert mounts.readonly_paths == (open_tree,)
            [(staged, inside)] = mounts.readonly_mounts
            assert inside == str(locked / "venv")
            assert (staged / "pyvenv.cfg").read_text() == "home = /usr/bin\n"
        assert not staged.exists()  # removed with the context
    finally:
        locked.chmod(0o755)


def test_without_dropping_privileges_nothing_is_staged(tmp_path: Path):
    with visible_in_sandbox([Tree(tmp_path)], drops_privileges=False) as mounts:
        assert mounts.readonly_paths == (tmp_path,) and mounts.readonly_mounts == ()
