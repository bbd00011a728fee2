"""End-to-end: untrusted code in the REAL bubblewrap sandbox, run with /usr/bin/python3.

These tests fail (never skip) when bubblewrap is missing or cannot create a sandbox.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from codequorum.sandbox import (
    Sandbox,
    SandboxLimits,
    SandboxResult,
    bubblewrap_available,
    run_command_json,
)
from codequorum.sandbox.argv import SEED_FAILED
from codequorum.sandbox.bwrap import find_bwrap
from tests.dirs import searchable_dir

pytestmark = pytest.mark.e2e

PY = "/usr/bin/python3"
AS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module", autouse=True)
def real_bubblewrap() -> None:
    if find_bwrap() is None:
        pytest.fail("bubblewrap is not installed: run `apt-get install bubblewrap` (the e2e sandbox "
                    "tests need the real sandbox)")
    if not bubblewrap_available():
        Sandbox().run(["true"])  # raises SandboxUnavailable with the reason and what to change
        pytest.fail("bubblewrap cannot create a sandbox here")


@pytest.fixture
def host_dir() -> Iterator[Path]:
    with searchable_dir("cq-sandbox-test-") as path:
        yield path


def python(code: str, limits: SandboxLimits = SandboxLimits(), **kwargs: object) -> SandboxResult:
    sandbox = Sandbox(limits, readonly_paths=kwargs.pop("readonly_paths", ()))  # type: ignore[arg-type]
    return sandbox.run([PY, "-c", textwrap.dedent(code)], **kwargs)  # type: ignore[arg-type]


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def assert_all_gone(marker: str, within_s: float = 3.0) -> None:
    deadline = time.monotonic() + within_s
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_with(marker) == [], "sandboxed processes survived"


def test_real_sandbox_returns_stdout_stderr_and_exit_code() -> None:
    result = python("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert (result.timed_out, result.killed_by, result.sandboxed) == (False, None, True)


def test_real_sandbox_runs_as_an_unprivileged_user_without_capabilities() -> None:
    result = python("""
        import os
        caps = [l for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm', 'CapBnd'))]
        print(os.getuid(), os.getgid(), os.getgroups(), os.getcwd(), [c.split()[1] for c in caps])
    """)
    uid, gid, groups, cwd, caps = result.stdout.split(" ", 4)
    assert int(uid) != 0 and int(gid) != 0 and cwd == "/sandbox"
    assert (int(uid), groups) == ((65534, "[]") if AS_ROOT else (os.getuid(), groups))
    assert caps.strip() == "['0000000000000000', '0000000000000000', '0000000000000000']"


def test_real_sandbox_infinite_loop_is_killed_by_the_wall_clock_timeout() -> None:
    marker = f"loop-{uuid.uuid4().hex}"
    code = f"import os\nos.fork()\nwhile True: pass  # {marker}"
    result = python(code, SandboxLimits(timeout_s=1.0, cpu_s=60))
    assert (result.timed_out, result.killed_by, result.exit_code) == (True, "timeout", None)
    assert 1.0 <= result.seconds < 5.0
    assert_all_gone(marker)


def test_real_sandbox_cpu_bound_loop_hits_the_cpu_limit() -> None:
    result = python("while True: pass", SandboxLimits(timeout_s=20, cpu_s=1))
    assert (result.killed_by, result.timed_out, result.exit_code) == ("SIGXCPU", False, None)
    assert result.seconds < 15  # the CPU limit, not the 20 s wall clock, ended it


def test_real_sandbox_allocating_2gb_fails_under_256mb() -> None:
    result = python("""
        try:
            block = bytearray(2 * 1024 ** 3)
        except MemoryError:
            print('MemoryError')
            raise SystemExit(7)
        print('allocated', len(block))
    """, SandboxLimits(memory_mb=256))
    assert (result.exit_code, result.stdout) == (7, "MemoryError\n")


def test_real_sandbox_process_count_is_limited() -> None:
    result = python("""
        import os, time
        started = 0
        try:
            for _ in range(500):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                started += 1
        except OSError as error:
            print(started, error.errno)
    """, SandboxLimits(max_processes=32, timeout_s=10))
    started, errno = map(int, result.stdout.split())
    assert started < 32 and errno == 11  # EAGAIN
    assert result.seconds < 8  # the sleepers die with the sandbox's PID namespace


def test_real_sandbox_fork_bomb_is_contained_and_the_host_unharmed() -> None:
    marker = f"bomb-{uuid.uuid4().hex}"
    code = f"""
        import os  # {marker}
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    started = time.monotonic()
    result = python(code, SandboxLimits(max_processes=32, timeout_s=2.0, cpu_s=10))
    assert result.timed_out and time.monotonic() - started < 6
    assert_all_gone(marker)
    assert subprocess.run(["true"], check=False).returncode == 0  # the host can still fork


def test_real_sandbox_concurrent_sandboxes_have_their_own_process_budget() -> None:
    code = """
        import os, time
        for _ in range(20):
            if os.fork() == 0:
                time.sleep(2)
                os._exit(0)
        print('forked 20')
    """

    async def both() -> list[SandboxResult]:
        sandbox = Sandbox(SandboxLimits(max_processes=32, timeout_s=10))
        runs = [sandbox.run_async([PY, "-c", textwrap.dedent(code)]) for _ in range(2)]
        return list(await asyncio.gather(*runs))

    assert [r.stdout for r in asyncio.run(both())] == ["forked 20\n"] * 2


def test_real_sandbox_has_no_network_and_no_dns() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0)
        port = listener.getsockname()[1]
        result = python(f"""
            import socket
            try:
                socket.create_connection(('127.0.0.1', {port}), timeout=3)
                print('connected')
            except OSError as error:
                print('connect failed', type(error).__name__)
            try:
                socket.getaddrinfo('example.com', 80)
                print('resolved')
            except OSError as error:
                print('dns failed', type(error).__name__)
        """)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert result.stdout == "connect failed ConnectionRefusedError\ndns failed gaierror\n"


