"""A real, throwaway PostgreSQL server on 127.0.0.1 for the tests: Debian's binaries (initdb,
pg_ctl), a cluster in a temporary directory, a free port, password authentication.

PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user that
Debian's package creates (`runuser`). Starting fails the test with the reason, never skips it.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "codequorum"
INSTALL_HINT = "install Debian's postgresql package (scripts/system-deps.sh does)"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    password: str
    data: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def fresh_url(self) -> str:
        """The URL of a new, empty schema: each test its own tables (a schema is much quicker to
        make than a database; the URL sets `search_path`, as docs/deployment.md shows)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {name}")
        return f"{self.url()}?options=-csearch_path%3D{name}"


def bin_dir() -> Path:
    """The newest installed server's binaries (`/usr/lib/postgresql/N/bin`), else PATH's."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
                   if p.parts[-3].isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.fail(f"PostgreSQL's initdb is not installed: {INSTALL_HINT}")
    return Path(initdb).parent


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    binaries = bin_dir()
    owner = _owner()
    data_root = Path(tempfile.mkdtemp(prefix="codequorum-pg-"))
    data, log = data_root / "data", data_root / "server.log"
    password, port = secrets.token_hex(12), _free_port()
    (data_root / "password").write_text(password)
    if owner is not None:
        os.chown(data_root, owner.pw_uid, owner.pw_gid)
        os.chown(data_root / "password", owner.pw_uid, owner.pw_gid)
    try:
        _run(owner, binaries / "initdb", "-D", data, "-U", USER, "--auth=scram-sha-256",
             f"--pwfile={data_root / 'password'}", "--encoding=UTF8", "--no-sync", what="initdb")
        options = f"-p {port} -h 127.0.0.1 -k {data_root} -c fsync=off"
        _run(owner, binaries / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start",
             what="pg_ctl start", log=log)
        yield PostgresServer(port, password, data)
    finally:
        if (data / "postmaster.pid").exists():
            _run(owner, binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", what="pg_ctl stop",
                 check=False)
        shutil.rmtree(data_root, ignore_errors=True)


def _owner() -> pwd.struct_passwd | None:
    """The user the cluster runs as: None for the current one, `postgres` when that is root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(f"running as root and there is no `postgres` user to run PostgreSQL as: {INSTALL_HINT}")


def _run(owner: pwd.struct_passwd | None, *command: object, what: str, log: Path | None = None,
         check: bool = True) -> None:
    argv = [str(part) for part in command]
    if owner is not None:
        argv = ["runuser", "-u", owner.pw_name, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 and check:
        server_log = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
        pytest.fail(f"PostgreSQL could not start: {what} failed ({done.returncode}):\n"
                    f"{done.stdout[-2000:]}{done.stderr[-2000:]}{server_log}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgresServer]:
    """One server for the whole test session; each test makes its own database."""
    with postgres_server() as server:
        yield server
