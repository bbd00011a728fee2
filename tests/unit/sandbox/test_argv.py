"""The bwrap command line: namespaces, mounts, the work dir, the limits (no bubblewrap needed)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from codequorum.sandbox import Sandbox
from codequorum.sandbox.argv import (
    DEFAULT_WORK_PATH,
    PRLIMIT,
    SEED_PATH,
    bwrap_argv,
    isolation_flags,
    system_mounts,
)

PY = "/usr/bin/python3"


def _pairs(argv: list[str], flag: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == flag]


def _argv(tmp_path: Path, **kwargs: object) -> list[str]:
    return bwrap_argv("/usr/bin/bwrap", [PY, "-c", "pass"], tmp_path, system=[], **kwargs)  # type: ignore[arg-type]


# --- flags and mounts


def test_isolation_flags_unshare_everything_and_drop_capabilities() -> None:
    flags = isolation_flags()
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
                 "--disable-userns"):
        assert flag in flags
    assert flags[flags.index("--cap-drop") + 1] == "ALL"
    assert "--share-net" not in flags
    assert "--disable-userns" not in isolation_flags(disable_userns=False)


def test_argv_has_private_proc_dev_tmp_and_one_writable_work_dir(tmp_path: Path) -> None:
    argv = _argv(tmp_path)
    assert argv[0] == "/usr/bin/bwrap"
    assert _pairs(argv, "--bind") == [(str(tmp_path), DEFAULT_WORK_PATH)]
    pairs = list(pairwise(argv))
    for pair in (("--proc", "/proc"), ("--dev", "/dev"), ("--tmpfs", "/tmp"), ("--tmpfs", "/dev/shm"),
                 ("--chdir", DEFAULT_WORK_PATH), ("--remount-ro", "/")):
        assert pair in pairs
    assert pairs.index(("--remount-ro", "/")) == argv.index("--") - 2  # after every mount
    assert argv[argv.index("--") + 1:] == [PY, "-c", "pass"]


def test_in_memory_dirs_are_bounded_and_dev_is_read_only(tmp_path: Path) -> None:
    argv = _argv(tmp_path, tmp_size_mb=8)
    size = str(8 * 1024 * 1024)
    for path in ("/tmp", "/dev/shm"):
        at = argv.index(path, argv.index("--tmpfs"))
        assert argv[at - 3: at] == ["--size", size, "--tmpfs"]
    assert ("--remount-ro", "/dev") in pairwise(argv)
    assert "--size" not in _argv(tmp_path)  # bwrap before 0.8 has no --size


def test_a_sized_work_dir_is_in_memory_seeded_from_a_read_only_copy(tmp_path: Path) -> None:
    argv = _argv(tmp_path, work_size_mb=32)
    assert _pairs(argv, "--bind") == []
    at = argv.index(DEFAULT_WORK_PATH, argv.index("--tmpfs", argv.index("/tmp")))
    assert argv[at - 3: at] == ["--size", str(32 * 1024 * 1024), "--tmpfs"]
    assert (str(tmp_path), SEED_PATH) in _pairs(argv, "--ro-bind")
    command = argv[argv.index("--") + 1:]
    assert command[:2] == ["/bin/sh", "-c"] and command[3] == SEED_PATH
    assert command[4:] == [PY, "-c", "pass"]  # exec'd after the copy, as its own arguments


def test_work_path_is_configurable(tmp_path: Path) -> None:
    argv = _argv(tmp_path, work_path="/work")
    assert _pairs(argv, "--bind") == [(str(tmp_path), "/work")]
    assert argv[argv.index("--chdir") + 1] == "/work"


def test_process_limit_is_set_inside_the_sandbox(tmp_path: Path) -> None:
    argv = _argv(tmp_path, max_processes=32)
    assert argv[argv.index("--") + 1:] == [PRLIMIT, "--nproc=32:32", "--", PY, "-c", "pass"]


def test_readonly_paths_are_bound_at_the_same_path_after_the_work_dir(tmp_path: Path) -> None:
    argv = _argv(tmp_path, readonly_paths=[Path("/opt/venv")])
    assert ("/opt/venv", "/opt/venv") in _pairs(argv, "--ro-bind")
    assert argv.index("/opt/venv") > argv.index("--bind")


def test_readonly_mounts_show_a_host_tree_at_another_path(tmp_path: Path) -> None:
    argv = _argv(tmp_path, readonly_mounts=[(Path("/tmp/staged/0"), "/root/.pyenv/versions/3.11")])
    assert ("/tmp/staged/0", "/root/.pyenv/versions/3.11") in _pairs(argv, "--ro-bind")
    assert argv.index("/tmp/staged/0") > argv.index("--bind")


def test_sandbox_checks_readonly_mount_targets(tmp_path: Path) -> None:
    sandbox = Sandbox(readonly_mounts=[(tmp_path, "/not/there/yet")])
    assert sandbox.readonly_mounts == ((tmp_path, "/not/there/yet"),)
    with pytest.raises(ValueError, match="overlaps the work path"):
        Sandbox(readonly_mounts=[(tmp_path, "/sandbox/x")])


def test_system_mounts_expose_only_system_dirs_and_selected_etc(tmp_path: Path) -> None:
    (tmp_path / "usr" / "lib").mkdir(parents=True)
    (tmp_path / "lib").symlink_to("usr/lib")
    (tmp_path / "root").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "etc").mkdir()
    for name in ("passwd", "ld.so.cache", "python3.11", "shadow", "pip.conf", "npmrc", "gitconfig"):
        (tmp_path / "etc" / name).write_text("x")
    args = system_mounts(tmp_path)
    assert ("usr/lib", "/lib") in _pairs(args, "--symlink")
    binds = dict((inside, host) for host, inside in _pairs(args, "--ro-bind"))
    assert set(binds) == {"/usr", "/etc/passwd", "/etc/ld.so.cache", "/etc/python3.11"}
    assert "--bind" not in args


def test_real_host_mounts_never_expose_the_root_or_home_dirs() -> None:
    args = system_mounts()
    inside = {b for _, b in _pairs(args, "--ro-bind")} | {b for _, b in _pairs(args, "--symlink")}
    assert "/usr" in inside
    assert not inside & {"/", "/root", "/home", "/etc", "/etc/shadow", "/var", "/run", "/sys"}