def test_real_sandbox_cannot_write_outside_the_work_dir(host_dir: Path) -> None:
    result = python("""
        for path in ['/etc/x', '/usr/x', '/root/x', '/x', '/bin/x', 'inside.txt', '/tmp/scratch']:
            try:
                open(path, 'w').write('x')
                print(path, 'written')
            except OSError as error:
                print(path, type(error).__name__)
    """, workdir=host_dir)
    lines = result.stdout.splitlines()
    assert all(not line.endswith("written") for line in lines[:5]), lines
    assert lines[5:] == ["inside.txt written", "/tmp/scratch written"]
    assert not (host_dir / "inside.txt").exists()  # the work dir is an in-memory copy
    for path in ("/etc/x", "/usr/x", "/root/x", "/x", "/bin/x"):
        assert not os.path.exists(path)


def test_real_sandbox_tmp_is_private(host_dir: Path) -> None:
    marker = Path(tempfile.gettempdir(), f"host-only-{uuid.uuid4().hex}")
    marker.write_text("host")
    try:
        result = python(f"import os; print(os.path.exists({str(marker)!r}), os.listdir('/tmp'))")
    finally:
        marker.unlink()
    assert result.stdout == "False []\n"


def test_real_sandbox_in_memory_dirs_are_bounded() -> None:
    result = python("""
        for path in ['/tmp/big', '/dev/shm/big', '/dev/big']:
            written = 0
            try:
                with open(path, 'wb') as handle:
                    for _ in range(64):
                        handle.write(b'x' * (1024 * 1024))
                        handle.flush()
                        written += 1
            except OSError as error:
                print(path, written, error.errno)
    """, SandboxLimits(tmp_size_mb=8, file_size_mb=512))
    # ENOSPC once the 8 MB tmpfs is full; EROFS for /dev itself
    assert result.stdout == "/tmp/big 8 28\n/dev/shm/big 8 28\n/dev/big 0 30\n"


def test_real_sandbox_cannot_read_root_only_files() -> None:
    if not AS_ROOT:
        pytest.skip("checks the switch to uid 65534, which only happens under root (as in CI)")
    secret_dir = Path(tempfile.mkdtemp(dir="/root"))
    shared_dir = Path(tempfile.mkdtemp(prefix="cq-sandbox-secret-"))
    shared_dir.chmod(0o755)
    try:
        for directory in (secret_dir, shared_dir):
            (directory / "secret").write_text("TOP SECRET")
            (directory / "secret").chmod(0o600)
        result = python(f"""
            import os
            print(os.getuid(), os.path.exists('/root'))
            for path in [{str(secret_dir / 'secret')!r}, {str(shared_dir / 'secret')!r}]:
                try:
                    print(open(path).read())
                except OSError as error:
                    print(type(error).__name__)
        """, readonly_paths=[shared_dir])
    finally:
        shutil.rmtree(secret_dir)
        shutil.rmtree(shared_dir)
    # /root is not bound at all; a root-only file that *is* bound is still unreadable (real uid 65534).
    assert result.stdout == "65534 False\nFileNotFoundError\nPermissionError\n"


