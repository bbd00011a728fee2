from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from codequorum.fix import copy_plan
from codequorum.fix.environment import Mounts, PythonEnvironment
from codequorum.fix.project import (
    SandboxedProject,
    Verdict,
    copy_project,
    project_files,
    project_root_of,
    sandbox_limits,
    verdict_of,
)
from codequorum.sandbox import SandboxResult
from codequorum.sandbox.argv import SEED_MESSAGE
from codequorum.vocabulary.errors import CodequorumError


def _result(exit_code: int | None, killed_by: str | None = None) -> SandboxResult:
    return SandboxResult(exit_code=exit_code, stdout="", stderr="", timed_out=killed_by == "timeout",
                         killed_by=killed_by, seconds=0.1, stdout_truncated=False,
                         stderr_truncated=False, sandboxed=True)


@pytest.mark.parametrize(("exit_code", "killed_by", "command", "verdict"), [
    (0, None, "make test", Verdict.PASSED),
    (1, None, "python -m pytest", Verdict.FAILED),
    (2, None, "python -m pytest", Verdict.FAILED),  # collection errors may be the bug itself
    (5, None, "python -m pytest", Verdict.CANNOT_RUN),  # no tests collected
    (5, None, "./run-checks", Verdict.FAILED),
    (127, None, "nope", Verdict.CANNOT_RUN),
    (None, "timeout", "python -m pytest", Verdict.CANNOT_RUN),
])
def test_verdicts(exit_code, killed_by, command, verdict):
    assert verdict_of(_result(exit_code, killed_by), command) is verdict


def _tree(root: Path) -> None:
    for name in ("pkg/a.py", ".git/HEAD", ".venv/pyvenv.cfg", "pkg/__pycache__/a.pyc",
                 "myenv/pyvenv.cfg", "tests/test_a.py", ".codequorum/backup/a.py.1"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")


def test_copies_leave_out_vcs_caches_venvs_and_backups(tmp_path: Path):
    _tree(tmp_path / "p")
    assert list(project_files(tmp_path / "p")) == [PurePosixPath("pkg/a.py"), PurePosixPath("tests/test_a.py")]
    copy_project(tmp_path / "p", tmp_path / "c", {PurePosixPath("pkg/a.py"): b"fixed"})
    assert (tmp_path / "c" / "pkg" / "a.py").read_text() == "fixed"
    assert (tmp_path / "p" / "pkg" / "a.py").read_text() == "x"
    assert not (tmp_path / "c" / ".git").exists() and not (tmp_path / "c" / "myenv").exists()


def test_project_root_is_the_nearest_folder_with_a_marker(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    assert project_root_of(tmp_path / "pkg" / "sub" / "m.py") == tmp_path


def test_a_huge_project_is_refused(tmp_path: Path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.setattr(copy_plan, "MAX_FILES", 1)
    with pytest.raises(CodequorumError, match="too big"):
        copy_plan.plan_copy(tmp_path)


def test_without_a_marker_the_working_directory_holding_the_file_is_the_root(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    target = tmp_path / "src" / "textstats.py"
    assert project_root_of(target, cwd=tmp_path) == tmp_path
    assert project_root_of(target, cwd=tmp_path / "tests") == tmp_path / "src"  # cwd does not hold it
    assert project_root_of(target) == tmp_path / "src"  # no working directory given (the server)
    assert project_root_of(target, cwd=Path("/")) == tmp_path / "src"  # never the whole file system
    (tmp_path / "src" / "setup.cfg").write_text("")
    assert project_root_of(target, cwd=tmp_path) == tmp_path / "src"  # a marker wins


def test_a_seed_failure_cannot_run_rather_than_fail():
    result = _result(125)
    result.stderr = "cp: error writing 'data.bin': File too large\n" + SEED_MESSAGE + " (...)\n"
    assert verdict_of(result, "python -m pytest") is Verdict.CANNOT_RUN
    assert verdict_of(_result(125), "python -m pytest") is Verdict.FAILED  # the command's own 125


def test_the_sandbox_may_write_a_file_as_large_as_the_largest_in_the_project(tmp_path: Path):
    (tmp_path / "data.bin").write_bytes(b"\0" * (20 * 2**20))
    environment = PythonEnvironment(tmp_path, None, None)
    runner = SandboxedProject(tmp_path, "true", environment, Mounts(), sandbox_limits(5, 512, False))
    assert runner._limits().file_size_mb >= 21 and runner.limits.file_size_mb == 16
