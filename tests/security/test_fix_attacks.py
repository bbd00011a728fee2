"""A hostile repository against `codequorum fix`, with the REAL sandbox and scripted members.

The repository, the test output it makes and the answers are all the attacker's. Each test
checks from the host that nothing outside the project was read into the copy or written,
whatever the run's outcome, and that the work area is private and removed.

These tests fail (never skip) when bubblewrap is missing or cannot create a sandbox.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codequorum.core.engine import Engine
from codequorum.fix.report import FixOutcome, FixReport
from codequorum.fix.service import FixJob, run_fix
from tests.dirs import searchable_dir
from tests.e2e.test_sandbox_bwrap import real_bubblewrap
from tests.unit.doubles import scripted_registry, scripted_settings

pytestmark = pytest.mark.e2e

__all__ = ["real_bubblewrap"]  # the module-scoped, autouse "bubblewrap must work" fixture

BUGGY = "def add(a, b):\n    return a - b\n"
RAISING = "def add(a, b):\n    raise ValueError('the bug is here')\n"
GOOD = "```python\ndef add(a, b):\n    return a + b\n```"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
COMMAND = "python -m pytest -q --tb=long -p no:cacheprovider"
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(project, outside): a project with a failing test, and a folder beside it it must not touch."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "pyproject.toml").write_text("")
    (project / "test_calc.py").write_text(TEST)
    (outside / "calc.py").write_text(BUGGY)
    (outside / "secret.txt").write_text("cq-outside-secret\n")
    yield project, outside


def fix(project: Path, target: Path | None = None, **fields: object) -> FixReport:
    engine = Engine(scripted_settings({"good": {"options": {"replies": [GOOD]}}}), scripted_registry())

    async def go() -> FixReport:
        try:
            job = FixJob(target=target or project, **{"command": COMMAND, **fields})  # type: ignore[arg-type]
            return await run_fix(job, engine)
        finally:
            await engine.aclose()

    return asyncio.run(go())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_traceback_naming_a_link_out_of_the_project_never_writes_outside(scene) -> None:
    """The outside folder is the interpreter's environment, so the sandbox sees it (read-only,
    at its own path) and the failure's traceback runs through `calc.py`, a link to it."""
    project, outside = scene
    (outside / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (outside / "bin").mkdir()
    (outside / "bin" / "python").symlink_to("/usr/bin/python3")
    (outside / "calc.py").write_text(RAISING)
    (project / "calc.py").symlink_to(outside / "calc.py")
    (project / "lib").symlink_to(outside)
    (project / "check.py").write_text("from calc import add\nassert add(2, 3) == 5\n")
    before = snapshot(outside)
    for apply in (False, True):
        report = fix(project, apply=apply, python=outside, command="python check.py")
        assert snapshot(outside) == before, report.message
        assert report.outcome is not FixOutcome.FIXED, report.message
        assert any("calc.py: a symbolic link" in note for note in report.notes), report.notes
    assert not (project / ".codequorum").exists()


def test_a_file_to_fix_given_as_a_link_out_of_the_project_is_refused(scene) -> None:
    project, outside = scene
    (project / "calc.py").symlink_to(outside / "calc.py")
    with pytest.raises(Exception, match="symbolic link out of the project"):
        fix(project, target=project / "calc.py", apply=True)
    assert (outside / "calc.py").read_text() == BUGGY


def test_a_codequorum_link_cannot_send_the_backup_outside(scene) -> None:
    project, outside = scene
    (project / "calc.py").write_text(BUGGY)
    (project / ".codequorum").symlink_to(outside)
    before = snapshot(outside)
    report = fix(project, apply=True)
    assert report.outcome is FixOutcome.NOT_APPLIED and report.exit_code == 5, report.message
    assert "symbolic link" in report.message and "\n" not in report.message
    assert snapshot(outside) == before
    assert (project / "calc.py").read_text() == BUGGY
    assert report.best is not None and "+    return a + b" in report.best.diff  # still shown


def test_links_inside_the_project_still_work(scene) -> None:
    project, _ = scene
    (project / "pkg").mkdir()
    (project / "pkg" / "real_calc.py").write_text(BUGGY)
    (project / "calc.py").symlink_to(project / "pkg" / "real_calc.py")  # absolute, inside
    report = fix(project, apply=True)
    assert report.outcome is FixOutcome.FIXED, report.message
    assert str(report.file) == "pkg/real_calc.py"  # the real file is fixed, the link stays a link
    assert (project / "calc.py").is_symlink() and "a + b" in (project / "pkg" / "real_calc.py").read_text()


def test_special_files_and_a_large_data_file_do_not_break_the_copy(scene) -> None:
    project, _ = scene
    (project / "calc.py").write_text(BUGGY)
    os.mkfifo(project / "pipe")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(project / "live.sock"))
    listener.listen()
    (project / "data.bin").write_bytes(b"\1" * (20 * 2**20))
    (project / "test_data.py").write_text(
        "import os\n\n\ndef test_data_is_whole():\n    assert os.path.getsize('data.bin') == 20 * 2**20\n")
    try:
        report = fix(project)
    finally:
        listener.close()
    assert report.outcome is FixOutcome.FIXED, (report.message, report.baseline)
    assert {"pipe", "live.sock"} <= {note.split(":")[0].removeprefix("left out ") for note in report.notes}


@pytest.fixture
def temporary() -> Iterator[Path]:
    """A TMPDIR of the test's own, that the sandbox user can walk into, as /tmp."""
    with searchable_dir("cq-fix-tmpdir-") as path:
        path.chmod(0o1777)
        yield path


def test_a_file_directly_in_tmpdir_is_fixed_without_copying_tmpdir_into_itself(temporary: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.chdir(temporary)
    (temporary / "calc.py").write_text(BUGGY)
    (temporary / "test_calc.py").write_text(TEST)
    (temporary / "codequorum-fix-stale").mkdir()  # another run's work folder
    (temporary / "codequorum-fix-stale" / "calc.py").write_text("raise SystemExit('copied')\n")
    report = fix(temporary, target=temporary / "calc.py")
    assert report.outcome is FixOutcome.FIXED, (report.message, report.baseline)
    assert sorted(p.name for p in temporary.iterdir()) == ["calc.py", "codequorum-fix-stale", "test_calc.py"]


HOLDS_THE_SANDBOX = """
import sys
from codequorum.cli import app
sys.argv[0] = "codequorum"
sys.exit(app())
"""


def test_the_work_area_is_private_and_removed_on_sigterm(tmp_path: Path, temporary: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("")
    (project / "calc.py").write_text(BUGGY)
    env = {**os.environ, "PYTHONPATH": SRC, "TMPDIR": str(temporary)}
    child = subprocess.Popen([sys.executable, "-c", HOLDS_THE_SANDBOX, "fix", str(project / "calc.py"),
                              "--test", "sleep 60", "--timeout", "90"], env=env, cwd=project,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # the copy is made after its folder: wait for the file, not the folder (a busy machine)
        work = _wait_for(lambda: [p for p in temporary.iterdir()
                                  if p.name.startswith("codequorum-fix-") and (p / "project" / "calc.py").exists()])
        assert work[0].stat().st_mode & 0o777 == 0o700  # no other local user reads the copy
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        child.kill()
        child.wait()
    assert list(temporary.iterdir()) == [], "SIGTERM left the project's copy behind"


def _wait_for(found, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := found():
            return value
        time.sleep(0.05)
    raise AssertionError("the work folder never appeared")