def test_real_sandbox_readonly_paths_are_readable_not_writable(host_dir: Path) -> None:
    (host_dir / "lib.py").write_text("VALUE = 42\n")
    (host_dir / "lib.py").chmod(0o644)
    result = python(f"""
        import sys
        sys.path.insert(0, {str(host_dir)!r})
        import lib
        print(lib.VALUE)
        try:
            open({str(host_dir / 'new')!r}, 'w')
        except OSError as error:
            print(type(error).__name__)
    """, readonly_paths=[host_dir])
    assert result.stdout == "42\nOSError\n"  # EROFS
    assert not (host_dir / "new").exists()


def test_real_sandbox_files_stdin_and_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEQUORUM_HOST_SECRET", "leak")
    main = ("import os, sys\n"
            "print(sys.stdin.read(), sorted(os.environ), os.environ['HOME'], os.getcwd())\n"
            "print(open('data/in.txt').read())\n")
    result = Sandbox().run([PY, "main.py"], files={"main.py": main, "data/in.txt": b"hello"},
                           stdin=b"from stdin", env={"EXTRA": "1"})
    assert result.stdout.splitlines() == [
        # bwrap itself adds PWD for --chdir
        "from stdin ['EXTRA', 'HOME', 'LANG', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE'] /sandbox /sandbox",
        "hello",
    ]


def test_real_sandbox_stdout_flood_is_capped_without_hanging() -> None:
    result = python("""
        import sys
        chunk = b'x' * (1024 * 1024)
        for _ in range(100):
            sys.stdout.buffer.write(chunk)
        print('done', file=sys.stderr)
    """, SandboxLimits(timeout_s=30, max_output_bytes=10_000))
    assert (result.exit_code, result.stdout_truncated, len(result.stdout)) == (0, True, 10_000)
    assert (result.stderr, result.stderr_truncated) == ("done\n", False)
    assert result.seconds < 15


def test_real_sandbox_file_size_is_limited(host_dir: Path) -> None:
    result = python("""
        try:
            open('big', 'wb').write(b'x' * (3 * 1024 * 1024))
        except OSError as error:
            print(error.errno)
    """, SandboxLimits(file_size_mb=1), workdir=host_dir)
    assert result.stdout == "27\n" or result.killed_by == "SIGXFSZ"  # EFBIG
    assert not (host_dir / "big").exists()


def test_real_sandbox_work_dir_is_an_in_memory_copy_bounded_in_total(host_dir: Path) -> None:
    (host_dir / "given.txt").write_text("from the host")
    result = python("""
        import os
        print(open('given.txt').read())
        written = 0
        try:
            for index in range(16):  # each file below file_size_mb, 32 MiB in all
                with open('part%d' % index, 'wb') as handle:
                    handle.write(b'x' * (2 * 1024 * 1024))
                written += 1
        except OSError as error:
            print(written, error.errno)
        open('given.txt', 'w').write('changed inside')
    """, SandboxLimits(work_size_mb=8, file_size_mb=4), workdir=host_dir)
    assert result.stdout == "from the host\n3 28\n", result  # ENOSPC: 8 MiB in all
    assert sorted(p.name for p in host_dir.iterdir()) == ["given.txt"]
    assert (host_dir / "given.txt").read_text() == "from the host"


def test_real_sandbox_work_dir_too_big_for_its_limit_is_refused_clearly() -> None:
    result = python("print('ran')", SandboxLimits(work_size_mb=1),
                    files={"big.bin": b"x" * (2 * 1024 * 1024)})
    assert (result.exit_code, result.stdout) == (SEED_FAILED, "")
    assert "work_size_mb" in result.stderr


def test_real_sandbox_cancelling_run_async_kills_the_process_group() -> None:
    marker = f"cancel-{uuid.uuid4().hex}"

    async def cancel_soon() -> None:
        task = asyncio.ensure_future(Sandbox(SandboxLimits(timeout_s=60, cpu_s=60)).run_async(
            [PY, "-c", f"while True: pass  # {marker}"]))
        await asyncio.sleep(0.5)
        assert processes_with(marker)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_soon())
    assert_all_gone(marker)


def test_real_sandbox_run_command_json_for_the_cli() -> None:
    outcome = run_command_json([PY, "-c", "print(1)"], timeout_s=5, memory_mb=256)
    assert {k: outcome[k] for k in ("exit_code", "stdout", "stderr", "timed_out", "killed_by")} == {
        "exit_code": 0, "stdout": "1\n", "stderr": "", "timed_out": False, "killed_by": None}
    assert isinstance(outcome["seconds"], float)
