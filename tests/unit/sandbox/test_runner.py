"""The bwrap command line, work dir handling and the no-bubblewrap paths (no bubblewrap needed)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
from itertools import pairwise
from pathlib import Path

import pytest

from codequorum.sandbox import (
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxUnavailable,
    runner,
)
from codequorum.sandbox.runner import (
    DEFAULT_WORK_PATH,
    PRLIMIT,
    SEED_PATH,
    bwrap_argv,
    check_reachable,
    check_readonly_path,
    check_work_path,
    exit_status,
    isolation_flags,
    prepared_workdir,
    sandbox_environment,
    system_mounts,
    write_files,
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
        assert owners == {runner.SANDBOX_UID}


def test_environment_is_minimal_plus_callers() -> None:
    env = sandbox_environment("/sandbox", {"EXTRA": "1"})
    assert env == {"PATH": "/usr/bin:/bin", "HOME": "/sandbox", "LANG": "C.UTF-8",
                   "PYTHONDONTWRITEBYTECODE": "1", "EXTRA": "1"}


# --- exit status


@pytest.mark.parametrize("code, timed_out, sandboxed, expected", [
    (0, False, True, (0, None)),
    (3, False, True, (3, None)),
    (128 + signal.SIGKILL, False, True, (None, "SIGKILL")),
    (128 + signal.SIGXCPU, False, True, (None, "SIGXCPU")),
    (-signal.SIGKILL, False, False, (None, "SIGKILL")),
    (137, False, False, (137, None)),
    (-signal.SIGKILL, True, True, (None, "timeout")),
])
def test_exit_status(code: int, timed_out: bool, sandboxed: bool,
                     expected: tuple[int | None, str | None]) -> None:
    assert exit_status(code, timed_out, sandboxed) == expected


def test_capture_keeps_at_most_cap_bytes() -> None:
    capture = runner._Capture(5)
    read, write = os.pipe()
    os.write(write, b"0123456789")
    os.close(write)

    class _Selector:
        def unregister(self, _: object) -> None: ...

    with os.fdopen(read, "rb") as pipe:
        capture.on_ready(_Selector(), pipe)  # type: ignore[arg-type]
    assert (bytes(capture.data), capture.truncated) == (b"01234", True)


# --- without bubblewrap


def test_missing_bubblewrap_refuses_with_install_instructions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "find_bwrap", lambda: None)
    assert not runner.bubblewrap_available()
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        Sandbox().run([PY, "-c", "print('must not run')"])


def test_broken_bubblewrap_is_reported_with_namespace_hints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'bubblewrap 0.8.0' && exit 0\n"
                    "echo 'bwrap: No permissions to create a new namespace' >&2; exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(runner, "find_bwrap", lambda: str(fake))
    monkeypatch.setattr(runner, "_drops_privileges", lambda: False)
    with pytest.raises(SandboxUnavailable, match="user namespaces") as raised:
        Sandbox().run([PY, "-c", "pass"])
    assert "No permissions" in str(raised.value)


def test_unsandboxed_needs_opt_in_and_warns_every_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runner, "find_bwrap", lambda: None)
    sandbox = Sandbox(SandboxLimits(allow_unsandboxed=True))
    with caplog.at_level(logging.WARNING, logger=runner.__name__):
        results = [sandbox.run([PY, "-c", "print('hi')"]) for _ in range(2)]
    assert [r.sandboxed for r in results] == [False, False]
    assert [(r.exit_code, r.stdout) for r in results] == [(0, "hi\n")] * 2
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "WITHOUT A SANDBOX" in w]) == 2


def test_unsandboxed_timeout_kills_the_process_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "find_bwrap", lambda: None)
    sandbox = Sandbox(SandboxLimits(timeout_s=0.5, allow_unsandboxed=True))
    result = sandbox.run([PY, "-c", "import os, time; os.fork(); time.sleep(60)"])
    assert (result.timed_out, result.killed_by, result.exit_code) == (True, "timeout", None)
    assert result.seconds < 5


def test_run_async_returns_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "find_bwrap", lambda: None)
    sandbox = Sandbox(SandboxLimits(allow_unsandboxed=True))
    result = asyncio.run(sandbox.run_async([PY, "-c", "import sys; print(sys.stdin.read())"],
                                           stdin=b"ping"))
    assert result.stdout == "ping\n"


def test_empty_argv_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Sandbox().run([])
